"""Validation of forecast tables (one row per model, unit, forecast year and origin)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecast._errors import input_error
from forecast.run import check_forecasts, check_horizon

__all__ = ["FORECAST_TABLE_COLUMNS", "check_forecast_table"]

FORECAST_TABLE_COLUMNS = ("unit", "year", "origin", "model", "probability", "outcome")
"""Columns of a forecast table: ``year`` is the data year the forecast is made from."""


def check_forecast_table(table: object, horizon: int | None, *, caller: str) -> pd.DataFrame:
    """Validate a forecast table (:func:`forecast.run.check_forecasts`) for decision analysis.

    Returns ``unit``, ``year``, ``origin``, ``model``, ``probability``, ``outcome``,
    ``horizon`` and ``round`` (one number per ``(origin, year)``). ``horizon`` (an int >= 0)
    is the number of years after ``year`` until the outcome is known; if ``None`` the table
    must have a ``horizon`` column.
    """
    if horizon is None:
        if isinstance(table, pd.DataFrame) and "horizon" not in table.columns:
            raise input_error(
                f"{caller}: horizon is None and the table has no 'horizon' column",
                fix="pass horizon=<years until the outcome is known>, e.g. 2 for mk_onset_1or2",
            )
    elif isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)) or horizon < 0:
        raise input_error(
            f"{caller}: horizon must be >= 0 (a whole number of years), got {horizon!r}",
            fix="pass e.g. horizon=2 for onsets in t+1 or t+2",
        )
    required = (*FORECAST_TABLE_COLUMNS, *(("horizon",) if horizon is None else ()))
    frame = check_forecasts(table, caller=caller, required=required)
    out = frame.loc[:, list(required)]
    if horizon is not None:  # the stated horizon must be every row's (one horizon)
        out["horizon"] = check_horizon(frame, horizon, caller=caller, source=caller)
    out["round"] = out.groupby(["origin", "year"], sort=True).ngroup().to_numpy()
    return out
