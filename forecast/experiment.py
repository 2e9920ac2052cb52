"""Experiment specs: one YAML file, validated once into a typed configuration.

Every key a spec may hold is declared in :data:`EXPERIMENT_SCHEMA` (type, range, choices;
see :mod:`forecast._spec_schema`). :func:`load_experiment` checks a spec against it and
against the rules between keys (model names and parameters, unique labels, the baseline and
the history-recalibrated models among the labels, origins ``first <= last``, a sliding
window's length, dataset options against the dataset loader's signature) before any data is
read or model fitted. Each error is one line naming the file, line and key::

    experiments/x.yaml:12: evaluation.top_k[1]: out of range, got -5; valid: integers >= 1; fix: ...
"""

from __future__ import annotations

import inspect
import re
from collections import abc
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from forecast._errors import ForecastInputError, input_error
from forecast._spec_schema import (
    AnyMapping,
    Bool,
    Either,
    Int,
    ListOf,
    Mapping,
    Number,
    SpecDocument,
    Str,
    closest,
    file_problem,
    format_path,
    read_spec_text,
)

__all__ = [
    "EXPERIMENT_SCHEMA",
    "CostSpec",
    "ExperimentConfig",
    "ModelSpec",
    "experiment_from_dict",
    "load_experiment",
]


@dataclass(frozen=True)
class ModelSpec:
    """A model in an experiment: registry ``name``, display ``label``, ``params``.

    ``calibration`` optionally wraps the model in a recalibrator fitted on a temporal inner
    split (``platt``, ``isotonic``, ``venn_abers`` or ``intercept``). ``anchor_years``
    optionally anchors each origin's forecasts to the onset rate of its last
    ``anchor_years`` training years (:mod:`forecast.calibration._anchor`).
    """

    name: str
    label: str
    params: dict[str, Any] = field(default_factory=dict)
    calibration: str | None = None
    calibration_years: int = 5
    anchor_years: int | None = None


@dataclass(frozen=True)
class CostSpec:
    """Cost assumptions of the decision analysis (see :mod:`forecast.decision`)."""

    effectiveness: float = 0.5
    capacity: int | None = 30
    cost_ratios: tuple[float, ...] = ()


@dataclass(frozen=True)
class ExperimentConfig:
    """A validated experiment spec (:func:`load_experiment`); ``raw`` is the spec as written."""

    name: str
    dataset: str = "synthetic-world"
    dataset_options: dict[str, Any] = field(default_factory=dict)
    feature_set: str | None = None
    outcome: str = "mk_onset"
    horizon: int = 2
    origins: tuple[int, ...] | None = None
    first_origin: int | None = None
    last_origin: int | None = None
    window: str = "expanding"
    max_train_years: int | None = None
    min_train_years: int = 10
    recency_half_life: float | None = None
    seed: int = 0
    models: tuple[ModelSpec, ...] = ()
    top_k: tuple[int, ...] = (10, 20, 30)
    metrics: tuple[str, ...] = ()
    ewp_pooled: bool = False
    baseline: str | None = None
    default_model: str | None = None
    costs: CostSpec = field(default_factory=CostSpec)
    history_recalibration: dict[str, Any] = field(default_factory=dict)
    tracking_uri: str | None = None
    tracking_experiment: str | None = None
    source: str = "<dict>"
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


#: Recalibrators a model can be wrapped in (``ModelSpec.calibration``).
CALIBRATIONS = ("platt", "isotonic", "venn_abers", "intercept")


def _model_names() -> list[str]:
    from forecast.models import model_names

    return model_names()


def _dataset_names() -> list[str]:
    from forecast.data import dataset_names

    return dataset_names()


def _metric_names() -> list[str]:
    """Metrics a spec may list: the registered ones that need no parameter."""
    from forecast.metrics import get_metric, metric_names

    return [name for name in metric_names() if not get_metric(name).required_params]


_MODEL_ITEM = Either(
    options=(
        (str, Str(choices=_model_names, what="model", example="elastic_net")),
        (
            dict,
            Mapping(
                required=("name",),
                example="{name: elastic_net}",
                fields={
                    "name": Str(choices=_model_names, what="model", example="elastic_net"),
                    "label": Str(example="my_label"),
                    "params": AnyMapping(nullable=True, example="{n_estimators: 200}"),
                    "calibration": Str(choices=CALIBRATIONS, what="calibration", nullable=True),
                    "calibration_years": Int(low=1, example="5"),
                    "anchor_years": Int(low=1, nullable=True, example="20"),
                },
            ),
        ),
    )
)

