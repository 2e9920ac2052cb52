"""What the units are called on policy-facing pages: ``unit_noun`` from a feature set or a
dataset, through the Panel, to the risk list, its printed summary and a run's provenance."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from forecast._errors import ForecastInputError
from forecast.data import load_dataset
from forecast.experiment import load_experiment
from forecast.features import load_feature_set
from forecast.panel import COUNTRY, UnitNoun
from forecast.run import RunArtifacts

GRID_EXPERIMENT = """\
name: tiny-grid
dataset: synthetic-world
dataset_options: {flavour: grid, n_cells: 100, n_years: 16, seed: 3}
outcome: mk_onset
horizon: 2
origins: {first: 2019, last: 2021}
window: expanding
min_train_years: 6
seed: 7
models:
  - name: elastic_net
evaluation:
  top_k: [10]
"""


def _spec(tmp_path: Path, noun_line: str) -> Path:
    path = tmp_path / "nouns.yaml"
    path.write_text(
        "name: nouns\nskeleton: mine\n"
        f"{noun_line}"
        "datasets:\n  mine: {path: x.csv, unit: u, year: y}\n"
        "indicators:\n  - {name: onset, role: outcome, source: mine.onset}\n"
    )
    return path


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("cell", UnitNoun("cell", "cells")),
        ({"singular": "district", "plural": "districts"}, UnitNoun("district", "districts")),
        ({"singular": "county"}, UnitNoun("county", "countys")),  # the rule, not a dictionary
        (COUNTRY, COUNTRY),
    ],
)
def test_parse_gives_singular_and_plural(value, expected):
    assert UnitNoun.parse(value, source="here") == expected


def test_feature_sets_default_to_country_and_the_grid_set_says_cell(tmp_path):
    assert load_feature_set(_spec(tmp_path, "")).unit_noun == COUNTRY
    assert load_feature_set("ewp-2025").unit_noun == COUNTRY
    assert load_feature_set("synthetic-grid").unit_noun == UnitNoun("cell", "cells")
    districts = _spec(tmp_path, "unit_noun: {singular: district, plural: districts}\n")
    assert load_feature_set(districts).unit_noun.title == "District"


@pytest.mark.parametrize("bad", ["3", "''", "[cell]", "{singular: cell, many: cells}", "null"])
def test_a_bad_unit_noun_names_file_and_line(tmp_path, bad):
    path = _spec(tmp_path, f"unit_noun: {bad}\n")
    with pytest.raises(ForecastInputError, match=rf"{re.escape(str(path))}:3: unit_noun must be"):
        load_feature_set(path)


def test_datasets_carry_their_noun():
    grid = load_dataset("synthetic-world", flavour="grid", n_cells=64, n_years=12, seed=2)
    assert grid.unit_noun == UnitNoun("cell", "cells")
    assert load_dataset("synthetic-world", regime="small").unit_noun == COUNTRY


def test_run_provenance_carries_a_non_default_noun():
    import pandas as pd

    empty = pd.DataFrame()
    assert RunArtifacts(empty).unit_noun == COUNTRY
    run = RunArtifacts(empty, provenance={"unit_noun": {"singular": "cell", "plural": "cells"}})
    assert run.unit_noun == UnitNoun("cell", "cells")


@pytest.mark.slow
def test_grid_risk_list_speaks_of_cells(tmp_path, capsys):
    from forecast.cli import main

    spec = tmp_path / "tiny-grid.yaml"
    spec.write_text(GRID_EXPERIMENT)
    load_experiment(spec)  # valid before the long part
    out = tmp_path / "risk"
    code = main(
        ["risklist", str(spec), "--out", str(out), "--no-track", "--no-pdf", "--n-jobs", "1"]
        + ["--cache-dir", str(tmp_path / "cache")]
    )
    assert code == 0
    printed = capsys.readouterr().out
    html = (out / "risklist.html").read_text(encoding="utf-8")
    text = re.sub(r"<[^>]+>", " ", html)
    assert "100 cells, ranked by risk" in text
    assert "<th>Cell</th>" in html or ">Cell<" in html
    assert "cell-years" in text and "listed cells" in text
    assert "countr" not in text.lower()
    assert "100 cells, data year" in printed
    assert printed.splitlines()[0].startswith("model elastic_net, the recommended one: ")
    assert printed.splitlines()[1].split()[:2] == ["rank", "cell"]
    assert "countr" not in printed.lower()
    header = (out / "risklist.csv").read_text().splitlines()[0]
    assert header.startswith("rank,unit,name")  # the CSV's columns do not change
