"""``forecast compare``: two runs on their common rows, paired differences, a safe page."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from forecast._errors import ForecastInputError
from forecast.cli import main
from forecast.reports import compare_runs
from forecast.reports._browser import dump_dom, screenshot
from forecast.reports._compare import common_rows

XSS_MODEL = "<img src=x onerror=alert(1)>"


def _spec(name: str, l1_ratio: float) -> dict:
    import yaml

    root = Path(__file__).resolve().parents[2]
    spec = yaml.safe_load((root / "experiments" / "synthetic-default.yaml").read_text())
    spec.pop("history_recalibration", None)
    spec["name"] = name
    spec["origins"] = {"years": [2014, 2018, 2022]}
    spec["models"] = [
        {"name": "logit"},
        {"name": "elastic_net", "params": {"n_alphas": 4, "l1_ratio": l1_ratio}},
    ]
    spec["evaluation"] = {**spec["evaluation"], "baseline": "logit"}
    return spec


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory) -> tuple[Path, Path]:
    """Two fast synthetic backtests that differ in the elastic net's l1 ratio."""
    import yaml

    from forecast.pipeline import run_experiment

    folder = tmp_path_factory.mktemp("compare")
    outs = []
    for name, l1 in (("syn-a", 0.5), ("syn-b", 0.9)):
        path = folder / f"{name}.yaml"
        path.write_text(yaml.safe_dump(_spec(name, l1)))
        out = folder / name
        assert run_experiment(path, out=out, n_jobs=1, track=False, report=False)[0].failed.empty
        outs.append(out)
    return outs[0], outs[1]


