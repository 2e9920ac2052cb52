"""The editions ledger: recording issued lists, importing external ones, scoring them."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from forecast.cli import main
from forecast.data import load_dataset
from forecast.experiment import experiment_from_dict
from forecast.ledger import (
    EditionRecord,
    Ledger,
    import_list,
    make_edition,
    match_units,
    outcome_table,
    render_track_record,
    score_editions,
    track_record_section_html,
)

ISSUED_AT = 2018  # data year of the synthetic list: its window 2019-2020 closes in the data


def _up_to(panel, last_year: int):
    """``panel`` as it was known in ``last_year``: later years cut, windows censored."""
    frame = panel.frame[panel.frame[panel.year] <= last_year].copy()
    for column, (_, ahead) in panel.windows.items():
        frame.loc[frame[panel.year] + ahead > last_year, column] = np.nan
    return dataclasses.replace(panel, frame=frame.reset_index(drop=True))


@pytest.fixture(scope="module")
def world():
    return load_dataset("synthetic-world", regime="small", seed=5)


@pytest.fixture(scope="module")
def issued(world, tmp_path_factory):
    """A list issued by ``forecast risklist``'s job on the data known in 2018."""
    from forecast.pipeline import run_risklist

    config = experiment_from_dict(
        {
            "name": "ledger-test",
            "dataset": "synthetic-world",
            "dataset_options": {"regime": "small", "seed": 5},
            "outcome": "mk_onset",
            "horizon": 2,
            "models": [{"name": "logit"}],
        },
        source="<test>",
    )
    root = tmp_path_factory.mktemp("ledger")
    result = run_risklist(
        config,
        out=root / "list",
        panel=_up_to(world, ISSUED_AT),
        track=False,
        tiers_from_backtest=False,
        pdf=False,
        ledger=root / "ledger",
    )
    return result, Ledger(root / "ledger")


@pytest.mark.slow
def test_issued_list_is_recorded_with_its_provenance(issued):
    result, ledger = issued
    (edition,) = ledger.editions()
    r = edition.record
    assert (r.source, r.kind, r.data_year, r.window) == ("forecast", "issued", 2018, (2019, 2020))
    assert r.model == "logit" and r.data_digest == result.latest.dataset_digest
    assert r.code_version and r.issued
    listed = result.risk.set_index(result.risk["unit"].astype(str))["probability"]
    kept = edition.table.set_index("unit")["probability"]
    pd.testing.assert_series_equal(kept.sort_index(), listed.sort_index(), check_names=False)
    assert (edition.table["rank"].diff().dropna() >= 0).all()
    again = ledger.record(make_edition(r, edition.table))  # same content: same edition
    assert again.record.edition_id == r.edition_id and len(ledger.records()) == 1
    index = json.loads(ledger.index_path.read_text())
    assert [e["edition_id"] for e in index["editions"]] == [r.edition_id]


@pytest.mark.slow
def test_issued_list_is_pending_then_scored_once_its_window_closes(issued, world):
    _, ledger = issued
    editions = ledger.editions()
    half = score_editions(editions, outcome_table(_up_to(world, 2019)), n_boot=50)
    assert half.editions.loc[0, "status"] == "pending (observed 2019-2019)"
    seen = world.frame[(world.frame["year"] == 2019) & (world.frame["mk_onset"] == 1)]
    listed = set(editions[0].table["unit"])
    assert int(half.onsets["listed"].sum()) == int(seen["unit"].astype(str).isin(listed).sum())
    assert not half.onsets["observed"].any() and half.pooled.empty

    full = score_editions(editions, outcome_table(world), n_boot=200)
    row = full.editions.iloc[0]
    assert row["status"] == "scored"
    # oracle: the onsets and the AUC recomputed from the panel by hand
    frame = world.frame.assign(unit=world.frame["unit"].astype(str))
    window = frame[frame["year"].isin([2019, 2020]) & frame["unit"].isin(listed)]
    assert row["onsets"] == int(window["mk_onset"].sum())
    y = window.groupby("unit")["mk_onset"].max()
    p = editions[0].table.set_index("unit").loc[y.index, "probability"]
    assert row["roc_auc"] == pytest.approx(roc_auc_score(y, p))
    assert row["brier"] == pytest.approx(float(np.mean((p - y) ** 2)))
    assert row["observed_expected"] == pytest.approx(y.sum() / p.sum())
    ranks = editions[0].table.set_index("unit")["rank"]
    hits = window[window["mk_onset"] == 1]["unit"].map(ranks)
    assert row["top30"] == int((hits <= 30).sum()) and row["top10"] == int((hits <= 10).sum())
    assert row["roc_auc_lower"] <= row["roc_auc"] <= row["roc_auc_upper"]
    assert full.pooled.loc[0, "onsets"] == row["onsets"]


