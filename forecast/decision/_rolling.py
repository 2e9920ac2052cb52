"""Honest (rolling-origin) threshold selection on a forecast table."""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecast._errors import input_error
from forecast.decision._costloss import CostLoss, decision_counts, total_expense
from forecast.decision._rules import capacity_mask, warn_mask
from forecast.decision._table import check_forecast_table
from forecast.decision._threshold import ThresholdMethod, min_cost_thresholds
from forecast.outcomes import window_observed

__all__ = ["HonestGrid", "as_costloss", "honest_threshold_grid", "known_at", "rolling_thresholds"]


def known_at(rows: pd.DataFrame, origin: int) -> np.ndarray:
    """Rows whose outcome was known at ``origin``: the history a threshold may be fitted on.

    An earlier origin, a window fully observed by ``origin`` (``year + horizon <= origin``,
    :func:`forecast.outcomes.window_observed`) and a known outcome.
    """
    return (
        (rows["origin"].to_numpy() < origin)
        & window_observed(rows, data_end=origin)
        & ~np.isnan(rows["outcome"].to_numpy())
    )


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
    rows: pd.DataFrame,
    ratios: np.ndarray,
    capacity: int | None,
    min_events: int,
    *,
    fit: bool = True,
) -> HonestGrid:
    """Per origin ``T``, thresholds fitted on the rows known at ``T`` (all ratios at once).

    The one honest-threshold routine (:func:`rolling_thresholds` and
    :func:`cost_analysis` call it). The history of ``T`` is
    :func:`known_at`: rows with ``origin < T``, ``year + horizon <= T`` and
    a known outcome. The threshold minimises the realised cost on that history
    (:func:`min_cost_thresholds`, with a capacity only each (origin, year)'s top
    ``capacity`` may warn); with no history, fewer than ``min_events`` onsets
    in it, or ``fit=False``, it is the Bayes threshold ``r``.

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
    fit : bool, default True
        False: every threshold is the Bayes ``r`` (history still counted).
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
    # With one horizon a history holds whole (origin, year) rounds less their unknown
    # outcomes, so a row's rank in its round among the known rows is the same in every
    # history: rank once (the same rows warn as when ranking each history).
    eligible = None
    if capacity is None or rows["horizon"].nunique() == 1:
        known = ~np.isnan(y)
        eligible = np.zeros(p.size, dtype=bool)
        eligible[known] = capacity_mask(p[known], groups[known], capacity)
    for o, origin in enumerate(origins):
        mask = known_at(rows, int(origin))
        n_history[o] = int(mask.sum())
        n_events[o] = int(y[mask].sum())
        if not fit or n_history[o] == 0 or n_events[o] < min_events:
            continue
        p_h, y_h = p[mask], y[mask]
        allowed = capacity_mask(p_h, groups[mask], capacity) if eligible is None else eligible[mask]
        thresholds[o] = min_cost_thresholds(y_h, p_h, np.ones(p_h.size), ratios, allowed)
        empirical[o] = True
    return HonestGrid(origins, thresholds, empirical, n_history, n_events)


def rolling_thresholds(
    table: pd.DataFrame,
    cost_ratio: float | CostLoss,
    *,
    effectiveness: float = 1.0,
    capacity: int | None = None,
    horizon: int | None = None,
    method: ThresholdMethod = "empirical",
    min_events: int = 1,
) -> pd.DataFrame:
    """Choose each origin's threshold from earlier, resolved forecasts; score it out of sample.

    For each model and origin ``T`` the threshold is fitted
    (:func:`honest_threshold_grid`, the rule of :class:`CostThresholdSelector`)
    only on rows with ``origin < T`` and
    ``year + horizon <= T`` whose outcome is known: forecasts made earlier
    whose outcome window had closed by ``T``. With fewer than ``min_events``
    onsets in that history (or none at all) it falls back to the Bayes
    threshold ``r = C / (e L)``. The threshold is then applied to the
    forecasts made at ``T`` (``origin == T``; with a capacity, only the top
    ``capacity`` per (origin, year) may warn) and scored on those whose
    outcome is known: cost ``sum_i (d_i C + y_i L (1 - e d_i))`` per year.

    Parameters
    ----------
    table : pandas.DataFrame
        Columns ``unit, year, origin, model, probability, outcome`` (outcome
        missing when unknown) and, if ``horizon`` is None, ``horizon``.
    cost_ratio : float or CostLoss
        ``r = C / (e L)`` (costs then in units of ``L``), or a full
        :class:`CostLoss`, which carries its own effectiveness and capacity.
    effectiveness : float, default 1.0
        Share of the loss prevented, used with a float ``cost_ratio``.
    capacity : int or None, default None
        Warnings acted on per year, used with a float ``cost_ratio``.
    horizon : int or None, default None
        Years after ``year`` until the outcome is known (2 for onsets in
        ``t+1`` or ``t+2``); ``None`` reads a ``horizon`` column.
    method : {'empirical', 'bayes'}, default 'empirical'
        Threshold choice, see :class:`CostThresholdSelector`.
    min_events : int, default 1
        Fewest onsets in the history to fit an empirical threshold.

    Returns
    -------
    pandas.DataFrame
        One row per (model, origin): ``model, origin, threshold,
        threshold_source, n_history, n_history_events, n_scored, years,
        onsets, warnings, hits, false_alarms, expected_hits, cost,
        cost_per_year`` (counts over forecasts with known outcomes; cost
        NaN when none is known yet).
    """
    costloss = as_costloss(cost_ratio, effectiveness, capacity, caller="rolling_thresholds")
    if method not in ("empirical", "bayes"):
        raise input_error(
            f"rolling_thresholds: method must be 'empirical' or 'bayes', got {method!r}",
            fix="use method='empirical' or method='bayes'",
        )
    if (
        isinstance(min_events, bool)
        or not isinstance(min_events, (int, np.integer))
        or (min_events < 0)
    ):
        raise input_error(
            f"rolling_thresholds: min_events must be an integer >= 0, got {min_events!r}",
            fix="pass e.g. min_events=1",
        )
    frame = check_forecast_table(table, horizon, caller="rolling_thresholds")
    ratio = np.array([costloss.cost_ratio])
    records = []
    for model, rows in frame.groupby("model", sort=True):
        grid = honest_threshold_grid(
            rows, ratio, costloss.capacity, int(min_events), fit=method == "empirical"
        )
        p = rows["probability"].to_numpy()
        y = rows["outcome"].to_numpy()
        rounds = rows["round"].to_numpy()
        origin = rows["origin"].to_numpy()
        known = ~np.isnan(y)
        y0, w = np.where(known, y, 0.0), known.astype(float)  # unknown outcomes weigh 0
        warned = warn_mask(p, grid.per_row(origin)[0], costloss.capacity, rounds)
        for o, t in enumerate(grid.origins):
            at = origin == t
            scored = at & known
            counts = decision_counts(warned[at], y0[at], w[at], p[at])
            years = int(np.unique(rounds[scored]).size)
            cost = total_expense(counts.hits, counts.false_alarms, counts.onsets, costloss)
            records.append(
                {
                    "model": model,
                    "origin": int(t),
                    "threshold": float(grid.thresholds[o, 0]),
                    "threshold_source": "empirical" if grid.empirical[o] else "bayes",
                    "n_history": int(grid.n_history[o]),
                    "n_history_events": int(grid.n_history_events[o]),
                    "n_scored": int(scored.sum()),
                    "years": years,
                    "onsets": counts.onsets,
                    "warnings": counts.hits + counts.false_alarms,
                    "hits": counts.hits,
                    "false_alarms": counts.false_alarms,
                    "expected_hits": counts.expected_hits,
                    "cost": float(cost) if scored.any() else np.nan,
                    "cost_per_year": float(cost) / years if years else np.nan,
                }
            )
    return pd.DataFrame(records)


def as_costloss(
    cost_ratio: float | CostLoss, effectiveness: float, capacity: int | None, *, caller: str
) -> CostLoss:
    """A :class:`CostLoss` from a ratio (``L = 1``) or passed through unchanged."""
    if isinstance(cost_ratio, CostLoss):
        return cost_ratio
    if isinstance(cost_ratio, bool) or not isinstance(cost_ratio, (int, float, np.number)):
        raise input_error(
            f"{caller}: cost_ratio must be a positive number or a CostLoss, got {cost_ratio!r}",
            fix="pass r = C / (e L), e.g. 0.05",
        )
    return CostLoss.from_ratio(float(cost_ratio), effectiveness, capacity)
