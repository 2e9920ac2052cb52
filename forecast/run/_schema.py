"""The forecast table: one schema, used by every reader and writer.

A forecast table has one row per (model, unit, year, origin): ``year`` is the data year the
forecast is made from, ``origin`` the backtest origin (a table without ``origin`` has
``origin = year``), ``probability`` the forecast, ``outcome`` the window outcome (0, 1, or
missing = not yet known). Optional columns: ``horizon`` (years until the outcome is known),
``lower``/``upper`` (interval bounds) and any other metadata, passed through untouched.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from forecast._errors import input_error

__all__ = [
    "FORECAST_COLUMNS",
    "FORECAST_KEY",
    "check_forecasts",
    "check_horizon",
    "forecast_schema",
]

FORECAST_COLUMNS: tuple[str, ...] = ("unit", "year", "model", "probability", "outcome")
"""Columns every forecast table has."""

FORECAST_KEY: tuple[str, ...] = ("model", "unit", "year", "origin")
"""One forecast per key; ``origin`` is left out of the key of a table without it."""

_WHOLE = ("year", "origin", "horizon")
_FIXES = {
    "probability": "drop rows without a forecast, and pass probabilities not scores",
    "outcome": "recode the outcome to 0/1 and leave unknown outcomes missing (NaN)",
    "lower": "pass interval bounds in [0, 1] or leave them missing",
    "upper": "pass interval bounds in [0, 1] or leave them missing",
}
_PROBLEMS = {
    "probability": "probabilities must be finite and in [0, 1] (no NaN)",
    "outcome": "outcomes must be 0, 1 or missing (unknown)",
    "lower": "interval bounds must be in [0, 1] or missing",
    "upper": "interval bounds must be in [0, 1] or missing",
}


def _numeric(series: pd.Series) -> pd.Series:
    return pd.to_numeric(series, errors="coerce").astype(float)


def _whole(series: pd.Series) -> pd.Series:
    values = _numeric(series)
    return np.isfinite(values) & (values == np.round(values))


def _non_negative(series: pd.Series) -> pd.Series:
    return _numeric(series) >= 0


def _unit_interval(series: pd.Series) -> pd.Series:
    values = _numeric(series)
    return (values >= 0) & (values <= 1)


def _zero_one(series: pd.Series) -> pd.Series:
    return _numeric(series).isin([0.0, 1.0])


Rule = Callable[[pd.Series], pd.Series]

_RULES: dict[str, tuple[Rule, ...]] = {
    "year": (_whole,),
    "origin": (_whole,),
    "horizon": (_whole, _non_negative),
    "probability": (_unit_interval,),
    "lower": (_unit_interval,),
    "upper": (_unit_interval,),
}
"""The value rules of the forecast table, declared once: column -> vectorised checks (True
= valid), applied to the non-missing values (a missing value passes; ``probability``
refuses it separately). Outcome columns get :func:`_zero_one`."""


def _rules(columns: Sequence[str], outcomes: Sequence[str]) -> dict[str, tuple[Rule, ...]]:
    rules = {**_RULES, **{name: (_zero_one,) for name in outcomes}}
    return {c: rules[c] for c in columns if c in rules}


def forecast_schema(columns: Sequence[str], outcomes: Sequence[str] = ("outcome",)):
    """The pandera schema of a forecast table restricted to ``columns`` (those present).

    Rules: ``year``, ``origin``, ``horizon`` whole numbers (``horizon >= 0``); ``probability``
    finite in [0, 1]; ``outcome`` 0, 1 or missing; ``lower``/``upper`` in [0, 1] or missing.
    Values are checked after a numeric coercion (strings that are not numbers fail). The
    checks are those :func:`check_forecasts` applies (without importing pandera).
    """
    import pandera.pandas as pa

    return pa.DataFrameSchema(
        {
            column: pa.Column(
                checks=[pa.Check(rule, element_wise=False) for rule in rules], nullable=True
            )
            for column, rules in _rules(columns, outcomes).items()
        },
        strict=False,
    )


def check_forecasts(
    table: object,
    *,
    caller: str,
    required: Sequence[str] = FORECAST_COLUMNS,
    outcomes: Sequence[str] = ("outcome",),
    source: str | None = None,
) -> pd.DataFrame:
    """Validate a forecast table against the one schema; return a clean copy.

    The copy has a fresh ``RangeIndex``, ``probability``/``outcome`` (and ``lower``/``upper``)
    as float (NaN = missing), ``year``/``origin``/``horizon`` as int64 and ``model`` as str.
    Every column of ``table`` is kept. ``outcomes`` names the columns holding 0/1/missing
    outcomes (default ``outcome``; e.g. ``mk_onset`` for an onset table).

    Raises
    ------
    ForecastInputError
        One line naming the caller (or ``source`` file), the column, the offending rows and
        the fix: not a DataFrame, a required column missing, no rows, a value out of its
        domain, or a duplicated key (:data:`FORECAST_KEY`).
    """
    where = source or caller
    if not isinstance(table, pd.DataFrame):
        raise input_error(
            f"{caller}: 'table' must be a pandas DataFrame, got {type(table).__name__}",
            fix=f"pass a tidy table with columns {list(required)}",
        )
    missing = [c for c in required if c not in table.columns]
    if missing:
        raise input_error(
            f"{where}: table lacks column(s) {missing}; it has {list(table.columns)}",
            fix=f"rename or add columns so that {list(required)} are present",
        )
    if table.empty:
        raise input_error(f"{where}: table has no rows", fix="pass at least one forecast")
    frame = table.reset_index(drop=True)
    _validate_values(frame, where, outcomes)
    out = frame.copy()
    for column in ("probability", *outcomes, "lower", "upper"):
        if column in out:
            out[column] = pd.to_numeric(out[column], errors="coerce").astype(float)
    for column in _WHOLE:
        if column in out:
            out[column] = pd.to_numeric(out[column]).astype(np.int64)
    if "model" in out:
        out["model"] = out["model"].astype(str)
    key = [c for c in FORECAST_KEY if c in out]
    if {"model", "unit", "year"} <= set(key):
        dup = np.flatnonzero(out.duplicated(key, keep=False).to_numpy())
        if dup.size:
            raise input_error(
                f"{where}: ({', '.join(key)}) must be unique",
                rows=dup.tolist(),
                fix="keep one forecast per " + ", ".join(key),
            )
    return out


def _validate_values(frame: pd.DataFrame, where: str, outcomes: Sequence[str]) -> None:
    """Apply the rules; turn the first failing column into one :func:`input_error` line."""
    for column, rules in _rules(list(frame.columns), outcomes).items():
        values = frame[column]
        present = values.notna().to_numpy()
        checked = values if present.all() else values[present]
        bad = np.zeros(len(frame), dtype=bool)
        for rule in rules:
            bad[present] |= ~np.asarray(rule(checked), dtype=bool)
        if not bad.any():
            continue
        kind = "outcome" if column in outcomes else column
        problem = _PROBLEMS.get(
            kind,
            "values must be whole numbers without gaps"
            + (" and >= 0" if column == "horizon" else ""),
        )
        raise input_error(
            problem,
            source=where,
            column=column,
            rows=np.flatnonzero(bad).tolist(),
            fix=_FIXES.get(kind, f"fill or drop rows with a missing {column}"),
        )
    prob = pd.to_numeric(frame["probability"], errors="coerce") if "probability" in frame else None
    if prob is not None and prob.isna().any():  # NaN passes the range check: refuse it here
        raise input_error(
            _PROBLEMS["probability"],
            source=where,
            column="probability",
            rows=np.flatnonzero(prob.isna().to_numpy()).tolist(),
            fix=_FIXES["probability"],
        )
    for name in (c for c in outcomes if c in frame):
        # a non-numeric outcome coerces to NaN: not "unknown" but an error
        raw_missing = frame[name].isna().to_numpy()
        coerced = pd.to_numeric(frame[name], errors="coerce").isna().to_numpy()
        bad = np.flatnonzero(coerced & ~raw_missing)
        if bad.size:
            raise input_error(
                _PROBLEMS["outcome"],
                source=where,
                column=name,
                rows=bad.tolist(),
                fix=_FIXES["outcome"],
            )


def check_horizon(
    table: pd.DataFrame,
    stated: object = None,
    *,
    caller: str,
    source: str | None = None,
    stated_by: str = "horizon",
) -> int | None:
    """The one horizon of a forecast table: years until a forecast's outcome is known.

    ``stated`` (a run's provenance, an argument) must be a whole number >= 0 and agree with
    every row's ``horizon`` (when the table has that column); without it the column must
    hold a single value. None when neither says.

    Raises
    ------
    ForecastInputError
        One line naming ``source`` (else ``caller``) and the disagreeing rows: ``stated`` is
        not a whole number >= 0, differs from a row's horizon, or the rows hold several.
    """
    where = source or caller
    column = pd.to_numeric(table["horizon"]) if "horizon" in table.columns else None
    found = sorted({int(v) for v in column.dropna()}) if column is not None else []
    if stated is None:
        if len(found) > 1:
            raise input_error(
                f"one horizon is needed, the table has horizons {found}",
                source=where,
                column="horizon",
                fix="filter the table to one horizon",
            )
        return found[0] if found else None
    number = pd.to_numeric(pd.Series([stated]), errors="coerce").iloc[0]
    if isinstance(stated, bool) or not np.isfinite(number) or number != round(number) or number < 0:
        raise input_error(
            f"{stated_by} must be a whole number >= 0, got {stated!r}",
            source=where,
            fix="state the years until the outcome is known, e.g. 2",
        )
    if column is not None:
        bad = np.flatnonzero((column.notna() & (column != number)).to_numpy())
        if bad.size:
            raise input_error(
                f"{stated_by} {int(number)} disagrees with the forecasts' horizon "
                f"{found} (every row must have the stated horizon)",
                source=where,
                column="horizon",
                rows=bad.tolist(),
                fix="re-run the backtest so that provenance and forecasts agree",
            )
    return int(number)
