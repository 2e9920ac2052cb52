"""Plain-language labels and value displays of indicators, `features lint`, and a BYO panel's
unit names (``unit_label``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecast._errors import ForecastInputError
from forecast.cli import main
from forecast.features import (
    Display,
    build_panel,
    feature_set_dir,
    feature_set_names,
    format_value,
    load_feature_set,
)
from forecast.features._display import DISPLAY_SCALES
from forecast.risk import unit_names


@pytest.mark.parametrize("name", feature_set_names())
def test_every_shipped_indicator_has_a_label_and_lint_says_so(name, capsys):
    fs = load_feature_set(name)
    assert all(i.label and i.label == i.text for i in fs.indicators)
    assert all(i.display is None or i.display.scale in DISPLAY_SCALES for i in fs.indicators)
    assert main(["features", "lint", "--set", name]) == 0
    assert capsys.readouterr().out.splitlines()[0] == (
        f"{name}: all {len(fs.indicators)} indicators have a label"
    )


def test_lint_lists_indicators_without_labels_with_file_and_line(tmp_path, capsys):
    spec = tmp_path / "bare.yaml"
    spec.write_text(
        "name: bare\nskeleton: mine\n"
        "datasets:\n  mine: {path: x.csv, unit: u, year: y}\n"
        "indicators:\n"
        "  - {name: onset, role: outcome, source: mine.onset}\n"
        "  - {name: repression, source: mine.r, kind: structural, label: repression}\n"
        "  - {name: deaths, source: mine.d, kind: trigger}\n"
    )
    assert main(["features", "lint", "--set", str(spec)]) == 0  # a report, not a failure
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "bare: 2 of 3 indicators have no label (readers see the column name):"
    assert out[1] == f"  {spec}:6  onset (outcome)"
    assert out[2] == f"  {spec}:8  deaths (feature, trigger)"
    assert out[-1] == (
        "bare: 2 features without display (values shown as plain numbers): repression, deaths"
    )
    fs = load_feature_set(spec)
    assert [i.text for i in fs.indicators] == ["onset", "repression", "deaths"]  # name fallback


@pytest.mark.parametrize(
    ("entry", "match"),
    [
        ("label: 3", r"bad.yaml:6: label must be a short text, got 3"),
        ("label: ''", r"label must be a short text"),
        ("display: logarithm", r"bad.yaml:6: display scale must be one of \['yes_no'"),
        ("display: share of people", r"display scale 'share' takes no unit, got 'of people'"),
        ("display: [share]", r"display must be a scale and optional unit"),
    ],
)
def test_bad_label_or_display_names_the_line(tmp_path, entry, match):
    spec = tmp_path / "bad.yaml"
    spec.write_text(
        "name: bad\nskeleton: mine\n"
        "datasets:\n  mine: {path: x.csv, unit: u, year: y}\n"
        f"indicators:\n  - {{name: r, source: mine.r, kind: structural, {entry}}}\n"
    )
    with pytest.raises(ForecastInputError, match=match):
        load_feature_set(spec)


def test_unit_label_must_name_a_label_indicator(tmp_path):
    spec = tmp_path / "ul.yaml"
    spec.write_text(
        "name: ul\nskeleton: mine\nunit_label: r\n"
        "datasets:\n  mine: {path: x.csv, unit: u, year: y}\n"
        "indicators:\n  - {name: r, source: mine.r, kind: structural}\n"
    )
    with pytest.raises(
        ForecastInputError,
        match=r"ul.yaml:3: unit_label 'r' is not a "
        r"'role: label' indicator",
    ):
        load_feature_set(spec)


@pytest.mark.parametrize(
    ("value", "display", "text"),
    [
        (27.4, Display("log2", "people"), "177 million people"),
        (33.1, Display("log2", "people"), "9.2 billion people"),
        (12.3, Display("log2p1", "deaths"), "about 5,000 deaths"),
        (1.0, Display("log2p1", "episodes"), "1 episode"),
        (0.0, Display("log2p1", "deaths"), "0 deaths"),
        (5.3, Display("sqrt", "deaths per 1,000 live births"), "28 deaths per 1,000 live births"),
        (0.42, Display("share"), "42%"),
        (0.004, Display("share"), "0.4%"),
        (-3.24, Display("percent"), "-3.2%"),
        (1.0, Display("yes_no"), "yes"),
        (0.0, Display("yes_no"), "no"),
        (2.0, Display("number", "on a 0-4 scale"), "2 on a 0-4 scale"),
        (-1.0, Display("change"), "ended"),
        (1.6, Display("log2_change"), "3.0 times the year before"),
        (-2.0, Display("log2_change"), "25% of the year before"),
        (4096576.0, Display("none"), ""),
        (4096576.0, None, "4.1 million"),
        (0.123, None, "0.12"),
        (np.nan, Display("share"), "no data"),
    ],
)
def test_values_read_as_a_person_says_them(value, display, text):
    assert format_value(value, display) == text


def _named_byo(tmp_path: Path) -> Path:
    rows = [
        (code, name, year, 0.1 * year % 1, 0)
        for code, name in (("A1", "Aland"), ("B2", "Borduria"))
        for year in range(2000, 2006)
    ]
    pd.DataFrame(rows, columns=["code", "country_name", "year", "repression", "onset"]).to_csv(
        tmp_path / "panel.csv", index=False
    )
    spec = tmp_path / "named.yaml"
    spec.write_text(
        "name: named\nskeleton: mine\nunit: code\nunit_label: country_name\n"
        "datasets:\n  mine: {path: panel.csv, unit: code, year: year}\n"
        "indicators:\n"
        "  - {name: country_name, role: label, source: mine.country_name}\n"
        "  - {name: onset, role: outcome, source: mine.onset}\n"
        "  - {name: repression, source: mine.repression, kind: structural,\n"
        "     label: state repression, display: number on a 0-1 scale}\n"
    )
    return spec


def test_a_byo_panel_names_its_units_from_its_label_column(tmp_path):
    panel = build_panel(load_feature_set(_named_byo(tmp_path)))
    assert (panel.unit_label, panel.unit_system) == ("country_name", None)
    names = unit_names(panel, 2005)
    assert names.to_dict() == {"A1": "Aland", "B2": "Borduria"}
    assert names.name == "name" and names.index.name == "code"


def test_shipped_byo_example_documents_unit_label():
    assert "unit_label:" in (feature_set_dir() / "byo-example.yaml").read_text()
