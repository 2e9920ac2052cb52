"""Match the units of an imported list to state codes: by COW or GW code, or by name.

Names are matched, ignoring case, accents and punctuation, against every name the
state-system table (:mod:`forecast.statesystem`) gives a state in any era, its common
names (:data:`forecast.statesystem.COMMON_NAMES`) and the aliases shipped in
``forecast/_data/unit_aliases.csv`` ("USSR", "Zaire", "Burma/Myanmar", "Congo-Kinshasa",
...). A name several states have borne resolves to the state that is a COW member in the
list's data year. Rows that match nothing, or more than one state, are returned as
unmatched, never dropped silently.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from importlib import resources

import pandas as pd

from forecast._errors import input_error
from forecast.statesystem import COMMON_NAMES, StateSystem

__all__ = ["fold_name", "match_units"]


def fold_name(text: object) -> str:
    """A name reduced for matching: ASCII, lower case, '&' -> 'and', 'St.' -> 'saint',
    no punctuation, no 'the'."""
    ascii_text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    words = re.sub(r"[^a-z0-9]+", " ", ascii_text.casefold().replace("&", " and ")).split()
    return " ".join("saint" if w == "st" else w for w in words if w != "the")


@functools.lru_cache(maxsize=1)
def _states() -> StateSystem:
    return StateSystem.load()


@functools.lru_cache(maxsize=1)
def _name_index() -> dict[str, frozenset[tuple[str, int]]]:
    """Folded name -> the (system, code) pairs that bore it."""
    index: dict[str, set[tuple[str, int]]] = {}
    table = _states().table
    for system, code, name in zip(table["system"], table["code"], table["name"], strict=True):
        index.setdefault(fold_name(name), set()).add((str(system), int(code)))
    for entry in COMMON_NAMES:
        index.setdefault(fold_name(entry.name), set()).add((entry.system, int(entry.code)))
    aliases = resources.files("forecast").joinpath("_data/unit_aliases.csv")
    with aliases.open("r", encoding="utf-8") as handle:
        for row in pd.read_csv(handle, keep_default_na=False).itertuples(index=False):
            index.setdefault(fold_name(row.name), set()).add(("cow", int(row.cow)))
    return {name: frozenset(pairs) for name, pairs in index.items()}


def _cow_of(system: str, code: int, year: int) -> int | None:
    if system == "cow":
        return code
    states = _states()
    return states.to_cow(code, year) if states.is_member("gw", code, year) else None


def _by_name(name: str, year: int) -> tuple[int | None, str]:
    pairs = _name_index().get(fold_name(name), frozenset())
    mapped = (_cow_of(system, code, max(year, 1946)) for system, code in pairs)
    codes = {code for code in mapped if code is not None}
    if not codes:
        return None, "no state of that name"
    members = {c for c in codes if _states().is_member("cow", c, max(year, 1946))}
    chosen = members or codes
    if len(chosen) > 1:
        return None, f"names several states ({', '.join(map(str, sorted(chosen)))})"
    return next(iter(chosen)), ""


def _by_code(value: object, system: str, year: int) -> tuple[int | None, str]:
    number = pd.to_numeric(pd.Series([value]), errors="coerce").iloc[0]
    if pd.isna(number) or number != int(number):
        return None, f"code {value!r} is not a number"
    code = int(number)
    if system == "gw":
        if not _states().is_member("gw", code, max(year, 1816)):
            return None, f"GW code {code} is not a member in {year}"
        cow = _states().to_cow(code, max(year, 1946))
        return (cow, "") if cow is not None else (None, f"GW code {code} has no COW code")
    return code, ""


def match_units(
    table: pd.DataFrame,
    *,
    year: int,
    name_column: str | None = None,
    code_column: str | None = None,
    code_system: str = "cow",
) -> tuple[pd.DataFrame, list[str]]:
    """COW code of each row of ``table`` in ``year``, by its code (first) or its name.

    Parameters
    ----------
    table : DataFrame
        The imported list.
    year : int
        The list's data year (names and codes are read as of that year).
    name_column, code_column : str, optional
        Columns holding the unit's name and its code; at least one.
    code_system : {'cow', 'gw'}
        System of ``code_column``; GW codes are mapped to COW by year.

    Returns
    -------
    matched : DataFrame
        The matched rows of ``table`` (index kept) with columns ``name`` and ``code``.
    unmatched : list of str
        One entry per row that matched no state (or several), with the reason.
    """
    if name_column is None and code_column is None:
        raise input_error(
            "no column names the units", fix="pass a name column, a code column or both"
        )
    if code_system not in ("cow", "gw"):
        raise input_error(
            f"code system must be 'cow' or 'gw', got {code_system!r}", fix="pass cow or gw"
        )
    for column in (name_column, code_column):
        if column is not None and column not in table.columns:
            raise input_error(
                f"no column {column!r} in the list",
                fix=f"pass one of {list(table.columns)}",
            )
    codes: list[int | None] = []
    unmatched: list[str] = []
    names = table[name_column].tolist() if name_column else [None] * len(table)
    raw_codes = table[code_column].tolist() if code_column else [None] * len(table)
    for label, name, raw in zip(table.index, names, raw_codes, strict=True):
        code, why = (None, "")
        if code_column is not None:
            code, why = _by_code(raw, code_system, year)
        if code is None and name is not None and pd.notna(name):
            code, why_name = _by_name(str(name), year)
            why = why_name if not why else f"{why}; name: {why_name}"
        codes.append(code)
        if code is None:
            unmatched.append(f"{name if name is not None else raw} (row {label}): {why}")
    matched = table.assign(code=pd.array(codes, dtype="Int64"))
    matched = matched[matched["code"].notna()]
    names = matched[name_column].astype(str) if name_column else matched["code"].astype(str)
    return matched.assign(name=names), unmatched
