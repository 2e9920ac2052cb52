"""Choosing a warning threshold: the cost-minimising fit (all ratios at once), its views."""

from __future__ import annotations

from typing import Literal

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from forecast._errors import input_error
from forecast._validation import check_capacity_groups, check_outcomes_probabilities
from forecast.decision._costloss import CostLoss, check_costloss, expected_cost
from forecast.decision._rules import capacity_mask, warn_mask

__all__ = ["CostThresholdSelector", "best_threshold_in_sample", "min_cost_thresholds"]

ThresholdMethod = Literal["empirical", "bayes"]


def min_cost_thresholds(
    y: np.ndarray, p: np.ndarray, w: np.ndarray, ratios: np.ndarray, eligible: np.ndarray
) -> np.ndarray:
    """Cost-minimising threshold for every cost ratio: the one threshold fit of this package.

    Minimises the realised cost ``sum_i w_i (d_i C + y_i L (1 - e d_i))`` over
    ``d_i = eligible_i & [p_i >= t]``, for all ratios ``r = C / (e L)`` at once
    (:func:`best_threshold_in_sample`, :class:`CostThresholdSelector`,
    :func:`rolling_thresholds`, :func:`value_curve` and :func:`cost_analysis`
    all call it). Acting on row ``i`` changes the expense by ``w_i e L (r - y_i)``; acting on
    the ``j`` highest distinct probabilities among ``eligible`` rows changes it
    by ``e L (r N_j - Y_j)`` with ``N_j`` (``Y_j``) the weight (onsets) among
    them. Per ratio the smallest ``j`` within ``1e-9 sum_i w_i |r - y_i|`` of
    the minimum wins (fewest warnings); the threshold returned for the chosen
    decisions is ``r`` if it gives them, else the midpoint rule of
    :func:`best_threshold_in_sample`.

    Parameters
    ----------
    y, p, w : numpy.ndarray
        Outcomes (0/1), probabilities and weights of the fitting rows.
    ratios : numpy.ndarray
        Cost ratios ``r = C / (e L)``.
    eligible : numpy.ndarray of bool
        Rows that may warn (the top ``capacity`` of their group, or all).

    Returns
    -------
    numpy.ndarray
        One threshold per ratio.
    """
    ratios = np.asarray(ratios, dtype=float)
    p_el, y_el, w_el = p[eligible], y[eligible], w[eligible]
    levels, inverse = np.unique(-p_el, return_inverse=True)  # -p ascending = p descending
    n_level = np.bincount(inverse, weights=w_el, minlength=levels.size)
    y_level = np.bincount(inverse, weights=w_el * y_el, minlength=levels.size)
    cum_n = np.r_[0.0, np.cumsum(n_level)]
    cum_y = np.r_[0.0, np.cumsum(y_level)]
    change = ratios[:, None] * cum_n[None, :] - cum_y[None, :]
    # row sums (not a matrix product) so that a ratio's result does not depend on the others
    scale = (np.abs(ratios[:, None] - y_el[None, :]) * w_el[None, :]).sum(axis=1)
    tol = 1e-9 * np.maximum(scale, 1e-300)
    j = np.argmax(change <= (change.min(axis=1) + tol)[:, None], axis=1)
    probs = -levels
    padded = np.r_[np.inf, probs, -np.inf]  # padded[j] = lowest acted, padded[j+1] = below
    lowest_acted = padded[j]
    below = padded[j + 1]
    none_acted = np.where(below < 1.0, (below + 1.0) / 2.0, np.nextafter(1.0, 2.0))
    out = np.where(j == 0, none_acted, (lowest_acted + below) / 2.0)
    out = np.where(j == probs.size, lowest_acted / 2.0, out)
    if probs.size == 0:
        out = np.full(ratios.size, np.nextafter(1.0, 2.0))
    return np.where((below < ratios) & (ratios <= lowest_acted), ratios, out)


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
        y, p, sample_weight, caller="best_threshold_in_sample", names=("y", "p")
    )
    costloss = check_costloss(costloss, caller="best_threshold_in_sample")
    g_arr = check_capacity_groups(
        groups, p_arr.size, costloss.capacity, caller="best_threshold_in_sample"
    )
    eligible = capacity_mask(p_arr, g_arr, costloss.capacity)
    ratio = np.array([costloss.cost_ratio])
    return float(min_cost_thresholds(y_arr, p_arr, w_arr, ratio, eligible)[0])


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
            y, p, sample_weight, caller="CostThresholdSelector.fit", names=("y", "p")
        )
        g_arr = check_capacity_groups(
            groups, p_arr.size, costloss.capacity, caller="CostThresholdSelector.fit"
        )
        if self.method == "bayes":
            threshold = costloss.cost_ratio
        else:
            threshold = best_threshold_in_sample(y_arr, p_arr, costloss, g_arr, sample_weight=w_arr)
        self.costloss_ = costloss
        self.threshold_ = float(threshold)
        self.cost_ = expected_cost(y_arr, p_arr, threshold, costloss, g_arr, sample_weight=w_arr)
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
