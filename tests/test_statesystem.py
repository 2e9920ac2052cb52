"""Tests for forecast.statesystem: the COW/GW membership table and the year-aware crosswalk."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecast._errors import ForecastInputError
from forecast.statesystem import (
    COLUMNS,
    CROSSWALK_EXCEPTIONS,
    FIRST_COMPLETE_YEAR,
    StateSystem,
    build_state_system_csv,
    read_workbook,
)

DATA_DIR = Path(
    os.environ.get(
        "FORECAST_DATA_DIR", Path(__file__).resolve().parents[1].parent / "shared" / "data"
    )
)
WORKBOOK = DATA_DIR / "ewp-2025" / "mk-events-master-list-2025.xlsx"
SHIPPED = Path(__file__).resolve().parents[1] / "forecast" / "_data" / "state_system.csv"
SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "build_state_system.py"


@pytest.fixture(scope="module")
def states() -> StateSystem:
    return StateSystem.load()


@pytest.fixture(scope="module")
def from_workbook() -> StateSystem:
    return StateSystem.from_workbook(WORKBOOK)


@pytest.fixture(scope="module")
def raw_sheets() -> tuple[pd.DataFrame, pd.DataFrame]:
    cow = pd.read_excel(WORKBOOK, sheet_name="cow_states")
    gw = pd.read_excel(WORKBOOK, sheet_name=" Gleditsch ind states")
    return cow, gw


# --- the shipped table cannot drift from the workbook -------------------------------------


@pytest.mark.realdata
def test_shipped_csv_equals_workbook_build(states, from_workbook, tmp_path):
    pd.testing.assert_frame_equal(states.table, from_workbook.table)
    rebuilt = tmp_path / "state_system.csv"
    from_workbook.to_csv(rebuilt)
    assert rebuilt.read_bytes() == SHIPPED.read_bytes()


def test_load_does_not_need_the_workbook(monkeypatch, tmp_path):
    def refuse(*args, **kwargs):
        raise AssertionError("load() must not read Excel")

    monkeypatch.setattr(pd, "read_excel", refuse)
    monkeypatch.setattr(pd, "ExcelFile", refuse)
    monkeypatch.setenv("FORECAST_DATA_DIR", str(tmp_path / "absent"))
    table = StateSystem.load().table
    assert list(table.columns) == list(COLUMNS)
    assert len(table) == 419


def test_table_schema(states):
    table = states.table
    assert table.dtypes.astype(str).to_dict() == {
        "system": "str",
        "code": "int64",
        "abbrev": "str",
        "name": "str",
        "start_year": "int64",
        "end_year": "Int64",
    }
    assert table["system"].value_counts().to_dict() == {"gw": 216, "cow": 203}


@pytest.mark.realdata
def test_table_matches_raw_sheets(states, raw_sheets):
    """Oracle: open-ended spells and spell counts recomputed straight from the sheets."""
    cow, gw = raw_sheets
    table = states.table
    cow_t, gw_t = table[table.system == "cow"], table[table.system == "gw"]
    assert len(cow_t) == len(cow) and len(gw_t) == len(gw)
    assert cow_t["end_year"].isna().sum() == (cow["endyear"] == cow["version"]).sum() == 195
    assert gw_t["end_year"].isna().sum() == (gw["end_year_2017"] == 2017).sum() == 174
    closed = cow[cow["endyear"] < cow["version"]]
    got = cow_t.dropna(subset=["end_year"])
    assert sorted(zip(got.code, got.end_year, strict=True)) == sorted(
        zip(closed.ccode, closed.endyear, strict=True)
    )


@pytest.mark.parametrize("year", [1946, 1958, 1960, 1975, 1990, 1991, 2006, 2011, 2016])
@pytest.mark.realdata
def test_members_oracle(states, raw_sheets, year):
    """Oracle: members recomputed from the raw sheet columns (styear <= year <= endyear)."""
    cow, gw = raw_sheets
    want_cow = set(cow.loc[(cow.styear <= year) & (year <= cow.endyear), "ccode"])
    want_gw = set(gw.loc[(gw.entry_year <= year) & (year <= gw.end_year_2017), "COW_number"])
    assert set(states.members("cow", year)["code"]) == want_cow
    assert set(states.members("gw", year)["code"]) == want_gw


def test_open_spells_continue_to_present(states):
    assert states.is_member("cow", 626, 2024)
    assert states.is_member("gw", 347, 2024)
    assert states.members("cow", 2024)["end_year"].isna().all()
    assert len(states.members("cow", 2024)) == len(states.members("cow", 2016)) == 195


# --- coverage -----------------------------------------------------------------------------


def test_cow_sheet_lacks_spells_ending_before_1946(states):
    cow = states.table[states.table.system == "cow"]
    assert (cow["end_year"].fillna(9999) >= FIRST_COMPLETE_YEAR["cow"]).all()
    assert cow.loc[cow.code == 255, "start_year"].tolist() == [1990]
    gw_germany = states.table[(states.table.system == "gw") & (states.table.code == 255)]
    assert gw_germany[["start_year", "end_year"]].values.tolist() == [[1816, 1945]]


@pytest.mark.parametrize("year", [1930, 1945])
def test_cow_before_coverage_raises(states, year):
    with pytest.raises(ForecastInputError, match="COW membership is only known from 1946"):
        states.is_member("cow", 255, year)
    with pytest.raises(ForecastInputError, match="only known from 1946"):
        states.to_cow(255, year)


def test_gw_before_1946_is_answered(states):
    assert states.is_member("gw", 255, 1930)
    assert not states.is_member("gw", 260, 1930)
    with pytest.raises(ForecastInputError, match="GW membership is only known from 1816"):
        states.members("gw", 1800)


# --- membership and names ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("system", "code", "year", "expected"),
    [
        ("cow", 817, 1980, False),
        ("cow", 817, 1970, True),
        ("cow", 816, 1980, True),
        ("cow", 626, 2010, False),
        ("cow", 626, 2011, True),
        ("cow", 625, 2010, True),
        ("cow", 315, 1992, True),
        ("cow", 315, 1993, False),
        ("cow", 316, 1992, False),
        ("cow", 317, 1993, True),
        ("cow", 260, 1990, True),
        ("cow", 260, 1991, False),
        ("cow", 265, 1953, False),
        ("gw", 265, 1953, True),
        ("cow", 652, 1960, False),  # Syria inside the United Arab Republic
        ("cow", 652, 1961, True),
        ("cow", 680, 1990, True),
        ("cow", 680, 1991, False),
        ("gw", 345, 2006, True),
        ("gw", 345, 2007, False),
        ("cow", 345, 2020, True),
        ("gw", 340, 2020, True),
        ("cow", 340, 2020, False),
        ("gw", 221, 2000, False),  # microstates are not in the GW sheet
        ("cow", 221, 2000, True),
    ],
)
def test_is_member(states, system, code, year, expected):
    assert states.is_member(system, code, year) is expected


def test_is_member_accepts_numpy_integers(states):
    assert states.is_member("cow", np.int64(679), np.int32(2000))


@pytest.mark.parametrize("bad", [2.5, "679", True, None])
def test_is_member_rejects_non_integers(states, bad):
    with pytest.raises(ForecastInputError, match="must be a whole number"):
        states.is_member("cow", bad, 2000)


def test_name(states):
    assert states.name("cow", 679, 2000) == "Yemen"
    assert states.name("cow", 678, 1980) == "Yemen Arab Republic"
    assert states.name("gw", 678, 2000) == "Yemen (Arab Republic of Yemen)"
    assert states.name("gw", 260, 2000) == "German Federal Republic"
    with pytest.raises(ForecastInputError, match="COW code 817 is not a member in 1980"):
        states.name("cow", 817, 1980)


def test_members_sorted_one_row_per_state(states):
    members = states.members("cow", 2000)
    assert members["code"].is_monotonic_increasing and members["code"].is_unique
    assert {255, 316, 317, 345, 679, 816} <= set(members["code"])
    assert not {260, 265, 315, 678, 680, 817} & set(members["code"])


# --- crosswalk: the hard cases ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("direction", "code", "year", "expected"),
    [
        # Vietnam
        ("to_gw", 816, 1960, 816),
        ("to_gw", 816, 2000, 816),
        ("to_gw", 817, 1970, 817),
        ("to_gw", 817, 1980, None),
        ("to_cow", 816, 2000, 816),
        ("to_cow", 817, 1975, 817),
        ("to_cow", 817, 1976, None),
        # Yemen
        ("to_gw", 679, 2000, 678),
        ("to_gw", 678, 1980, 678),
        ("to_gw", 680, 1980, 680),
        ("to_gw", 678, 2000, None),
        ("to_cow", 678, 2000, 679),
        ("to_cow", 678, 1980, 678),
        ("to_cow", 680, 1985, 680),
        ("to_cow", 680, 1991, None),
        # Czechoslovakia / Czech Republic / Slovakia
        ("to_gw", 315, 1980, 315),
        ("to_gw", 316, 2000, 316),
        ("to_gw", 317, 2000, 317),
        ("to_cow", 315, 1992, 315),
        ("to_cow", 316, 1993, 316),
        ("to_cow", 315, 1993, None),
        # Germany
        ("to_gw", 260, 1980, 260),
        ("to_gw", 265, 1980, 265),
        ("to_gw", 255, 2000, 260),
        ("to_cow", 260, 2000, 255),
        ("to_cow", 260, 1980, 260),
        ("to_cow", 265, 1980, 265),
        ("to_cow", 265, 1991, None),
        # Sudan / South Sudan
        ("to_gw", 625, 2000, 625),
        ("to_gw", 625, 2015, 625),
        ("to_gw", 626, 2015, 626),
        ("to_gw", 626, 2010, None),
        ("to_cow", 626, 2011, 626),
        # Serbia / Yugoslavia / Montenegro / Kosovo
        ("to_cow", 340, 2010, 345),
        ("to_gw", 345, 2010, 340),
        ("to_gw", 345, 2000, 345),
        ("to_cow", 345, 2000, 345),
        ("to_cow", 345, 2007, None),
        ("to_gw", 341, 2010, 341),
        ("to_gw", 347, 2010, 347),
        # microstates have no GW code in the sheet
        ("to_gw", 221, 2000, None),
    ],
)
def test_crosswalk_hard_cases(states, direction, code, year, expected):
    assert getattr(states, direction)(code, year) == expected


def test_transition_years(states):
    """Calendar-year resolution: both predecessor and successor are members that year."""
    assert states.to_cow(260, 1990) == 260
    assert states.to_gw(255, 1990) == 260
    assert states.to_gw(679, 1990) == 678
    assert states.to_cow(678, 1990) == 678
    assert states.to_cow(678, 1991) == 679
    assert states.to_gw(345, 2006) == 345
    assert states.to_cow(340, 2006) == 345


def test_crosswalk_rules(states):
    cow = states.crosswalk("cow", 2000).set_index("code")
    assert cow.loc[679, ["mapped", "rule"]].tolist() == [678, "abbrev"]
    assert cow.loc[255, ["mapped", "rule"]].tolist() == [260, "exception"]
    assert cow.loc[345, ["mapped", "rule"]].tolist() == [345, "identity"]
    assert cow.loc[816, ["mapped", "rule"]].tolist() == [816, "identity"]
    assert pd.isna(cow.loc[221, "mapped"]) and cow.loc[221, "rule"] == "no counterpart"
    gw = states.crosswalk("gw", 2010).set_index("code")
    assert gw.loc[340, ["mapped", "rule"]].tolist() == [345, "exception"]
    assert gw.loc[678, ["mapped", "rule"]].tolist() == [679, "abbrev"]


def test_crosswalk_agrees_with_scalar_methods(states):
    for year in (1955, 1990, 2006, 2020):
        for _, row in states.crosswalk("cow", year).iterrows():
            want = None if pd.isna(row["mapped"]) else int(row["mapped"])
            assert states.to_gw(row["code"], year) == want


def test_crosswalk_round_trips_except_in_transition_years(states):
    """Oracle: X -> Y -> X returns the start code and lands on a member, except where a
    transition year makes the map many-to-one (the module notes list these)."""
    years = sorted({*range(1946, 2025, 8), 1975, 1990, 1991, 2006, 2011, 2024})
    failures = set()
    for year in years:
        for src, dst, back in (("cow", "gw", "to_cow"), ("gw", "cow", "to_gw")):
            table = states.crosswalk(src, year).dropna(subset=["mapped"])
            for code, mapped in zip(table["code"], table["mapped"], strict=True):
                assert states.is_member(dst, mapped, year)
                if getattr(states, back)(mapped, year) != code:
                    failures.add((src, year, code, mapped))
    assert failures == {("cow", 1990, 255, 260), ("cow", 1990, 679, 678), ("gw", 2006, 340, 345)}


def test_non_identity_mappings_are_only_the_documented_ones(states):
    seen = set()
    for year in range(1946, 2025, 4):
        table = states.crosswalk("cow", year)
        mapped = table[table["rule"].isin(["abbrev", "exception"])]
        seen |= set(zip(mapped["code"], mapped["mapped"], mapped["rule"], strict=True))
    assert seen == {(255, 260, "exception"), (345, 340, "exception"), (679, 678, "abbrev")}


def test_exceptions_name_real_members(states):
    for pair in CROSSWALK_EXCEPTIONS:
        assert states.is_member("cow", pair.cow, pair.start_year), pair
        assert states.is_member("gw", pair.gw, pair.start_year), pair
        assert pair.reason


# --- unknown systems and validate_units -------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.members("cw", 2000),
        lambda s: s.is_member("COW", 2, 2000),
        lambda s: s.name("polity", 2, 2000),
        lambda s: s.crosswalk("iso", 2000),
        lambda s: s.validate_units(pd.DataFrame({"ccode": [2], "year": [2000]}), "x", source="t"),
    ],
)
def test_unknown_system_lists_valid_ones(states, call):
    with pytest.raises(
        ForecastInputError, match=r"unknown state system .*valid systems: 'cow', 'gw'"
    ):
        call(states)


def test_validate_units_accepts_members(states):
    units = pd.DataFrame({"ccode": [2, 255, 679, 816], "year": [1950, 2000, 2000, 2024]})
    assert states.validate_units(units, "cow", source="units.csv") is None


def test_validate_units_names_offending_rows(states):
    units = pd.DataFrame(
        {"ccode": [2, 817, 626, 679], "year": [2000, 1980, 2010, 2000]}, index=[10, 11, 12, 13]
    )
    with pytest.raises(
        ForecastInputError,
        match=r"units\.csv: 2 \(ccode, year\) pairs are not COW state-system members "
        r"at rows \[11 \(817, 1980\), 12 \(626, 2010\)\]; fix:",
    ):
        states.validate_units(units, "cow", source="units.csv")


def test_validate_units_custom_columns_and_gw(states):
    units = pd.DataFrame({"gwno": [260, 340], "yr": [2000, 2010]})
    states.validate_units(units, "gw", source="u", code_column="gwno", year_column="yr")
    with pytest.raises(
        ForecastInputError, match=r"are not COW state-system members at rows \[0 \(260, 2000\)"
    ):
        states.validate_units(units, "cow", source="u", code_column="gwno", year_column="yr")


def test_validate_units_bad_inputs(states):
    with pytest.raises(ForecastInputError, match=r"u: missing column 'ccode'"):
        states.validate_units(pd.DataFrame({"code": [2], "year": [2000]}), "cow", source="u")
    missing = pd.DataFrame({"ccode": [2.0, np.nan], "year": [2000, 2000]})
    with pytest.raises(ForecastInputError, match=r"column 'ccode': .*not missing at rows \[1\]"):
        states.validate_units(missing, "cow", source="u")
    early = pd.DataFrame({"ccode": [2, 2], "year": [1950, 1940]})
    with pytest.raises(ForecastInputError, match=r"only known from 1946.*rows \[1 \(year 1940\)\]"):
        states.validate_units(early, "cow", source="u")


@pytest.mark.realdata
def test_ewp_base_codes_follow_cow_after_1992(states):
    """The EWP ccode is COW after 1992; earlier it mixes in GW-style spells (e.g. 255)."""
    base = pd.read_csv(
        DATA_DIR / "ewp-2025" / "basedata2025_4august2025.csv", usecols=["ccode", "year"]
    )
    states.validate_units(base[base.year >= 1993], "cow", source="basedata")
    with pytest.raises(ForecastInputError, match=r"94 \(ccode, year\) pairs.*\(255, 1946\)"):
        states.validate_units(base[base.year >= 1946], "cow", source="basedata")


# --- building from the workbook and malformed tables -----------------------------------------


@pytest.mark.realdata
def test_build_script_regenerates_the_shipped_csv(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("build_state_system", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setenv("FORECAST_DATA_DIR", str(DATA_DIR))
    out = tmp_path / "rebuilt.csv"
    assert module.main(["--out", str(out)]) == 0
    assert out.read_bytes() == SHIPPED.read_bytes()
    again = build_state_system_csv(WORKBOOK, tmp_path / "again.csv")
    assert again.read_bytes() == SHIPPED.read_bytes()


def test_workbook_errors(tmp_path):
    with pytest.raises(ForecastInputError, match="state-system workbook not found"):
        read_workbook(tmp_path / "missing.xlsx")
    wrong = tmp_path / "wrong.xlsx"
    pd.DataFrame({"a": [1]}).to_excel(wrong, sheet_name="other", index=False)
    with pytest.raises(ForecastInputError, match=r"sheet 'cow_states' not found"):
        read_workbook(wrong)
    thin = tmp_path / "thin.xlsx"
    with pd.ExcelWriter(thin) as writer:
        pd.DataFrame({"ccode": [2]}).to_excel(writer, sheet_name="cow_states", index=False)
    with pytest.raises(ForecastInputError, match=r"sheet 'cow_states' lacks columns \['stateabb'"):
        read_workbook(thin)


def _spells(**changes) -> pd.DataFrame:
    table = pd.DataFrame(
        {
            "system": ["cow", "cow"],
            "code": [652, 652],
            "abbrev": ["SYR", "SYR"],
            "name": ["Syria", "Syria"],
            "start_year": [1946, 1961],
            "end_year": pd.array([1958, None], dtype="Int64"),
        }
    )
    for column, values in changes.items():
        table[column] = values
    return table


def test_table_validation():
    assert StateSystem(_spells()).is_member("cow", 652, 1961)
    with pytest.raises(
        ForecastInputError, match=r"t: membership spells of the same code overlap at rows \[1\]"
    ):
        StateSystem(_spells(start_year=[1946, 1958]), source="t")
    with pytest.raises(ForecastInputError, match=r"end_year is before start_year at rows \[0\]"):
        StateSystem(_spells(end_year=pd.array([1940, None], dtype="Int64")), source="t")
    with pytest.raises(ForecastInputError, match=r"column 'system': system must be one of"):
        StateSystem(_spells(system=["cow", "iso"]), source="t")
    with pytest.raises(ForecastInputError, match=r"missing columns \['name'\]"):
        StateSystem(_spells().drop(columns="name"), source="t")
    with pytest.raises(ForecastInputError, match=r"column 'code': values must be whole numbers"):
        StateSystem(_spells(code=[652.5, 652]), source="t")
