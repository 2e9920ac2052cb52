"""The forecast table as the metrics see it: a view of the one schema in :mod:`forecast.run`."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from forecast.run import FORECAST_COLUMNS, check_forecasts

__all__ = ["FORECAST_COLUMNS", "check_forecast_table"]


def check_forecast_table(
    table: pd.DataFrame,
    *,
    caller: str,
    required: Sequence[str] = FORECAST_COLUMNS,
    extra: Sequence[str] = (),
) -> pd.DataFrame:
    """Validate ``table`` (:func:`forecast.run.check_forecasts`) and keep ``required + extra``.

    ``outcome`` may be NaN (unknown) but otherwise must be 0 or 1, and so must an ``extra``
    ``mk_onset`` column; ``probability`` must be in [0, 1] without NaN; one row per key.
    """
    cols = list(dict.fromkeys([*required, *extra]))
    outcomes = [c for c in ("outcome", "mk_onset") if c in cols]
    checked = check_forecasts(table, caller=caller, required=cols, outcomes=outcomes)
    return checked.loc[:, cols]
