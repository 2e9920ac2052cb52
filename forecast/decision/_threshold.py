"""Choosing a warning threshold: Bayes rule, in-sample optimum, fitted selector."""

from __future__ import annotations

from typing import Literal

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from forecast._errors import input_error
from forecast.decision._costloss import CostLoss, check_costloss, expense
from forecast.decision._rules import top_k_mask, warn_mask
from forecast.decision._validate import check_capacity_groups, check_outcomes_probabilities

__all__ = ["CostThresholdSelector", "best_threshold_in_sample"]

ThresholdMethod = Literal["empirical", "bayes"]


def _min_cost_threshold(
    y: np.ndarray, p: np.ndarray, w: np.ndarray, costloss: CostLoss, eligible: np.ndarray
) -> float:
    """Threshold minimising ``sum w * E(d, y)`` over decisions ``d = eligible & (p >= t)``."""
    # Acting on row i changes its expense by w_i * (C - y_i * e * L).
    delta = w[eligible] * (costloss.cost - y[eligible] * costloss.effectiveness * costloss.loss)
    p_el = p[eligible]
    levels, inverse = np.unique(-p_el, return_inverse=True)  # levels: -p, ascending
    per_level = np.bincount(inverse, weights=delta, minlength=levels.size)
    change = np.r_[0.0, np.cumsum(per_level)]  # change[j]: act on the j highest levels
    tol = 1e-9 * max(float(np.abs(delta).sum()), 1e-300)
    j = int(np.flatnonzero(change <= change.min() + tol)[0])  # ties: fewest warnings
    probs = -levels  # distinct probabilities, descending
    # Thresholds in (below, lowest_acted] all give the chosen decisions.
    lowest_acted = float(probs[j - 1]) if j > 0 else np.inf
    below = float(probs[j]) if j < probs.size else -np.inf
    r = costloss.cost_ratio
    if below < r <= lowest_acted:
        return r
    if j == 0:
        return (below + 1.0) / 2.0 if below < 1.0 else float(np.nextafter(1.0, 2.0))
    if j == probs.size:
        return lowest_acted / 2.0
    return (lowest_acted + below) / 2.0


def best_threshold_in_sample(
    y: object,
    p: object,
    costloss: CostLoss,
    groups: object = None,
    *,
    sample_weight: object = None,
) -> float:
    """Threshold that minimises the realised cost on the same data (optimistic).

    Minimises ``sum_i w_i * (d_i C + y_i L (1 - e d_i))`` over thresholds ``t``
    with ``d_i = 1[p_i >= t]`` (and, with ``costloss.capacity``, only the top
    ``capacity`` rows of each group). Among equally cheap decision sets the
    one with the fewest warnings wins. All thresholds between the highest
    probability not acted on and the lowest acted on give the same decisions;
    of these the Bayes threshold ``r = C / (e L)`` is returned if it is one of
    them, otherwise the midpoint of the two probabilities (``(p_max + 1) / 2``
    when warning on nothing is best, half the smallest probability when
    warning on everything is).

    Because the threshold is fitted and scored on the same outcomes, its cost
    is an optimistic (in-sample) estimate; use :class:`CostThresholdSelector`
    on earlier data, or :func:`rolling_thresholds`, for an honest one.

    Parameters
    ----------
    y : array-like of {0, 1}
        Observed onsets.
    p : array-like of float in [0, 1]
        Forecast probabilities.
    costloss : CostLoss
        Costs; only ``r = C / (e L)`` and ``capacity`` affect the choice.
    groups : array-like, optional
        Year of each row; required with a capacity.
    sample_weight : array-like, optional
        Row weights.

    Returns
    -------
    float
        The cost-minimising threshold.
    """
    y_arr, p_arr, w_arr = check_outcomes_probabilities(
        y, p, sample_weight, caller="best_threshold_in_sample"
    )
    costloss = check_costloss(costloss, caller="best_threshold_in_sample")
    g_arr = check_capacity_groups(
        groups, p_arr.size, costloss.capacity, caller="best_threshold_in_sample"
    )
    eligible = np.ones(p_arr.size, dtype=bool)
    if costloss.capacity is not None:
        eligible = top_k_mask(p_arr, g_arr, costloss.capacity)
    return _min_cost_threshold(y_arr, p_arr, w_arr, costloss, eligible)


