"""Input checks shared by metrics, calibration and decision analysis: one place, one style.

Every check raises :class:`forecast.ForecastInputError` with a one-line message
(constraint, value found, fix) and returns the cleaned value. The names say
what is checked: outcomes with probabilities, a probability threshold (in
[0, 1]) versus a warning threshold (any number: ``p >= t``), group labels,
the number ``k`` of warnings per group.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from forecast._errors import input_error

__all__ = [
    "check_both_classes",
    "check_capacity_groups",
    "check_group_labels",
    "check_k",
    "check_outcomes_probabilities",
    "check_probability_threshold",
    "check_warning_threshold",
]


def _as_1d_float(values: object, name: str, caller: str) -> NDArray[np.float64]:
    """``values`` as a 1-d float array (missing values, also ``pd.NA``, become NaN)."""
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        try:  # object data holding pd.NA: missing -> NaN, numbers -> float
            raw = np.asarray(values, dtype=object)
            series = pd.Series(raw.ravel())
            arr = series.where(series.notna(), np.nan).astype(float).to_numpy().reshape(raw.shape)
        except (TypeError, ValueError) as exc:
            raise input_error(
                f"{caller}: {name!r} must be numeric, got {type(values).__name__} ({exc})",
                fix=f"pass {name} as a 1-d numeric array",
            ) from None
    if arr.ndim != 1:
        raise input_error(
            f"{caller}: {name!r} must be 1-dimensional, got shape {arr.shape}",
            fix=f"pass {name} as a 1-d array (e.g. predict_proba(X)[:, 1])",
        )
    return arr


def check_outcomes_probabilities(
    y: ArrayLike | object,
    p: ArrayLike | object,
    sample_weight: ArrayLike | object | None = None,
    *,
    caller: str,
    names: tuple[str, str] = ("y_true", "y_score"),
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Validate outcomes in {0, 1}, probabilities in [0, 1] and weights >= 0.

    Returns float arrays ``(y, p, w)``; ``w`` is all ones when
    ``sample_weight`` is None. NaN is rejected everywhere: unknown outcomes
    must be dropped first (see :func:`forecast.metrics.evaluate`). ``names``
    are the caller's argument names, used in the messages.
    """
    y_name, p_name = names
    y_arr = _as_1d_float(y, y_name, caller)
    p_arr = _as_1d_float(p, p_name, caller)
    if y_arr.shape != p_arr.shape:
        raise input_error(
            f"{caller}: {y_name!r} has {y_arr.size} rows but {p_name!r} has {p_arr.size}",
            fix="pass outcomes and probabilities for the same rows",
        )
    if y_arr.size == 0:
        raise input_error(f"{caller}: {y_name!r} is empty", fix="pass at least one scored row")
    bad = np.flatnonzero(~np.isin(y_arr, (0.0, 1.0)))
    if bad.size:
        raise input_error(
            f"{caller}: {y_name!r} must be 0 or 1 (NaN = unknown is not allowed here), "
            f"found {float(y_arr[bad[0]])!r}",
            rows=bad.tolist(),
            fix="drop unknown outcomes first, e.g. with forecast.metrics.evaluate",
        )
    bad = np.flatnonzero(~((p_arr >= 0.0) & (p_arr <= 1.0)))
    if bad.size:
        raise input_error(
            f"{caller}: {p_name!r} must be probabilities in [0, 1] without NaN, "
            f"found {float(p_arr[bad[0]])!r}",
            rows=bad.tolist(),
            fix="pass predict_proba(X)[:, 1], not decision scores, and impute or drop NaN",
        )
    if sample_weight is None:
        return y_arr, p_arr, np.ones_like(p_arr)
    w = _as_1d_float(sample_weight, "sample_weight", caller)
    if w.shape != p_arr.shape:
        raise input_error(
            f"{caller}: 'sample_weight' has {w.size} rows but {p_name!r} has {p_arr.size}",
            fix="pass one weight per row",
        )
    bad = np.flatnonzero(~(np.isfinite(w) & (w >= 0)))
    if bad.size:
        raise input_error(
            f"{caller}: 'sample_weight' must be finite and >= 0, found {float(w[bad[0]])!r}",
            rows=bad.tolist(),
            fix="use non-negative finite weights",
        )
    if not w.sum() > 0:
        raise input_error(
            f"{caller}: 'sample_weight' sums to 0", fix="give some rows a positive weight"
        )
    return y_arr, p_arr, w


