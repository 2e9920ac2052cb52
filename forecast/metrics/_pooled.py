"""EWP-compatible pooled scoring of two-year-ahead forecasts.

The Early Warning Project scores a forecast made from year t for onsets in
t+1 and t+2. To score each outcome year Y once, it pools the forecasts made
from years Y-1 and Y-2: a unit's risk for Y is the maximum of the two
probabilities, and its rank the minimum (best) of its two within-year ranks.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from forecast._errors import input_error
from forecast.metrics._scores import average_precision, roc_auc
from forecast.metrics._table import check_forecast_table

__all__ = ["ewp_pooled_rows", "ewp_pooled_scores"]


def _check_lags(lags: Sequence[int]) -> tuple[int, ...]:
    lags = tuple(lags)
    if not lags or any(
        isinstance(x, bool) or not isinstance(x, int | np.integer) or x < 1 for x in lags
    ):
        raise input_error(
            f"ewp_pooled_scores: 'lags' must be positive integers, got {lags!r}",
            fix="pass e.g. lags=(1, 2) for forecasts made one and two years earlier",
        )
    return tuple(int(x) for x in lags)


def ewp_pooled_rows(
    table: pd.DataFrame,
    onset: pd.DataFrame,
    *,
    lags: Sequence[int] = (1, 2),
    require_all_lags: bool = False,
) -> pd.DataFrame:
    """Pool forecasts onto outcome years (one row per model, unit and outcome year).

    Parameters
    ----------
    table : DataFrame
        Forecasts with columns ``unit, year, model, probability``; ``year`` is
        the year the forecast is made from (its predictors' year).
    onset : DataFrame
        Columns ``unit, year, mk_onset`` (0/1; NaN = unknown, dropped).
    lags : sequence of int
        Forecast years pooled for outcome year Y are ``Y - lag``.
    require_all_lags : bool
        If False (default) a unit-year is scored when at least one lagged
        forecast exists (e.g. the first outcome year of a backtest); if True
        only when all exist.

    Returns
    -------
    DataFrame
        ``model, unit, year`` (outcome year), ``max_probability``, ``min_rank``,
        ``n_lags`` (forecasts pooled) and ``mk_onset``. Ranks are computed
        among all of a model's forecasts from the same year, 1 = highest
        probability, ties share the best rank (``method='min'``), so the
        result does not depend on row order.
    """
    lags = _check_lags(lags)
    fc = check_forecast_table(
        table, caller="ewp_pooled_rows", required=("unit", "year", "model", "probability")
    )
    on = check_forecast_table(
        onset, caller="ewp_pooled_rows (onset)", required=("unit", "year"), extra=("mk_onset",)
    )
    dup = np.flatnonzero(on.duplicated(["unit", "year"], keep=False).to_numpy())
    if dup.size:
        raise input_error(
            "ewp_pooled_rows: 'onset' must have one row per (unit, year)",
            rows=dup.tolist(),
            fix="deduplicate the onset table",
        )
    fc["rank"] = fc.groupby(["model", "year"])["probability"].rank(ascending=False, method="min")
    shifted = pd.concat(
        [fc.assign(outcome_year=fc["year"] + lag) for lag in lags], ignore_index=True
    )
    pooled = (
        shifted.groupby(["model", "unit", "outcome_year"], sort=True)
        .agg(
            max_probability=("probability", "max"),
            min_rank=("rank", "min"),
            n_lags=("probability", "size"),
        )
        .reset_index()
        .rename(columns={"outcome_year": "year"})
    )
    if require_all_lags:
        pooled = pooled[pooled["n_lags"] == len(lags)]
    out = pooled.merge(on[on["mk_onset"].notna()], on=["unit", "year"], how="inner")
    return out.sort_values(["model", "year", "unit"], kind="stable").reset_index(drop=True)


def ewp_pooled_scores(
    table: pd.DataFrame,
    onset: pd.DataFrame,
    *,
    lags: Sequence[int] = (1, 2),
    ks: Sequence[int] = (10, 20, 30),
    require_all_lags: bool = False,
) -> pd.DataFrame:
    """Score forecasts the EWP way: per outcome year, max risk and best rank over lags.

    For each outcome year Y and unit, the forecasts made from years ``Y - lag``
    (``lags=(1, 2)``) are pooled (see :func:`ewp_pooled_rows`) and scored
    against the annual onset indicator of year Y.

    Returns
    -------
    DataFrame
        One row per model: ``n`` (unit-years scored), ``onsets``, ``roc_auc``
        and ``average_precision`` of the max probability (NaN without both
        classes), and for each k in ``ks``: ``caught_top{k}`` (onsets with
        ``min_rank <= k``) and ``recall_top{k} = caught_top{k} / onsets``.

    References
    ----------
    Early Warning Project (2025). Statistical Risk Assessment 2025 replication
    files, United States Holocaust Memorial Museum.
    """
    for k in ks:
        if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
            raise input_error(
                f"ewp_pooled_scores: 'ks' must be integers >= 1, got {tuple(ks)!r}",
                fix="pass e.g. ks=(10, 20, 30)",
            )
    rows = ewp_pooled_rows(table, onset, lags=lags, require_all_lags=require_all_lags)
    records = []
    for model, part in rows.groupby("model", sort=True):
        y = part["mk_onset"].to_numpy(float)
        p = part["max_probability"].to_numpy(float)
        both = 0 < y.sum() < y.size
        rec = {
            "model": model,
            "n": int(y.size),
            "onsets": int(y.sum()),
            "roc_auc": roc_auc(y, p) if both else float("nan"),
            "average_precision": average_precision(y, p) if both else float("nan"),
        }
        ranks = part["min_rank"].to_numpy(float)[y == 1]
        for k in ks:
            caught = int(np.sum(ranks <= k))
            rec[f"caught_top{k}"] = caught
            rec[f"recall_top{k}"] = caught / ranks.size if ranks.size else float("nan")
        records.append(rec)
    return pd.DataFrame.from_records(records)
