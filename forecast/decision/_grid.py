"""Thresholds and decisions for many cost ratios at once (vectorised over ratios).

The rules are those of :func:`best_threshold_in_sample` and
:func:`rolling_thresholds`; this module only computes them for a whole grid of
cost ratios in one pass, so that a value curve over 30+ ratios costs about as
much as one ratio. Costs are in units of the loss ``L = 1``, so acting on a
warning costs ``C = r e``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecast.decision._rules import top_k_mask
from forecast.decision._table import history_mask

__all__ = ["HonestGrid", "honest_threshold_grid", "in_sample_thresholds", "min_cost_thresholds"]


def min_cost_thresholds(
    y: np.ndarray, p: np.ndarray, w: np.ndarray, ratios: np.ndarray, eligible: np.ndarray
) -> np.ndarray:
    """Cost-minimising threshold for every cost ratio (vectorised ``_min_cost_threshold``).

    Acting on row ``i`` changes the expense by ``w_i e L (r - y_i)``; acting on
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
    scale = np.abs(ratios[:, None] - y_el[None, :]) @ w_el if y_el.size else np.zeros(ratios.size)
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


def _eligible(p: np.ndarray, groups: np.ndarray, capacity: int | None) -> np.ndarray:
    if capacity is None:
        return np.ones(p.size, dtype=bool)
    return top_k_mask(p, groups, capacity)


class HonestGrid:
    """Honest thresholds of one model: ``thresholds[o, k]`` for origin ``origins[o]``, ratio ``k``.

    Attributes
    ----------
    origins : numpy.ndarray
        Sorted origins of the model.
    thresholds : numpy.ndarray
        Shape ``(n_origins, n_ratios)``.
    empirical : numpy.ndarray of bool
        Per origin: fitted on history (True) or the Bayes fallback ``r`` (False).
    n_history, n_history_events : numpy.ndarray
        Rows (onsets) known at each origin.
    """

    def __init__(
        self,
        origins: np.ndarray,
        thresholds: np.ndarray,
        empirical: np.ndarray,
        n_history: np.ndarray,
        n_history_events: np.ndarray,
    ) -> None:
        self.origins = origins
        self.thresholds = thresholds
        self.empirical = empirical
        self.n_history = n_history
        self.n_history_events = n_history_events

    def per_row(self, origin: np.ndarray) -> np.ndarray:
        """Thresholds of each row's origin, shape ``(n_ratios, n_rows)``."""
        return self.thresholds[np.searchsorted(self.origins, origin)].T


def honest_threshold_grid(
    rows: pd.DataFrame, ratios: np.ndarray, capacity: int | None, min_events: int
) -> HonestGrid:
    """Per origin ``T``, thresholds fitted on the rows known at ``T`` (all ratios at once).

    The history of ``T`` is :func:`history_mask`: rows with ``origin < T``,
    ``year + horizon <= T`` and a known outcome. With no history or fewer than
    ``min_events`` onsets in it the Bayes threshold ``r`` is used, exactly as
    in :func:`rolling_thresholds`.

    Parameters
    ----------
    rows : pandas.DataFrame
        One model's validated forecast table (``check_forecast_table``).
    ratios : numpy.ndarray
        Cost ratios.
    capacity : int or None
        Warnings per (origin, year) round.
    min_events : int
        Fewest onsets in the history to fit a threshold.
    """
    ratios = np.asarray(ratios, dtype=float)
    p = rows["probability"].to_numpy()
    y = rows["outcome"].to_numpy()
    groups = rows["round"].to_numpy()
    origins = np.unique(rows["origin"].to_numpy())
    thresholds = np.tile(ratios, (origins.size, 1))
    empirical = np.zeros(origins.size, dtype=bool)
    n_history = np.zeros(origins.size, dtype=int)
    n_events = np.zeros(origins.size, dtype=int)
    for o, origin in enumerate(origins):
        mask = history_mask(rows, int(origin))
        n_history[o] = int(mask.sum())
        n_events[o] = int(y[mask].sum())
        if n_history[o] == 0 or n_events[o] < min_events:
            continue
        p_h, y_h = p[mask], y[mask]
        eligible = _eligible(p_h, groups[mask], capacity)
        thresholds[o] = min_cost_thresholds(y_h, p_h, np.ones(p_h.size), ratios, eligible)
        empirical[o] = True
    return HonestGrid(origins, thresholds, empirical, n_history, n_events)


def in_sample_thresholds(
    y: np.ndarray, p: np.ndarray, groups: np.ndarray, ratios: np.ndarray, capacity: int | None
) -> np.ndarray:
    """Thresholds minimising the realised cost on the scored rows themselves (optimistic)."""
    eligible = _eligible(p, groups, capacity)
    return min_cost_thresholds(y, p, np.ones(p.size), np.asarray(ratios, float), eligible)
