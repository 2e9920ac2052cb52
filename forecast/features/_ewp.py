"""EWP base variables (onset, offset, ongoing, ever) from the mass-killing episode list.

An episode runs from ``startyear`` to ``endyear`` (missing: still ongoing at the end of
the grid). Each episode year is assigned to the first of ``mk_location_cow``,
``mk_location_inheritor1``, ``mk_location_inheritor2`` that is a unit of the grid in that
year (so an episode follows the territory when a state dissolves). Responsibility uses
``mk_repsonsible_state_cow`` (sic) and its inheritors the same way. Every variable at year
``t`` uses only episode years ``<= t``, except ``mk_offset*`` which marks the last year.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecast._errors import input_error

__all__ = ["EPISODE_COLUMNS", "episode_variables"]

EPISODE_COLUMNS = (
    "mk_onset",
    "mk_onset_count",
    "mk_offset_count",
    "mk_ongoing_count",
    "mk_location_ever",
    "mk_responsible_ever",
    "mk_ever",
)
_LOCATION = ("mk_location_cow", "mk_location_inheritor1", "mk_location_inheritor2")
_RESPONSIBLE = (
    "mk_repsonsible_state_cow",
    "mk_repsonsible_state_inheritor1",
    "mk_repsonsible_state_inheritor2",
)
EWP_ALIASES: dict[int, int] = {340: 345}
"""Episode-list codes recoded to the EWP skeleton: the skeleton codes Serbia 345 throughout."""


def _assign(
    events: pd.DataFrame, columns: tuple[str, ...], keys: set[tuple[int, int]], end: int
) -> pd.DataFrame:
    rows = []
    for record in events.itertuples(index=False):
        start = int(record.startyear)
        stop = end if pd.isna(record.endyear) else int(record.endyear)
        codes = [getattr(record, c) for c in columns]
        codes = [EWP_ALIASES.get(int(c), int(c)) for c in codes if pd.notna(c)]
        for year in range(start, min(stop, end) + 1):
            unit = next((c for c in codes if (c, year) in keys), None)
            if unit is not None:
                rows.append(
                    (
                        unit,
                        year,
                        record.mk_event_code,
                        year == start,
                        year == stop and pd.notna(record.endyear),
                    )
                )
    return pd.DataFrame(rows, columns=["unit", "year", "code", "onset", "offset"])


def _ever(events: pd.DataFrame, columns: tuple[str, ...], out: pd.DataFrame) -> np.ndarray:
    """1 at (u, t) if an episode starting <= t lists u (or an alias) in ``columns``."""
    first: dict[int, int] = {}
    for record in events.itertuples(index=False):
        for column in columns:
            code = getattr(record, column)
            if pd.notna(code):
                code = EWP_ALIASES.get(int(code), int(code))
                first[code] = min(first.get(code, 10_000), int(record.startyear))
    start = out["unit"].map(first).to_numpy(dtype=float)
    return (out["year"].to_numpy() >= start).astype(float)


def episode_variables(
    events: pd.DataFrame, grid: pd.DataFrame, *, source: str = "episodes"
) -> pd.DataFrame:
    """Country-year episode variables on the rows of ``grid`` (columns ``unit``, ``year``).

    Returns a DataFrame with ``unit``, ``year`` and :data:`EPISODE_COLUMNS`:
    ``mk_onset_count`` = episodes starting in the year, ``mk_onset`` = 1 if any,
    ``mk_offset_count`` = episodes ending, ``mk_ongoing_count`` = distinct episodes active,
    ``mk_location_ever`` / ``mk_responsible_ever`` = 1 from the start year of the first
    episode that lists the unit (or an inheritor code equal to it) as location / responsible
    state (state-led episodes), ``mk_ever`` = either.
    """
    needed = ["startyear", "endyear", "mk_event_code", *_LOCATION, *_RESPONSIBLE]
    missing = [c for c in needed if c not in events.columns]
    if missing:
        raise input_error(
            f"episode list lacks column(s) {missing}",
            source=source,
            fix="use the sheet mk_events of the EWP master list",
        )
    starts = pd.to_numeric(events["startyear"], errors="coerce")
    if starts.isna().any():
        raise input_error(
            "episodes without a start year",
            source=source,
            column="startyear",
            rows=events.index[starts.isna()].tolist(),
            fix="fill startyear",
        )
    dup = events["mk_event_code"].duplicated(keep=False)
    if dup.any():
        raise input_error(
            "duplicate episode codes",
            source=source,
            column="mk_event_code",
            rows=events.index[dup].tolist(),
            fix="keep one row per episode",
        )
    keys = set(zip(grid["unit"].to_numpy().tolist(), grid["year"].to_numpy().tolist()))
    end = int(grid["year"].max())
    located = _assign(events, _LOCATION, keys, end)
    state = (
        events[events["State-Led or Non-State-Led"].astype(str).str.strip() == "State-Led"]
        if "State-Led or Non-State-Led" in events.columns
        else events
    )
    by = located.groupby(["unit", "year"])
    table = pd.DataFrame(
        {
            "mk_onset_count": by["onset"].sum(),
            "mk_offset_count": by["offset"].sum(),
            "mk_ongoing_count": by["code"].nunique(),
        }
    ).reset_index()
    out = grid[["unit", "year"]].merge(table, on=["unit", "year"], how="left")
    out = out.fillna(0.0)
    out = out.sort_values(["unit", "year"], kind="stable").reset_index(drop=True)
    out["mk_onset"] = (out["mk_onset_count"] > 0).astype(float)
    out["mk_location_ever"] = _ever(events, _LOCATION, out)
    out["mk_responsible_ever"] = _ever(state, _RESPONSIBLE, out)
    out["mk_ever"] = np.maximum(out["mk_location_ever"], out["mk_responsible_ever"])
    return out
