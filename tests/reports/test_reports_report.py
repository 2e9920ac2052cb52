"""Model comparison report: content recomputed independently, escaping, CLI, headless browser."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from forecast._errors import ForecastInputError
from forecast.cli import main
from forecast.reports import build_report, load_run
from forecast.reports._browser import dump_dom, screenshot
from forecast.reports._report import N_BOOT_MAX

N_FIGURES = 7  # ROC/PR, reliability, catch, thresholds, value, decision, per-year
XSS_UNIT = "<script>document.title='pwned'</script>"
XSS_MODEL = "<b>m&\"q'</b>"


def make_run_dir(
    path: Path,
    *,
    n_units: int = 40,
    n_years: int = 15,
    models: tuple[str, ...] = ("forest", "logit"),
    oracle: bool = True,
    extras: bool = True,
    units: list[str] | None = None,
    seed: int = 7,
) -> Path:
    """A backtest output directory of a small simulated world (annual onsets, 2-year windows)."""
    rng = np.random.default_rng(seed)
    path.mkdir(parents=True, exist_ok=True)
    units = units or [f"U{i:02d}" for i in range(n_units)]
    years = np.arange(2000, 2000 + n_years)
    latent = (
        -3.6
        + 1.3 * rng.normal(size=len(units))[:, None]
        + 0.6 * rng.normal(size=(len(units), n_years + 2))
    )
    p_annual = 1 / (1 + np.exp(-latent))
    onset = (rng.random(p_annual.shape) < p_annual).astype(float)
    rows = []
    for i, year in enumerate(years):
        p_true = 1 - (1 - p_annual[:, i + 1]) * (1 - p_annual[:, i + 2])
        known = i + 2 < n_years  # the window t+1..t+2 is observed
        y = np.maximum(onset[:, i + 1], onset[:, i + 2]) if known else np.full(len(units), np.nan)
        logit = np.log(p_true / (1 - p_true))
        preds = {"oracle": p_true} if oracle else {}
        for j, m in enumerate(models):
            noise = rng.normal(scale=0.6 + 0.5 * j, size=len(units))
            preds[m] = 1 / (1 + np.exp(-(logit * (0.8 + 0.1 * j) + noise - 0.3)))
        for m, p in preds.items():
            rows += [
                {
                    "unit": u,
                    "year": int(year),
                    "model": m,
                    "probability": float(pu),
                    "outcome": yu,
                    "origin": int(year),
                    "horizon": 2,
                    "train_start": 1990,
                    "train_end": int(year) - 2,
                    "n_train": 500,
                }
                for u, pu, yu in zip(units, p, y, strict=True)
            ]
    forecasts = pd.DataFrame(rows)
    forecasts.to_parquet(path / "forecasts.parquet", index=False)
    annual = pd.DataFrame(
        {
            "unit": np.repeat(units, n_years + 2),
            "year": np.tile(np.arange(2000, 2002 + n_years), len(units)),
            "onset": onset.ravel(),
        }
    )
    if extras:
        annual[annual["year"] < 2000 + n_years].to_parquet(path / "onsets.parquet", index=False)
        scores = [
            {
                "origin": o,
                "model": m,
                "status": "ok" if (o, m) != (2003, models[0]) else "failed",
                "error": "",
                "fit_seconds": 0.1,
                "n_train": 500,
                "n_train_onsets": 20,
                "n_test": len(part),
                "cached": False,
                "n_scored": int(part["outcome"].notna().sum()),
                "onsets": float(part["outcome"].sum()),
                "brier": np.nan,
                "roc_auc": np.nan,
            }
            for (o, m), part in forecasts.groupby(["origin", "model"])
        ]
        pd.DataFrame(scores).to_csv(path / "scores.csv", index=False)
        pd.DataFrame(
            {"model": sorted(forecasts["model"].unique()), "roc_auc": 0.8, "brier": 0.05}
        ).to_csv(path / "metrics.csv", index=False)
        (path / "experiment.yaml").write_text(
            "name: synthetic-test\ndataset: synthetic-world\nhorizon: 2\n", encoding="utf-8"
        )
        (path / "provenance.json").write_text(
            json.dumps(
                {
                    "dataset": "synthetic-world",
                    "sha256": "ab" * 32,
                    "code_version": "0.1.0+test",
                    "created": "2025-01-01T00:00:00Z",
                }
            ),
            encoding="utf-8",
        )
    return path


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> tuple[Path, Path, str]:
    run_dir = make_run_dir(tmp_path_factory.mktemp("run") / "out")
    html = build_report(run_dir, n_boot=150, baseline="forest")
    return run_dir, html, html.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def xss_run(tmp_path_factory) -> Path:
    units = [XSS_UNIT, 'Côte d\'Ivoire "CIV"'] + [f"U{i:02d}" for i in range(18)]
    run_dir = make_run_dir(
        tmp_path_factory.mktemp("xss") / "out",
        units=units,
        n_years=10,
        models=(XSS_MODEL, "logit"),
        extras=False,
        seed=3,
    )
    return build_report(run_dir, n_boot=50)


def _row(html: str, model: str) -> str:
    """The model's row of the headline metrics table."""
    html = html[html.index('<section id="metrics">') :]
    match = re.search(rf"<tr[^>]*><td>{re.escape(model)}</td>(.*?)</tr>", html)
    assert match, model
    return match.group(1)


