"""Choosing a warning threshold: the cost-minimising fit (all ratios at once), its views."""

from __future__ import annotations

from typing import Literal

import numpy as np

from forecast._validation import check_capacity_groups, check_outcomes_probabilities
from forecast.decision._costloss import CostLoss, check_costloss
from forecast.decision._rules import capacity_mask

__all__ = ["ThresholdMethod", "best_threshold_in_sample", "min_cost_thresholds"]

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
