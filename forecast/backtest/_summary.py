"""Score a backtest: pooled and per-year metrics per model, EWP pooling, honest BSS."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecast.outcomes import observed_windows

__all__ = ["BacktestSummary", "curves", "metric_key", "summarize", "unscorable_reason"]

#: Scored unless the spec lists ``evaluation.metrics`` (parameter-free metric names).
_SCALAR = (
    "roc_auc",
    "average_precision",
    "brier",
    "log_loss",
    "observed_expected",
    "calibration_intercept",
    "calibration_slope",
    "ece",
)


def metric_key(label: str) -> str:
    """MLflow-safe, sortable metric name: ``recall_at_k[k=30]`` -> ``recall_top30``."""
    top = re.fullmatch(r"(recall|precision)_at_k\[k=(\d+)\]", label)
    if top:
        return f"{top.group(1)}_top{top.group(2)}"
    return re.sub(r"[^0-9A-Za-z_.\-/ ]", "_", label)


@dataclass
class BacktestSummary:
    """``pooled``: model x metric; ``per_year``: model, year, metric, value; ``ewp``: EWP
    pooling; ``curves``: model, curve, step, value (recall/precision by top-k per year and by
    probability threshold, ``step`` = k or threshold in thousandths); ``reliability``: per model
    calibration bins."""

    pooled: pd.DataFrame
    per_year: pd.DataFrame
    ewp: pd.DataFrame | None
    curves: pd.DataFrame
    reliability: pd.DataFrame
    note: str | None = None
    """Why nothing could be scored (then every metric is NaN), else None."""


def unscorable_reason(scored: pd.DataFrame, *, horizon: int, data_end: int) -> str | None:
    """Why the scored rows (fully observed windows) cannot be scored, or None.

    Discrimination needs onsets and non-onsets: no rows means no window closed by the data
    end; rows without an onset (or without a non-onset) leave every ranking metric undefined.
    """
    if scored.empty:
        return (
            f"no forecast has a fully observed outcome window (horizon {horizon}, data "
            f"through {data_end}: windows of forecasts from {data_end - horizon} or later "
            "are still open)"
        )
    events = float(scored["outcome"].sum())
    if events == 0:
        return f"no onsets in the scored windows ({len(scored)} forecasts, 0 onsets)"
    if events == float(len(scored)):
        return f"only onsets in the scored windows ({len(scored)} forecasts, no non-onsets)"
    return None


THRESHOLDS = (0.005, 0.01, 0.02, 0.03, 0.04, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5)


def curves(
    forecasts: pd.DataFrame, *, max_k: int = 50, thresholds: tuple[float, ...] = THRESHOLDS
) -> pd.DataFrame:
    r"""Recall and precision by top-k per year and by probability threshold, per model.

    Top-k: :func:`forecast.metrics.recall_at_k` and :func:`~forecast.metrics.precision_at_k`
    with the years as groups (pooled over years), for all ``k`` at once
    (:func:`~forecast.metrics.top_k_curve`). Threshold ``c`` (warn when ``p >= c``):
    :func:`~forecast.metrics.recall_at_threshold`,
    :func:`~forecast.metrics.precision_at_threshold` and
    :func:`~forecast.metrics.warnings_at_threshold` divided by the number of years, for all
    thresholds at once (:func:`~forecast.metrics.threshold_counts`).
    """
    from forecast.metrics import threshold_counts, top_k_curve

    known = forecasts[forecasts["outcome"].notna()]
    records = []
    for model, part in known.groupby("model", sort=True):
        y = part["outcome"].to_numpy(float)
        p = part["probability"].to_numpy(float)
        years = part["year"].to_numpy()
        recall, precision = top_k_curve(y, p, groups=years, max_k=max_k)
        for k in range(1, max_k + 1):
            records.append((model, "recall_at_k", k, float(recall[k - 1])))
            records.append((model, "precision_at_k", k, float(precision[k - 1])))
        n_years = np.unique(years).size
        at = threshold_counts(y, p, thresholds=thresholds)
        for i, c in enumerate(thresholds):
            step = round(c * 1000)
            records.append((model, "recall_at_threshold", step, float(at["recall"][i])))
            records.append((model, "precision_at_threshold", step, float(at["precision"][i])))
            records.append(
                (
                    model,
                    "warnings_per_year_at_threshold",
                    step,
                    float(at["warnings"][i]) / n_years,
                )
            )
    return pd.DataFrame.from_records(records, columns=["model", "curve", "step", "value"])


def _skill_against_training_base_rate(forecasts: pd.DataFrame) -> pd.Series:
    r"""Brier skill score against the base rate of each origin's training window.

    .. math:: \mathrm{BSS} = 1 - \sum_i (p_i - y_i)^2 / \sum_i (\bar y_{T(i)} - y_i)^2

    where :math:`\bar y_{T}` is the outcome rate of the rows the model was trained on at the
    origin of row ``i``: the climatology a forecaster knew at the time.
    """
    known = forecasts[forecasts["outcome"].notna()]
    out = {}
    for model, part in known.groupby("model"):
        y = part["outcome"].to_numpy(float)
        p = part["probability"].to_numpy(float)
        ref = part["train_base_rate"].to_numpy(float)
        denominator = np.sum((ref - y) ** 2)
        out[model] = float(1 - np.sum((p - y) ** 2) / denominator) if denominator else np.nan
    return pd.Series(out, name="brier_skill")


def summarize(result, *, top_k: tuple[int, ...] | None = None) -> BacktestSummary:
    """Pooled and per-year scores of every model in a :class:`BacktestResult`.

    Only forecasts whose whole outcome window is observed are scored
    (:func:`forecast.outcomes.observed_windows`, data end = the last onset year).
    """
    from forecast.metrics import evaluate_forecasts, ewp_pooled_scores, get_metric

    config = result.config
    ks = tuple(top_k or config.top_k)
    data_end = int(result.annual_onsets["year"].max())
    forecasts = observed_windows(result.forecasts, horizon=config.horizon, data_end=data_end)
    note = unscorable_reason(forecasts, horizon=config.horizon, data_end=data_end)
    if note is not None:
        return _unscored(result, forecasts, note)
    metrics = [get_metric(m) for m in (config.metrics or _SCALAR)]
    for k in ks:
        metrics += [get_metric("recall_at_k", k=k), get_metric("precision_at_k", k=k)]
    table = evaluate_forecasts(forecasts, metrics=metrics, by="year")
    table["metric"] = table["metric"].map(metric_key)
    pooled = table[table["pooled"]].pivot(index="model", columns="metric", values="value")
    counts = table[table["pooled"]].groupby("model")[["n", "n_events", "n_unknown"]].first()
    pooled = pooled.join(counts)
    rates = (
        result.scores.assign(rate=lambda s: s["n_train_onsets"] / s["n_train"])
        .groupby("origin")["rate"]
        .mean()
    )
    with_rate = forecasts.assign(train_base_rate=forecasts["origin"].map(rates))
    pooled = pooled.join(_skill_against_training_base_rate(with_rate))
    per_year = table[~table["pooled"]][["model", "year", "metric", "value", "n", "n_events"]]
    pooled = pooled.join(_interval_coverage(forecasts))
    if "oracle" in pooled.index:
        for metric in ("roc_auc", "average_precision", "brier", "brier_skill"):
            if metric in pooled.columns:
                pooled[f"{metric}_gap_to_oracle"] = pooled.loc["oracle", metric] - pooled[metric]
    reliability = _reliability(forecasts)
    ewp = None
    if config.ewp_pooled:
        ewp = ewp_pooled_scores(
            result.forecasts, result.annual_onsets.rename(columns={"onset": "mk_onset"}), ks=ks
        ).set_index("model")
    return BacktestSummary(
        pooled.reset_index(),
        per_year.reset_index(drop=True),
        None if ewp is None else ewp.reset_index(),
        curves(forecasts),
        reliability,
    )


def _unscored(result, forecasts: pd.DataFrame, note: str) -> BacktestSummary:
    """A summary whose metrics are NaN, with counts and the reason (``note``)."""
    models = sorted(set(result.forecasts["model"]))
    known = forecasts.groupby("model")["outcome"]
    pooled = pd.DataFrame({"model": models})
    pooled["n"] = pooled["model"].map(known.size()).fillna(0).astype(int)
    pooled["n_events"] = pooled["model"].map(known.sum()).fillna(0.0)
    for metric in ("roc_auc", "average_precision", "brier"):
        pooled[metric] = np.nan
    pooled["note"] = note
    empty = pd.DataFrame(columns=["model", "year", "metric", "value", "n", "n_events"])
    return BacktestSummary(
        pooled,
        empty,
        None,
        pd.DataFrame(columns=["model", "curve", "step", "value"]),
        pd.DataFrame(),
        note=note,
    )


def _interval_coverage(forecasts: pd.DataFrame) -> pd.DataFrame:
    """Empirical coverage of each model's stated intervals over calibration-bin rates."""
    from forecast.calibration import interval_coverage

    if "lower" not in forecasts.columns:
        return pd.DataFrame(columns=["interval_coverage", "interval_width"])
    out = {}
    for model, part in forecasts[forecasts["outcome"].notna() & forecasts["lower"].notna()].groupby(
        "model"
    ):
        result = interval_coverage(part["outcome"], part["lower"], part["upper"], bins=10)
        out[model] = {
            "interval_coverage": result.coverage,
            "interval_width": float((part["upper"] - part["lower"]).mean()),
        }
    return pd.DataFrame.from_dict(out, orient="index")


def _reliability(forecasts: pd.DataFrame) -> pd.DataFrame:
    from forecast.calibration import reliability_table

    tables = []
    for model, part in forecasts[forecasts["outcome"].notna()].groupby("model"):
        table = reliability_table(part["outcome"], part["probability"], n_bins=10)
        tables.append(table.assign(model=model))
    return pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()
