"""Pluggable models: a registry of scikit-learn-compatible probabilistic classifiers."""

from forecast.models._bounds import BAND, bounded_count, max_shift
from forecast.models._checks import check_model
from forecast.models._device import DEVICE_MODELS, compute_record, gpu_count, resolve_device
from forecast.models._elastic_net import ElasticNetLogit
from forecast.models._ensemble import AveragingEnsemble
from forecast.models._fit import fit_estimator
from forecast.models._logit import ConvergenceFailure, StatsmodelsLogit
from forecast.models._meta import META_MODELS, MetaChoice, MetaEnsemble, choose_by_origin
from forecast.models._registry import (
    ALLOWED_MODULES,
    ModelTags,
    allowed_modules,
    build_model,
    check_model_params,
    estimator_class,
    get_model_tags,
    get_test_params,
    model_names,
    register_model,
)
from forecast.models._threads import ThreadLimited

__all__ = [
    "ALLOWED_MODULES",
    "AveragingEnsemble",
    "BAND",
    "DEVICE_MODELS",
    "ConvergenceFailure",
    "ElasticNetLogit",
    "META_MODELS",
    "MetaChoice",
    "MetaEnsemble",
    "ModelTags",
    "StatsmodelsLogit",
    "ThreadLimited",
    "allowed_modules",
    "bounded_count",
    "build_model",
    "check_model",
    "check_model_params",
    "choose_by_origin",
    "compute_record",
    "estimator_class",
    "fit_estimator",
    "get_model_tags",
    "get_test_params",
    "gpu_count",
    "max_shift",
    "model_names",
    "register_model",
    "resolve_device",
]
