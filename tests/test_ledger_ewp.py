"""The reference system's published editions (``ewp-editions``), scored on the EWP outcomes."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from forecast.cli import main
from forecast.data import data_dir, fetch, load_dataset, load_manifest
from forecast.ledger import dataset_editions, outcome_table, score_editions

pytestmark = pytest.mark.realdata


def _no_network(url):
    raise AssertionError(f"tried to download {url}")


def test_fetch_verifies_every_edition_file_without_downloading():
    manifest = load_manifest("ewp-editions")
    paths = fetch(manifest, opener=_no_network)
    assert len(paths) == len(manifest.files) == 11
    first = manifest.files[0]
    assert manifest.url(first) == (
        "https://raw.githubusercontent.com/ulfelder/earlywarningproject-statrisk-replication/"
        "5524a401a97cb7cfc964c33916adfa6d2e294ac4/data.out/ewp.exante.forecast.history.2015.csv"
    )
    # the manifest pins what SOURCES.md documents, file by file
    sources = (data_dir() / "ewp-editions" / "SOURCES.md").read_text()
    for entry in manifest.files:
        assert f"| ewp-editions/{entry.path} | {entry.repository} | {entry.commit} |" in sources
        assert f"| {entry.sha256} | {entry.bytes} |" in sources


@pytest.fixture(scope="module")
def editions():
    return dataset_editions("ewp-editions")


def test_each_edition_is_read_with_its_window_target_and_kind(editions):
    by_name = {e.record.label: e.record for e in editions}
    assert by_name["EWP 2013"].target == "state-led" and by_name["EWP 2013"].window == (2013, 2013)
    assert by_name["EWP 2019"].window == (2019, 2020) and by_name["EWP 2019"].target == "any"
    assert by_name["EWP 2018 (2016 data)"].kind == "rerun"
    reruns = sorted(r.data_year for r in by_name.values() if r.kind == "rerun")
    assert reruns == [2016, 2021, 2022, 2023]
    for edition in editions:  # never dropped silently: every row is listed or named
        assert edition.table["code"].notna().all()
    assert [u.split(" (row")[0] for u in by_name["EWP 2013"].unmatched] == [
        "Barbados",
        "Bahamas",
        "Belize",
        "Cape Verde",
    ]  # the four rows without a probability in the 2013 list


def _state_led_onsets() -> set[tuple[int, int]]:
    """Independent count: state-led episode starts read straight from the workbook."""
    path = data_dir() / "ewp-2025" / "mk-events-master-list-2025.xlsx"
    events = pd.read_excel(path, sheet_name="mk_events")
    led = events[events["State-Led or Non-State-Led"] == "State-Led"]
    return {(int(c), int(y)) for c, y in zip(led["mk_location_cow"], led["startyear"])}


def test_ledger_score_prints_editions_and_pooled_figures_counted_as_events(
    editions, tmp_path, capsys
):
    args = ["ledger", "score", "--dataset", "ewp-editions", "--n-boot", "300"]
    assert main([*args, "--ledger", str(tmp_path / "empty")]) == 0
    out = capsys.readouterr().out
    panel = load_dataset("ewp-2025").frame
    state_led = _state_led_onsets()
    expected_total = {"any": 0, "state-led": 0}
    distinct: dict[str, set] = {"any": set(), "state-led": set()}
    for edition in editions:
        r = edition.record
        own = re.compile(rf"^\s*{re.escape(r.label)}\s+{r.kind}\s")
        line = next(line for line in out.splitlines() if own.match(line))
        if r.window[1] > int(panel["year"].max()):
            assert "pending" in line
            continue
        codes = set(edition.table["code"].astype(int))
        years = range(r.window[0], r.window[1] + 1)
        rows = panel[panel["year"].isin(years) & panel["ccode"].isin(codes)]
        if r.target == "any":
            onsets = int(rows["mk_onset"].sum())
        else:
            onsets = sum((int(c), int(y)) in state_led for c, y in zip(rows["ccode"], rows["year"]))
        columns = line.split()
        assert "scored" in columns
        assert int(columns[columns.index("scored") + 2]) == onsets, r.label
        if r.kind == "issued":
            expected_total[r.target] += onsets
            hit = rows[rows["mk_onset"] == 1] if r.target == "any" else rows.iloc[0:0]
            distinct[r.target] |= {(int(c), int(y)) for c, y in zip(hit["ccode"], hit["year"])}
    for target, total in expected_total.items():
        pooled = re.search(
            rf"pooled ewp \({target}, .*based on (\d+) list-onsets \((\d+) distinct", out
        )
        assert pooled and int(pooled.group(1)) == total
        if target == "any":  # each onset event once, however many lists' windows hold it
            assert int(pooled.group(2)) == len(distinct[target]) < total
        assert re.search(rf"pooled ewp \({target}, .*AUC 0\.\d+ \(0\.\d+-[01]\.\d+\)", out)
    assert expected_total["any"] >= 8  # 2018-2023 editions, onsets through 2024
    assert "not scored in EWP 2013: Taiwan (no outcome data)" in out  # named, not dropped
    assert "onsets EWP 2019: Burkina Faso 2019 (rank 55), Ethiopia 2020 (rank 10)" in out
    assert "unmatched in EWP 2013: Barbados (row 487): no probability;" in out
    assert re.search(r"moved 2022: EWP 2023 -> EWP 2024 \(2022 data\): Spearman 0\.\d+", out)


def test_pooled_interval_holds_the_estimate_and_editions_share_outcomes(editions):
    outcomes = outcome_table(load_dataset("ewp-2025"), state_led=True)
    score = score_editions(editions, outcomes, n_boot=300)
    for _, row in score.pooled.iterrows():
        for name in ("roc_auc", "brier", "observed_expected"):
            assert row[f"{name}_lower"] <= row[name] <= row[f"{name}_upper"]
    same = score.editions.set_index("edition")
    # the 2022 list and the 2023 file's re-run of data year 2021 face the same window
    assert same.loc["EWP 2022", "onsets"] == same.loc["EWP 2023 (2021 data)", "onsets"]


@pytest.mark.browser
def test_track_record_page_of_the_published_editions_fits_1024_px(editions, tmp_path):
    from forecast.ledger import render_track_record
    from forecast.reports._browser import overflowing_tables

    outcomes = outcome_table(load_dataset("ewp-2025"), state_led=True)
    page = render_track_record(score_editions(editions, outcomes, n_boot=50), tmp_path)
    tables, width = overflowing_tables(page, width=1024)
    assert tables == [] and width <= 1024, (tables, width)
