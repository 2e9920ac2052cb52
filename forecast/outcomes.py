"""Outcome windows: "an onset within the next h years" from an annual onset indicator.

Conventions (see ``docs/design/0001-outcome-windows.md``):

* The window of row (unit, t) for horizon ``h`` covers years ``t+1 .. t+h``.
* It is 1 when any year of the window observed for the unit has an onset.
* It is **missing** (censored, unknown) when no onset is observed in the window and
  the window reaches past the last year observed in the data (``data_end_year``):
  an unknown future is never coded 0.
* A unit that leaves the state system before the data ends (e.g. South Vietnam in 1975)
  has no onsets after its exit; its window is truncated at the exit year and is 0 unless
  an onset occurs before then.
* Onsets follow the EWP convention: only *new* episodes count. Years with an ongoing
  episode stay in the panel and can carry a new onset (a second, distinct episode).
* A missing annual onset inside the window (other than beyond the data end) makes the
  window missing unless an observed year of the window has an onset.

Scoring uses only forecasts whose whole window is observed, ``year + horizon <=
data_end`` (:func:`observed_windows`, ``docs/design/0002-score-only-observed-windows.md``):
every score, cost and report row applies this one rule.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from forecast._errors import input_error

if TYPE_CHECKING:
    from forecast.experiment import ExperimentConfig
    from forecast.panel import Panel

__all__ = [
    "observed_windows",
    "onset_within",
    "scorable_end",
    "training_target",
    "window_observed",
]


def training_target(panel: Panel, config: ExperimentConfig) -> np.ndarray:
    """The target every fit of ``config`` learns: an onset of ``config.outcome`` within the
    next ``config.horizon`` years (:func:`onset_within`), one float per panel row (NaN =
    not yet known).

    ``config.outcome`` must be an annual event. A column that is already a window (declared
    in ``panel.windows``, e.g. ``mk_onset_1or2``) is refused: windowed again, origin ``T``
    would train on onsets after ``T`` while the run is labelled with its horizon.

    Raises
    ------
    ForecastInputError
        The outcome is not a column of the panel, or is a window.
    """
    outcome = config.outcome
    if outcome not in panel.frame.columns:
        raise input_error(
            f"outcome column {outcome!r} not in the panel",
            source=panel.name,
            fix=f"use one of {panel.outcomes}",
        )
    if outcome in panel.windows:
        first, last = panel.windows[outcome]
        annual = [c for c in panel.outcomes if c not in panel.windows]
        raise input_error(
            f"outcome {outcome!r} is already a window (an onset in t+{first}..t+{last}); "
            "windowing it again trains on onsets after the origin",
            source=config.source,
            fix=f"write outcome: {annual[0] if annual else '<the annual onset column>'} "
            f"(the annual event) and horizon: {last}",
        )
    return onset_within(
        panel.frame, config.horizon, unit=panel.unit, year=panel.year, onset=outcome
    ).to_numpy()


def onset_within(
    panel: pd.DataFrame,
    horizon: int,
    *,
    unit: str = "unit",
    year: str = "year",
    onset: str = "mk_onset",
    data_end_year: int | None = None,
) -> pd.Series:
    """Onset within the next ``horizon`` years, censored past the end of the data.

    Parameters
    ----------
    panel : DataFrame
        Country-year panel with unique ``(unit, year)`` rows and an annual 0/1 onset column
        (missing allowed).
    horizon : int
        Window length ``h >= 1``. Row ``t`` looks at years ``t+1 .. t+h``.
    data_end_year : int, optional
        Last year in which onsets are observed. Defaults to ``panel[year].max()``.

    Returns
    -------
    Series of dtype float64 aligned with ``panel.index``:
    ``y_t(h) = max(onset_{t+1}, ..., onset_{t+h})`` over years present for the unit, NaN when
    no onset is observed and any year ``t+j <= data_end_year`` of the window is unobserved
    for a live unit, or ``t+h > data_end_year``.
    """
    if not isinstance(horizon, (int, np.integer)) or isinstance(horizon, bool) or horizon < 1:
        raise input_error(
            f"horizon must be an integer >= 1, got {horizon!r}", fix="pass horizon=1, 2, ..."
        )
    for column in (unit, year, onset):
        if column not in panel.columns:
            raise input_error(
                "column is missing from the panel",
                column=column,
                fix=f"pass the right name (columns: {', '.join(map(str, panel.columns[:12]))})",
            )
    if panel.empty:
        return pd.Series(
            np.array([], dtype=float), index=panel.index, name=f"{onset}_within_{horizon}"
        )
    years = panel[year].to_numpy(dtype=np.int64)
    end = int(years.max()) if data_end_year is None else int(data_end_year)
    onsets = pd.to_numeric(panel[onset], errors="coerce").to_numpy(dtype=float)
    bad = ~(np.isin(onsets, (0.0, 1.0)) | (np.isnan(onsets) & panel[onset].isna().to_numpy()))
    if bad.any():
        rows = [f"{u}/{y}" for u, y in zip(panel[unit][bad], years[bad])]
        value = panel[onset][bad].tolist()[0]
        raise input_error(
            f"an annual onset indicator holds 0, 1 or missing, got {value!r}",
            column=onset,
            rows=rows,
            fix="use a 0/1 onset column of the panel as the outcome",
        )
    codes, _ = pd.factorize(panel[unit], sort=False)
    last_year = pd.Series(years).groupby(codes).transform("max").to_numpy()

    # Dense lookup of the onset of (unit, year + j) via a key -> value map; a unit's keys
    # span more than its years plus the horizon, so year + j never reaches the next unit.
    # Years t+j past the last year of the data have no rows: look at most that far, and
    # space the units' keys so that key + j never reaches the next unit.
    first = int(years.min())
    reach = min(int(horizon), int(years.max()) - first + 1)
    key = codes.astype(np.int64) * (int(years.max()) - first + reach + 1) + (years - first)
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    if np.any(sorted_key[1:] == sorted_key[:-1]):
        dupes = np.flatnonzero(np.isin(key, sorted_key[1:][sorted_key[1:] == sorted_key[:-1]]))
        raise input_error(
            "duplicate (unit, year) rows",
            column=f"{unit}, {year}",
            rows=panel.index[dupes].tolist(),
            fix="keep one row per unit and year",
        )
    any_onset = np.zeros(len(panel), dtype=bool)
    unknown = np.zeros(len(panel), dtype=bool)
    unknown |= years + min(int(horizon), end - first + 1) > end  # window passes the data end
    for j in range(1, reach + 1):
        target = key + j
        pos = np.searchsorted(sorted_key, target)
        pos_clipped = np.minimum(pos, len(sorted_key) - 1)
        found = sorted_key[pos_clipped] == target
        value = np.full(len(panel), np.nan)
        value[found] = onsets[order[pos_clipped[found]]]
        any_onset |= value == 1
        beyond_data = years + j > end
        alive = years + j <= last_year
        # Unknown: past the data end, or a live unit-year whose onset is missing or absent.
        unknown |= beyond_data | (alive & np.isnan(value))
    result = np.where(any_onset, 1.0, np.where(unknown, np.nan, 0.0))
    return pd.Series(result, index=panel.index, name=f"{onset}_within_{horizon}")


def _horizons(frame: pd.DataFrame, horizon: int | None) -> np.ndarray:
    if horizon is not None:
        return np.full(len(frame), int(horizon))
    if "horizon" not in frame.columns:
        raise input_error(
            "horizon is None and the table has no 'horizon' column",
            fix="pass horizon=<years until the outcome is known>, e.g. 2",
        )
    return frame["horizon"].to_numpy()


def scorable_end(
    frame: pd.DataFrame, *, horizon: int | None = None, caller: str = "scorable_end"
) -> int:
    """Last data year implied by a forecast table: ``max(max(year + horizon | y = 0), max origin)``.

    A 0 (no onset in the window) can only be known once the whole window has
    been observed, and a forecast at origin ``T`` uses data through ``T``, so
    the last data year is at least this; keeping rows with ``year + horizon``
    up to it never keeps a partly observed window. Use it when the last data
    year is not known otherwise (e.g. from the annual onsets).

    Parameters
    ----------
    frame : pandas.DataFrame
        Forecast table with ``year``, ``outcome`` and ``origin`` (or only
        ``year``) and, when ``horizon`` is None, a ``horizon`` column.
    horizon : int, optional
        Window length; None reads the ``horizon`` column.

    Raises
    ------
    ForecastInputError
        If no outcome is a known 0.
    """
    zero = frame["outcome"].to_numpy() == 0
    if not zero.any():
        raise input_error(
            f"{caller}: no forecast has a fully observed outcome window (no known 0)",
            column="outcome",
            fix="include origins whose outcome windows have closed",
        )
    closed = int((frame["year"].to_numpy() + _horizons(frame, horizon))[zero].max())
    origin = frame["origin"] if "origin" in frame.columns else frame["year"]
    return max(closed, int(origin.max()))


def window_observed(
    frame: pd.DataFrame, *, horizon: int | None = None, data_end: int | None = None
) -> np.ndarray:
    """True where a forecast's whole outcome window is observed: ``year + horizon <= data_end``.

    Windows cut by the end of the data know an outcome only when an onset has
    already happened (a 1 can be seen early, a 0 cannot), so scoring them
    would add onsets without their non-onsets; such rows are never scored.

    Parameters
    ----------
    frame : pandas.DataFrame
        Forecast table with ``year`` (and ``horizon`` when ``horizon`` is None).
    horizon : int, optional
        Window length; None reads the ``horizon`` column.
    data_end : int, optional
        Last data year (e.g. the last year of annual onsets); None infers it
        with :func:`scorable_end`.

    Returns
    -------
    numpy.ndarray of bool, one per row.
    """
    if data_end is None:
        data_end = scorable_end(frame, horizon=horizon)
    return frame["year"].to_numpy() + _horizons(frame, horizon) <= int(data_end)


def observed_windows(
    frame: pd.DataFrame, *, horizon: int | None = None, data_end: int | None = None
) -> pd.DataFrame:
    """The rows of ``frame`` whose whole outcome window is observed (:func:`window_observed`)."""
    return frame[window_observed(frame, horizon=horizon, data_end=data_end)]
