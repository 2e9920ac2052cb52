"""Year-aware state-system membership (COW and Gleditsch-Ward) and a code crosswalk.

The table has one row per membership spell, with columns ``system`` (``'cow'`` or
``'gw'``), ``code``, ``abbrev``, ``name``, ``start_year`` and ``end_year``. A state is a
member in every year from ``start_year`` to ``end_year`` inclusive. A missing
``end_year`` means "still a member at the end of the list", and the spell is taken to
continue to the present. Years are calendar years, so a state that ends or begins
during a year is a member in that year: in 1990 the Yemen Arab Republic (COW 678) and
unified Yemen (COW 679) are both members.

Source: the EWP 2025 replication workbook ``mk-events-master-list-2025.xlsx``, sheets
``cow_states`` (Correlates of War system membership, version 2016) and
``' Gleditsch ind states'`` (note the leading space; Gleditsch & Ward's list of
independent states to 2017, whose columns are misleadingly called ``COW_number``,
``COW_abv``, ``COW_name``, ``entry_year``, ``end_year_2017``). A copy of the table ships
as ``forecast/_data/state_system.csv``; ``scripts/build_state_system.py`` rebuilds it.

Coverage (read before use):

- The COW sheet lists only spells that end after 1945. Spells that ended earlier are
  absent: Germany (255) appears only from 1990 and Japan (740) only from 1952; their
  spells that ended in 1945 are not there. COW membership is therefore known only from 1946
  (``FIRST_COMPLETE_YEAR``); asking about earlier COW years raises an error instead of
  answering "not a member".
- The GW sheet covers 1816 onward, without Gleditsch & Ward's separate list of
  microstates (Monaco, Andorra, Tuvalu, ...): those have COW codes but no GW code here.
- Changes after the end of each list (COW 2016, GW 2017) are not recorded.

Crosswalk rules, tried in this order for a code that is a member of its system in
the given year:

1. identity: the same code is a member of the other system in that year;
2. an explicit exception in ``CROSSWALK_EXCEPTIONS`` (Germany and Serbia);
3. abbreviation: exactly one member of the other system that year has the same
   three-letter abbreviation (this maps unified Yemen, COW 679 ``YEM`` <-> GW 678 ``YEM``).

In a transition year both predecessor and successor are members, so the crosswalk is
many-to-one there: COW 255 and 260 both map to GW 260 in 1990, COW 678 and 679 both to
GW 678 in 1990, and GW 340 and 345 both to COW 345 in 2006. In every other year from
1946 it is one-to-one and round-trips.

The EWP's ``ccode`` is COW-like but is not COW membership: it uses 255 for West
Germany (COW 260) before 1990 and keeps country-years COW does not list (Oman before
1971, Syria 1959-1960, Macedonia, Croatia and Slovenia in 1991, ...).
``validate_units(..., 'cow')`` refuses those rows; map or drop them explicitly.

Name-based converters get these cases wrong: the R package countrycode has, for
example, mapped modern Vietnam to South Vietnam's COW code 817 (countrycode issue #16),
and a single code per name cannot tell the Yemen Arab Republic from unified Yemen.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from forecast._errors import input_error

__all__ = [
    "COLUMNS",
    "COMMON_NAMES",
    "CROSSWALK_EXCEPTIONS",
    "FIRST_COMPLETE_YEAR",
    "SYSTEMS",
    "CommonName",
    "CrosswalkException",
    "StateSystem",
    "System",
    "build_state_system_csv",
    "read_workbook",
]

System = Literal["cow", "gw"]
SYSTEMS: tuple[System, ...] = ("cow", "gw")
COLUMNS: tuple[str, ...] = ("system", "code", "abbrev", "name", "start_year", "end_year")
FIRST_COMPLETE_YEAR: dict[str, int] = {"cow": 1946, "gw": 1816}
"""First year whose membership each table lists completely (see the module notes)."""

COW_SHEET = "cow_states"
GW_SHEET = " Gleditsch ind states"
GW_LIST_END = 2017
"""``end_year_2017 == 2017`` in the GW sheet means "still a member at the list's end"."""

_COW_COLUMNS = {
    "ccode": "code",
    "stateabb": "abbrev",
    "statenme": "name",
    "styear": "start_year",
    "endyear": "end_year",
}
_GW_COLUMNS = {
    "COW_number": "code",
    "COW_abv": "abbrev",
    "COW_name": "name",
    "entry_year": "start_year",
    "end_year_2017": "end_year",
}
_SHIPPED = "_data/state_system.csv"
_NO_END = np.iinfo(np.int64).max


@dataclass(frozen=True)
class CrosswalkException:
    """A COW <-> GW pair that neither the identity nor the abbreviation rule finds.

    Parameters
    ----------
    cow, gw : int
        The COW and GW codes of the same state.
    start_year : int
        First year the pair applies.
    end_year : int or None
        Last year the pair applies; ``None`` means to the present.
    reason : str
        Why the two lists use different codes.
    """

    cow: int
    gw: int
    start_year: int
    end_year: int | None
    reason: str

    def covers(self, year: int) -> bool:
        """Whether the pair applies in ``year``."""
        return self.start_year <= year and (self.end_year is None or year <= self.end_year)


CROSSWALK_EXCEPTIONS: tuple[CrosswalkException, ...] = (
    CrosswalkException(
        cow=255,
        gw=260,
        start_year=1990,
        end_year=None,
        reason="GW keeps 260 (GFR) for unified Germany after 1990; COW starts 255 (GMY)",
    ),
    CrosswalkException(
        cow=345,
        gw=340,
        start_year=2006,
        end_year=None,
        reason="GW recodes Serbia 340 (SER) after Montenegro leaves in 2006; COW keeps 345",
    ),
)


@dataclass(frozen=True)
class CommonName:
    """The name a reader knows a state by in some years, where the list's name is outdated
    or ambiguous (the lists keep one name per membership spell).

    Parameters
    ----------
    system : {'cow', 'gw'}
    code : int
    start_year, end_year : int or None
        Years the name applies (inclusive; ``None`` = open).
    name : str
    """

    system: System
    code: int
    start_year: int | None
    end_year: int | None
    name: str

    def covers(self, year: int) -> bool:
        """Whether the name applies in ``year``."""
        return (self.start_year is None or self.start_year <= year) and (
            self.end_year is None or year <= self.end_year
        )


COMMON_NAMES: tuple[CommonName, ...] = (
    # COW keeps code 345 (YUG, "Yugoslavia") for the rump state to the present
    CommonName("cow", 345, 2003, 2005, "Serbia and Montenegro"),
    CommonName("cow", 345, 2006, None, "Serbia"),
    CommonName("cow", 365, 1922, 1991, "Soviet Union"),
    CommonName("gw", 365, 1922, 1991, "Soviet Union"),
    CommonName("gw", 365, 1992, None, "Russia"),
    CommonName("cow", 260, None, None, "West Germany"),
    CommonName("gw", 260, 1949, 1990, "West Germany"),
    CommonName("gw", 260, 1991, None, "Germany"),
    CommonName("cow", 265, None, None, "East Germany"),
    CommonName("gw", 265, None, None, "East Germany"),
    CommonName("cow", 678, None, None, "North Yemen"),
    CommonName("gw", 678, None, 1989, "North Yemen"),
    CommonName("gw", 678, 1990, None, "Yemen"),
    CommonName("cow", 680, None, None, "South Yemen"),
    CommonName("gw", 680, None, None, "South Yemen"),
    CommonName("cow", 816, None, 1975, "North Vietnam"),
    CommonName("gw", 816, None, 1975, "North Vietnam"),
    CommonName("gw", 816, 1976, None, "Vietnam"),
    CommonName("cow", 817, None, None, "South Vietnam"),
    CommonName("gw", 817, None, None, "South Vietnam"),
    CommonName("cow", 484, None, None, "Republic of the Congo"),
    CommonName("gw", 484, None, None, "Republic of the Congo"),
    CommonName("cow", 490, 1971, 1996, "Zaire"),
    CommonName("gw", 490, 1971, 1996, "Zaire"),
    CommonName("gw", 490, 1997, None, "Democratic Republic of the Congo"),
    CommonName("gw", 490, None, 1970, "Democratic Republic of the Congo"),
    CommonName("cow", 572, 2018, None, "Eswatini"),
    CommonName("gw", 572, 2018, None, "Eswatini"),
    CommonName("cow", 343, 2019, None, "North Macedonia"),
    CommonName("cow", 775, None, 1988, "Burma"),
    CommonName("gw", 775, None, 1988, "Burma"),
    CommonName("gw", 775, 1989, None, "Myanmar"),
    CommonName("cow", 860, None, None, "Timor-Leste"),
    CommonName("gw", 860, None, None, "Timor-Leste"),
)
"""Common English names by year where a list's own name would mislead a reader (COW calls
Serbia "Yugoslavia" to the present); used by :meth:`StateSystem.name` with ``common=True``
and by :meth:`StateSystem.names`."""


def _common_name(system: str, code: int, year: int) -> str | None:
    for entry in COMMON_NAMES:
        if entry.system == system and entry.code == code and entry.covers(year):
            return entry.name
    return None


def _check_system(system: object) -> System:
    if system not in SYSTEMS:
        raise input_error(
            f"unknown state system {system!r}; valid systems: {', '.join(map(repr, SYSTEMS))}",
            fix="pass 'cow' (Correlates of War) or 'gw' (Gleditsch-Ward)",
        )
    return system  # type: ignore[return-value]


def _as_int(value: object, what: str) -> int:
    """A scalar whole number (Python or NumPy), or a one-line error."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(
        value, (int, np.integer, float, np.floating)
    ):
        raise input_error(f"{what} must be a whole number, got {value!r}")
    if not float(value).is_integer():
        raise input_error(f"{what} must be a whole number, got {value!r}")
    return int(value)