@pytest.fixture(scope="module")
def page(two_runs, tmp_path_factory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("page") / "compare.html"
    assert (
        main(["compare", str(two_runs[0]), str(two_runs[1]), "--out", str(out), "--n-boot", "60"])
        == 0
    )
    return out, out.read_text(encoding="utf-8")


def _scored(run_dir: Path) -> pd.DataFrame:
    """Scored rows by hand: known outcome and year + horizon <= the last onset year."""
    f = pd.read_parquet(run_dir / "forecasts.parquet")
    end = int(pd.read_parquet(run_dir / "onsets.parquet")["year"].max())
    return f[f["outcome"].notna() & (f["year"] + f["horizon"] <= end)]


def test_page_is_self_contained_and_leads_with_the_pairs(page):
    _, html = page
    assert "<script" not in html and "http://" not in html and "https://" not in html
    assert html.count('src="data:image/png;base64,') == 1
    assert html.index('id="summary"') < html.index('id="differences"') < html.index('id="runs"')
    assert "<title>Run comparison: syn-a vs syn-b</title>" in html


def test_common_rows_and_paired_difference_by_hand(two_runs, page):
    _, html = page
    a, b = (_scored(d) for d in two_runs)
    keys = ["unit", "year", "horizon"]
    both = a.drop_duplicates(keys)[[*keys, "outcome"]].merge(
        b.drop_duplicates(keys)[[*keys, "outcome"]], on=keys
    )
    common = both[both["outcome_x"] == both["outcome_y"]]
    assert f"<strong>{len(common):,}</strong> common country-years" in html

    def auc(frame, model):
        part = frame[frame["model"] == model].merge(common[keys], on=keys)
        return roc_auc_score(part["outcome"], part["probability"])

    expected = auc(b, "elastic_net") - auc(a, "elastic_net")
    row = re.search(
        r"<td>syn-b / elastic_net − syn-a / elastic_net \(same model\)</td>"
        r"<td>ROC AUC</td>(.*?)</tr>",
        html,
    ).group(1)
    cells = re.findall(r"<td>(.*?)</td>", row)
    difference, lower, upper = map(
        float, re.match(r"([+-]?[0-9.]+) \(([+-]?[0-9.]+) to ([+-]?[0-9.]+)\)", cells[3]).groups()
    )
    assert difference == pytest.approx(expected, abs=max(5e-4, abs(expected) * 5e-3))
    assert lower <= difference <= upper
    assert cells[-1] == ("yes" if lower > 0 or upper < 0 else "no")
    # logit is the same model on the same data in both runs: identical scores
    same = re.search(
        r"<td>syn-b / logit − syn-a / logit \(same model[^)]*\)</td><td>ROC AUC</td>(.*?)</tr>",
        html,
    ).group(1)
    numbers = re.findall(r"[+-]?[0-9.]+", re.findall(r"<td>(.*?)</td>", same)[3])
    assert [float(x) for x in numbers] == [0, 0, 0]
    # the summary ends in one bottom-line sentence, not a list of bullets
    summary = html[html.index('<section id="summary"') : html.index("</section>")]
    assert summary.count("Bottom line:") == 1 and "<li>" not in summary


def test_common_rows_drop_rows_whose_outcome_differs():
    a = pd.DataFrame(
        {"unit": ["x", "y", "z"], "year": [1, 1, 1], "horizon": 2, "outcome": [1.0, 0.0, 0.0]}
    )
    b = a.assign(outcome=[1.0, 1.0, 0.0]).iloc[:2]
    common, counts = common_rows([a, b])
    assert common["unit"].tolist() == ["x"]
    assert counts == [
        {"scored": 3, "common": 1, "outcome_differs": 1},
        {"scored": 2, "common": 1, "outcome_differs": 1},
    ]


def test_cli_errors(two_runs, tmp_path, capsys):
    out = str(tmp_path / "c.html")
    assert main(["compare", str(two_runs[0]), "--out", out]) == 2
    assert "needs at least two runs, got 1" in capsys.readouterr().err
    assert (
        main(["compare", str(two_runs[0]), str(two_runs[1]), "--out", out, "--model", "nope"]) == 2
    )
    assert "model(s) ['nope'] are in none of the runs" in capsys.readouterr().err
    assert main(["compare", str(two_runs[0]), str(tmp_path / "missing"), "--out", out]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert not Path(out).exists()


def _run(path: Path, model: str, years: range, seed: int, prefix: str = "U") -> Path:
    rng = np.random.default_rng(seed)
    units = [f"{prefix}{i}" for i in range(25)]
    rows = []
    for year in years:
        p = rng.beta(1, 12, size=len(units))
        y = (rng.random(len(units)) < p * 3).astype(float)
        rows += [
            {
                "unit": u,
                "year": year,
                "model": model,
                "probability": pp,
                "outcome": yy,
                "origin": year,
                "horizon": 2,
            }
            for u, pp, yy in zip(units, p, y)
        ]
    path.mkdir(parents=True)
    pd.DataFrame(rows).to_parquet(path / "forecasts.parquet", index=False)
    return path


def test_disjoint_runs_have_nothing_to_compare(tmp_path):
    a = _run(tmp_path / "a", "m", range(2000, 2006), 1)
    b = _run(tmp_path / "b", "m", range(2010, 2016), 2)
    with pytest.raises(
        ForecastInputError, match="the runs share no scored rows.*0 years in common"
    ):
        compare_runs([a, b], tmp_path / "c.html")
    c = _run(tmp_path / "c", "m", range(2000, 2006), 3, prefix="country ")
    with pytest.raises(
        ForecastInputError,
        match="0 units in common \\(a: 'U0', c: 'country 0'\\); 6 years in common",
    ):
        compare_runs([a, c], tmp_path / "c.html", labels=["a", "c"])


@pytest.mark.browser
def test_browser_shows_the_page_and_hostile_names_as_text(page, tmp_path):
    from matplotlib.image import imread

    path, _ = page
    load = dump_dom(path)
    assert load.returncode == 0 and load.console == ()
    shot = imread(screenshot(path, tmp_path / "compare.png", height=1000))
    assert shot[..., :3].std() > 0.05
    a = _run(tmp_path / "a", XSS_MODEL, range(2000, 2010), 1)
    b = _run(tmp_path / "b", XSS_MODEL, range(2000, 2010), 2)
    hostile = compare_runs([a, b], tmp_path / "x.html", labels=["<i>A</i>", "B"], n_boot=20)
    load = dump_dom(hostile)
    assert load.console == () and "<img src=x" not in load.dom and "<i>A" not in load.dom
    assert "&lt;img src=x onerror=alert(1)&gt;" in load.dom and "&lt;i&gt;A" in load.dom


def test_the_page_names_the_runs_units(two_runs, tmp_path):
    """Runs whose provenance says their units are cells are compared as cells."""
    import json
    import shutil

    copies = []
    for run in two_runs:
        copy = tmp_path / run.name
        shutil.copytree(run, copy)
        provenance = json.loads((copy / "provenance.json").read_text())
        provenance["unit_noun"] = {"singular": "cell", "plural": "cells"}
        (copy / "provenance.json").write_text(json.dumps(provenance))
        copies.append(copy)
    out = compare_runs(copies, tmp_path / "compare.html", n_boot=20)
    text = re.sub(r"<[^>]+>", " ", out.read_text())
    assert "cell-years" in text and "cells resampled" in text
    assert "countr" not in text.lower()


def test_runs_naming_units_differently_meet_on_their_cow_codes(two_runs, tmp_path):
    """One run names its units, the other uses codes (as ewp-2025 and ewp-2025-plus do):
    the rows meet through the COW codes each run records, and only through them."""
    import shutil

    units = sorted(pd.read_parquet(two_runs[0] / "onsets.parquet")["unit"].unique())
    code = {unit: 100 + i for i, unit in enumerate(units)}
    named, coded = tmp_path / "named", tmp_path / "coded"
    shutil.copytree(two_runs[0], named)
    shutil.copytree(two_runs[1], coded)
    for folder, rename in ((named, False), (coded, True)):
        onsets = pd.read_parquet(folder / "onsets.parquet")
        onsets["cow_code"] = onsets["unit"].map(code).astype(float)
        if rename:
            forecasts = pd.read_parquet(folder / "forecasts.parquet")
            forecasts["unit"] = forecasts["unit"].map(code).astype(str)
            forecasts.to_parquet(folder / "forecasts.parquet")
            onsets["unit"] = onsets["unit"].map(code).astype(str)
        onsets.to_parquet(folder / "onsets.parquet")
    text = re.sub(r"<[^>]+>", " ", compare_runs([named, coded], tmp_path / "c.html").read_text())
    assert "matched by their Correlates of War codes" in text
    common = re.search(r"on their\s+([\d,]+)\s+common", text).group(1)
    alone = re.sub(
        r"<[^>]+>", " ", compare_runs([two_runs[0], two_runs[1]], tmp_path / "a.html").read_text()
    )
    assert common == re.search(r"on their\s+([\d,]+)\s+common", alone).group(1)  # the same rows

    for folder in (named, coded):  # without the codes the runs share no unit
        onsets = pd.read_parquet(folder / "onsets.parquet").drop(columns="cow_code")
        onsets.to_parquet(folder / "onsets.parquet")
    with pytest.raises(ForecastInputError, match="share no scored rows"):
        compare_runs([named, coded], tmp_path / "d.html")


def test_a_run_without_codes_is_still_matched_by_its_unit_ids(two_runs, tmp_path):
    """Only one run records COW codes (e.g. a run archived before they were recorded): the
    runs meet on their own unit ids, as before."""
    import shutil

    with_codes = tmp_path / "with"
    shutil.copytree(two_runs[0], with_codes)
    onsets = pd.read_parquet(with_codes / "onsets.parquet")
    onsets["cow_code"] = np.arange(len(onsets), dtype=float)
    onsets.to_parquet(with_codes / "onsets.parquet")
    mixed = compare_runs([with_codes, two_runs[1]], tmp_path / "m.html").read_text()
    plain = compare_runs([two_runs[0], two_runs[1]], tmp_path / "p.html").read_text()
    pattern = r"on their\s+(?:<[^>]+>)?([\d,]+)"
    assert re.search(pattern, mixed).group(1) == re.search(pattern, plain).group(1)
    assert "Correlates of War" not in mixed
