"""Finding a unit by what a reader types, and the state code of each unit.

Readers type names; :func:`resolve_unit` accepts the unit's id, its display name
(:func:`~forecast.risk.unit_names`, e.g. "Sudan" for COW 625), a COW/GW state-system name of
its code ("Burma/Myanmar", "Myanmar" and "Burma" all find 775) or the code itself, ignoring
case; an unknown name fails with one line listing the closest names.
"""

from __future__ import annotations

import difflib
import functools
import re

import pandas as pd

from forecast._errors import input_error
from forecast.panel import Panel
from forecast.risk._words import unit_names

__all__ = ["resolve_unit", "state_codes"]

_CODE_COLUMNS = ("ccode", "cowcode")


@functools.lru_cache(maxsize=1)
def _states():
    from forecast.statesystem import StateSystem

    return StateSystem.load()


def state_codes(panel: Panel, year: int | None = None) -> pd.Series:
    """COW code of every unit present in ``year`` (default: the last), indexed by unit id.

    The unit id itself for COW-coded panels (``Panel.unit_system == 'cow'``), else a
    ``ccode`` column (the EWP 2025 dataset keeps it beside the names); missing when the panel
    has neither (the synthetic world).
    """
    year = panel.years[1] if year is None else int(year)
    rows = panel.frame[panel.frame[panel.year] == year]
    units = rows[panel.unit].to_numpy()
    if getattr(panel, "unit_system", None) == "cow":
        codes = pd.Series(units)
    else:
        column = next((c for c in _CODE_COLUMNS if c in rows.columns and c != panel.unit), None)
        codes = pd.Series(rows[column].to_numpy() if column else [pd.NA] * len(rows))
    codes = pd.to_numeric(codes, errors="coerce").astype("Int64")
    return pd.Series(codes.to_numpy(), index=pd.Index(units, name=panel.unit), name="code")


def _codes_named(folded: str) -> set[int]:
    """State codes (COW or GW) that have ever been called ``folded`` (list or common name)."""
    from forecast import statesystem

    table = _states().table
    codes = set(table.loc[table["name"].map(_fold) == folded, "code"].astype(int))
    common = getattr(statesystem, "COMMON_NAMES", ())
    return codes | {int(c.code) for c in common if _fold(c.name) == folded}


def _fold(text: object) -> str:
    return re.sub(r"\s+", " ", str(text)).strip().casefold()


def resolve_unit(panel: Panel, text: str | int, *, year: int | None = None) -> object:
    """The id of the unit of ``panel`` present in ``year`` (default: the last) that ``text``
    names: its id, its display name, a state-system name of its code, or the code.

    Raises
    ------
    ForecastInputError
        If nothing matches (listing the closest names), or several units do.
    """
    year = panel.years[1] if year is None else int(year)
    names = unit_names(panel, year)
    codes = state_codes(panel, year)
    wanted = _fold(text)
    ids = pd.Series(names.index, index=names.index)
    match = (ids.map(_fold) == wanted).to_numpy() | (names.map(_fold) == wanted).to_numpy()
    label = getattr(panel, "unit_label", None)
    if label is not None and label in panel.frame.columns:  # the panel's own names
        rows = panel.frame[panel.frame[panel.year] == year].set_index(panel.unit)[label]
        match |= (rows.reindex(names.index).map(_fold) == wanted).to_numpy()
    hit = ids[match]
    if hit.empty and wanted.lstrip("-").isdigit():
        hit = ids[(codes == int(wanted)).fillna(False).to_numpy()]
    if hit.empty:
        hit = ids[codes.isin(_codes_named(wanted)).fillna(False).to_numpy()]
    hit = hit.drop_duplicates()
    if len(hit) == 1:
        return hit.iloc[0]
    if len(hit) > 1:
        raise input_error(
            f"{str(text)!r} names {len(hit)} units in {year}: "
            f"{', '.join(names.loc[hit.to_numpy()].astype(str))}",
            source=panel.name,
            fix="pass the unit's code or its full name",
        )
    choices = sorted(set(names.astype(str)))
    close = difflib.get_close_matches(str(text), choices, n=5, cutoff=0.5)
    close += [n for n in choices if wanted and wanted in _fold(n) and n not in close]
    fix = (
        f"did you mean {', '.join(repr(n) for n in close[:5])}?"
        if close
        else f"use a name such as {', '.join(choices[:6])} (or a code)"
    )
    raise input_error(
        f"unit {str(text)!r} is not in the panel in {year}", source=panel.name, fix=fix
    )