def _int_column(
    table: pd.DataFrame, column: str, *, source: str, nullable: bool = False
) -> pd.Series:
    values = pd.to_numeric(table[column], errors="coerce")
    bad = values.isna() & (table[column].notna() | (not nullable))
    bad |= values.notna() & (values.fillna(0) % 1 != 0)
    if bad.any():
        raise input_error(
            "values must be whole numbers" + ("" if nullable else " and not missing"),
            source=source,
            column=column,
            rows=list(table.index[bad]),
            fix="correct these cells",
        )
    return values.astype("Int64" if nullable else "int64")


def _validated(table: pd.DataFrame, *, source: str) -> pd.DataFrame:
    """Check a spell table and return it with fixed dtypes, sorted by system, code, start."""
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise input_error(
            f"missing columns {missing}",
            source=source,
            fix=f"provide the columns {list(COLUMNS)}",
        )
    table = table.loc[:, list(COLUMNS)].copy()
    bad_system = ~table["system"].isin(SYSTEMS)
    if bad_system.any():
        raise input_error(
            f"system must be one of {list(SYSTEMS)}",
            source=source,
            column="system",
            rows=list(table.index[bad_system]),
            fix="recode the system column",
        )
    for column in ("abbrev", "name"):
        if table[column].isna().any():
            raise input_error(
                "values must not be missing",
                source=source,
                column=column,
                rows=list(table.index[table[column].isna()]),
                fix="fill in the state's abbreviation and name",
            )
        table[column] = table[column].astype("str").str.strip()
    table["system"] = table["system"].astype("str")
    table["code"] = _int_column(table, "code", source=source)
    table["start_year"] = _int_column(table, "start_year", source=source)
    table["end_year"] = _int_column(table, "end_year", source=source, nullable=True)
    reversed_spell = table["end_year"].notna() & (table["end_year"] < table["start_year"])
    if reversed_spell.any():
        raise input_error(
            "end_year is before start_year",
            source=source,
            rows=list(table.index[reversed_spell.fillna(False)]),
            fix="swap or correct the years",
        )
    table = table.sort_values(["system", "code", "start_year"], kind="stable")
    previous_end = table.groupby(["system", "code"])["end_year"].shift().fillna(_NO_END)
    first = ~table.duplicated(["system", "code"])
    overlap = ~first & (previous_end >= table["start_year"])
    if overlap.any():
        raise input_error(
            "membership spells of the same code overlap",
            source=source,
            rows=list(table.index[overlap]),
            fix="merge or correct the overlapping spells",
        )
    return table.reset_index(drop=True)


