"""Input checks shared by every metric: one place, one message style."""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from forecast._errors import input_error

__all__ = [
    "check_binary_scores",
    "check_both_classes",
    "check_groups",
    "check_k",
    "check_threshold",
]


def _as_1d(values: ArrayLike, name: str, caller: str) -> NDArray[np.float64]:
    try:
        arr = np.asarray(values, dtype=float)
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


def check_binary_scores(
    y_true: ArrayLike,
    y_score: ArrayLike,
    sample_weight: ArrayLike | None = None,
    *,
    caller: str = "metric",
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Validate outcomes in {0, 1}, probabilities in [0, 1] and weights >= 0.

    Returns float arrays ``(y, p, w)``; ``w`` is all ones when ``sample_weight``
    is None. NaN is rejected everywhere: drop unknown outcomes first (see
    :func:`forecast.metrics.evaluate`).
    """
    y = _as_1d(y_true, "y_true", caller)
    p = _as_1d(y_score, "y_score", caller)
    if y.shape != p.shape:
        raise input_error(
            f"{caller}: 'y_true' has {y.size} rows but 'y_score' has {p.size}",
            fix="pass outcomes and probabilities for the same rows",
        )
    if y.size == 0:
        raise input_error(f"{caller}: 'y_true' is empty", fix="pass at least one scored row")
    bad = np.flatnonzero(~np.isin(y, (0.0, 1.0)))
    if bad.size:
        raise input_error(
            f"{caller}: 'y_true' must be 0 or 1 (NaN = unknown is not allowed here), "
            f"found {y[bad[0]]!r}",
            rows=bad.tolist(),
            fix="drop unknown outcomes first, e.g. with forecast.metrics.evaluate",
        )
    bad = np.flatnonzero(~((p >= 0.0) & (p <= 1.0)))
    if bad.size:
        raise input_error(
            f"{caller}: 'y_score' must be probabilities in [0, 1] without NaN, found {p[bad[0]]!r}",
            rows=bad.tolist(),
            fix="pass predict_proba(X)[:, 1], not decision scores, and impute or drop NaN",
        )
    if sample_weight is None:
        w = np.ones_like(p)
    else:
        w = _as_1d(sample_weight, "sample_weight", caller)
        if w.shape != p.shape:
            raise input_error(
                f"{caller}: 'sample_weight' has {w.size} rows but 'y_score' has {p.size}",
                fix="pass one weight per row",
            )
        bad = np.flatnonzero(~(np.isfinite(w) & (w >= 0)))
        if bad.size:
            raise input_error(
                f"{caller}: 'sample_weight' must be finite and >= 0, found {w[bad[0]]!r}",
                rows=bad.tolist(),
                fix="use non-negative finite weights",
            )
        if not w.sum() > 0:
            raise input_error(
                f"{caller}: 'sample_weight' sums to 0", fix="give some rows a positive weight"
            )
    return y, p, w


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


def check_threshold(threshold: float, caller: str) -> float:
    """Thresholds are probabilities: a finite number in [0, 1]."""
    try:
        t = float(threshold)
    except (TypeError, ValueError):
        raise input_error(
            f"{caller}: 'threshold' must be a number in [0, 1], got {threshold!r}",
            fix="pass a probability such as threshold=0.05",
        ) from None
    if not 0.0 <= t <= 1.0:
        raise input_error(
            f"{caller}: 'threshold' must be in [0, 1], got {threshold!r}",
            fix="pass a probability such as threshold=0.05",
        )
    return t


def check_k(k: int, caller: str) -> int:
    """k (warnings per group) must be an integer >= 1."""
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise input_error(
            f"{caller}: 'k' must be an integer >= 1, got {k!r}",
            fix="pass the number of warnings issued per group, e.g. k=30",
        )
    return int(k)


def check_groups(groups: ArrayLike | None, n: int, caller: str) -> NDArray[np.intp]:
    """Encode ``groups`` (e.g. years) as integer codes 0..G-1."""
    if groups is None:
        raise input_error(
            f"{caller}: 'groups' is required (one label per row, e.g. the forecast year)",
            fix="pass groups=years so that k warnings are issued per year",
        )
    g = np.asarray(groups)
    if g.ndim != 1 or g.size != n:
        raise input_error(
            f"{caller}: 'groups' must be 1-d with {n} rows, got shape {g.shape}",
            fix="pass one group label per row",
        )
    missing = np.flatnonzero(pd.isna(g))
    if missing.size:
        raise input_error(
            f"{caller}: 'groups' contains missing labels",
            rows=missing.tolist(),
            fix="give every row a group (year)",
        )
    _, codes = np.unique(g, return_inverse=True)
    return codes.astype(np.intp)