#: Every key of an experiment spec: type, range and choices (see docs and experiments/).
EXPERIMENT_SCHEMA = Mapping(
    required=("models",),
    fields={
        "name": Str(example="my-experiment"),
        "description": Str(nullable=True, example="'what this experiment tests'"),
        "dataset": Str(choices=_dataset_names, what="dataset", example="synthetic-world"),
        "dataset_options": AnyMapping(nullable=True, example="{seed: 20251}"),
        "feature_set": Str(nullable=True, example="ewp-2025-plus"),
        "outcome": Str(example="mk_onset"),
        "horizon": Int(low=1, example="2"),
        "origins": Either(
            nullable=True,
            options=(
                (list, ListOf(item=Int(), min_items=1, unique=True, example="[2000, 2010, 2020]")),
                (
                    dict,
                    Mapping(
                        example="{first: 1995, last: 2024}",
                        fields={
                            "first": Int(nullable=True, example="1995"),
                            "last": Int(nullable=True, example="2024"),
                            "years": ListOf(
                                item=Int(), min_items=1, unique=True, example="[2000, 2010]"
                            ),
                        },
                    ),
                ),
            ),
        ),
        "window": Str(choices=("expanding", "sliding"), what="window", example="expanding"),
        "max_train_years": Int(low=1, nullable=True, example="20"),
        "min_train_years": Int(low=1, example="10"),
        "recency_half_life": Number(low=0, low_open=True, nullable=True, example="10"),
        "seed": Int(low=0, example="0"),
        "default_model": Str(nullable=True, example="stacked_recal"),
        "models": ListOf(
            item=_MODEL_ITEM,
            min_items=1,
            example="[elastic_net, xgboost]",
            valid="a list of model names or {name: ..., params: ...} mappings",
        ),
        "evaluation": Mapping(
            nullable=True,
            example="{top_k: [10, 20, 30]}",
            fields={
                "top_k": ListOf(item=Int(low=1), unique=True, example="[10, 20, 30]"),
                "metrics": ListOf(
                    item=Str(choices=_metric_names, what="metric"),
                    unique=True,
                    example="[roc_auc, brier]",
                ),
                "ewp_pooled": Bool(example="true"),
                "baseline": Str(nullable=True, example="elastic_net"),
            },
        ),
        "costs": Mapping(
            nullable=True,
            example="{effectiveness: 0.5, capacity: 30}",
            fields={
                "effectiveness": Number(low=0, high=1, low_open=True, example="0.5"),
                "capacity": Int(low=1, nullable=True, example="30"),
                "cost_ratios": ListOf(
                    item=Number(low=0, high=1, low_open=True, high_open=True),
                    unique=True,
                    example="[0.1, 0.05, 0.02]",
                ),
            },
        ),
        "history_recalibration": Mapping(
            nullable=True,
            required=("models",),
            example="{models: [elastic_net]}",
            fields={
                "models": ListOf(item=Str(), min_items=1, unique=True, example="[elastic_net]"),
                "half_life": Number(low=0, low_open=True, nullable=True, example="10"),
                "level": Number(low=0, high=1, low_open=True, high_open=True, example="0.8"),
                "min_events": Int(low=0, example="10"),
                "suffix": Str(example="_recal"),
            },
        ),
        "tracking": Mapping(
            nullable=True,
            example="{experiment: my-experiment}",
            fields={
                "uri": Str(nullable=True, example="sqlite:///mlflow.db"),
                "experiment": Str(nullable=True, example="my-experiment"),
            },
        ),
    },
)


