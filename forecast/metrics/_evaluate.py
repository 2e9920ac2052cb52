"""Score arrays and tidy forecast tables with any set of registered metrics."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from forecast._errors import ForecastInputError, input_error
from forecast._validation import check_outcomes_probabilities
from forecast.metrics._registry import Metric, resolve_metrics
from forecast.metrics._table import check_forecast_table
from forecast.metrics._topk import top_k_curve

__all__ = ["evaluate", "evaluate_forecasts", "oracle_gap"]

MetricSpec = str | Metric | Sequence[str | Metric] | None


def _drop_unknown(y_true: ArrayLike, *arrays: ArrayLike | None):
    y = np.asarray(y_true, dtype=float)
    known = ~np.isnan(y)
    out = [None if a is None else np.asarray(a)[known] for a in arrays]
    return y[known], int((~known).sum()), out


_TOP_K = ("recall_at_k", "precision_at_k")


def _top_k_values(metrics: list[Metric], y, p, w, groups) -> dict[str, float]:
    """Top-k metrics of one part from one ranking (:func:`top_k_curve`, equal to each
    metric's own value); empty when there are fewer than two or the inputs are refused (then
    each metric reports its own error)."""
    topk = [
        m
        for m in metrics
        if m.name in _TOP_K
        and isinstance(m.params.get("k"), int | np.integer)
        and not isinstance(m.params.get("k"), bool)
        and m.params["k"] >= 1
    ]
    if len(topk) < 2 or groups is None:
        return {}
    try:
        recall, precision = top_k_curve(
            y, p, groups=groups, max_k=max(int(m.params["k"]) for m in topk), sample_weight=w
        )
    except ForecastInputError:
        return {}
    curve = {"recall_at_k": recall, "precision_at_k": precision}
    return {m.label: float(curve[m.name][int(m.params["k"]) - 1]) for m in topk}


def _score(metrics: list[Metric], y, p, w, groups) -> list[tuple[Metric, float, str]]:
    shared = _top_k_values(metrics, y, p, w, groups)
    rows = []
    for m in metrics:
        if m.label in shared:
            rows.append((m, shared[m.label], ""))
            continue
        try:
            value, note = m(y, p, sample_weight=w, groups=groups), ""
        except ForecastInputError as exc:  # data condition, e.g. a year without onsets
            value, note = float("nan"), str(exc)
        rows.append((m, value, note))
    return rows


def evaluate(
    y_true: ArrayLike,
    y_score: ArrayLike,
    *,
    metrics: MetricSpec = None,
    sample_weight: ArrayLike | None = None,
    groups: ArrayLike | None = None,
) -> dict[str, Any]:
    """Score forecasts with several metrics, dropping unknown outcomes.

    Parameters
    ----------
    y_true : array-like of shape (n,)
        Outcomes 0/1; NaN marks an unknown outcome (e.g. a window reaching past
        the last observed year). Unknown rows are dropped, never scored as 0.
    y_score : array-like of shape (n,)
        Probabilities in [0, 1].
    metrics : str, Metric or list, optional
        Names or bound metrics; default: every metric without parameters.
    sample_weight, groups : array-like, optional
        Row weights; group labels (years) for top-k metrics.

    Returns
    -------
    dict
        ``n`` (scored rows), ``n_unknown`` (dropped rows), ``n_events`` and one
        entry per metric label. Bad input raises; a metric that is undefined
        on valid data (e.g. AUC without events) raises too.
    """
    for name, arr in (("y_score", y_score), ("sample_weight", sample_weight), ("groups", groups)):
        if arr is not None and np.shape(arr) != np.shape(y_true):
            raise input_error(
                f"evaluate: 'y_true' has shape {np.shape(y_true)} but {name!r} has {np.shape(arr)}",
                fix="pass one value per row for every argument",
            )
    y, n_unknown, (p, w, g) = _drop_unknown(y_true, y_score, sample_weight, groups)
    y, p, _ = check_outcomes_probabilities(y, p, w, caller="evaluate")
    out: dict[str, Any] = {
        "n": int(y.size),
        "n_unknown": n_unknown,
        "n_events": int(y.sum()),
    }
    for m in resolve_metrics(metrics):
        out[m.label] = m(y, p, sample_weight=w, groups=g)
    return out


def evaluate_forecasts(
    table: pd.DataFrame,
    *,
    metrics: MetricSpec = None,
    by: str | Sequence[str] | None = None,
    weight: str | None = None,
    models: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Score every model in a tidy forecast table, pooled and per ``by`` group.

    Parameters
    ----------
    table : DataFrame
        Long: columns ``unit, year, model, probability, outcome`` (+ ``by`` columns);
        ``outcome`` NaN = unknown: excluded and counted in ``n_unknown``. Wide (with
        ``models``): ``unit, year, outcome`` and one probability column per model.
    metrics : str, Metric or list, optional
        Default: every metric without parameters. Top-k metrics issue k
        warnings per ``year``.
    by : str or list of str, optional
        Extra grouping, e.g. ``"year"``; pooled rows are always included.
    weight : str, optional
        Column of row weights.
    models : sequence of str, optional
        The probability columns of a wide ``table``, one per model (named by its column).

    Returns
    -------
    DataFrame
        One row per (model, group, metric): ``model``, the ``by`` columns (NA
        on pooled rows), ``pooled``, ``n``, ``n_events``, ``n_unknown``,
        ``metric``, ``value``, ``direction`` and ``note`` (why a value is NaN,
        e.g. a year without onsets; empty otherwise).
    """
    if models is not None:
        table = _long(table, list(models))
    by_cols = [by] if isinstance(by, str) else list(by or [])
    extra = [c for c in [*by_cols, weight] if c is not None and c not in ("year", "unit", "model")]
    data = check_forecast_table(table, caller="evaluate_forecasts", extra=extra)
    mets = resolve_metrics(metrics)
    records: list[dict[str, Any]] = []

    def add(model: Any, keys: dict[str, Any], pooled: bool, part: pd.DataFrame) -> None:
        known = part[part["outcome"].notna()]
        base = {
            "model": model,
            **keys,
            "pooled": pooled,
            "n": len(known),
            "n_events": int(known["outcome"].sum()),
            "n_unknown": int(len(part) - len(known)),
        }
        if len(known) == 0:
            scored = [(m, float("nan"), "no rows with a known outcome") for m in mets]
        else:
            w = None if weight is None else known[weight].to_numpy(float)
            scored = _score(
                mets,
                known["outcome"].to_numpy(float),
                known["probability"].to_numpy(float),
                w,
                known["year"].to_numpy(),
            )
        for m, value, note in scored:
            records.append(
                {**base, "metric": m.label, "value": value, "direction": m.direction, "note": note}
            )

    for model, part in data.groupby("model", sort=True):
        add(model, {c: pd.NA for c in by_cols}, True, part)
        if by_cols:
            for keys, sub in part.groupby(by_cols, sort=True):
                keys = keys if isinstance(keys, tuple) else (keys,)
                add(model, dict(zip(by_cols, keys, strict=True)), False, sub)
    return pd.DataFrame.from_records(records)


