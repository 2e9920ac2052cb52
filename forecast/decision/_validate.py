"""Input checks shared by the decision-analysis functions."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from forecast._errors import input_error

__all__ = [
    "check_capacity_groups",
    "check_groups",
    "check_k",
    "check_outcomes_probabilities",
    "check_threshold",
]


def _first_rows(mask: np.ndarray) -> Sequence[int]:
    return np.flatnonzero(mask).tolist()


def _as_float(values: object, name: str, caller: str) -> np.ndarray:
    raw = values.to_numpy() if isinstance(values, pd.Series) else values
    if isinstance(raw, np.ndarray) and raw.dtype.kind in "fiub":  # already numeric: no copy
        return raw.astype(float, copy=False).ravel()
    try:
        series = pd.Series(np.asarray(values, dtype=object).ravel())
        return series.where(series.notna(), np.nan).astype(float).to_numpy()
    except (TypeError, ValueError) as exc:
        raise input_error(
            f"{caller}: {name} must be numeric ({exc})",
            column=name,
            fix=f"pass {name} as a 1-d numeric array",
        ) from None


def check_outcomes_probabilities(
    y: object,
    p: object,
    sample_weight: object = None,
    *,
    caller: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``y`` (0/1 floats), ``p`` and weights as 1-d arrays, or raise.

    Outcomes must be 0 or 1 (censored rows with unknown outcomes must be dropped
    first), probabilities finite in [0, 1], weights finite and non-negative.
    """
    y_arr = _as_float(y, "y", caller)
    p_arr = _as_float(p, "p", caller)
    if y_arr.shape != p_arr.shape:
        raise input_error(
            f"{caller}: y has {y_arr.size} values but p has {p_arr.size}",
            fix="pass one probability per outcome",
        )
    if y_arr.size == 0:
        raise input_error(f"{caller}: y and p are empty", fix="pass at least one row")
    bad_y = ~np.isin(y_arr, (0.0, 1.0))
    if bad_y.any():
        raise input_error(
            f"{caller}: outcomes must be 0 or 1 (found {float(y_arr[bad_y][0])!r})",
            column="y",
            rows=_first_rows(bad_y),
            fix="drop censored rows (unknown outcomes) and recode the outcome to 0/1",
        )
    bad_p = ~np.isfinite(p_arr) | (p_arr < 0) | (p_arr > 1)
    if bad_p.any():
        raise input_error(
            f"{caller}: probabilities must be finite and in [0, 1] "
            f"(found {float(p_arr[bad_p][0])!r})",
            column="p",
            rows=_first_rows(bad_p),
            fix="pass predicted probabilities, not scores or ranks",
        )
    if sample_weight is None:
        w_arr = np.ones_like(p_arr)
    else:
        w_arr = _as_float(sample_weight, "sample_weight", caller)
        if w_arr.shape != p_arr.shape:
            raise input_error(
                f"{caller}: sample_weight has {w_arr.size} values but p has {p_arr.size}",
                fix="pass one weight per row",
            )
        bad_w = ~np.isfinite(w_arr) | (w_arr < 0)
        if bad_w.any():
            raise input_error(
                f"{caller}: sample_weight must be finite and >= 0",
                column="sample_weight",
                rows=_first_rows(bad_w),
                fix="use non-negative weights",
            )
        if w_arr.sum() <= 0:
            raise input_error(
                f"{caller}: sample_weight sums to 0", fix="give some rows positive weight"
            )
    return y_arr, p_arr, w_arr


def check_groups(groups: object, n: int, *, caller: str) -> np.ndarray:
    """Return ``groups`` as a 1-d array of length ``n`` without missing values."""
    g_arr = np.asarray(groups).ravel()
    if g_arr.shape != (n,):
        raise input_error(
            f"{caller}: groups has {g_arr.size} values but there are {n} rows",
            fix="pass one group label (e.g. the year) per row",
        )
    missing = np.asarray(pd.isna(g_arr), dtype=bool)
    if missing.any():
        raise input_error(
            f"{caller}: groups must not be missing",
            column="groups",
            rows=_first_rows(missing),
            fix="label every row with its year",
        )
    return g_arr


def check_capacity_groups(
    groups: object, n: int, capacity: int | None, *, caller: str
) -> np.ndarray | None:
    """Return checked ``groups`` (or None); groups are required when a capacity is set."""
    if groups is not None:
        return check_groups(groups, n, caller=caller)
    if capacity is not None:
        raise input_error(
            f"{caller}: capacity is set but groups is None",
            fix="pass groups (the year of each row) so that capacity applies per year",
        )
    return None


def check_threshold(threshold: object, *, caller: str, upper_open: bool = False) -> float:
    """Return ``threshold`` as a float; it must be a number, not NaN."""
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.number)):
        raise input_error(
            f"{caller}: threshold must be a number, got {threshold!r}",
            fix="pass a probability threshold such as 0.04",
        )
    value = float(threshold)
    if np.isnan(value):
        raise input_error(f"{caller}: threshold is NaN", fix="pass a probability threshold")
    if upper_open and not 0.0 <= value < 1.0:
        raise input_error(
            f"{caller}: threshold must be in [0, 1), got {value!r}",
            fix="pass a threshold probability below 1",
        )
    return value


def check_k(k: object, *, name: str = "k", caller: str) -> int:
    """Return ``k`` as an int >= 1."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise input_error(
            f"{caller}: {name} must be an integer >= 1, got {k!r}",
            fix=f"pass {name} as the number of warnings that can be acted on per year",
        )
    return int(k)
