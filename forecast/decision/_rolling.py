"""Honest (rolling-origin) threshold selection on a forecast table."""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecast._errors import input_error
from forecast.decision._costloss import CostLoss, expense
from forecast.decision._rules import warn_mask
from forecast.decision._table import check_forecast_table, history_mask
from forecast.decision._threshold import CostThresholdSelector, ThresholdMethod

__all__ = ["honest_thresholds", "rolling_thresholds"]


def honest_thresholds(
    frame: pd.DataFrame, costloss: CostLoss, method: ThresholdMethod, min_events: int
) -> pd.DataFrame:
    """Per (model, origin) threshold from rows known at that origin (validated frame)."""
    r = costloss.cost_ratio
    records = []
    for model, rows in frame.groupby("model", sort=True):
        for origin in np.unique(rows["origin"].to_numpy()):
            known = rows[history_mask(rows, int(origin))]
            n_events = int(known["outcome"].sum())
            if len(known) == 0 or n_events < min_events or method == "bayes":
                threshold, source = r, "bayes"
            else:
                selector = CostThresholdSelector(
                    r,
                    effectiveness=costloss.effectiveness,
                    capacity=costloss.capacity,
                    method="empirical",
                ).fit(known["outcome"], known["probability"], known["round"])
                threshold, source = selector.threshold_, "empirical"
            records.append(
                {
                    "model": model,
                    "origin": int(origin),
                    "threshold": float(threshold),
                    "threshold_source": source,
                    "n_history": len(known),
                    "n_history_events": n_events,
                }
            )
    return pd.DataFrame(records)


def score_rows(frame: pd.DataFrame, threshold: np.ndarray, costloss: CostLoss) -> pd.DataFrame:
    """Warnings (per-row threshold, capacity per round) and their expense on known rows."""
    p = frame["probability"].to_numpy()
    d = warn_mask(p, threshold, costloss.capacity, frame["round"].to_numpy())
    y = frame["outcome"].to_numpy()
    known = ~np.isnan(y)
    y0 = np.where(known, y, 0.0)
    return pd.DataFrame(
        {
            "known": known,
            "warn": d,
            "hit": d & (y0 == 1) & known,
            "false_alarm": d & (y0 == 0) & known,
            "onset": (y0 == 1) & known,
            "expected_hit": np.where(d & known, p, 0.0),
            "cost": np.where(known, expense(d, y0, costloss), 0.0),
        },
        index=frame.index,
    )


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
    (:class:`CostThresholdSelector`) only on rows with ``origin < T`` and
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
    thresholds = honest_thresholds(frame, costloss, method, int(min_events))
    per_row = (
        frame[["model", "origin"]]
        .merge(thresholds[["model", "origin", "threshold"]], on=["model", "origin"], how="left")[
            "threshold"
        ]
        .to_numpy()
    )
    scored = score_rows(frame, per_row, costloss)
    scored["model"] = frame["model"]
    scored["origin"] = frame["origin"]
    scored["known_round"] = np.where(scored["known"], frame["round"], -1)
    grouped = scored.groupby(["model", "origin"], sort=True)
    summary = grouped[["hit", "false_alarm", "onset", "expected_hit", "cost"]].sum()
    summary["n_scored"] = grouped["known"].sum()
    summary["warnings"] = summary["hit"] + summary["false_alarm"]
    summary["years"] = grouped["known_round"].agg(lambda s: int(np.unique(s[s >= 0]).size))
    summary = summary.reset_index().rename(
        columns={
            "hit": "hits",
            "false_alarm": "false_alarms",
            "onset": "onsets",
            "expected_hit": "expected_hits",
        }
    )
    summary.loc[summary["n_scored"] == 0, "cost"] = np.nan
    summary["cost_per_year"] = summary["cost"] / summary["years"].where(summary["years"] > 0)
    out = thresholds.merge(summary, on=["model", "origin"], how="left")
    columns = [
        "model",
        "origin",
        "threshold",
        "threshold_source",
        "n_history",
        "n_history_events",
        "n_scored",
        "years",
        "onsets",
        "warnings",
        "hits",
        "false_alarms",
        "expected_hits",
        "cost",
        "cost_per_year",
    ]
    return out[columns]


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