def _read_sheet(path: Path, sheet: str, columns: list[str]) -> pd.DataFrame:
    with pd.ExcelFile(path, engine="openpyxl") as book:
        if sheet not in book.sheet_names:
            raise input_error(
                f"sheet {sheet!r} not found (sheets: {book.sheet_names})",
                source=str(path),
                fix="pass the EWP 2025 mass-killing events master list workbook",
            )
        frame = pd.read_excel(book, sheet_name=sheet)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise input_error(
            f"sheet {sheet!r} lacks columns {missing}",
            source=str(path),
            fix="pass the EWP 2025 mass-killing events master list workbook",
        )
    return frame


def read_workbook(path: str | Path) -> pd.DataFrame:
    """Read the COW and GW membership sheets of the EWP workbook into one spell table.

    Parameters
    ----------
    path : str or Path
        ``mk-events-master-list-2025.xlsx`` from the EWP 2025 replication files.

    Returns
    -------
    DataFrame
        Columns ``COLUMNS``, one row per spell; ``end_year`` is missing where the
        sheet marks the state as a member at the list's end (COW ``endyear`` equal to
        ``version``; GW ``end_year_2017`` equal to 2017).
    """
    path = Path(path)
    if not path.is_file():
        raise input_error(
            "state-system workbook not found",
            source=str(path),
            fix="pass the path of mk-events-master-list-2025.xlsx (EWP 2025 replication files)",
        )
    cow = _read_sheet(path, COW_SHEET, [*_COW_COLUMNS, "version"])
    gw = _read_sheet(path, GW_SHEET, list(_GW_COLUMNS))
    cow_open = cow["endyear"] >= cow["version"]
    gw_open = gw["end_year_2017"] >= GW_LIST_END
    parts = []
    for frame, renames, is_open, system in (
        (cow, _COW_COLUMNS, cow_open, "cow"),
        (gw, _GW_COLUMNS, gw_open, "gw"),
    ):
        part = frame.loc[:, list(renames)].rename(columns=renames)
        part["end_year"] = part["end_year"].astype("Int64").mask(is_open)
        part.insert(0, "system", system)
        parts.append(part)
    return _validated(pd.concat(parts, ignore_index=True), source=str(path))


