"""Validation of forecast tables (one row per model, unit, forecast year and origin)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecast._errors import input_error

__all__ = ["FORECAST_TABLE_COLUMNS", "check_forecast_table", "history_mask"]

FORECAST_TABLE_COLUMNS = ("unit", "year", "origin", "model", "probability", "outcome")
"""Columns of a forecast table: ``year`` is the data year the forecast is made from."""


def _integer_column(frame: pd.DataFrame, column: str, caller: str) -> np.ndarray:
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values) | (values != np.round(values))
    if bad.any():
        raise input_error(
            f"{caller}: values must be whole numbers without gaps",
            column=column,
            rows=frame.index[bad].tolist(),
            fix=f"fill or drop rows with a missing {column}",
        )
    return values.astype(np.int64)


def check_forecast_table(table: object, horizon: int | None, *, caller: str) -> pd.DataFrame:
    """Validate a forecast table and return a clean copy with a ``horizon`` column.

    Checks: the columns of :data:`FORECAST_TABLE_COLUMNS` exist; ``year``,
    ``origin`` (and ``horizon``) are whole numbers; ``probability`` is finite
    in [0, 1]; ``outcome`` is 0, 1 or missing (missing = not yet known);
    ``(model, unit, year, origin)`` is unique. ``horizon`` (an int >= 0) is
    the number of years after ``year`` until the outcome is known; if ``None``
    the table must have a ``horizon`` column.
    """
    if not isinstance(table, pd.DataFrame):
        raise input_error(
            f"{caller}: table must be a pandas DataFrame, got {type(table).__name__}",
            fix=f"pass a DataFrame with columns {', '.join(FORECAST_TABLE_COLUMNS)}",
        )
    missing = [c for c in FORECAST_TABLE_COLUMNS if c not in table.columns]
    if missing:
        raise input_error(
            f"{caller}: table lacks columns {missing}",
            fix=f"provide columns {', '.join(FORECAST_TABLE_COLUMNS)}",
        )
    if table.empty:
        raise input_error(f"{caller}: table has no rows", fix="pass at least one forecast")
    frame = table.reset_index(drop=True)
    out = pd.DataFrame(
        {
            "unit": frame["unit"],
            "year": _integer_column(frame, "year", caller),
            "origin": _integer_column(frame, "origin", caller),
            "model": frame["model"].astype(str),
        }
    )
    prob = pd.to_numeric(frame["probability"], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(prob) | (prob < 0) | (prob > 1)
    if bad.any():
        raise input_error(
            f"{caller}: probabilities must be finite and in [0, 1]",
            column="probability",
            rows=frame.index[bad].tolist(),
            fix="pass predicted probabilities",
        )
    out["probability"] = prob
    outcome = pd.to_numeric(frame["outcome"], errors="coerce").to_numpy(dtype=float)
    raw_missing = frame["outcome"].isna().to_numpy()
    bad = (~np.isin(outcome, (0.0, 1.0)) & ~np.isnan(outcome)) | (np.isnan(outcome) & ~raw_missing)
    if bad.any():
        raise input_error(
            f"{caller}: outcomes must be 0, 1 or missing (unknown)",
            column="outcome",
            rows=frame.index[bad].tolist(),
            fix="recode the outcome to 0/1 and leave unknown outcomes missing",
        )
    out["outcome"] = outcome
    if horizon is None:
        if "horizon" not in frame.columns:
            raise input_error(
                f"{caller}: horizon is None and the table has no 'horizon' column",
                fix="pass horizon=<years until the outcome is known>, e.g. 2 for mk_onset_1or2",
            )
        out["horizon"] = _integer_column(frame, "horizon", caller)
    else:
        if isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)):
            raise input_error(
                f"{caller}: horizon must be an integer >= 0, got {horizon!r}",
                fix="pass e.g. horizon=2 for onsets in t+1 or t+2",
            )
        out["horizon"] = int(horizon)
    bad = out["horizon"].to_numpy() < 0
    if bad.any():
        raise input_error(
            f"{caller}: horizon must be >= 0",
            column="horizon",
            rows=frame.index[bad].tolist(),
            fix="pass the number of years until the outcome is known",
        )
    dup = out.duplicated(["model", "unit", "year", "origin"], keep=False).to_numpy()
    if dup.any():
        raise input_error(
            f"{caller}: (model, unit, year, origin) must be unique",
            rows=frame.index[dup].tolist(),
            fix="keep one forecast per model, unit, year and origin",
        )
    out["round"] = out.groupby(["origin", "year"], sort=True).ngroup().to_numpy()
    return out


def history_mask(frame: pd.DataFrame, origin: int) -> np.ndarray:
    """Rows whose outcome was known at ``origin``: earlier origin, ``year + horizon <= origin``.

    Missing (unknown) outcomes are never part of the history.
    """
    return (
        (frame["origin"].to_numpy() < origin)
        & (frame["year"].to_numpy() + frame["horizon"].to_numpy() <= origin)
        & ~np.isnan(frame["outcome"].to_numpy())
    )