def test_report_is_self_contained_with_every_section(run):
    _, path, html = run
    assert path == run[0] / "report.html"
    assert html.count('src="data:image/png;base64,') == N_FIGURES
    assert len(re.findall(r'<img [^>]*alt="[^"]{20,}"', html)) == N_FIGURES
    assert html.count("<figcaption>") == N_FIGURES
    assert "<script" not in html and "http://" not in html and "https://" not in html
    assert "@media print" in html
    for section in (
        "overview",
        "metrics",
        "paired",
        "discrimination",
        "calibration",
        "catch",
        "thresholds",
        "value",
        "per-year",
        "onsets",
        "tasks",
    ):
        assert f'<section id="{section}">' in html
    assert "ab" * 32 in html and "0.1.0+test" in html  # provenance
    assert "name: synthetic-test" in html  # spec
    assert "Failed tasks" in html  # scores.csv status


def test_auc_estimates_match_sklearn(run):
    run_dir, _, html = run
    f = pd.read_parquet(run_dir / "forecasts.parquet")
    known = f[f["outcome"].notna()]
    for model in ("forest", "logit", "oracle"):
        part = known[known["model"] == model]
        auc = roc_auc_score(part["outcome"], part["probability"])
        cells = re.findall(r"<td>([0-9.]+) \(([0-9.]+)–([0-9.]+)\)</td>", _row(html, model))
        estimate, lower, upper = map(float, cells[0])  # first CI column: ROC AUC
        assert estimate == pytest.approx(auc, abs=5e-4)
        assert lower < estimate < upper


def test_paired_difference_is_model_minus_baseline(run):
    run_dir, _, html = run
    f = pd.read_parquet(run_dir / "forecasts.parquet")
    known = f[f["outcome"].notna()]
    wide = known.pivot(index=["unit", "year"], columns="model", values="probability")
    y = known.groupby(["unit", "year"])["outcome"].first().loc[wide.index]
    diff = roc_auc_score(y, wide["logit"]) - roc_auc_score(y, wide["forest"])
    match = re.search(r"<tr><td>logit</td><td>ROC AUC</td>(.*?)</tr>", html)
    numbers = [float(x) for x in re.findall(r'class="num">(-?[0-9.]+)<', match.group(1))]
    rows, model_value, base_value, difference, p_value = numbers
    assert rows == len(wide)
    assert difference == pytest.approx(diff, abs=5e-4)
    assert model_value - base_value == pytest.approx(difference, abs=2e-3)
    assert 0 < p_value <= 1


def test_onset_list_recomputes_prior_ranks_by_hand(run):
    run_dir, _, html = run
    f = pd.read_parquet(run_dir / "forecasts.parquet")
    onsets = pd.read_parquet(run_dir / "onsets.parquet")
    rank = {}
    for (model, year), part in f.groupby(["model", "year"]):
        for unit, r in zip(
            part["unit"], part["probability"].rank(ascending=False, method="min"), strict=True
        ):
            rank[model, year, unit] = r
    events = onsets[(onsets["onset"] == 1) & (onsets["year"] > f["year"].min())]
    caught = 0
    for unit, year in zip(events["unit"], events["year"], strict=True):
        prior = [
            rank[("logit", year - lag, unit)]
            for lag in (1, 2)
            if ("logit", year - lag, unit) in rank
        ]
        caught += min(prior) <= 30
    assert f"logit {caught}/{len(events)}" in html
    assert html.count("(caught)") + html.count("(missed)") == 3 * len(events)