def _check_dataset_options(spec: dict[str, Any], doc: SpecDocument) -> None:
    """``dataset_options`` against the keyword parameters of the dataset loader."""
    from forecast.data import check_dataset_options, dataset_options

    dataset = spec.get("dataset", ExperimentConfig.dataset)
    parameters = dataset_options(dataset)
    valid = list(parameters)  # in the order the loader declares them
    for key, value in (spec.get("dataset_options") or {}).items():
        path = ("dataset_options", key)
        if key not in parameters:
            raise doc.error(
                path,
                f"unknown option of dataset {dataset!r}",
                key,
                valid=str(valid),
                fix=closest(key, valid) or "remove it",
            )
        _check_type(path, value, parameters[key], doc)
    options = dict(spec.get("dataset_options") or {})
    try:
        check_dataset_options(dataset, options)  # as the loader checks them, loading nothing
    except ForecastInputError as error:
        problem = re.sub(r"^[\w-]+: ", "", str(error))  # the loader's name: the spec's line instead
        named = [key for key in options if re.match(rf"{re.escape(key)}\b", problem)]
        path = ("dataset_options", *named[:1])
        raise input_error(
            f"{format_path(path)}: {problem}", source=f"{doc.source}:{doc.line(path)}"
        ) from None


def _check_type(
    path: tuple[str | int, ...], value: Any, parameter: inspect.Parameter, doc: SpecDocument
) -> None:
    """``value`` of keyword ``parameter`` has the type of its default where that is a plain
    bool, int, float (an int will do) or str; other defaults (None, objects) admit any."""
    default = parameter.default
    kind = type(default)
    if kind in (bool, int, float, str) and not (
        type(value) is kind or (kind is float and type(value) is int)
    ):
        raise doc.error(
            path,
            f"must be of type {kind.__name__}",
            value,
            valid=f"{kind.__name__} values like the default {default!r}",
            fix=f"e.g. {parameter.name}: {default!r}",
        )


def _check_model_params(
    estimator: Any, params: dict[str, Any], path: tuple[str | int, ...], doc: SpecDocument
) -> None:
    """Types of a model's parameters, by the defaults of its estimator's constructor.

    Ranges and the constraints a model declares were checked before it was built
    (:func:`forecast.models.check_model_params`); estimators with scikit-learn parameter
    constraints are left at that (their parameters may take several types, e.g. an int or
    a fraction). The others (this package's models, third-party ones) are checked here, so
    that ``max_iter: true`` is a spec error rather than a failed fit at every origin.
    """
    from sklearn.pipeline import Pipeline

    final = estimator.steps[-1][1] if isinstance(estimator, Pipeline) else estimator
    if getattr(final, "_parameter_constraints", None):
        return
    parameters = inspect.signature(type(final)).parameters
    for key, value in params.items():
        if key in parameters:
            _check_type((*path, key), value, parameters[key], doc)


def _feature_set_path(name: str, doc: SpecDocument) -> str:
    """A shipped feature set's name, or the path of a feature-set YAML file.

    A relative path is taken relative to the spec file's folder (so a spec and its feature
    set travel together), else relative to the working directory.
    """
    from forecast.features import feature_set_names

    candidate = Path(name)
    spec_file = Path(doc.source)
    beside = None if candidate.is_absolute() or not spec_file.is_file() else spec_file.parent / name
    if beside is not None and file_problem(beside) != "not found":
        candidate = beside
    problem = file_problem(candidate)
    if problem is None:
        return str(candidate)
    path_like = candidate.suffix in {".yaml", ".yml"} or "/" in name
    if path_like or (problem != "not found" and name not in feature_set_names()):
        folders = [str(beside.parent)] if beside is not None else []
        raise doc.error(
            ("feature_set",),
            "file not found" if problem == "not found" else f"the path is {problem}",
            name,
            valid="a shipped feature set or the path of a YAML spec",
            fix=f"name a YAML file (relative to {' or '.join([*folders, str(Path.cwd())])})",
        )
    if name not in feature_set_names():
        raise doc.error(
            ("feature_set",),
            "unknown feature set",
            name,
            valid=str(feature_set_names()),
            fix=closest(name, feature_set_names()) or "use a listed name or a path",
        )
    return name


