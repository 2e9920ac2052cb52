"""Which onsets did each model catch? Ranks of the onset rows, model by model."""

from __future__ import annotations

import pandas as pd

from forecast.metrics._table import check_forecast_table

__all__ = ["onset_ranks"]


def onset_ranks(table: pd.DataFrame) -> pd.DataFrame:
    """Wide table of every onset with each model's within-year rank and probability.

    Parameters
    ----------
    table : DataFrame
        Tidy forecast table (``unit, year, model, probability, outcome``).

    Returns
    -------
    DataFrame
        One row per (unit, year) with ``outcome == 1`` for any model, sorted
        by year and unit, with columns ``rank_<model>`` (1 = highest
        probability among all of that model's forecasts for the year, ties
        share the best rank) and ``probability_<model>``; NaN when a model has
        no forecast for that row. Read ``rank_<model> <= 30`` as "in that
        year's top-30 warning list".
    """
    data = check_forecast_table(table, caller="onset_ranks")
    data["rank"] = data.groupby(["model", "year"])["probability"].rank(
        ascending=False, method="min"
    )
    events = data.loc[data["outcome"] == 1, ["unit", "year"]].drop_duplicates()
    hits = data.merge(events, on=["unit", "year"], how="inner")
    wide = hits.pivot(index=["unit", "year"], columns="model", values=["rank", "probability"])
    models = sorted(data["model"].unique())
    out = pd.DataFrame(index=wide.index)
    for model in models:
        for quantity in ("rank", "probability"):
            out[f"{quantity}_{model}"] = (
                wide[(quantity, model)] if (quantity, model) in wide.columns else float("nan")
            )
    return out.reset_index().sort_values(["year", "unit"], kind="stable").reset_index(drop=True)