def test_missing_optional_files_are_reported_not_fatal(tmp_path):
    run_dir = make_run_dir(tmp_path / "bare", n_units=20, n_years=8, extras=False)
    data = load_run(run_dir)
    assert data.scores is None and data.provenance is None and data.onsets is None
    html = build_report(run_dir, tmp_path / "r.html", n_boot=N_BOOT_MAX + 500).read_text()
    assert "Not available: provenance.json" in html
    assert "Not available: experiment.yaml" in html
    assert "Not available: scores.csv" in html
    assert f"capped at {N_BOOT_MAX}" in html
    assert "rows with outcome 1, ranked within their forecast year" in html  # no onsets.parquet


@pytest.mark.parametrize(
    ("setup", "kwargs", "match"),
    [
        ("nodir", {}, "does not exist"),
        ("empty", {}, "has no forecasts.parquet"),
        ("nocol", {}, r"lacks column\(s\) \['outcome'\]"),
        ("ok", {"baseline": "nope"}, "baseline model 'nope' is not in the forecasts"),
        ("ok", {"n_boot": 0}, "'n_boot' must be an integer >= 1"),
        ("ok", {"cost_ratios": [2.0]}, r"cost ratios must be in \(0, 1\)"),
        ("badjson", {}, "cannot read provenance.json"),
    ],
)
def test_bad_input_raises(tmp_path, setup, kwargs, match):
    run_dir = tmp_path / "d"
    if setup == "empty":
        run_dir.mkdir()
    elif setup == "nocol":
        run_dir.mkdir()
        pd.DataFrame({"unit": ["a"], "year": [1], "model": ["m"], "probability": [0.1]}).to_parquet(
            run_dir / "forecasts.parquet"
        )
    elif setup in ("ok", "badjson"):
        make_run_dir(run_dir, n_units=10, n_years=5, extras=False)
        if setup == "badjson":
            (run_dir / "provenance.json").write_text("{not json")
    with pytest.raises(ForecastInputError, match=match):
        build_report(run_dir, **kwargs)


