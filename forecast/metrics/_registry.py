"""The metric registry: every metric by name, with its direction and parameters.

A :class:`Metric` wraps a plain function ``(y_true, y_score, *,
sample_weight=None, ...)``. Parameterised metrics (a threshold, k) are bound
with :func:`get_metric`, e.g. ``get_metric("recall_at_k", k=30)``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from numpy.typing import ArrayLike

from forecast._errors import input_error
from forecast.metrics import _scores, _threshold, _topk
from forecast.metrics._batch import BATCH

__all__ = ["Metric", "get_metric", "metric_names", "resolve_metrics"]


@dataclass(frozen=True)
class Metric:
    """A registered metric.

    Attributes
    ----------
    name : str
        Registry name.
    func : callable
        ``func(y_true, y_score, *, sample_weight=None, **params) -> float``.
    greater_is_better : bool or None
        True/False for scores/losses; None when neither direction is better
        (then ``ideal`` gives the target, e.g. 1 for the O/E ratio).
    ideal : float or None
        Value of a perfect forecast, when there is one.
    needs_groups : bool
        True when the metric needs ``groups`` (e.g. years, for top-k per year).
    required_params : tuple of str
        Parameters that must be bound before use (e.g. ``threshold``).
    params : mapping
        Parameters bound by :func:`get_metric`.
    example_params : mapping
        Valid parameters used by the shared metric tests.
    batch : callable or None
        Vectorised ``batch(y, p, W) -> (B,)`` used by the bootstrap.
    """

    name: str
    func: Callable[..., float]
    greater_is_better: bool | None
    ideal: float | None = None
    needs_groups: bool = False
    required_params: tuple[str, ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict)
    example_params: Mapping[str, Any] = field(default_factory=dict)
    batch: Callable[..., Any] | None = None

    @property
    def label(self) -> str:
        """Name plus bound parameters, e.g. ``recall_at_k[k=30]``."""
        if not self.params:
            return self.name
        inner = ",".join(f"{k}={v}" for k, v in sorted(self.params.items()))
        return f"{self.name}[{inner}]"

    @property
    def direction(self) -> str:
        """'higher', 'lower', 'closer to <ideal>' or 'none'."""
        if self.greater_is_better is True:
            return "higher"
        if self.greater_is_better is False:
            return "lower"
        return f"closer to {self.ideal:g}" if self.ideal is not None else "none"

    def with_params(self, **params: Any) -> Metric:
        """Return a copy with ``params`` bound (validated against the signature)."""
        allowed = set(inspect.signature(self.func).parameters) - {
            "y_true",
            "y_score",
            "sample_weight",
            "groups",
        }
        unknown = sorted(set(params) - allowed)
        if unknown:
            raise input_error(
                f"metric {self.name!r} has no parameter(s) {unknown}; "
                f"valid: {sorted(allowed) or 'none'}",
                fix=f"drop {unknown}",
            )
        merged = MappingProxyType({**self.params, **params})
        return replace(self, params=merged, batch=self.batch if not merged else None)

    def __call__(
        self,
        y_true: ArrayLike,
        y_score: ArrayLike,
        *,
        sample_weight: ArrayLike | None = None,
        groups: ArrayLike | None = None,
    ) -> float:
        missing = [p for p in self.required_params if p not in self.params]
        if missing:
            example = ", ".join(f"{m}={self.example_params.get(m)!r}" for m in missing)
            raise input_error(
                f"metric {self.name!r} needs parameter(s) {missing}",
                fix=f"bind them: get_metric({self.name!r}, {example})",
            )
        kwargs = dict(self.params)
        if self.needs_groups:
            kwargs["groups"] = groups
        return float(self.func(y_true, y_score, sample_weight=sample_weight, **kwargs))


def _m(func: Callable[..., float], gib: bool | None, **kw: Any) -> Metric:
    name = func.__name__
    return Metric(name=name, func=func, greater_is_better=gib, batch=BATCH.get(name), **kw)


_THRESH = {"required_params": ("threshold",), "example_params": {"threshold": 0.3}}
_TOPK = {"needs_groups": True, "required_params": ("k",), "example_params": {"k": 2}}

_REGISTRY: dict[str, Metric] = {
    m.name: m
    for m in (
        _m(_scores.roc_auc, True, ideal=1.0),
        _m(_scores.average_precision, True, ideal=1.0),
        _m(_scores.brier, False, ideal=0.0),
        _m(_scores.log_loss, False, ideal=0.0),
        _m(_scores.brier_skill, True, ideal=1.0),
        _m(_scores.observed_expected, None, ideal=1.0),
        _m(_scores.calibration_intercept, None, ideal=0.0),
        _m(_scores.calibration_slope, None, ideal=1.0),
        _m(_scores.ece, False, ideal=0.0),
        _m(_threshold.precision_at_threshold, True, ideal=1.0, **_THRESH),
        _m(_threshold.recall_at_threshold, True, ideal=1.0, **_THRESH),
        _m(_threshold.fbeta_at_threshold, True, ideal=1.0, **_THRESH),
        _m(_threshold.warnings_at_threshold, None, **_THRESH),
        _m(_threshold.false_alarms_per_hit_at_threshold, False, ideal=0.0, **_THRESH),
        _m(_topk.precision_at_k, True, ideal=1.0, **_TOPK),
        _m(_topk.recall_at_k, True, ideal=1.0, **_TOPK),
    )
}

#: Metrics that need no parameter: the default set for tables.
DEFAULT_METRICS: tuple[str, ...] = tuple(
    name for name, m in _REGISTRY.items() if not m.required_params
)


def metric_names() -> list[str]:
    """Sorted names of all registered metrics."""
    return sorted(_REGISTRY)


def get_metric(name: str | Metric, **params: Any) -> Metric:
    """Look up a metric by name and optionally bind its parameters.

    Parameters
    ----------
    name : str or Metric
        Registry name (see :func:`metric_names`); a :class:`Metric` passes through.
    **params
        Parameters to bind, e.g. ``threshold=0.05`` or ``k=30``.

    Raises
    ------
    ForecastInputError
        Unknown name (the message lists the valid names) or unknown parameter.

    Examples
    --------
    >>> get_metric("recall_at_k", k=30).label
    'recall_at_k[k=30]'
    """
    if isinstance(name, Metric):
        return name.with_params(**params) if params else name
    if not isinstance(name, str) or name not in _REGISTRY:
        raise input_error(
            f"unknown metric {name!r}; valid names: {', '.join(metric_names())}",
            fix="pick one of the valid names",
        )
    metric = _REGISTRY[name]
    return metric.with_params(**params) if params else metric


def resolve_metrics(metrics: str | Metric | Sequence[str | Metric] | None) -> list[Metric]:
    """Turn a name, a Metric or a list of them (None = defaults) into Metrics."""
    if metrics is None:
        metrics = list(DEFAULT_METRICS)
    if isinstance(metrics, str | Metric):
        metrics = [metrics]
    out = [get_metric(m) for m in metrics]
    labels = [m.label for m in out]
    dup = sorted({x for x in labels if labels.count(x) > 1})
    if dup:
        raise input_error(f"metrics listed twice: {dup}", fix="list each metric once")
    if not out:
        raise input_error("'metrics' is empty", fix="pass at least one metric name")
    return out
