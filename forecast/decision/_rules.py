"""Decision rules as explicit objects: warn above a threshold, or the top k per year."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from forecast._errors import input_error
from forecast._validation import check_group_labels, check_k, check_warning_threshold
from forecast.metrics import top_k_mask

__all__ = [
    "EWP_THRESHOLD",
    "EWP_TOP30",
    "ThresholdRule",
    "TopKRule",
    "capacity_mask",
    "warn_mask",
]


def _probabilities(p: object, *, caller: str) -> np.ndarray:
    p_arr = np.asarray(p, dtype=float).ravel()
    bad = ~np.isfinite(p_arr)
    if bad.any():
        raise input_error(
            f"{caller}: probabilities must be finite",
            column="p",
            rows=np.flatnonzero(bad).tolist(),
            fix="drop rows without a forecast",
        )
    return p_arr


def capacity_mask(p: np.ndarray, groups: np.ndarray | None, capacity: int | None) -> np.ndarray:
    """Rows that may warn under a capacity: each group's top ``capacity`` (all rows if None).

    See :func:`forecast.metrics.top_k_mask` (ties by row order; a smaller group warns all).
    """
    if capacity is None:
        return np.ones(np.shape(p), dtype=bool)
    return top_k_mask(p, groups, capacity)


def warn_mask(
    p: np.ndarray, threshold: float | np.ndarray, capacity: int | None, groups: np.ndarray | None
) -> np.ndarray:
    """Warn where ``p >= threshold`` and, with a capacity, the row is in its group's top k."""
    return (p >= threshold) & capacity_mask(p, groups, capacity)


@dataclass(frozen=True)
class ThresholdRule:
    """Warn on every unit whose probability is at or above ``threshold``.

    Decision: ``d = 1[p >= threshold]`` (the same convention as scikit-learn's
    ``FixedThresholdClassifier``).

    Parameters
    ----------
    threshold : float
        Probability threshold.
    """

    threshold: float

    def __post_init__(self) -> None:
        check_warning_threshold(self.threshold, caller="ThresholdRule")

    def warn(self, p: object, groups: object = None) -> np.ndarray:
        """Return a boolean warning per row; ``groups`` is accepted and not needed."""
        p_arr = _probabilities(p, caller="ThresholdRule.warn")
        if groups is not None:
            check_group_labels(groups, p_arr.size, caller="ThresholdRule.warn")
        return p_arr >= float(self.threshold)


@dataclass(frozen=True)
class TopKRule:
    """Warn on the ``k`` highest-risk units in each group (year).

    Decision: ``d = 1[rank of p within its group <= k]``, ranks 1 = highest,
    ties broken by row order so that exactly ``min(k, group size)`` units are
    warned per group (:func:`forecast.metrics.top_k_mask`). Without ``groups``
    all rows form one group.

    Parameters
    ----------
    k : int
        Number of warnings per group, >= 1.
    """

    k: int

    def __post_init__(self) -> None:
        check_k(self.k, caller="TopKRule")

    def warn(self, p: object, groups: object = None) -> np.ndarray:
        """Return a boolean warning per row: the top ``k`` of each group."""
        p_arr = _probabilities(p, caller="TopKRule.warn")
        g_arr = None
        if groups is not None:
            g_arr = check_group_labels(groups, p_arr.size, caller="TopKRule.warn")
        return top_k_mask(p_arr, g_arr, int(self.k))


EWP_THRESHOLD = ThresholdRule(0.04)
"""The Early Warning Project's published cut-off: flag countries with risk >= 4%."""

EWP_TOP30 = TopKRule(30)
"""The Early Warning Project's headline list: the 30 highest-risk countries per year."""