def test_cli_out_and_errors(run, tmp_path, capsys):
    run_dir = run[0]
    target = tmp_path / "cli.html"
    assert (
        main(
            [
                "report",
                "--run-dir",
                str(run_dir),
                "--out",
                str(target),
                "--n-boot",
                "20",
                "--baseline",
                "logit",
            ]
        )
        == 0
    )
    assert "Differences against the baseline (logit)" in target.read_text()
    assert main(["report", "--run-dir", str(tmp_path / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_cli_run_downloads_and_logs_back(run, tracking_uri, capsys):
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri)
    run_id = client.create_run(client.create_experiment("reports")).info.run_id
    for name in ("forecasts.parquet", "scores.csv", "metrics.csv", "experiment.yaml"):
        client.log_artifact(run_id, str(run[0] / name))
    assert main(["report", "--run", run_id, "--tracking-uri", tracking_uri, "--n-boot", "20"]) == 0
    assert "report.html" in {a.path for a in client.list_artifacts(run_id)}
    assert main(["report", "--run", "0" * 32, "--tracking-uri", tracking_uri]) == 2
    assert "not found" in capsys.readouterr().err


@pytest.mark.browser
def test_browser_renders_report_without_errors(run, tmp_path):
    from matplotlib.image import imread

    _, path, _ = run
    page = dump_dom(path)
    assert page.returncode == 0
    assert page.console == ()
    images = re.findall(r'<img src="data:image/png;base64,', page.dom)
    assert len(images) == N_FIGURES
    assert page.dom.count("<table") >= 10
    shot = imread(screenshot(path, tmp_path / "report.png"))
    assert shot.shape[:2] == (2000, 1280)
    assert shot[..., :3].std() > 0.05  # not a blank page


@pytest.mark.browser
def test_browser_shows_hostile_names_as_text(xss_run):
    html = xss_run.read_text()
    assert XSS_UNIT not in html
    page = dump_dom(xss_run)
    assert page.console == ()
    assert re.search(r"<title>Model comparison: out</title>", page.dom)
    assert "<script" not in page.dom and "pwned" not in re.search(
        r"<title>.*?</title>", page.dom
    ).group(0)
    assert "&lt;script&gt;document.title='pwned'&lt;/script&gt;" in page.dom
    assert "<b>m&amp;" not in page.dom and "&lt;b&gt;m&amp;\"q'&lt;/b&gt;" in page.dom


# -- the report's decision table is the run's costs.csv ----------------------------------------

_DECISION_HEADERS = {
    "threshold": "threshold",
    "warnings per year": "warnings_per_year",
    "hits per year": "hits_per_year",
    "false alarms per hit": "false_alarms_per_hit",
    "expected hits per year": "expected_hits_per_year",
    "cost per year": "cost_per_year",
    "value vs nothing": "value_vs_nothing",
}


def _decision_table_cells(html: str) -> pd.DataFrame:
    """The cells (text) of the first table after the report's 'Decision table' heading."""
    from html.parser import HTMLParser

    class Tables(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.tables: list[list[list[str]]] = []
            self.row: list[str] | None = None
            self.cell: list[str] | None = None

        def handle_starttag(self, tag, attrs):
            if tag == "table":
                self.tables.append([])
            elif tag == "tr":
                self.row = []
            elif tag in ("td", "th"):
                self.cell = []

        def handle_endtag(self, tag):
            if tag in ("td", "th") and self.cell is not None:
                self.row.append("".join(self.cell).strip())
                self.cell = None
            elif tag == "tr" and self.row is not None:
                self.tables[-1].append(self.row)
                self.row = None

        def handle_data(self, data):
            if self.cell is not None:
                self.cell.append(data)

    parser = Tables()
    parser.feed(html[html.index("<h3>Decision table") :])
    header, *rows = parser.tables[0]
    return pd.DataFrame(rows, columns=header)


def _assert_table_is(html: str, costs: pd.DataFrame, ratios=(1 / 10, 1 / 20, 1 / 50)) -> None:
    """Every number of the report's decision table equals its cell of ``costs`` (as shown)."""
    shown = _decision_table_cells(html)
    assert {"model", "cost ratio", "policy", *_DECISION_HEADERS} == set(shown.columns)
    labels = [f"1to{1 / r:.6g}" for r in ratios]
    expected = costs[costs["label"].isin(labels)]
    assert len(shown) == len(expected) > 0  # every (model, ratio, policy) of costs.csv, once
    keyed = expected.set_index(["model", "label", "policy"])
    for row in shown.itertuples(index=False):
        cells = dict(zip(shown.columns, row, strict=True))
        truth = keyed.loc[(cells["model"], cells["cost ratio"].replace(":", "to"), cells["policy"])]
        for header, column in _DECISION_HEADERS.items():
            value = float(truth[column])
            if np.isnan(value):
                assert cells[header] == "–", (cells, header)
            else:
                assert float(cells[header]) == pytest.approx(value, abs=0.5e-3 + 1e-12), (
                    cells,
                    header,
                )


@pytest.fixture(scope="module")
def default_run(tmp_path_factory) -> Path:
    """experiments/synthetic-default.yaml on a few origins with one cheap model (and the oracle)."""
    import yaml

    from forecast.pipeline import run_experiment

    root = Path(__file__).resolve().parents[2]
    spec = yaml.safe_load((root / "experiments" / "synthetic-default.yaml").read_text())
    spec["origins"] = {"years": [2012, 2015, 2018, 2021, 2024]}
    spec["models"] = [{"name": "elastic_net", "params": {"n_alphas": 6}}]
    spec.pop("history_recalibration", None)
    folder = tmp_path_factory.mktemp("default")
    path = folder / "small-default.yaml"
    path.write_text(yaml.safe_dump(spec))
    assert run_experiment(path, out=folder / "out", n_jobs=1, track=False)[0].failed.empty
    return folder / "out"


def test_report_decision_table_equals_costs_csv(default_run):
    costs = pd.read_csv(default_run / "costs.csv")
    html = (default_run / "report.html").read_text(encoding="utf-8")
    assert (costs["capacity"] == 30).all() and (costs["effectiveness"] == 0.5).all()  # the spec's
    assert "Decision table (effectiveness 0.5, at most 30 warnings per year)" in html
    _assert_table_is(html, costs)
    assert {"honest", "in_sample", "bayes", "top30", "ewp4pct"} == set(
        _decision_table_cells(html)["policy"]
    )


def test_report_without_costs_csv_renders_one_cost_analysis(run):
    """An old run folder (no costs.csv): the table is cost_analysis of its forecasts and spec."""
    from forecast.decision import cost_analysis
    from forecast.experiment import CostSpec

    run_dir, _, html = run
    assert not (run_dir / "costs.csv").exists()
    forecasts = pd.read_parquet(run_dir / "forecasts.parquet")
    data_end = int(pd.read_parquet(run_dir / "onsets.parquet")["year"].max())
    analysis = cost_analysis(forecasts, CostSpec(), horizon=2, data_end=data_end)
    _assert_table_is(html, analysis.table())


# -- the verdict on the first screen, and the track record ------------------------------------


def _verdict(html: str) -> str:
    match = re.search(r'<section id="verdict" class="verdict">(.*?)</section>', html, re.S)
    assert match, "no verdict section"
    return match.group(1)


@pytest.fixture(scope="module")
def logit_baseline(run, tmp_path_factory) -> str:
    path = build_report(
        run[0], tmp_path_factory.mktemp("verdict") / "r.html", n_boot=150, baseline="logit"
    )
    return path.read_text(encoding="utf-8")


def test_verdict_names_the_model_and_its_paired_ci(run, logit_baseline):
    run_dir = run[0]
    verdict = _verdict(logit_baseline)
    assert logit_baseline.index('id="verdict"') < logit_baseline.index('id="overview"')
    model = re.search(r'Recommended model: <strong class="model">(.*?)</strong>', verdict).group(1)
    f = pd.read_parquet(run_dir / "forecasts.parquet")
    known = f[f["outcome"].notna()]
    auc = {m: roc_auc_score(p["outcome"], p["probability"]) for m, p in known.groupby("model")}
    assert model == "forest"  # the run records no models: the rule takes its first model
    found = re.search(
        r"Against the baseline logit: <b>([+-]?[0-9.]+)</b> AUC \(95% CI "
        r"([+-]?[0-9.]+) to ([+-]?[0-9.]+)\)",
        verdict,
    )
    estimate, lower, upper = map(float, found.groups())
    assert estimate == pytest.approx(auc["forest"] - auc["logit"], abs=5e-4)
    assert lower < estimate < upper
    word = "not distinguishable from noise" if lower <= 0 <= upper else "distinguishable from noise"
    assert f"</span>, {word}" in verdict
    # the same interval as the paired table in the details (one computation)
    assert re.search(rf"<tr><td>forest</td><td>ROC AUC</td>.*?<td>{lower:.3f} to", logit_baseline)


def test_verdict_follows_the_spec_not_the_backtest(run, tmp_path):
    """Design 0011: the spec's model is recommended even when another scores higher; the
    hindsight-best is a labelled reference; a value below doing nothing is said first."""
    run_dir = tmp_path / "run"
    shutil.copytree(run[0], run_dir)
    (run_dir / "experiment.yaml").write_text(
        "name: t\nhorizon: 2\nmodels: [logit, {name: random_forest, label: forest}]\n",
        encoding="utf-8",
    )
    html = build_report(run_dir, n_boot=50, baseline="forest").read_text(encoding="utf-8")
    verdict = _verdict(html)
    assert 'Recommended model: <strong class="model">logit</strong>' in verdict
    assert "because it is the spec&#x27;s first model" in verdict
    assert "forest has the highest pooled ROC AUC of this very backtest" in verdict
    assert "<td>forest</td>" in verdict and "hindsight-best (reference), baseline" in verdict
    assert verdict.count("ceiling, not a model") == 1  # the oracle's row, once
    assert 'class="lead warning"' not in verdict
    from forecast.decision import cost_analysis
    from forecast.experiment import CostSpec

    f = pd.read_parquet(run_dir / "forecasts.parquet")
    costs = cost_analysis(f, CostSpec(), horizon=2, data_end=2014).table()
    honest = (costs["model"] == "logit") & (costs["policy"] == "honest")
    costs.loc[honest & np.isclose(costs["cost_ratio"], 1 / 20), "value_vs_nothing"] = -0.013
    costs.to_csv(run_dir / "costs.csv", index=False)
    verdict = _verdict(build_report(run_dir, n_boot=50).read_text(encoding="utf-8"))
    assert verdict.startswith(
        '<h2>Verdict</h2><div class="wide"><p class="lead warning"><strong>At the spec&#39;s cost '
        "ratio 1:20, acting on logit&#39;s warnings is worth less than doing nothing (value -0.013)"
    )


def test_verdict_states_lists_calibration_costs_and_the_rule(run):
    from forecast.decision import cost_analysis
    from forecast.experiment import CostSpec
    from forecast.metrics import track_record

    run_dir, _, html = run
    verdict = _verdict(html)
    assert "Rule, fixed before the data were seen (docs/design/0011)" in verdict
    f = pd.read_parquet(run_dir / "forecasts.parquet")
    annual = pd.read_parquet(run_dir / "onsets.parquet")
    data_end = int(annual["year"].max())
    # each onset once, recomputed from the annual onsets by a loop over the scored lists
    known = f[(f["model"] == "forest") & f["outcome"].notna()]
    events, caught = set(), set()
    onset_years = set(annual.loc[annual["onset"] == 1, ["unit", "year"]].itertuples(index=False))
    for origin, part in known.groupby("origin"):
        top = set(part.nlargest(30, "probability")["unit"])
        for u in part["unit"]:
            for t in (origin + 1, origin + 2):
                if (u, t) in onset_years:
                    events.add((u, t))
                    if u in top:
                        caught.add((u, t))
    row = track_record(f, data_end=data_end).summary().set_index("model").loc["forest"]
    n = {key: int(row[key]) for key in ("lists", "first_origin", "last_origin")}
    assert (
        f"The top-30 lists of forest at {n['lists']} past origins ({n['first_origin']}–"
        f"{n['last_origin']}) caught {len(caught)} of the {len(events)} onsets in their windows"
    ) in verdict
    windows, expected = int(known["outcome"].sum()), known["probability"].sum()
    assert len(events) < windows  # two-year windows: list-windows count onsets twice
    found = re.search(
        rf"{len(events)} onsets observed in the scored years; its {windows} forecast windows "
        r"with an onset \(one onset lies in up to 2 windows\) where its forecasts expected "
        r"([0-9.]+): observed/expected <b>([0-9.]+)</b>",
        verdict,
    )
    assert float(found.group(1)) == pytest.approx(expected, rel=5e-3)
    assert float(found.group(2)) == pytest.approx(windows / expected, rel=5e-3)
    costs = cost_analysis(f, CostSpec(), horizon=2, data_end=data_end).table()
    row = costs[
        (costs["model"] == "forest")
        & (costs["policy"] == "honest")
        & np.isclose(costs["cost_ratio"], 1 / 20)
    ].iloc[0]
    found = re.search(
        r"At cost ratio 1:20 .*?<b>([0-9.]+)</b> warnings a year, <b>([0-9.]+)</b>"
        r" of them followed by an onset .*? value <b>(-?[0-9.]+)</b>",
        verdict,
    )
    shown = [float(x) for x in found.groups()]
    assert shown == pytest.approx(
        [row["warnings_per_year"], row["hits_per_year"], row["value_vs_nothing"]],
        rel=5e-3,
        abs=5e-4,
    )
    years = data_end - int(known["origin"].min())  # outcome years of the scored windows
    per_year = re.search(r"; ([0-9.]+) onsets a year\)", verdict).group(1)
    assert float(per_year) == pytest.approx(len(events) / years, rel=5e-3)


def test_track_record_section_renders_the_record(run):
    from forecast.metrics import track_record

    run_dir, _, html = run
    assert '<section id="track-record"><details>' in html
    section = html[html.index('id="track-record"') : html.index('id="metrics"')]
    f = pd.read_parquet(run_dir / "forecasts.parquet")
    data_end = int(pd.read_parquet(run_dir / "onsets.parquet")["year"].max())
    lists = track_record(f, data_end=data_end).lists
    for r in lists[lists["model"] == "forest"].itertuples():
        assert (
            f"<td>{r.origin}</td><td>{r.window_start}–{r.window_end}</td><td>{r.listed}</td>"
            f"<td>{r.listed_onsets}</td>"
        ) in section


def test_nothing_scored_has_no_verdict(tmp_path):
    run_dir = make_run_dir(tmp_path / "zero", n_units=10, n_years=6, extras=False)
    f = pd.read_parquet(run_dir / "forecasts.parquet")
    f.assign(outcome=f["outcome"].where(f["outcome"].isna(), 0.0)).to_parquet(
        run_dir / "forecasts.parquet", index=False
    )
    html = build_report(run_dir, n_boot=20).read_text()
    assert "Nothing could be scored" in html and "Recommended model" not in html
    assert '<section id="metrics" class="verdict">' in html


def test_numbers_keep_three_significant_digits():
    from forecast.reports._track import pct, sig

    assert [sig(x) for x in (0.853214, 0.012345, 1234.5, -0.000123456, 0, np.nan)] == [
        "0.853",
        "0.0123",
        "1,230",
        "-0.000123",
        "0",
        "–",
    ]
    assert sig(0.9996) == "1.00" and sig(0.0042, sign=True) == "+0.00420"
    assert pct(0.07517) == "7.52%" and pct(1.0) == "100%"


def test_track_record_section_goes_on_a_risk_list_page(tmp_path):
    from forecast.metrics import track_record
    from forecast.reports import render_risklist, track_record_section

    f = pd.read_parquet(
        make_run_dir(tmp_path / "r", n_units=20, n_years=8, extras=False) / "forecasts.parquet"
    )
    record = track_record(f[f["model"] == "logit"], k=5)
    sid, title, html = track_record_section(record, model="logit")
    assert (sid, title) == ("track-record", "Track record: how past top-5 lists of logit fared")
    risk = pd.DataFrame({"rank": [1, 2], "unit": ["a", "b"], "probability": [0.2, 0.1]})
    page = render_risklist(
        risk,
        tmp_path / "list",
        title="t",
        method_note="m",
        meta={},
        pdf=False,
        sections=[(sid, title, html)],
    )["html"].read_text()
    assert 'id="track-record"' in page
    assert "The top-5 lists of logit at " in page


# -- many rows: curves on a stated grid, one bootstrap per model, figures only when used ----


@pytest.fixture(scope="module")
def scale_run_dir(tmp_path_factory) -> Path:
    return make_run_dir(tmp_path_factory.mktemp("scale") / "out", n_units=60, n_years=12)


def test_curves_past_the_point_cap_are_drawn_on_a_stated_grid(scale_run_dir, tmp_path, monkeypatch):
    from forecast.reports import _figures as figs

    monkeypatch.setattr(figs, "CURVE_POINTS", 50)
    html = build_report(scale_run_dir, tmp_path / "r.html", n_boot=20).read_text(encoding="utf-8")
    caption = re.search(r'<figure id="fig-roc-pr">.*?<figcaption>(.*?)</figcaption>', html, re.S)
    assert "drawn at 50 quantile thresholds" in caption.group(1)
    assert html.count('src="data:image/png;base64,') == N_FIGURES
    y = (np.arange(400) % 7 == 0).astype(float)
    p = np.linspace(0.001, 0.5, 400)
    fpr, tpr, recall, precision = figs._curves(y, p)
    assert fpr.size == tpr.size == 51 and (fpr[0], tpr[0], fpr[-1], tpr[-1]) == (0, 0, 1, 1)
    assert recall[0] == 1 and (recall[-1], precision[-1]) == (0, 1)


def test_without_the_cap_no_grid_is_mentioned(scale_run_dir, tmp_path):
    html = build_report(scale_run_dir, tmp_path / "r.html", n_boot=20).read_text(encoding="utf-8")
    assert "quantile thresholds" not in html


def test_paired_differences_reuse_each_models_bootstrap(scale_run_dir):
    """Same rows in the same order: the pairing from the two bootstraps equals a fresh
    paired bootstrap on those rows."""
    from forecast.metrics import paired_difference
    from forecast.reports import _sections as sec
    from forecast.run import RunArtifacts

    data = RunArtifacts.read(scale_run_dir)
    ctx = sec.Context(
        data=data,
        models=["forest", "logit", "oracle"],
        baseline="logit",
        n_boot=60,
        seed=4,
        cost_ratios=[0.1],
        effectiveness=None,
    )
    base = ctx.rows("logit")
    for model, (n_rows, results) in ctx.paired.items():
        other = ctx.rows(model)
        assert n_rows == len(base) == len(other)
        for metric, result in results.items():
            direct = paired_difference(
                base["outcome"].to_numpy(float),
                other["probability"].to_numpy(float),
                base["probability"].to_numpy(float),
                clusters=base["unit"].to_numpy(),
                metric=metric,
                n_boot=60,
                seed=4,
            )
            assert (result.estimate, result.lower, result.upper, result.p_value) == (
                direct.estimate,
                direct.lower,
                direct.upper,
                direct.p_value,
            )


def test_a_run_without_cost_figures_still_gets_the_full_report(tmp_path):
    """--no-report --no-track: no PNGs in the folder; `forecast report` later draws them."""
    import yaml

    from forecast.pipeline import run_experiment
    from forecast.run import FIGURES

    root = Path(__file__).resolve().parents[2]
    spec = yaml.safe_load((root / "experiments" / "synthetic-default.yaml").read_text())
    spec["origins"] = {"years": [2015, 2018, 2021, 2024]}
    spec["models"] = [{"name": "logit"}]
    spec.pop("history_recalibration", None)
    spec["evaluation"].pop("baseline", None)
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(spec))
    out = tmp_path / "out"
    assert run_experiment(path, out=out, n_jobs=1, track=False, report=False)[0].failed.empty
    assert (out / "costs.csv").is_file()
    assert not any((out / name).exists() for name in FIGURES)
    html = build_report(out, n_boot=20).read_text(encoding="utf-8")
    assert html.count('src="data:image/png;base64,') == N_FIGURES
    assert 'id="fig-value"' in html and 'id="fig-decision"' in html
    assert len(pd.read_csv(out / "costs.csv"))


def test_every_model_in_a_figure_has_a_distinct_colour_and_style():
    from forecast.reports import _figures as figs

    rng = np.random.default_rng(0)
    names = [f"model_{i:02d}" for i in range(14)]
    y = (rng.random(400) < 0.2).astype(float)
    data = {m: (y, np.clip(y * 0.3 + rng.random(400) * 0.7, 0, 1)) for m in names}
    ranks = {m: rng.integers(1, 60, 20).astype(float) for m in names}
    for fig in (
        figs.roc_pr_figure(data, highlight="model_03"),
        figs.catch_figure(ranks, 60, (10, 30), highlight="model_03"),
    ):
        ax = fig.axes[0]
        lines = {ln.get_label(): ln for ln in ax.get_lines() if "model_" in ln.get_label()}
        assert len(lines) == 14
        styles = {(ln.get_color(), ln.get_linestyle()) for ln in lines.values()}
        assert len(styles) == 14  # no two models share a (colour, line style)
        top = lines["model_03 (recommended)"]
        assert all(
            top.get_linewidth() > ln.get_linewidth() for k, ln in lines.items() if ln is not top
        )
        assert ax.get_legend() is None and len(fig.legends) == 1  # below the axes, not on them


def _section(html: str, key: str) -> str:
    start = html.index(f'<section id="{key}"')
    return html[start : html.index("</section>", start)]


def test_calibration_table_uses_fixed_bins_recomputed_by_a_loop(run):
    run_dir, _, html = run
    section = _section(html, "calibration")
    f = pd.read_parquet(run_dir / "forecasts.parquet")
    model = re.search(r"leading models \(([^,;]+)", section).group(1)
    known = f[(f["model"] == model) & f["outcome"].notna()]
    cells = re.findall(
        rf"<tr[^>]*><td>{model}</td><td>([^<]+)</td><td[^>]*>(\d+)</td><td[^>]*>(\d+)</td>",
        section,
    )
    assert [c[0] for c in cells] == ["&lt;1%", "1-3%", "3-10%", "10-30%", "&gt;=30%"]
    edges = [0, 0.01, 0.03, 0.10, 0.30, 1.0001]
    for (_, n, events), lo, hi in zip(cells, edges[:-1], edges[1:], strict=True):
        rows = [(p, o) for p, o in zip(known["probability"], known["outcome"]) if lo <= p < hi]
        assert int(n) == len(rows) and int(events) == sum(o for _, o in rows)
    assert "90% interval" in section and "Wilson" in section
    verdict = _verdict(html)
    assert "calibrated in the large" not in verdict
    assert "Where the list is read" in verdict or "no forecasts of 10-30%" in verdict


def test_cost_sentence_matches_the_cost_table(default_run):
    costs = pd.read_csv(default_run / "costs.csv")
    f = pd.read_parquet(default_run / "forecasts.parquet")
    html = (default_run / "report.html").read_text(encoding="utf-8")
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", _section(html, "value")))
    found = re.search(
        r"\((\w+), cost ratio 1:(\d+), .*?\): warn on the top (\d+) each year: expect about "
        r"one real onset per (\d+) warnings.*?a threshold of ([0-9.]+)% flags these (\d+)\s",
        text,
        re.S,
    )
    assert found, text[:600]
    model, odds, top, per_hit, threshold, flagged = found.groups()
    at = costs[(costs["model"] == model) & np.isclose(costs["cost_ratio"], 1 / int(odds))]
    rule = at[at["policy"] == f"top{top}"].iloc[0]
    assert int(per_hit) == round(rule["warnings_per_year"] / rule["hits_per_year"])
    honest = at[at["policy"] == "honest"].iloc[0]
    shown = 100 * honest["threshold"]  # one decimal below 10%, whole percents above
    assert float(threshold) == pytest.approx(shown, abs=0.5 if shown >= 10 else 0.05)
    latest = f[(f["model"] == model) & (f["year"] == f["year"].max())]
    latest = latest[latest["origin"] == latest["origin"].max()]
    assert int(flagged) == int((latest["probability"] >= honest["threshold"]).sum())
    for term in ("honest", "bayes", "in_sample", "ewp4pct", "expected hits per year", "C / (e L)"):
        assert term in text
    assert "relative value" not in text  # the same numbers as "value vs nothing": one column


@pytest.mark.browser
def test_no_table_overflows_at_1024_px(run, tmp_path):
    from forecast.reports._browser import overflowing_tables

    _, path, _ = run
    tables, page = overflowing_tables(path, width=1024)
    assert tables == [] and page <= 1024, (tables, page)


def test_the_browsers_own_console_notes_are_not_page_errors():
    from forecast.reports._browser import PageLoad

    load = PageLoad(
        "",
        (
            '"Slow network is detected. Fallback font will be used", source: chrome://x (0)',
            '"Uncaught TypeError: x is null", source: file:///tmp/report.html (3)',
            '"Refused to load the image", source: file:///tmp/report.html (1)',
        ),
        0,
    )
    assert load.errors == load.console[1:]