def _model_specs(
    spec: dict[str, Any], raw: dict[str, Any], doc: SpecDocument
) -> tuple[ModelSpec, ...]:
    """One :class:`ModelSpec` per listed model; labels are unique and each model builds."""
    from forecast.backtest import ORACLE  # the label of the true probabilities
    from forecast.models import DEVICE_MODELS, build_model, check_model_params, resolve_device

    specs: list[ModelSpec] = []
    for index, item in enumerate(spec["models"]):
        item = {"name": item} if isinstance(item, str) else item
        original = raw["models"][index]
        path: tuple[str | int, ...] = ("models", index)
        label = item.get("label", item["name"])
        taken = [s.label for s in specs]
        if label in taken or label == ORACLE:
            raise doc.error(
                (*path, "label") if "label" in item else path,
                "duplicate model label",
                label,
                valid=f"a label not in {[*taken, ORACLE]}",
                fix="give each model a distinct label (label: ...)",
            )
        params = dict((original.get("params") if isinstance(original, dict) else None) or {})
        check_model_params(item["name"], params, doc=doc, path=(*path, "params"))  # builds nothing
        try:
            estimator = build_model(
                item["name"], {**params, "seed": spec.get("seed", ExperimentConfig.seed)}
            )
        except (ForecastInputError, TypeError, ValueError) as error:
            reason, _, own_fix = str(error).partition("; fix: ")
            raise doc.error(
                (*path, "params") if "params" in item else path,
                f"model {item['name']!r} rejects its parameters ({reason})",
                params,
                valid=f"the parameters of model {item['name']!r}",
                fix=own_fix or "correct or remove the parameter",
            ) from error
        _check_model_params(estimator, params, (*path, "params"), doc)
        if "device" in params and item["name"] in DEVICE_MODELS:
            params["device"] = resolve_device(item["name"], params["device"])  # auto: once
        specs.append(
            ModelSpec(
                item["name"],
                label,
                params,
                item.get("calibration"),
                item.get("calibration_years", ModelSpec.calibration_years),
                item.get("anchor_years"),
            )
        )
    return tuple(specs)


def _check_labels(spec: dict[str, Any], models: tuple[ModelSpec, ...], doc: SpecDocument) -> None:
    """History recalibration and the baseline name models of the spec."""
    labels = [m.label for m in models]
    history = spec.get("history_recalibration") or {}
    suffix = history.get("suffix", "_recal")
    for index, label in enumerate(history.get("models", ())):
        path = ("history_recalibration", "models", index)
        if label not in labels:
            raise doc.error(
                path,
                "not a model label of this spec",
                label,
                valid=str(labels),
                fix=closest(label, labels) or "list labels given under models",
            )
        if label + suffix in labels:
            raise doc.error(
                path,
                f"its recalibrated copy {label + suffix!r} clashes with a model label",
                label,
                valid=f"labels whose copy is not in {labels}",
                fix="rename that model (label:) or set history_recalibration.suffix",
            )
    baseline = (spec.get("evaluation") or {}).get("baseline")
    choices = [*labels, *(label + suffix for label in history.get("models", ()))]
    default = spec.get("default_model")
    if default is not None and default not in choices:
        raise doc.error(
            ("default_model",),
            "not a model label of this spec",
            default,
            valid=str(choices),
            fix=closest(default, choices) or "set default_model to one of the valid labels",
        )
    if baseline is not None and baseline not in choices:
        raise doc.error(
            ("evaluation", "baseline"),
            "not a model label of this spec",
            baseline,
            valid=str(choices),
            fix=closest(baseline, choices) or "set evaluation.baseline to one of the valid labels",
        )


def _check_spec(doc: SpecDocument) -> dict[str, Any]:
    """Check ``doc`` against :data:`EXPERIMENT_SCHEMA` and the rules between keys."""
    spec = EXPERIMENT_SCHEMA.check(doc.data, (), doc)
    origins = spec.get("origins")
    if isinstance(origins, dict):
        first, last = origins.get("first"), origins.get("last")
        if "years" in origins and (first is not None or last is not None):
            raise doc.error(
                ("origins",),
                "both years and first/last given",
                doc.data["origins"],
                valid="either {years: [...]} or {first: ..., last: ...}",
                fix="keep one of the two forms",
            )
        if first is not None and last is not None and first > last:
            raise doc.error(
                ("origins", "first"),
                f"the first origin ({first}) is after the last ({last})",
                doc.data["origins"],
                valid="first <= last",
                fix=f"swap them: origins: {{first: {last}, last: {first}}}",
            )
    if spec.get("window") == "sliding" and spec.get("max_train_years") is None:
        raise doc.error(
            ("window",),
            "a sliding window needs max_train_years",
            "sliding",
            valid="max_train_years >= 1 with window: sliding",
            fix="set max_train_years: 20 (or use window: expanding)",
        )
    _check_dataset_options(spec, doc)
    if spec.get("feature_set") is not None:
        spec["feature_set"] = _feature_set_path(spec["feature_set"], doc)
    return spec


