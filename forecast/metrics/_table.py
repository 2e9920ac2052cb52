"""Validation of the tidy forecast table (unit, year, model, probability, outcome)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from forecast._errors import input_error

__all__ = ["FORECAST_COLUMNS", "check_forecast_table"]

FORECAST_COLUMNS: tuple[str, ...] = ("unit", "year", "model", "probability", "outcome")


def check_forecast_table(
    table: pd.DataFrame,
    *,
    caller: str,
    required: Sequence[str] = FORECAST_COLUMNS,
    extra: Sequence[str] = (),
) -> pd.DataFrame:
    """Check columns and values of a tidy forecast table; return a clean copy.

    ``outcome`` may be NaN (unknown, e.g. a window reaching past the last
    observed year) but otherwise must be 0 or 1; ``probability`` must be in
    [0, 1] without NaN; (model, unit, year) must be unique.
    """
    if not isinstance(table, pd.DataFrame):
        raise input_error(
            f"{caller}: 'table' must be a pandas DataFrame, got {type(table).__name__}",
            fix=f"pass a tidy table with columns {list(required)}",
        )
    cols = [*required, *extra]
    missing = [c for c in cols if c not in table.columns]
    if missing:
        raise input_error(
            f"{caller}: 'table' lacks column(s) {missing}; it has {list(table.columns)}",
            fix=f"rename or add columns so that {cols} are present",
        )
    out = table.loc[:, list(dict.fromkeys(cols))].reset_index(drop=True)
    if "probability" in out:
        prob = pd.to_numeric(out["probability"], errors="coerce").astype(float)
        bad = np.flatnonzero(~((prob >= 0) & (prob <= 1)).to_numpy())
        if bad.size:
            raise input_error(
                "probabilities must be in [0, 1] without NaN",
                source=caller,
                column="probability",
                rows=bad.tolist(),
                fix="drop rows without a forecast, and pass probabilities not scores",
            )
        out["probability"] = prob
    for name in ("outcome", *[c for c in extra if c == "mk_onset"]):
        if name not in out:
            continue
        y = pd.to_numeric(out[name], errors="coerce").astype(float)
        raw_missing = out[name].isna().to_numpy()
        bad = np.flatnonzero((~y.isin([0.0, 1.0]) & ~raw_missing).to_numpy())
        if bad.size:
            raise input_error(
                "outcomes must be 0, 1 or missing (unknown)",
                source=caller,
                column=name,
                rows=bad.tolist(),
                fix="recode the outcome to 0/1 and leave unknown outcomes as NaN",
            )
        out[name] = y
    key = [c for c in ("model", "unit", "year") if c in out]
    if len(key) == 3:
        dup = np.flatnonzero(out.duplicated(key, keep=False).to_numpy())
        if dup.size:
            raise input_error(
                f"{caller}: (model, unit, year) must be unique",
                rows=dup.tolist(),
                fix="keep one forecast per model, unit and year",
            )
    return out