def check_both_classes(y: NDArray[np.float64], w: NDArray[np.float64], caller: str) -> None:
    """Fail when the (positively weighted) outcomes contain a single class."""
    pos = float(np.sum(w[y == 1]))
    neg = float(np.sum(w[y == 0]))
    if pos <= 0 or neg <= 0:
        present = "only 1 (onsets)" if neg <= 0 else "only 0 (no onsets)"
        raise input_error(
            f"{caller}: 'y_true' contains a single class ({present}); "
            "the metric needs both events and non-events",
            fix="score a sample with at least one event and one non-event "
            "(e.g. pool years instead of scoring a single year)",
        )


def check_probability_threshold(
    threshold: object, *, caller: str, below_one: bool = False
) -> float:
    """A probability threshold: a number in [0, 1] (in [0, 1) with ``below_one``)."""
    try:
        t = float(threshold)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise input_error(
            f"{caller}: 'threshold' must be a number in [0, 1], got {threshold!r}",
            fix="pass a probability such as threshold=0.05",
        ) from None
    if not (0.0 <= t < 1.0 if below_one else 0.0 <= t <= 1.0):
        interval = "[0, 1)" if below_one else "[0, 1]"
        raise input_error(
            f"{caller}: 'threshold' must be in {interval}, got {threshold!r}",
            fix="pass a probability such as threshold=0.05",
        )
    return t


def check_warning_threshold(threshold: object, *, caller: str) -> float:
    """A warning threshold ``t`` of the rule ``p >= t``: any number but NaN (``t > 1``: none)."""
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.number)):
        raise input_error(
            f"{caller}: 'threshold' must be a number, got {threshold!r}",
            fix="pass a probability threshold such as 0.04",
        )
    value = float(threshold)
    if np.isnan(value):
        raise input_error(
            f"{caller}: 'threshold' must be a number, got nan",
            fix="pass a probability threshold such as 0.04",
        )
    return value


def check_k(k: object, *, caller: str, name: str = "k") -> int:
    """``k``, the warnings issued per group (year): an integer >= 1."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise input_error(
            f"{caller}: {name!r} must be an integer >= 1, got {k!r}",
            fix=f"pass {name} as the number of warnings issued per group (year), e.g. 30",
        )
    return int(k)


def check_group_labels(groups: ArrayLike | object, n: int, *, caller: str) -> np.ndarray:
    """Group labels (e.g. years), one per row and none missing; returned as a 1-d array."""
    if groups is None:
        raise input_error(
            f"{caller}: 'groups' is required (one label per row, e.g. the forecast year)",
            fix="pass groups=years so that k warnings are issued per year",
        )
    g = np.asarray(groups)
    if g.ndim != 1 or g.size != n:
        raise input_error(
            f"{caller}: 'groups' must be 1-d with {n} rows, got shape {g.shape}",
            fix="pass one group label (e.g. the year) per row",
        )
    missing = np.flatnonzero(np.asarray(pd.isna(g), dtype=bool))
    if missing.size:
        raise input_error(
            f"{caller}: 'groups' contains missing labels",
            rows=missing.tolist(),
            fix="give every row a group (year)",
        )
    return g


def check_capacity_groups(
    groups: ArrayLike | object, n: int, capacity: int | None, *, caller: str
) -> np.ndarray | None:
    """:func:`check_group_labels` when given; required with a capacity (warnings per year)."""
    if groups is None and capacity is None:
        return None
    if groups is None:
        raise input_error(
            f"{caller}: capacity is set but groups is None",
            fix="pass groups (the year of each row) so that capacity applies per year",
        )
    return check_group_labels(groups, n, caller=caller)