def test_import_matches_names_of_other_eras_and_lists_the_rest(tmp_path, capsys):
    csv = tmp_path / "old.csv"
    pd.DataFrame(
        {
            "country": ["Zaire", "Burma", "USSR", "Kampuchea", "Atlantis", "Upper Volta"],
            "risk": [0.3, 0.2, 0.1, 0.05, 0.4, 0.01],
        }
    ).to_csv(csv, index=False)
    args = ["ledger", "import", str(csv), "--source", "old", "--data-year", "1985"]
    code = main(
        [*args, "--window", "1986-1987", "--prob-column", "risk", "--ledger", str(tmp_path / "l")]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "5 units matched" in out and "unmatched: Atlantis (row 4): no state of that name" in out
    (edition,) = Ledger(tmp_path / "l").editions()
    assert dict(zip(edition.table["name"], edition.table["code"], strict=True)) == {
        "Zaire": 490,
        "Burma": 775,
        "USSR": 365,
        "Kampuchea": 811,
        "Upper Volta": 439,
    }
    assert edition.record.unmatched == ("Atlantis (row 4): no state of that name",)
    assert edition.record.window == (1986, 1987) and edition.record.source == "old"
    assert edition.table.loc[0, "name"] == "Zaire"  # Atlantis (0.4) is not in the ranks


def test_gw_codes_map_to_cow_by_year():
    table = pd.DataFrame({"gw": [260, 678, 340, 999], "p": [0.1, 0.2, 0.3, 0.4]})
    matched, unmatched = match_units(table, year=2010, code_column="gw", code_system="gw")
    assert matched["code"].tolist() == [255, 679, 345]
    assert unmatched == ["999 (row 3): GW code 999 is not a member in 2010"]


def test_import_refuses_a_missing_probability_column(tmp_path):
    from forecast import ForecastInputError

    csv = tmp_path / "l.csv"
    pd.DataFrame({"country": ["Chad"], "p": [0.1]}).to_csv(csv, index=False)
    with pytest.raises(ForecastInputError, match="no probability column 'probability'"):
        import_list(csv, source="x", data_year=2020, window=(2021, 2022))


def test_track_record_page_and_section_render_the_score(tmp_path):
    table = pd.DataFrame({"unit": list("abcd"), "probability": [0.4, 0.3, 0.2, 0.1]})
    edition = make_edition(EditionRecord("toy", "m", 2000, (2001, 2001), name="toy 2000"), table)
    outcomes = pd.DataFrame(
        {
            "unit": list("abcd"),
            "code": pd.array([pd.NA] * 4, dtype="Int64"),
            "year": 2001,
            "onset_any": [0.0, 1.0, 0.0, 0.0],
            "onset_state": np.nan,
        }
    )
    score = score_editions([edition], outcomes, n_boot=50)
    assert score.editions.loc[0, "roc_auc"] == pytest.approx(2 / 3)
    assert score.onsets[["unit", "rank"]].values.tolist() == [["b", 2]]
    section = track_record_section_html(score)
    assert "based on 1 list-onsets, 1 distinct onsets" in section and "toy 2000" in section
    page = render_track_record(score, tmp_path).read_text()
    assert page.startswith("<!DOCTYPE html>") and "Every onset and its rank" in page


def test_ledger_lives_beside_the_tracking_store_unless_told(tmp_path, monkeypatch):
    from forecast.ledger import LEDGER_ENV, ledger_dir

    monkeypatch.delenv(LEDGER_ENV, raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(tmp_path)
    assert (
        ledger_dir(f"sqlite:///{tmp_path / 'runs' / 'mlflow.db'}") == tmp_path / "runs" / "ledger"
    )
    assert ledger_dir("http://mlflow.example:5000") == tmp_path / "ledger"
    monkeypatch.setenv(LEDGER_ENV, str(tmp_path / "elsewhere"))
    assert ledger_dir(f"sqlite:///{tmp_path / 'mlflow.db'}") == tmp_path / "elsewhere"


@pytest.mark.slow
def test_backtest_risk_list_records_only_when_given_a_ledger(tmp_path, monkeypatch):
    import forecast
    from forecast.ledger import LEDGER_ENV

    monkeypatch.delenv(LEDGER_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    spec = {
        "name": "ledger-bt",
        "dataset": "synthetic-world",
        "dataset_options": {"regime": "small", "seed": 5},
        "horizon": 2,
        "origins": {"first": 2021, "last": 2022},
        "models": ["logit"],
    }
    bt = forecast.backtest(spec)
    risks = bt.risk_list()
    assert not (tmp_path / "ledger").exists()
    bt.risk_list(ledger=tmp_path / "kept")
    (edition,) = Ledger(tmp_path / "kept").editions()
    assert edition.record.data_year == int(risks["year"].max())
    assert len(edition.table) == len(risks)


@pytest.mark.slow
def test_tracked_risklist_records_beside_the_tracking_store(world, tmp_path, monkeypatch):
    from forecast.ledger import LEDGER_ENV
    from forecast.pipeline import run_risklist

    monkeypatch.delenv(LEDGER_ENV, raising=False)
    config = experiment_from_dict(
        {
            "name": "ledger-tracked",
            "dataset": "synthetic-world",
            "dataset_options": {"regime": "small", "seed": 5},
            "horizon": 2,
            "models": [{"name": "logit"}],
        },
        source="<test>",
    )
    (tmp_path / "store").mkdir()
    uri = f"sqlite:///{tmp_path / 'store' / 'mlflow.db'}"
    run_risklist(
        config,
        out=tmp_path / "list",
        panel=world,
        tracking_uri=uri,
        tiers_from_backtest=False,
        pdf=False,
    )
    (record,) = Ledger(tmp_path / "store" / "ledger").records()
    assert record.data_year == 2024 and record.window == (2025, 2026)


def test_an_interrupted_record_leaves_the_previous_ledger(tmp_path, monkeypatch):
    from forecast import ForecastInputError
    from forecast.ledger import _store

    ledger = Ledger(tmp_path)
    table = pd.DataFrame({"unit": ["a", "b"], "probability": [0.2, 0.1]})
    first = ledger.record(make_edition(EditionRecord("s", "m", 2000, (2001, 2002)), table))
    before = ledger.index_path.read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(_store, "atomic_write_bytes", crash)
    second = make_edition(EditionRecord("s", "m", 2001, (2002, 2003)), table)
    assert second.record.edition_id != first.record.edition_id  # content-addressed
    with pytest.raises(OSError, match="disk full"):
        ledger.record(second)
    assert ledger.index_path.read_bytes() == before
    assert [r.edition_id for r in ledger.records()] == [first.record.edition_id]
    ledger.index_path.write_text("{not json")
    with pytest.raises(ForecastInputError, match="the ledger index is not readable"):
        ledger.records()