def _long(table: pd.DataFrame, models: list[str]) -> pd.DataFrame:
    """A wide forecast table (one probability column per model) in the long layout."""
    have = list(table.columns) if isinstance(table, pd.DataFrame) else []
    missing = [m for m in models if m not in have]
    if not models or missing or "model" in have:
        raise input_error(
            "evaluate_forecasts: 'models' must name the probability columns of a wide table "
            f"without a 'model' column; missing {missing or models}, columns {have}",
            fix="pass models=[<one probability column per model>], or a long table without it",
        )
    keep = [c for c in have if c not in models and c != "probability"]
    return table.melt(id_vars=keep, value_vars=models, var_name="model", value_name="probability")


def oracle_gap(
    table: pd.DataFrame,
    oracle_column: str,
    *,
    metrics: MetricSpec = None,
    by: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """Every metric for each model and for the true probabilities, and the gap.

    For simulated panels where the data-generating probability is known.

    Parameters
    ----------
    table : DataFrame
        Tidy forecast table plus ``oracle_column`` (true probability per row).
    oracle_column : str
        Column with the true probabilities, in [0, 1].

    Returns
    -------
    DataFrame
        :func:`evaluate_forecasts` output plus ``oracle`` (the same metric
        computed from the true probabilities on the same rows) and ``gap =
        value - oracle``.
    """
    if not isinstance(table, pd.DataFrame) or oracle_column not in table.columns:
        have = list(table.columns) if isinstance(table, pd.DataFrame) else type(table).__name__
        raise input_error(
            f"oracle_gap: 'table' lacks the oracle column {oracle_column!r}; it has {have}",
            fix="pass the name of the column holding the true probabilities",
        )
    model_scores = evaluate_forecasts(table, metrics=metrics, by=by)
    oracle_table = table.assign(probability=table[oracle_column])
    oracle_scores = evaluate_forecasts(oracle_table, metrics=metrics, by=by)
    out = model_scores.copy()
    out["oracle"] = oracle_scores["value"].to_numpy()
    out["gap"] = out["value"] - out["oracle"]
    return out
