"""Per-model decision tables and flat metrics for experiment tracking."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from forecast._errors import input_error
from forecast.decision._costloss import CostLoss
from forecast.decision._curves import NAMED_COST_RATIOS, cost_ratio_label
from forecast.decision._rolling import as_costloss, honest_thresholds, score_rows
from forecast.decision._table import check_forecast_table
from forecast.decision._threshold import best_threshold_in_sample
from forecast.decision._value import value_from_counts

__all__ = ["POLICIES", "cost_metrics_for_logging", "decision_table"]

POLICIES = ("honest", "in_sample", "bayes")
"""Threshold policies compared by :func:`decision_table`."""

DEFAULT_COST_RATIOS: tuple[float, ...] = tuple(NAMED_COST_RATIOS.values())
"""Cost ratios of :func:`decision_table` by default: 1:10, 1:20, 1:50."""
_METRICS = (
    "threshold",
    "warnings_per_year",
    "hits_per_year",
    "expected_hits_per_year",
    "false_alarms_per_hit",
    "cost_per_year",
    "relative_value",
    "value_vs_nothing",
)


def _policy_row(frame: pd.DataFrame, threshold: np.ndarray, costloss: CostLoss) -> dict[str, float]:
    scored = score_rows(frame, threshold, costloss)
    known = scored["known"].to_numpy()
    n = int(known.sum())
    years = int(np.unique(frame["round"].to_numpy()[known]).size)
    hits = float(scored["hit"].sum())
    false_alarms = float(scored["false_alarm"].sum())
    onsets = float(scored["onset"].sum())
    total = float(scored["cost"].sum())
    counts = (hits, false_alarms, onsets, n - onsets)
    return {
        "years": years,
        "n_scored": n,
        "onsets_per_year": onsets / years,
        "warnings_per_year": (hits + false_alarms) / years,
        "hits_per_year": hits / years,
        "expected_hits_per_year": float(scored["expected_hit"].sum()) / years,
        "false_alarms_per_hit": false_alarms / hits if hits > 0 else float("nan"),
        "cost_per_year": total / years,
        "cost_nothing_per_year": onsets * costloss.loss / years,
        "relative_value": value_from_counts(*counts, costloss, "climate"),
        "value_vs_nothing": value_from_counts(*counts, costloss, "nothing"),
    }


def decision_table(
    table: pd.DataFrame,
    cost_ratio: float | CostLoss | Sequence[float | CostLoss] = DEFAULT_COST_RATIOS,
    *,
    effectiveness: float = 1.0,
    capacity: int | None = None,
    horizon: int | None = None,
    min_events: int = 1,
) -> pd.DataFrame:
    """Cost of acting on each model's warnings under three threshold policies.

    Every forecast with a known outcome is scored (all origins). Policies:

    - ``honest``: each origin's threshold fitted on earlier resolved forecasts
      only (as in :func:`rolling_thresholds`; Bayes ``r`` without history);
      ``threshold`` is their median over origins, ``threshold_latest`` the one
      for the latest origin (the threshold to use for live forecasts).
    - ``in_sample``: one threshold minimising the cost on the scored rows
      themselves (optimistic: it has seen the outcomes it is scored on).
    - ``bayes``: ``r = C / (e L)``, optimal if the probabilities are calibrated.

    With a capacity only the top ``capacity`` forecasts of each (origin, year)
    may warn. Per policy, with ``years`` the number of (origin, year) rounds:
    ``warnings_per_year``, ``hits_per_year``, ``expected_hits_per_year``
    (sum of ``p`` over warnings / years), ``false_alarms_per_hit``
    (NaN without hits), ``cost_per_year = sum(d C + y L (1 - e d)) / years``,
    ``cost_nothing_per_year = sum(y) L / years``, ``relative_value``
    (Richardson 2000, reference: the better of always/never acting on the
    base rate of the scored rows) and ``value_vs_nothing`` (reference: never
    acting), see :func:`relative_value`.

    Parameters
    ----------
    table : pandas.DataFrame
        Forecast table, see :func:`rolling_thresholds`.
    cost_ratio : float, CostLoss or sequence of them, default (1/10, 1/20, 1/50)
        Cost ratios ``r = C / (e L)`` (costs in units of ``L``) or full
        :class:`CostLoss` objects, which carry their own effectiveness and
        capacity (``effectiveness`` and ``capacity`` apply to floats only).
    effectiveness : float, default 1.0
        Share of the loss prevented by acting.
    capacity : int or None, default None
        Warnings acted on per year.
    horizon : int or None, default None
        Years after ``year`` until the outcome is known; ``None`` reads a
        ``horizon`` column.
    min_events : int, default 1
        Fewest past onsets to fit an honest threshold.

    Returns
    -------
    pandas.DataFrame
        One row per (model, cost ratio, policy) with columns ``model,
        cost_ratio, label, effectiveness, capacity, policy, threshold,
        threshold_latest, years, n_scored, onsets_per_year,
        warnings_per_year, hits_per_year, expected_hits_per_year,
        false_alarms_per_hit, cost_per_year, cost_nothing_per_year,
        relative_value, value_vs_nothing``.
    """
    entries = [cost_ratio] if isinstance(cost_ratio, (int, float, CostLoss)) else cost_ratio
    costlosses = [as_costloss(c, effectiveness, capacity, caller="decision_table") for c in entries]
    if not costlosses:
        raise input_error("decision_table: no cost ratios given", fix="pass e.g. [0.1, 0.05]")
    frame = check_forecast_table(table, horizon, caller="decision_table")
    known = ~np.isnan(frame["outcome"].to_numpy())
    if not known.any():
        raise input_error(
            "decision_table: no forecast has a known outcome",
            column="outcome",
            fix="include origins whose outcome windows have closed",
        )
    records = []
    for costloss in costlosses:
        honest = honest_thresholds(frame, costloss, "empirical", min_events)
        for model, rows in frame.groupby("model", sort=True):
            rows_known = rows[~np.isnan(rows["outcome"].to_numpy())]
            if rows_known.empty:
                continue
            mine = honest[honest["model"] == model].set_index("origin")["threshold"]
            per_row = mine.loc[rows["origin"].to_numpy()].to_numpy()
            scored_origins = np.unique(rows_known["origin"].to_numpy())
            in_sample = best_threshold_in_sample(
                rows_known["outcome"], rows_known["probability"], costloss, rows_known["round"]
            )
            r = costloss.cost_ratio
            policies = {
                "honest": (
                    per_row,
                    float(np.median(mine.loc[scored_origins])),
                    float(mine.iloc[-1]),
                ),
                "in_sample": (np.full(len(rows), in_sample), in_sample, in_sample),
                "bayes": (np.full(len(rows), r), r, r),
            }
            for policy, (per_row_threshold, threshold, latest) in policies.items():
                records.append(
                    {
                        "model": model,
                        "cost_ratio": r,
                        "label": cost_ratio_label(r),
                        "effectiveness": costloss.effectiveness,
                        "capacity": costloss.capacity,
                        "policy": policy,
                        "threshold": threshold,
                        "threshold_latest": latest,
                        **_policy_row(rows, per_row_threshold, costloss),
                    }
                )
    return pd.DataFrame(records)


def cost_metrics_for_logging(
    decision: pd.DataFrame, *, model: str | None = None
) -> dict[str, float]:
    """Flatten one model's :func:`decision_table` into ``{metric_name: value}``.

    Names are ``{metric}_{label}`` for the honest policy and
    ``{metric}_{label}_{policy}`` for the others, e.g.
    ``relative_value_1to10``, ``relative_value_1to10_in_sample``,
    ``cost_per_year_1to50_bayes``. Metrics: ``threshold,
    warnings_per_year, hits_per_year, expected_hits_per_year,
    false_alarms_per_hit, cost_per_year, relative_value, value_vs_nothing``.
    Values are floats; undefined ones (e.g. false alarms per hit without
    hits) are NaN. The dict is sorted by name. This function only builds the
    dict; it logs nothing.

    Parameters
    ----------
    decision : pandas.DataFrame
        Output of :func:`decision_table`.
    model : str, optional
        Model to report; required when ``decision`` holds several.

    Returns
    -------
    dict of str to float
    """
    required = {"model", "label", "policy", *_METRICS}
    if not isinstance(decision, pd.DataFrame) or not required <= set(decision.columns):
        raise input_error(
            "cost_metrics_for_logging: decision must be a decision_table() result",
            fix="pass the DataFrame returned by decision_table(...)",
        )
    models = sorted(decision["model"].unique())
    if model is None:
        if len(models) != 1:
            raise input_error(
                f"cost_metrics_for_logging: decision holds models {models}; model is None",
                fix="pass model=<one of them>",
            )
        model = models[0]
    if model not in models:
        raise input_error(
            f"cost_metrics_for_logging: model {model!r} not in {models}",
            fix="pass one of the listed models",
        )
    rows = decision[decision["model"] == model]
    metrics: dict[str, float] = {}
    for _, row in rows.iterrows():
        suffix = "" if row["policy"] == "honest" else f"_{row['policy']}"
        for metric in _METRICS:
            name = f"{metric}_{row['label']}{suffix}"
            if name in metrics:
                raise input_error(
                    f"cost_metrics_for_logging: metric {name!r} appears twice",
                    fix="use one effectiveness/capacity per cost ratio in decision_table",
                )
            metrics[name] = float(row[metric])
    return dict(sorted(metrics.items()))