class StateSystem:
    """COW and GW state-system membership by year, with a year-aware crosswalk.

    Parameters
    ----------
    table : DataFrame
        Spell table with columns ``COLUMNS`` (see the module notes).
    source : str
        Where the table came from, for error messages.

    Examples
    --------
    >>> states = StateSystem.load()
    >>> states.to_gw(679, 2000), states.to_cow(260, 2000)
    (678, 255)
    >>> states.is_member("cow", 817, 1980)
    False
    """

    def __init__(self, table: pd.DataFrame, *, source: str = "state-system table") -> None:
        self.table = _validated(table, source=source)
        self.source = source
        self._arrays = {
            system: _SpellArrays.of(self.table[self.table["system"] == system])
            for system in SYSTEMS
        }

    @classmethod
    def load(cls) -> StateSystem:
        """Load the table shipped with the package (no workbook needed)."""
        shipped = resources.files("forecast").joinpath(_SHIPPED)
        with shipped.open("r", encoding="utf-8") as handle:
            table = pd.read_csv(handle, keep_default_na=False, na_values={"end_year": [""]})
        return cls(table, source=f"forecast/{_SHIPPED}")

    @classmethod
    def from_workbook(cls, path: str | Path) -> StateSystem:
        """Build the table from the EWP workbook (see :func:`read_workbook`)."""
        return cls(read_workbook(path), source=str(path))

    def to_csv(self, path: str | Path) -> None:
        """Write the spell table as UTF-8 CSV with ``\\n`` line ends (the shipped format)."""
        self.table.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")

    def _spell_index(self, system: System, codes: pd.Series, years: pd.Series) -> np.ndarray:
        """Row label in ``self.table`` of each unit's spell, or -1 if not a member."""
        spells = self.table[self.table["system"] == system].reset_index(names="spell")
        units = pd.DataFrame(
            {"code": codes.to_numpy(), "year": years.to_numpy(), "pos": np.arange(len(codes))}
        )
        paired = units.merge(spells, on="code", how="inner")
        end = paired["end_year"].fillna(_NO_END).astype("int64")
        hit = paired[(paired["start_year"] <= paired["year"]) & (paired["year"] <= end)]
        out = np.full(len(codes), -1, dtype=np.int64)
        out[hit["pos"].to_numpy()] = hit["spell"].to_numpy()
        return out

    def members(self, system: System, year: int) -> pd.DataFrame:
        """Spells of the states that are members of ``system`` in ``year``.

        Returns
        -------
        DataFrame
            Columns ``COLUMNS``, sorted by code, one row per member.
        """
        system = _check_system(system)
        year = _as_int(year, "year")
        _check_years(system, pd.Series([year]), source=None)
        return self.table.loc[self._arrays[system].live(year)].reset_index(drop=True)

    def is_member(self, system: System, code: int, year: int) -> bool:
        """Whether ``code`` is a member of ``system`` in ``year``."""
        return bool(self._scalar_spell(system, code, year) is not None)

    def _scalar_spell(self, system: System, code: int, year: int) -> pd.Series | None:
        system = _check_system(system)
        code, year = _as_int(code, "code"), _as_int(year, "year")
        _check_years(system, pd.Series([year]), source=None)
        found = self._arrays[system].live(year, code)
        return None if not len(found) else self.table.loc[found[0]]

    def name(self, system: System, code: int, year: int, *, common: bool = False) -> str:
        """Name of the member ``code`` of ``system`` in ``year``.

        With ``common=True`` the name a reader knows the state by in that year
        (:data:`COMMON_NAMES`, e.g. COW 345 is "Serbia" from 2006, not "Yugoslavia").

        Raises
        ------
        ForecastInputError
            If ``code`` is not a member in that year.
        """
        spell = self._scalar_spell(system, code, year)
        if spell is None:
            raise input_error(
                f"{system.upper()} code {code} is not a member in {year}",
                fix="check is_member() first or correct the code/year",
            )
        if common:
            return _common_name(system, int(code), int(year)) or str(spell["name"])
        return str(spell["name"])

    def names(
        self,
        system: System,
        codes: pd.Series | np.ndarray | list,
        years: pd.Series | np.ndarray | list | int,
        *,
        common: bool = True,
    ) -> pd.Series:
        """Names of many (code, year) pairs at once; missing where not a member.

        Unlike :meth:`name` this never raises for a code that is not a member (or a year
        before the list is complete): the entry is simply missing, so callers can fall back
        to another label.

        Parameters
        ----------
        system : {'cow', 'gw'}
        codes : sequence of int
        years : sequence of int, or one year for all codes
        common : bool
            Use :data:`COMMON_NAMES` where they apply (default) rather than the list's name.

        Returns
        -------
        Series of object
            Aligned with ``codes`` (index 0..n-1), ``None`` where unknown.
        """
        system = _check_system(system)
        codes = pd.Series(np.asarray(codes)).reset_index(drop=True)
        years = (
            pd.Series(np.full(len(codes), int(np.asarray(years).item())))
            if np.ndim(years) == 0
            else pd.Series(np.asarray(years)).reset_index(drop=True)
        )
        numeric = pd.to_numeric(codes, errors="coerce")
        whole = numeric.notna() & (numeric == numeric.round())
        out = pd.Series([None] * len(codes), dtype=object)
        if not whole.any():
            return out
        spell = self._spell_index(
            system, numeric[whole].astype("int64"), years[whole].astype("int64")
        )
        positions = np.flatnonzero(whole.to_numpy())
        found = spell >= 0
        listed = self.table.loc[spell[found], "name"].astype(str).to_numpy()
        out.iloc[positions[found]] = listed
        if common:
            for pos in positions[found]:
                better = _common_name(system, int(numeric.iloc[pos]), int(years.iloc[pos]))
                if better is not None:
                    out.iloc[pos] = better
        return out

    def _map(self, src: System, dst: System, code: int, year: int) -> tuple[int | None, str]:
        code, year = _as_int(code, "code"), _as_int(year, "year")
        spell = self._scalar_spell(src, code, year)
        _check_years(dst, pd.Series([year]), source=None)
        if spell is None:
            return None, "not a member"
        return _match(src, code, str(spell["abbrev"]), year, self._targets(dst, year))

    def _targets(self, system: System, year: int) -> dict[int, str]:
        """Code -> abbreviation of the members of ``system`` in ``year``."""
        arrays = self._arrays[system]
        live = (arrays.starts <= year) & (year <= arrays.ends)
        return dict(zip(arrays.codes[live].tolist(), arrays.abbrevs[live].tolist(), strict=True))

    def to_gw(self, cow_code: int, year: int) -> int | None:
        """GW code of the state with COW code ``cow_code`` in ``year``.

        Returns ``None`` when ``cow_code`` is not a COW member in ``year`` or the state
        has no GW counterpart that year (e.g. microstates). See the module notes for the
        rules.
        """
        return self._map("cow", "gw", cow_code, year)[0]

    def to_cow(self, gw_code: int, year: int) -> int | None:
        """COW code of the state with GW code ``gw_code`` in ``year`` (``None`` if none)."""
        return self._map("gw", "cow", gw_code, year)[0]

    def crosswalk(self, from_system: System, year: int) -> pd.DataFrame:
        """Map every member of ``from_system`` in ``year`` to the other system.

        Returns
        -------
        DataFrame
            Columns ``code``, ``abbrev``, ``name``, ``mapped`` (nullable Int64: the code
            in the other system) and ``rule`` (``'identity'``, ``'exception'``,
            ``'abbrev'`` or ``'no counterpart'``).
        """
        src = _check_system(from_system)
        dst: System = "gw" if src == "cow" else "cow"
        year = _as_int(year, "year")
        members = self.members(src, year)
        targets = self._targets(dst, year)
        matched = [
            _match(src, int(c), str(a), year, targets)
            for c, a in zip(members["code"], members["abbrev"], strict=True)
        ]
        out = members.loc[:, ["code", "abbrev", "name"]]
        out["mapped"] = pd.array([m for m, _ in matched], dtype="Int64")
        out["rule"] = pd.Series([r for _, r in matched], dtype="str")
        return out

    def validate_units(
        self,
        codes_and_years: pd.DataFrame,
        system: System,
        *,
        source: str,
        code_column: str = "ccode",
        year_column: str = "year",
    ) -> None:
        """Refuse units whose (code, year) is not a member of ``system``.

        Parameters
        ----------
        codes_and_years : DataFrame
            One row per unit, e.g. a country-year panel.
        system : {'cow', 'gw'}
            The system the codes belong to.
        source : str
            Name of the data, for the error message.
        code_column, year_column : str
            Columns holding the state code and the year.

        Raises
        ------
        ForecastInputError
            Naming the rows (index label, code, year) that are not members, that have
            missing or non-integer codes or years, or whose years precede the table's
            coverage.
        """
        system = _check_system(system)
        for column in (code_column, year_column):
            if column not in codes_and_years.columns:
                raise input_error(
                    f"missing column {column!r}",
                    source=source,
                    fix=f"pass code_column= and year_column= (columns: "
                    f"{list(codes_and_years.columns)})",
                )
        codes = _int_column(codes_and_years, code_column, source=source)
        years = _int_column(codes_and_years, year_column, source=source)
        _check_years(system, years, source=source)
        outside = self._spell_index(system, codes, years) < 0
        if outside.any():
            labels = codes_and_years.index[outside]
            rows = [
                f"{label} ({code}, {year})"
                for label, code, year in zip(labels, codes[outside], years[outside], strict=True)
            ]
            raise input_error(
                f"{int(outside.sum())} ({code_column}, {year_column}) pairs are not "
                f"{system.upper()} state-system members",
                source=source,
                rows=rows,
                fix="drop these units or recode them (StateSystem.to_gw/to_cow map codes "
                "between systems by year)",
            )


