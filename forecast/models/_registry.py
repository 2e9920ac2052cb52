"""Model registry: names -> scikit-learn-compatible probabilistic classifiers.

Built in: ``elastic_net``, ``logit``, ``random_forest``, ``xgboost``, ``xgboost_tuned``,
``hist_gradient_boosting``, ``ensemble``, ``stacked`` and ``selected`` (engine-level: member
weights chosen at each origin from the backtest's own history, :mod:`forecast.models._meta`); any
scikit-learn estimator by dotted path (``sklearn`` with ``class: package.module.Class``, from
a module of :func:`allowed_modules` only); third-party models through the ``forecast.models``
entry-point group (a factory taking keyword parameters and returning an estimator, optionally
with a ``model_tags`` attribute).

Each built-in model declares the constraints of its parameters (scikit-learn's format;
the estimator's own ``_parameter_constraints`` where it has them): :func:`build_model` checks
them, and that every number is finite, before it builds anything.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib.metadata import entry_points
from numbers import Integral, Real
from typing import Any

from sklearn.base import BaseEstimator
from sklearn.pipeline import Pipeline
from sklearn.utils._param_validation import Interval, StrOptions

from forecast._errors import input_error
from forecast._spec_schema import KeyPath, SpecDocument
from forecast.models._device import check_threads, resolve_device
from forecast.models._elastic_net import ElasticNetLogit
from forecast.models._ensemble import AveragingEnsemble
from forecast.models._logit import StatsmodelsLogit
from forecast.models._meta import MIN_EVENTS, MetaEnsemble, check_meta_options
from forecast.models._params import Constraints, check_params
from forecast.models._preprocess import linear_preprocessor, tree_preprocessor
from forecast.models._threads import ThreadLimited

__all__ = [
    "ALLOWED_MODULES",
    "ModelTags",
    "allowed_modules",
    "build_model",
    "check_model_params",
    "estimator_class",
    "get_model_tags",
    "get_test_params",
    "model_names",
    "register_model",
]


@dataclass(frozen=True)
class ModelTags:
    """What a model promises, so that the shared checks demand exactly that (sktime-style tags).

    Parameters
    ----------
    row_order_invariant : bool, default True
        Shuffling the training rows leaves the forecasts unchanged (to 1e-10 relative).
        False for models that draw rows at random (bootstrap, row subsampling): with a
        fixed seed the draw depends on the row order, so their forecasts are reproducible
        for the same rows in the same order only.
    unit_weights_invariant : bool, default True
        ``sample_weight`` of all ones gives the same forecasts as no weights.
    weights_as_repeats : bool, default False
        An integer ``sample_weight`` gives the same forecasts as repeating each row that
        many times (frequency weights). True only when every step of the fit weighs rows,
        preprocessing included, and nothing is penalised on the weighted scale.
    """

    row_order_invariant: bool = True
    unit_weights_invariant: bool = True
    weights_as_repeats: bool = False

    @classmethod
    def all_of(cls, tags: Iterable[ModelTags]) -> ModelTags:
        """The tags of a combination (an ensemble): a promise holds if every part makes it."""
        tags = list(tags)
        return cls(
            **{f.name: all(getattr(t, f.name) for t in tags) for f in dataclasses.fields(cls)}
        )


Factory = Callable[..., BaseEstimator]
TagRule = ModelTags | Callable[..., ModelTags]
#: A model's parameter constraints, or a callable ``(params, doc, path)`` giving them.
ConstraintRule = Constraints | Callable[[dict[str, Any], SpecDocument | None, KeyPath], Constraints]
_REGISTRY: dict[str, Factory] = {}
_TEST_PARAMS: dict[str, dict[str, Any]] = {}
_TAGS: dict[str, TagRule] = {}
_CONSTRAINTS: dict[str, ConstraintRule] = {}


def register_model(
    name: str,
    *,
    check_params: dict[str, Any] | None = None,
    tags: TagRule | None = None,
    constraints: ConstraintRule | None = None,
):
    """Decorator registering a factory ``(**params) -> estimator`` under ``name``.

    Parameters
    ----------
    name : str
        The model's name in experiment specs.
    check_params : dict, optional
        Small, fast parameters used by the shared model checks.
    tags : ModelTags or callable, optional
        What the model promises (default :class:`ModelTags()`); a callable receives the
        model's parameters and returns its tags (for models whose promises depend on them).
    constraints : dict or callable, optional
        Parameter name -> list of scikit-learn constraints (``Interval``, ``StrOptions``,
        ``None``, ...), checked by :func:`check_model_params` before the model is built; a
        callable ``(params, doc, path)`` returns them (e.g. an estimator's own
        ``_parameter_constraints``, imported only when needed).
    """

    def decorate(factory: Factory) -> Factory:
        _REGISTRY[name] = factory
        _TEST_PARAMS[name] = dict(check_params or {})
        _TAGS[name] = tags if tags is not None else ModelTags()
        _CONSTRAINTS[name] = constraints if constraints is not None else {}
        return factory

    return decorate


def _at_least(low: float, kind: type = Integral, *, open_: bool = False) -> Interval:
    return Interval(kind, low, None, closed="neither" if open_ else "left")


def _fraction(*, closed: str = "right") -> Interval:
    return Interval(Real, 0, 1, closed=closed)  # type: ignore[arg-type]


#: Constraints of the XGBoost parameters a spec may set (XGBoost declares none).
_XGB_TREE: dict[str, list[Any]] = {
    "max_depth": [_at_least(0), None],
    "learning_rate": [_at_least(0, Real, open_=True), None],
    "subsample": [_fraction(), None],
    "colsample_bytree": [_fraction(), None],
    "colsample_bylevel": [_fraction(), None],
    "colsample_bynode": [_fraction(), None],
    "min_child_weight": [_at_least(0, Real), None],
    "reg_lambda": [_at_least(0, Real), None],
    "reg_alpha": [_at_least(0, Real), None],
    "gamma": [_at_least(0, Real), None],
    "max_delta_step": [_at_least(0, Real), None],
    "scale_pos_weight": [_at_least(0, Real, open_=True), None],
    "max_bin": [_at_least(2), None],
    "max_leaves": [_at_least(0), None],
    "base_score": [_fraction(closed="neither"), None],
    "tree_method": [StrOptions({"hist", "approx", "exact", "auto"}), None],
    "grow_policy": [StrOptions({"depthwise", "lossguide"}), None],
    "booster": [StrOptions({"gbtree", "gblinear", "dart"}), None],
}


def _members(members: Iterable[Any]) -> list[tuple[str, dict[str, Any]]]:
    """``(name, params)`` of ensemble members given as names or ``{name, params}`` mappings."""
    return [
        (member, {}) if isinstance(member, str) else (member["name"], member.get("params", {}))
        for member in members
    ]


@register_model(
    "elastic_net",
    check_params={"n_alphas": 8},
    constraints={
        "l1_ratio": [_fraction(closed="both")],
        "n_alphas": [_at_least(1)],
        "min_alpha_ratio": [_fraction()],
        "validation_years": [_at_least(1)],
        "alpha": [_at_least(0, Real), None],
    },
)
def _elastic_net(**params: Any) -> BaseEstimator:
    params.pop("seed", None)
    return ElasticNetLogit(**params)


@register_model(
    "logit", tags=ModelTags(weights_as_repeats=True), constraints={"max_iter": [_at_least(1)]}
)
def _logit(**params: Any) -> BaseEstimator:
    params.pop("seed", None)
    return StatsmodelsLogit(**params)


@register_model(
    "random_forest",
    check_params={"n_estimators": 30},
    tags=ModelTags(row_order_invariant=False, unit_weights_invariant=False),
    constraints=lambda *_: _sklearn_constraints("sklearn.ensemble.RandomForestClassifier"),
)
def _random_forest(*, seed: int = 0, **params: Any) -> BaseEstimator:
    from sklearn.ensemble import RandomForestClassifier

    options = {
        "n_estimators": 200,
        "min_samples_leaf": 10,
        "max_features": "sqrt",
        "max_samples": 0.5,
        "n_jobs": 1,
    }
    options.update(params)
    return Pipeline(
        [
            ("prep", tree_preprocessor()),
            ("model", RandomForestClassifier(random_state=seed, **options)),
        ]
    )


@register_model(
    "xgboost",
    check_params={"n_estimators": 30},
    tags=ModelTags(row_order_invariant=False),
    constraints={"n_estimators": [_at_least(1)], **_XGB_TREE},
)
def _xgboost(*, seed: int = 0, **params: Any) -> BaseEstimator:
    from xgboost import XGBClassifier

    options = {
        "n_estimators": 300,
        "max_depth": 3,
        "learning_rate": 0.03,
        "subsample": 0.8,
        "colsample_bytree": 0.8,
        "min_child_weight": 2.0,
        "reg_lambda": 5.0,
        "tree_method": "hist",
        "n_jobs": 1,
        "eval_metric": "logloss",
    }
    options.update(_device_options("xgboost", params))
    return XGBClassifier(random_state=seed, **options)


@register_model(
    "hist_gradient_boosting",
    check_params={"max_iter": 30},
    tags=lambda **params: ModelTags(row_order_invariant=not params.get("early_stopping")),
    constraints=lambda *_: _sklearn_constraints("sklearn.ensemble.HistGradientBoostingClassifier"),
)
def _hist_gradient_boosting(*, seed: int = 0, **params: Any) -> BaseEstimator:
    from sklearn.ensemble import HistGradientBoostingClassifier

    options = {
        "learning_rate": 0.03,
        "max_iter": 300,
        "max_depth": 3,
        "l2_regularization": 5.0,
        "min_samples_leaf": 20,
        "early_stopping": False,
    }
    params = dict(params)
    resolve_device("hist_gradient_boosting", params.pop("device", "cpu"))  # cpu only
    threads = params.pop("threads", None)
    options.update(params)
    model = HistGradientBoostingClassifier(random_state=seed, **options)  # missing values native
    if threads is None:
        return model
    return ThreadLimited(model, threads=check_threads("hist_gradient_boosting", threads))


@register_model(
    "xgboost_tuned",
    check_params={"max_rounds": 60, "patience": 10, "min_rounds": 5},
    tags=ModelTags(row_order_invariant=False),
    constraints={
        **{
            key: [_at_least(1)]
            for key in ("max_rounds", "validation_years", "patience", "min_rounds")
        },
        **_XGB_TREE,
    },
)
def _xgboost_tuned(*, seed: int = 0, **params: Any) -> BaseEstimator:
    from forecast.models._boosting import TemporalXGBClassifier

    return TemporalXGBClassifier(random_state=seed, **_device_options("xgboost_tuned", params))


def _device_options(model: str, params: dict[str, Any]) -> dict[str, Any]:
    """XGBoost keyword options with the spec's ``device`` resolved and ``threads`` as
    ``n_jobs``; a cpu device is left out, so a cpu fit is the fit without the option."""
    options = dict(params)
    device = resolve_device(model, options.pop("device", "cpu"))
    if device != "cpu":
        options["device"] = device
    if "threads" in options:
        options["n_jobs"] = check_threads(model, options.pop("threads"))
    return options


def _ensemble_tags(*, members: list[Any], **_: Any) -> ModelTags:
    return ModelTags.all_of(get_model_tags(name, params) for name, params in _members(members))


@register_model(
    "ensemble",
    check_params={
        "members": [
            {"name": "elastic_net", "params": {"n_alphas": 8}},
            {"name": "xgboost", "params": {"n_estimators": 30}},
        ]
    },
    tags=_ensemble_tags,
    constraints={
        "members": [list],
        "method": [StrOptions({"mean", "logit"})],
        "weights": ["array-like", None],
    },
)
def _ensemble(
    *, members: list[Any], method: str = "mean", weights=None, seed: int = 0
) -> BaseEstimator:
    estimators = [
        (name, build_model(name, {**params, "seed": seed})) for name, params in _members(members)
    ]
    return AveragingEnsemble(estimators, method=method, weights=weights)


def _meta_tags(*, members: list[Any] | None = None, **_: Any) -> ModelTags:
    known = [
        (name, params)
        for name, params in _members(members or [])
        if name in _REGISTRY or name in _entry_point_factories()
    ]
    return ModelTags.all_of(get_model_tags(name, params) for name, params in known)


def _meta_model(
    *,
    members: list[Any] | None = None,
    min_events: int = MIN_EVENTS,
    shrinkage: float | None = None,
    seed: int = 0,
) -> BaseEstimator:
    """The estimator of ``stacked``/``selected`` (equal weights: a fit alone has no history).

    A string member that is not a registered model may be a label of the spec: it is resolved
    by the backtest engine, and left unbuilt here (:meth:`MetaEnsemble.fit` says so).
    """
    check_meta_options(min_events, shrinkage)
    if members is not None and (
        not isinstance(members, list)
        or not members
        or not all(isinstance(m, str) or (isinstance(m, dict) and "name" in m) for m in members)
    ):
        raise input_error(
            f"members must be a non-empty list of model labels, names or "
            f"{{name, params}} mappings, got {members!r}",
            fix="e.g. members: [elastic_net, xgboost], or leave it out for all "
            "other models of the experiment",
        )
    names = set(model_names())
    estimators = [
        (
            name,
            build_model(name, {**params, "seed": seed})
            if not isinstance(member, str) or name in names
            else None,
        )
        for member, (name, params) in zip(members or [], _members(members or []))
    ]
    return MetaEnsemble(estimators)


_META_CHECK = {
    "members": [
        {"name": "elastic_net", "params": {"n_alphas": 8}},
        {"name": "xgboost", "params": {"n_estimators": 30}},
    ]
}


@register_model("stacked", check_params=_META_CHECK, tags=_meta_tags)
def _stacked(
    *,
    members: list[Any] | None = None,
    min_events: int = MIN_EVENTS,
    shrinkage: float | None = None,
    seed: int = 0,
) -> BaseEstimator:
    return _meta_model(members=members, min_events=min_events, shrinkage=shrinkage, seed=seed)


@register_model("selected", check_params=_META_CHECK, tags=_meta_tags)
def _selected(
    *, members: list[Any] | None = None, min_events: int = MIN_EVENTS, seed: int = 0
) -> BaseEstimator:
    return _meta_model(members=members, min_events=min_events, seed=seed)


#: Modules whose estimator classes a spec may name (``sklearn`` with ``class:``).
ALLOWED_MODULES: tuple[str, ...] = (
    "sklearn.",
    "xgboost.",
    "lightgbm.",
    "statsmodels.",
    "forecast.",
)


def allowed_modules() -> tuple[str, ...]:
    """Module prefixes a spec's ``class:`` may import from: :data:`ALLOWED_MODULES` and the
    comma-separated prefixes of ``$FORECAST_ALLOWED_MODULES`` (e.g. ``mypackage.models``).

    A spec can name code: run only specs you trust. Importing a module runs its top level,
    so a module is imported only when its dotted path starts with an allowed prefix.
    """
    extra = os.environ.get("FORECAST_ALLOWED_MODULES", "").split(",")
    added = tuple(p.strip().rstrip(".") + "." for p in extra if p.strip().rstrip("."))
    return ALLOWED_MODULES + added


def estimator_class(
    path: object, *, doc: SpecDocument | None = None, where: KeyPath = ("class",)
) -> type[BaseEstimator]:
    """The scikit-learn estimator class at dotted ``path``, imported from an allowed module.

    Nothing is called: the module is imported only when :func:`allowed_modules` allows it,
    and the attribute must be a subclass of scikit-learn's ``BaseEstimator``.

    Raises
    ------
    ForecastInputError
        A path that is not ``package.module.Class``, outside the allowed modules, not
        importable, or not an estimator class (at the spec line of ``where`` with ``doc``).
    """
    doc = doc if doc is not None else SpecDocument({"class": path}, "model 'sklearn'")
    allowed = allowed_modules()
    example = "sklearn.linear_model.LogisticRegression"
    if not isinstance(path, str) or "." not in path.strip("."):
        raise doc.error(
            where,
            "needs a dotted class path",
            path,
            valid="package.module.Class",
            fix=f"e.g. class: {example}",
        )
    if not path.startswith(allowed):
        raise doc.error(
            where,
            "not in an allowed module (a spec can name code: run only specs you trust)",
            path,
            valid=f"classes of modules starting with {list(allowed)}",
            fix="use a class of those modules, or add its package to FORECAST_ALLOWED_MODULES",
        )
    module_name, _, class_name = path.rpartition(".")
    try:
        found = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as error:
        raise doc.error(
            where,
            f"cannot import it ({error})",
            path,
            valid="an installed estimator class",
            fix="check the dotted path and that the package is installed",
        ) from None
    if not (isinstance(found, type) and issubclass(found, BaseEstimator)):
        raise doc.error(
            where,
            "not a scikit-learn estimator class",
            path,
            valid="a subclass of sklearn.base.BaseEstimator",
            fix=f"name an estimator class, e.g. class: {example}",
        )
    return found


def _sklearn_constraints(
    path: str, doc: SpecDocument | None = None, where: KeyPath = ("class",)
) -> Constraints:
    """The ``_parameter_constraints`` scikit-learn declares for the estimator at ``path``."""
    return dict(getattr(estimator_class(path, doc=doc, where=where), "_parameter_constraints", {}))


def _sklearn_model_constraints(
    params: dict[str, Any], doc: SpecDocument | None, path: KeyPath
) -> Constraints:
    own = _sklearn_constraints(params.get("class"), doc, (*path, "class"))  # type: ignore[arg-type]
    return {
        **own,
        "class": "no_validation",
        "preprocess": [StrOptions({"linear", "tree"})],
    }


@register_model(
    "sklearn",
    check_params={"class": "sklearn.linear_model.LogisticRegression", "max_iter": 500},
    constraints=_sklearn_model_constraints,
)
def _sklearn(*, seed: int = 0, preprocess: str = "linear", **params: Any) -> BaseEstimator:
    path = params.pop("class", None)
    cls = estimator_class(path)
    if "random_state" in inspect.signature(cls).parameters and "random_state" not in params:
        params["random_state"] = seed
    estimator = cls(**params)
    if not hasattr(estimator, "predict_proba"):
        raise input_error(f"{path} has no predict_proba", fix="use a probabilistic classifier")
    prep = linear_preprocessor() if preprocess == "linear" else tree_preprocessor()
    return Pipeline([("prep", prep), ("model", estimator)])


def _entry_point_factories() -> dict[str, Factory]:
    return {ep.name: ep.load for ep in entry_points(group="forecast.models")}  # type: ignore[misc]


def model_names() -> list[str]:
    """Names of all registered models, built-in and from entry points."""
    return sorted({*_REGISTRY, *_entry_point_factories()})


def get_test_params(name: str) -> dict[str, Any]:
    """Small parameters for the shared model checks."""
    return dict(_TEST_PARAMS.get(name, {}))


def get_model_tags(name: str, params: dict[str, Any] | None = None) -> ModelTags:
    """The :class:`ModelTags` of the registered model ``name`` built with ``params``.

    Built-in models declare them in :func:`register_model`; an entry-point factory may carry
    a ``model_tags`` attribute (a :class:`ModelTags` or a callable of the parameters).
    Without a declaration a model gets the strict defaults.
    """
    if name in _REGISTRY:
        rule: TagRule | None = _TAGS.get(name)
    else:
        plugins = _entry_point_factories()
        if name not in plugins:
            raise input_error(f"unknown model {name!r}", fix=f"use one of {model_names()}")
        rule = getattr(plugins[name](), "model_tags", None)
    if rule is None:
        return ModelTags()
    return rule if isinstance(rule, ModelTags) else rule(**dict(params or {}))


def check_model_params(
    name: str,
    params: dict[str, Any] | None,
    *,
    doc: SpecDocument | None = None,
    path: KeyPath = (),
) -> None:
    """Check ``params`` of model ``name`` against its declared constraints, building nothing.

    Every number (also in lists and mappings) must be finite; a built-in model's parameters
    must meet the constraints it declares (:func:`register_model`). ``doc`` and ``path``
    (the spec and the key path of the parameters in it) put the spec's file and line in
    the error.

    Raises
    ------
    ForecastInputError
        One line naming the parameter, its value and what is valid.
    """
    params = dict(params or {})
    rule = _CONSTRAINTS.get(name, {})
    declared = rule(params, doc, path) if callable(rule) else rule
    check_params(f"model {name!r}", params, declared, doc=doc, path=path)


def build_model(name: str, params: dict[str, Any] | None = None) -> BaseEstimator:
    """Instantiate the registered model ``name`` with ``params`` (``seed`` is passed through),
    after :func:`check_model_params`."""
    params = dict(params or {})
    if name in _REGISTRY:
        check_model_params(name, params)
        return _REGISTRY[name](**params)
    plugins = _entry_point_factories()
    if name in plugins:
        check_model_params(name, params)
        factory = plugins[name]()
        return factory(**params)
    raise input_error(f"unknown model {name!r}", fix=f"use one of {model_names()}")