class CostThresholdSelector(BaseEstimator):
    """Choose a warning threshold from past forecasts and their outcomes.

    ``fit`` must see only forecasts whose outcomes were known at the time the
    threshold is used, e.g. out-of-sample predictions from earlier origins
    (see :func:`rolling_thresholds`, which does this bookkeeping).

    Parameters
    ----------
    cost_ratio : float
        ``r = C / (e L)``, > 0.
    effectiveness : float, default 1.0
        Share ``e`` of the loss prevented by acting, in (0, 1]. It scales the
        reported ``cost_`` (in units of ``L``), not the chosen threshold.
    capacity : int or None, default None
        Most warnings acted on per group (year).
    method : {'empirical', 'bayes'}, default 'empirical'
        ``'empirical'``: the threshold minimising realised cost on the data
        passed to ``fit`` (see :func:`best_threshold_in_sample`).
        ``'bayes'``: ``r``, optimal for calibrated probabilities; ``fit``
        only validates its input.

    Attributes
    ----------
    threshold_ : float
        The chosen threshold; ``predict`` warns when ``p >= threshold_``.
    costloss_ : CostLoss
        Costs with ``L = 1`` and ``C = r e``.
    cost_ : float
        Realised cost per year (per row without groups) on the fitting data at
        ``threshold_``, in units of ``L`` (in-sample, optimistic).
    n_samples_fit_ : int
        Rows seen by ``fit``.
    """

    def __init__(
        self,
        cost_ratio: float,
        *,
        effectiveness: float = 1.0,
        capacity: int | None = None,
        method: ThresholdMethod = "empirical",
    ) -> None:
        self.cost_ratio = cost_ratio
        self.effectiveness = effectiveness
        self.capacity = capacity
        self.method = method

    def fit(
        self, y: object, p: object, groups: object = None, *, sample_weight: object = None
    ) -> CostThresholdSelector:
        """Choose ``threshold_`` from outcomes ``y`` and probabilities ``p``."""
        if self.method not in ("empirical", "bayes"):
            raise input_error(
                f"CostThresholdSelector: method must be 'empirical' or 'bayes', "
                f"got {self.method!r}",
                fix="use method='empirical' or method='bayes'",
            )
        costloss = CostLoss.from_ratio(self.cost_ratio, self.effectiveness, self.capacity)
        y_arr, p_arr, w_arr = check_outcomes_probabilities(
            y, p, sample_weight, caller="CostThresholdSelector.fit"
        )
        g_arr = check_capacity_groups(
            groups, p_arr.size, costloss.capacity, caller="CostThresholdSelector.fit"
        )
        if self.method == "bayes":
            threshold = costloss.cost_ratio
        else:
            threshold = best_threshold_in_sample(y_arr, p_arr, costloss, g_arr, sample_weight=w_arr)
        d = warn_mask(p_arr, threshold, costloss.capacity, g_arr)
        total = float(np.sum(w_arr * expense(d, y_arr, costloss)))
        n_groups = float(w_arr.sum()) if g_arr is None else float(np.unique(g_arr).size)
        self.costloss_ = costloss
        self.threshold_ = float(threshold)
        self.cost_ = total / n_groups
        self.n_samples_fit_ = int(p_arr.size)
        return self

    def predict(self, p: object, groups: object = None) -> np.ndarray:
        """Return a boolean warning per row: ``p >= threshold_`` (within capacity)."""
        check_is_fitted(self, "threshold_")
        p_arr = np.asarray(p, dtype=float).ravel()
        bad = ~np.isfinite(p_arr)
        if bad.any():
            raise input_error(
                "CostThresholdSelector.predict: probabilities must be finite",
                rows=np.flatnonzero(bad).tolist(),
                fix="drop rows without a forecast",
            )
        g_arr = check_capacity_groups(
            groups, p_arr.size, self.costloss_.capacity, caller="CostThresholdSelector.predict"
        )
        return warn_mask(p_arr, self.threshold_, self.costloss_.capacity, g_arr)