def _check_years(system: System, years: pd.Series, *, source: str | None) -> None:
    early = years < FIRST_COMPLETE_YEAR[system]
    if early.any():
        raise input_error(
            f"{system.upper()} membership is only known from "
            f"{FIRST_COMPLETE_YEAR[system]} (the workbook's {system.upper()} sheet "
            "omits earlier spells)",
            source=source,
            rows=[f"{i} (year {y})" for i, y in years[early].items()],
            fix=f"drop years before {FIRST_COMPLETE_YEAR[system]} or use another system",
        )


@dataclass(frozen=True)
class _SpellArrays:
    """One system's spells as NumPy arrays, for fast scalar look-ups."""

    labels: np.ndarray
    codes: np.ndarray
    abbrevs: np.ndarray
    starts: np.ndarray
    ends: np.ndarray

    @classmethod
    def of(cls, spells: pd.DataFrame) -> _SpellArrays:
        return cls(
            labels=spells.index.to_numpy(),
            codes=spells["code"].to_numpy(),
            abbrevs=spells["abbrev"].to_numpy(dtype=object),
            starts=spells["start_year"].to_numpy(),
            ends=spells["end_year"].fillna(_NO_END).to_numpy(dtype=np.int64),
        )

    def live(self, year: int, code: int | None = None) -> np.ndarray:
        """Table labels of the spells covering ``year`` (of ``code`` if given), in order."""
        mask = (self.starts <= year) & (year <= self.ends)
        if code is not None:
            mask &= self.codes == code
        return self.labels[mask]


def _match(
    src: System, code: int, abbrev: str, year: int, targets: dict[int, str]
) -> tuple[int | None, str]:
    """Crosswalk one member ``code`` of ``src`` given the other system's members that year."""
    if code in targets:
        return code, "identity"
    for pair in CROSSWALK_EXCEPTIONS:
        own, other = (pair.cow, pair.gw) if src == "cow" else (pair.gw, pair.cow)
        if own == code and pair.covers(year) and other in targets:
            return other, "exception"
    same = [other for other, other_abbrev in targets.items() if other_abbrev == abbrev]
    if len(same) == 1:
        return same[0], "abbrev"
    return None, "no counterpart"


def build_state_system_csv(workbook: str | Path, out: str | Path | None = None) -> Path:
    """Regenerate the shipped CSV from the EWP workbook.

    Parameters
    ----------
    workbook : str or Path
        ``mk-events-master-list-2025.xlsx``.
    out : str or Path, optional
        Output path; defaults to the package's ``_data/state_system.csv``.

    Returns
    -------
    Path
        The file written.
    """
    target = Path(out) if out is not None else Path(str(resources.files("forecast") / _SHIPPED))
    StateSystem.from_workbook(workbook).to_csv(target)
    return target
