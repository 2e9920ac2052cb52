"""Spec validation and bad-input errors: each names the spec file/line, source and rows."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pandas as pd
import pytest

from forecast._errors import ForecastInputError
from forecast.features import build_panel, feature_set_names, load_feature_set, transform_names
from forecast.features._build import build_from_tables
from forecast.features._spec import parse_feature_set

HEADER = """\
name: toy
skeleton: mine
unit: country
year: year
datasets:
  mine: {path: panel.csv, unit: country, year: year}
indicators:
"""


def _frame(n_units: int = 3, years: range = range(2000, 2010)) -> pd.DataFrame:
    rows = [
        (f"U{u}", y, float(u + (y - 2000) / 10), int((u + y) % 7 == 0))
        for u in range(n_units)
        for y in years
    ]
    return pd.DataFrame(rows, columns=["country", "year", "x", "onset"])


def _spec(tmp_path: Path, body: str, frame: pd.DataFrame | None = None) -> Path:
    (frame if frame is not None else _frame()).to_csv(tmp_path / "panel.csv", index=False)
    path = tmp_path / "toy.yaml"
    path.write_text(HEADER + textwrap.indent(textwrap.dedent(body), "  "))
    return path


def test_shipped_sets_load() -> None:
    names = feature_set_names()
    assert {"ewp-2025", "ewp-2025-honest", "synthetic-world", "byo-example"} <= set(names)
    for name in names:
        fs = load_feature_set(name)
        assert fs.features and all(k in fs.kinds for k in fs.features)
    assert load_feature_set("ewp-2025").replication
    assert not load_feature_set("ewp-2025-honest").replication


def test_unknown_transform_lists_valid_ones_with_line(tmp_path: Path) -> None:
    path = _spec(
        tmp_path,
        """\
        - name: a
          source: mine.x
          kind: structural
          transforms: [{lagg: {years: 1}}]
        """,
    )
    with pytest.raises(
        ForecastInputError,
        match=r"toy.yaml:11: unknown transform 'lagg'; "
        r"valid transforms: .*rolling_max",
    ):
        load_feature_set(path)
    assert "lag" in transform_names()


def test_unknown_dataset_names_line(tmp_path: Path) -> None:
    path = _spec(tmp_path, "- {name: a, source: nowhere.x, kind: structural}\n")
    with pytest.raises(
        ForecastInputError,
        match=r"toy.yaml:8: unknown dataset 'nowhere'; "
        r"valid datasets: .*vdem",
    ):
        build_panel(path)


def test_missing_column_names_source_and_line(tmp_path: Path) -> None:
    path = _spec(tmp_path, "- {name: a, source: mine.absent, kind: structural}\n")
    with pytest.raises(
        ForecastInputError,
        match=r"toy.yaml:8: indicator 'a': dataset 'mine' "
        r"has no column 'absent'",
    ):
        build_panel(path)


def test_cyclic_spec(tmp_path: Path) -> None:
    path = _spec(
        tmp_path,
        """\
        - {name: a, source: mine.x, kind: structural, transforms: [{interaction: {with: b}}]}
        - {name: b, source: {indicator: c}, kind: structural}
        - {name: c, source: mine.x, kind: structural, transforms: [{interaction: {with: a}}]}
        """,
    )
    with pytest.raises(ForecastInputError, match=r"toy.yaml:8: cyclic spec: a -> b -> c -> a"):
        build_panel(path)


def test_look_ahead_refused_unless_replication(tmp_path: Path) -> None:
    body = "- {name: a, source: mine.x, kind: structural, transforms: [backfill]}\n"
    path = _spec(tmp_path, body)
    with pytest.raises(
        ForecastInputError,
        match=r"toy.yaml:8: indicator 'a': transform "
        r"'backfill' looks ahead",
    ):
        build_panel(path)
    path.write_text(path.read_text().replace("name: toy", "name: toy\nreplication: true"))
    assert build_panel(path).features == ["a"]


def test_a_feature_reading_an_outcome_window_is_look_ahead(tmp_path: Path) -> None:
    """A feature built from an outcome window (onsets in t+1..t+2) sees the future, even
    when its own transforms look back; the annual onset (known at t) may be used."""
    body = """\
    - {name: onset, role: outcome, source: mine.onset}
    - {name: onset_1or2, role: outcome, source: {indicator: onset},
       transforms: [{onset_within: {horizon: 2}}], window: [1, 2]}
    - {name: past_onsets, source: {indicator: onset}, kind: history,
       transforms: [{rolling_sum: {window: 3}}]}
    - {name: window_lag, source: {indicator: onset_1or2}, kind: history,
       transforms: [{lag: {years: 1}}]}
    """
    path = _spec(tmp_path, body)
    with pytest.raises(
        ForecastInputError,
        match=r"toy.yaml:\d+: indicator 'window_lag' reads 'onset_1or2', whose transform "
        r"'onset_within' looks ahead.*fix: build 'window_lag' from data known at t",
    ):
        build_panel(path)
    path.write_text(path.read_text().replace("name: toy", "name: toy\nreplication: true"))
    assert build_panel(path).features == ["past_onsets", "window_lag"]


def test_rolling_window_longer_than_history(tmp_path: Path) -> None:
    path = _spec(
        tmp_path,
        "- {name: a, source: mine.x, kind: trigger, transforms: [{rolling_sum: {window: 11}}]}\n",
    )
    with pytest.raises(
        ForecastInputError,
        match=r"rolling_sum window 11 is longer than the "
        r"10 years of data",
    ):
        build_panel(path)


def test_duplicate_source_rows(tmp_path: Path) -> None:
    frame = _frame()
    path = _spec(
        tmp_path,
        "- {name: a, source: mine.x, kind: structural}\n",
        pd.concat([frame, frame.iloc[[4]]]),
    )
    with pytest.raises(
        ForecastInputError,
        match=r"dataset 'mine': duplicate source rows .* "
        r"at rows \[U0/2004, U0/2004\]",
    ):
        build_panel(path)


def test_units_not_in_state_system(tmp_path: Path) -> None:
    frame = _frame().assign(country=lambda f: f["country"].map({"U0": 2, "U1": 20, "U2": 9999}))
    path = _spec(tmp_path, "- {name: a, source: mine.x, kind: structural}\n", frame)
    path.write_text(path.read_text().replace("name: toy", "name: toy\nunit_system: cow"))
    with pytest.raises(
        ForecastInputError,
        match=r"dataset 'mine': 10 rows have unit codes "
        r"that are not state codes .* at rows \[9999/2000",
    ):
        build_panel(path)


def test_bad_kind_role_and_params(tmp_path: Path) -> None:
    cases = {
        "- {name: a, source: mine.x, kind: fancy}\n": r"toy.yaml:8: kind must be one of",
        "- {name: a, source: mine.x}\n": r"feature 'a' needs a kind",
        "- {name: a, source: mine.x, kind: trigger, transforms: [{lag: {yrs: 1}}]}\n": r"transform 'lag' has no parameter\(s\) \['yrs'\]",
        "- {name: a, source: mine.x, kind: trigger, risk_factor: 99}\n": r"risk_factor must be a UN Framework risk factor",
        "- {name: a, source: mine.x, kind: trigger, publication_lag: -1}\n": r"publication_lag must be an integer >= 0",
    }
    for body, message in cases.items():
        with pytest.raises(ForecastInputError, match=message):
            load_feature_set(_spec(tmp_path, body))


def test_missing_data_file_raises_data_not_available(tmp_path: Path) -> None:
    from forecast._errors import DataNotAvailableError

    with pytest.raises(
        DataNotAvailableError,
        match=r"basedata2025_4august2025.csv is missing"
        r".*forecast data fetch ewp-2025",
    ):
        build_panel("ewp-2025", data_dir=tmp_path)


def test_non_numeric_source(tmp_path: Path) -> None:
    frame = _frame().assign(x=lambda f: f["x"].astype(str).where(f.index != 3, "n/a"))
    path = _spec(tmp_path, "- {name: a, source: mine.x, kind: structural}\n", frame)
    with pytest.raises(
        ForecastInputError,
        match=r"source values are not numeric .* "
        r"\[U0/2003\]",
    ):
        build_from_tables(
            load_feature_set(path), {"mine": frame.rename(columns={"country": "unit"})}
        )


def test_an_alias_bomb_in_a_feature_set_is_refused_within_a_second(tmp_path: Path) -> None:
    import time

    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
    path = tmp_path / "bomb.yaml"
    path.write_text(HEADER + "\n".join(lines) + "\n")
    start = time.perf_counter()
    with pytest.raises(ForecastInputError, match=r"bomb\.yaml:\d+:\d+: invalid YAML: aliases"):
        load_feature_set(path)
    assert time.perf_counter() - start < 1.0


def test_a_feature_set_that_is_no_file_says_what_it_is(tmp_path: Path) -> None:
    (tmp_path / "folder.yaml").mkdir()
    (tmp_path / "loop.yaml").symlink_to(tmp_path / "loop2.yaml")
    (tmp_path / "loop2.yaml").symlink_to(tmp_path / "loop.yaml")
    for path, problem in [
        (tmp_path / "folder.yaml", "a folder, not a file"),
        (Path("/dev/zero"), r"not a regular file \(a device, pipe or socket\)"),
        (tmp_path / "loop.yaml", "a symlink loop"),
    ]:
        with pytest.raises(ForecastInputError, match=rf"{path.name}: the spec is {problem}"):
            parse_feature_set(path)


def test_an_outcome_window_must_declare_its_years(tmp_path: Path) -> None:
    """A window of onsets is declared as one (``window:``), so that the panel never offers it
    as an annual event to be windowed again; even a replication spec declares it."""
    body = """\
    - {name: onset, role: outcome, source: mine.onset}
    - {name: onset_1or2, role: outcome, source: {indicator: onset},
       transforms: [{onset_within: {horizon: 2}}]}
    - {name: a, source: mine.x, kind: structural}
    """
    path = _spec(tmp_path, body)
    for text in (
        path.read_text(),
        path.read_text().replace("name: toy", "name: toy\nreplication: true"),
    ):
        path.write_text(text)
        with pytest.raises(
            ForecastInputError,
            match=r"toy.yaml:\d+: outcome 'onset_1or2' is a window \(its transform "
            r"'onset_within' looks ahead.*\) but declares none; fix: add window: \[first, last\]",
        ):
            build_panel(path)
    path.write_text(path.read_text().replace("horizon: 2}}]}", "horizon: 2}}], window: [1, 2]}"))
    assert build_panel(path).windows == {"onset_1or2": (1, 2)}


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("{name: b, source: mine.x, kind: structural, window: [1, 2]}", "only an outcome can"),
        ("{name: b, role: outcome, source: mine.onset, window: [2, 1]}", "window must be"),
        ("{name: b, role: outcome, source: mine.onset, window: 2}", "window must be"),
    ],
)
def test_a_bad_window_declaration_is_refused(tmp_path: Path, entry: str, message: str) -> None:
    body = f"""\
    - {{name: onset, role: outcome, source: mine.onset}}
    - {entry}
    - {{name: a, source: mine.x, kind: structural}}
    """
    with pytest.raises(ForecastInputError, match=rf"toy.yaml:\d+: {message}"):
        build_panel(_spec(tmp_path, body))