def _config(doc: SpecDocument) -> ExperimentConfig:
    spec = _check_spec(doc)
    raw: dict[str, Any] = doc.data
    models = _model_specs(spec, raw, doc)
    _check_labels(spec, models, doc)
    settings: dict[str, Any] = {
        key: spec[key]
        for key in (
            "dataset",
            "feature_set",
            "outcome",
            "horizon",
            "window",
            "max_train_years",
            "min_train_years",
            "recency_half_life",
            "seed",
        )
        if key in spec
    }
    origins = spec.get("origins") or {}
    if isinstance(origins, tuple):
        origins = {"years": origins}
    evaluation = spec.get("evaluation") or {}
    costs = spec.get("costs") or {}
    tracking = spec.get("tracking") or {}
    defaults = CostSpec()
    return ExperimentConfig(
        name=spec.get("name", Path(doc.source).stem),
        **settings,
        dataset_options=dict(raw.get("dataset_options") or {}),
        origins=tuple(origins["years"]) if "years" in origins else None,
        first_origin=origins.get("first"),
        last_origin=origins.get("last"),
        models=models,
        top_k=evaluation.get("top_k", ExperimentConfig.top_k),
        metrics=evaluation.get("metrics", ()),
        ewp_pooled=evaluation.get("ewp_pooled", False),
        baseline=evaluation.get("baseline"),
        default_model=spec.get("default_model"),
        costs=CostSpec(
            float(costs.get("effectiveness", defaults.effectiveness)),
            costs.get("capacity", defaults.capacity),
            tuple(float(r) for r in costs.get("cost_ratios", ())),
        ),
        history_recalibration=dict(raw.get("history_recalibration") or {}),
        tracking_uri=tracking.get("uri"),
        tracking_experiment=tracking.get("experiment"),
        source=doc.source,
        raw=raw,
    )


def experiment_from_dict(raw: dict[str, Any], *, source: str = "<dict>") -> ExperimentConfig:
    """Validate a parsed experiment spec, as :func:`load_experiment` does a YAML file.

    ``raw`` is the spec as parsed from YAML or JSON; ``source`` (where it came from) starts
    every error, which has no line number: ``<source>: <key.path>: <constraint>, ...``.
    """
    return _config(SpecDocument(raw, source))


def load_experiment(
    path: str | Path | abc.Mapping[str, Any] | ExperimentConfig,
) -> ExperimentConfig:
    """Read and validate an experiment spec, before any data is read or model fitted.

    Every key is checked against :data:`EXPERIMENT_SCHEMA` (types, ranges, choices, unknown
    keys) and against the other keys: model names and parameters (each model's declared
    constraints, finite numbers), labels, the baseline and history-recalibrated models among
    the labels, origins ``first <= last``, dataset options as the dataset's loader checks them.
    Nothing the spec names is called: a dotted ``class:`` is imported only from the allowed
    modules (:func:`forecast.models.allowed_modules`) and only if it is an estimator class.
    A spec can name code: run only specs you trust.

    Parameters
    ----------
    path : str, Path, dict or ExperimentConfig
        The YAML spec, e.g. ``experiments/synthetic-default.yaml``, or the name of a shipped
        spec (``synthetic-default``; ``forecast experiments list``); or its keys as a dict
        (validated by :func:`experiment_from_dict`); a config is returned as it is.

    Returns
    -------
    ExperimentConfig

    Raises
    ------
    ForecastInputError
        One line naming the file and line:
        ``<file>:<line>: <key.path>: <constraint>, got <value>; valid: ...; fix: ...``.
    """
    if isinstance(path, ExperimentConfig):
        return path
    if isinstance(path, abc.Mapping):
        return experiment_from_dict(dict(path))
    if not isinstance(path, str | Path):
        raise input_error(
            f"load_experiment: spec must be a YAML path, a dict or an ExperimentConfig, "
            f"got {type(path).__name__}",
            fix="pass e.g. 'experiments/synthetic-default.yaml' or {'name': ..., 'models': [...]}",
        )
    from forecast._shipped import resolve_experiment

    path = resolve_experiment(path)
    return _config(SpecDocument.from_yaml(read_spec_text(path), source=str(path)))
