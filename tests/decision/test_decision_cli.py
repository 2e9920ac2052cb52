"""``forecast costs`` on an output directory and on an MLflow run (per-test SQLite store)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from forecast._errors import ForecastInputError
from forecast.cli import cli, main
from forecast.commands.costs import parse_cost_ratio
from forecast.decision import cost_analysis
from forecast.experiment import CostSpec

HORIZON = 2
LAST = 2012
SPEC = {
    "name": "toy",
    "horizon": HORIZON,
    "costs": {"effectiveness": 0.5, "capacity": 3, "cost_ratios": [0.1, 0.02]},
}


def make_forecasts(seed: int = 0, n_units: int = 25) -> pd.DataFrame:
    """Models ``good`` (true risk + noise), ``poor`` (more noise) and ``oracle``; 2000-2012."""
    rng = np.random.default_rng(seed)
    years = np.arange(2000, LAST + 1)
    logit = rng.normal(-3.5, 1.0, size=(n_units, 1)) + rng.normal(0, 0.5, (n_units, years.size))
    q = 1 / (1 + np.exp(-logit))
    y = (rng.random(q.shape) < q).astype(float)
    y[:, years + HORIZON > LAST] = np.where(y[:, years + HORIZON > LAST] == 1, 1.0, np.nan)
    frames = []
    for model, noise in (("good", 0.3), ("poor", 1.5), ("oracle", 0.0)):
        p = 1 / (1 + np.exp(-(logit + rng.normal(0, noise, q.shape)))) if noise else q
        frames.append(
            pd.DataFrame(
                {
                    "unit": np.repeat([f"U{u}" for u in range(n_units)], years.size),
                    "year": np.tile(years, n_units),
                    "model": model,
                    "probability": p.ravel(),
                    "outcome": y.ravel(),
                    "origin": np.tile(years, n_units),
                    "horizon": HORIZON,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def forecasts() -> pd.DataFrame:
    return make_forecasts()


@pytest.fixture
def out_dir(tmp_path: Path, forecasts: pd.DataFrame) -> Path:
    out = tmp_path / "backtest"
    out.mkdir()
    forecasts.to_parquet(out / "forecasts.parquet", index=False)
    (out / "experiment.yaml").write_text(yaml.safe_dump(SPEC))
    onsets = pd.DataFrame({"unit": "U0", "year": np.arange(1990, LAST + 1), "onset": 0.0})
    onsets.to_parquet(out / "onsets.parquet", index=False)
    return out


def _handler(argv: list[str]) -> int:
    """The command's own result or exception (not main's exit code and error line)."""
    return cli.main(argv, "forecast", standalone_mode=False)


def _row(text: str, model: str) -> list[float]:
    line = next(ln for ln in text.splitlines() if re.match(rf"{model}\s+-?\d", ln))
    return [float(x) for x in line.split()[1:]]


def test_costs_on_output_dir(out_dir, forecasts, capsys):
    assert main(["costs", "--run-dir", str(out_dir), "--cost-ratio", "1:20"]) == 0
    text = capsys.readouterr().out
    assert "Cost ratio C/(eL) = 1:20 (r = 0.05), effectiveness 0.5, at most 3 per year" in text
    assert f"outcomes known through {LAST}" in text
    expected = cost_analysis(
        forecasts, CostSpec(0.5, 3, (0.05,)), horizon=HORIZON, data_end=LAST
    ).at(0.05)
    honest = expected[expected["policy"] == "honest"].set_index("model")
    for model in ("good", "poor", "oracle"):
        row = honest.loc[model]
        want = [
            row["threshold"],
            row["warnings_per_year"],
            row["hits_per_year"],
            row["expected_hits_per_year"],
            row["false_alarms_per_hit"],
            row["cost_per_year"],
            row["value_vs_nothing"],
            row["oracle_value_share"],
        ]
        np.testing.assert_allclose(_row(text, model)[:8], want, atol=6e-4)
    assert _row(text, "oracle")[7] == pytest.approx(1.0)


def test_overrides_and_save(out_dir, tmp_path, capsys):
    save = tmp_path / "costs"
    argv = [
        "costs",
        "--run-dir",
        str(out_dir),
        "--cost-ratio",
        "0.1",
        "--cost-ratio",
        "1/50",
        "--effectiveness",
        "1",
        "--capacity",
        "none",
        "--horizon",
        "2",
        "--out",
        str(save),
    ]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "1:10 (r = 0.1), effectiveness 1, no capacity limit" in text
    assert "1:50 (r = 0.02)" in text
    assert sorted(p.name for p in save.iterdir()) == [
        "costs.csv",
        "decision_curves.png",
        "value_curves.png",
    ]
    table = pd.read_csv(save / "costs.csv")
    assert (table["effectiveness"] == 1.0).all() and table["capacity"].isna().all()
    assert "top3" not in set(table["policy"])


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["--cost-ratio", "0"], r"--cost-ratio must be > 0, got '0'"),
        (["--cost-ratio=-1:20"], r"--cost-ratio must be > 0, got .-1:20."),
        (["--cost-ratio", "20:1"], r"--cost-ratio must be < 1, got '20:1'"),
        (["--cost-ratio", "cheap"], r"--cost-ratio must be a number like 0\.05"),
        (["--effectiveness", "0"], r"--effectiveness must be in \(0, 1\], got '0'"),
        (["--effectiveness", "1.2"], r"--effectiveness must be in \(0, 1\]"),
        (["--capacity", "0"], r"--capacity must be an integer >= 1 or 'none', got '0'"),
        (["--capacity", "2.5"], r"--capacity must be an integer >= 1"),
        (["--horizon", "1"], r"--horizon 1 differs from the run's horizon 2"),
        (["--log"], r"--log needs --run"),
    ],
)
def test_bad_options(out_dir, argv, match):
    with pytest.raises(ForecastInputError, match=match):
        _handler(["costs", "--run-dir", str(out_dir), *argv])


def test_bad_output_dir(tmp_path, capsys):
    with pytest.raises(ForecastInputError, match=r"forecasts\.parquet not found"):
        _handler(["costs", "--run-dir", str(tmp_path)])
    assert main(["costs", "--run-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("forecast: error: ") and "\n" not in err


def test_parse_cost_ratio():
    assert parse_cost_ratio("1:20") == pytest.approx(0.05)
    assert parse_cost_ratio("1/200") == pytest.approx(0.005)
    assert parse_cost_ratio(" 0.05 ") == pytest.approx(0.05)


# --- MLflow ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def _empty_store(tmp_path_factory) -> Path:
    """An initialised, empty SQLite store (creating the tables takes seconds, copying does not)."""
    from mlflow.tracking import MlflowClient

    path = tmp_path_factory.mktemp("store") / "mlflow.db"
    MlflowClient(tracking_uri=f"sqlite:///{path}").search_experiments()
    return path


@pytest.fixture
def tracking_uri(tmp_path: Path, _empty_store: Path) -> str:
    """A per-test SQLite MLflow store: a fresh copy of the empty one."""
    path = tmp_path / "mlflow.db"
    shutil.copy(_empty_store, path)
    return f"sqlite:///{path}"


def _backtest_run(uri: str, root: Path, forecasts: pd.DataFrame, *, artifact: bool = True):
    """A parent run as `forecast backtest` logs it, with a nested run per model."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    experiment = client.create_experiment("toy", artifact_location=(root / "art").as_uri())
    parent = client.create_run(experiment, tags={"forecast.kind": "backtest"}).info.run_id
    if artifact:
        forecasts.to_parquet(root / "forecasts.parquet", index=False)
        client.log_artifact(parent, str(root / "forecasts.parquet"))
        (root / "experiment.yaml").write_text(yaml.safe_dump(SPEC))
        client.log_artifact(parent, str(root / "experiment.yaml"))
        onsets = pd.DataFrame({"unit": "U0", "year": np.arange(1990, LAST + 1), "onset": 0.0})
        onsets.to_parquet(root / "onsets.parquet", index=False)
        client.log_artifact(parent, str(root / "onsets.parquet"))
    children = {}
    for model in ("good", "poor", "oracle"):
        child = client.create_run(
            experiment, run_name=model, tags={"mlflow.parentRunId": parent, "forecast.model": model}
        )
        client.set_terminated(child.info.run_id)
        children[model] = child.info.run_id
    client.set_terminated(parent)
    return client, parent, children


def test_costs_from_run_and_log(tracking_uri, tmp_path, forecasts, capsys):
    client, parent, children = _backtest_run(tracking_uri, tmp_path, forecasts)
    argv = ["costs", "--run", parent, "--tracking-uri", tracking_uri, "--cost-ratio", "1:20"]
    assert main([*argv, "--no-track"]) == 0
    text = capsys.readouterr().out
    assert "at most 3 per year" in text  # costs block read from the run's experiment.yaml
    assert not client.get_run(children["good"]).data.metrics  # nothing logged: --no-track

    # a nested run id is refused and nothing is logged
    with pytest.raises(ForecastInputError, match=rf"nested run of model 'good'.*--run {parent}"):
        _handler([*argv[:2], children["good"], *argv[3:], "--log"])
    assert not client.get_run(children["good"]).data.metrics

    assert main(argv) == 0  # tracked by default (the old --log is a deprecated no-op)
    assert "logged cost metrics into 3 model runs" in capsys.readouterr().out
    # data end from the run's onsets.parquet
    costs = CostSpec(0.5, 3, (0.1, 0.02, 0.05))
    analysis = cost_analysis(forecasts, costs, horizon=HORIZON, data_end=LAST)
    expected = analysis.metrics_by_model()
    for model, run_id in children.items():
        run = client.get_run(run_id)
        logged = run.data.metrics
        finite = {k: v for k, v in expected[model].items() if np.isfinite(v)}
        # a handful of headline metrics at the spec's ratio (of 1:10 and 1:50, the higher)
        for name in ("relative_value", "value_vs_nothing", "warnings_per_year", "hits_per_year"):
            assert logged[f"cost/{name}"] == pytest.approx(finite[f"{name}_1to10"]), name
        assert logged["cost/onsets_per_year"] == pytest.approx(finite["onsets_per_year"])
        assert not any(k.startswith(("relative_value_1to", "top3_")) for k in logged)
        assert run.data.tags["forecast.costs.effectiveness"] == "0.5"
        assert run.data.tags["forecast.costs.ratio"] == "1:10"
        history = client.get_metric_history(run_id, "value_curve/value_vs_nothing")
        steps = sorted(m.step for m in history)
        assert steps[0] == 2 and steps[-1] == 200 and len(steps) == len(set(steps))
    assert not client.get_run(parent).data.metrics  # metrics go to the model runs only
    logged_files = {a.path for a in client.list_artifacts(parent, "costs")}
    assert logged_files == {
        "costs/costs.csv",
        "costs/value_curves.png",
        "costs/decision_curves.png",
        "costs/cost_metrics.json",
    }
    # the whole grid is one table of the parent, value for value
    local = client.download_artifacts(parent, "costs/cost_metrics.json", str(tmp_path))
    table = json.loads(Path(local).read_text())  # MLflow's table format: columns, data
    grid = pd.DataFrame(table["data"], columns=table["columns"])
    grid = grid.set_index(["model", "metric"])["value"]
    for model in children:
        for name, value in expected[model].items():
            if np.isfinite(value):
                assert grid[(model, name)] == pytest.approx(value), (model, name)
    assert grid[("oracle", "oracle_value_share_1to20")] == 1.0


def test_run_errors(tracking_uri, tmp_path, forecasts):
    client, parent, children = _backtest_run(tracking_uri, tmp_path, forecasts, artifact=False)
    base = ["--tracking-uri", tracking_uri]
    with pytest.raises(ForecastInputError, match=r"MLflow run 'f00' not found at 'sqlite:///"):
        _handler(["costs", "--run", "f00", *base])
    with pytest.raises(ForecastInputError, match=r"has no forecasts\.parquet artifact"):
        _handler(["costs", "--run", parent, *base, "--log"])
    assert all(not client.get_run(c).data.metrics for c in children.values())
    missing = f"sqlite:///{tmp_path / 'elsewhere' / 'mlflow.db'}"
    with pytest.raises(ForecastInputError, match=r"no MLflow store at .*does not exist"):
        _handler(["costs", "--run", parent, "--tracking-uri", missing])
    assert not (tmp_path / "elsewhere").exists()


def test_log_refuses_parent_without_model_runs(tracking_uri, tmp_path, forecasts):
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri)
    experiment = client.create_experiment("bare", artifact_location=(tmp_path / "a").as_uri())
    parent = client.create_run(experiment).info.run_id
    forecasts.to_parquet(tmp_path / "forecasts.parquet", index=False)
    client.log_artifact(parent, str(tmp_path / "forecasts.parquet"))
    with pytest.raises(ForecastInputError, match=r"has no nested run of the models"):
        _handler(["costs", "--run", parent, "--tracking-uri", tracking_uri, "--log"])
    assert not client.get_run(parent).data.metrics
    assert not [a for a in client.list_artifacts(parent) if a.path == "costs"]


def test_costs_headline_recommended_model_and_onset_events(tmp_path, forecasts, capsys):
    """Design 0011: the spec's recommended model comes first, and onsets per year count
    events (each unit-year onset once), recomputed here from the annual onsets."""
    out = tmp_path / "run"
    out.mkdir()
    forecasts.to_parquet(out / "forecasts.parquet", index=False)
    (out / "experiment.yaml").write_text(yaml.safe_dump({**SPEC, "models": ["poor", "good"]}))
    rng = np.random.default_rng(5)
    units = [f"U{u}" for u in range(25)]
    annual = pd.DataFrame(
        [(u, y, float(rng.random() < 0.1)) for u in units for y in range(1995, LAST + 1)],
        columns=["unit", "year", "onset"],
    )
    annual.to_parquet(out / "onsets.parquet", index=False)
    assert main(["costs", "--run-dir", str(out), "--cost-ratio", "1:20", "--no-track"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("Recommended model: poor (it is the spec's first model")
    # scored lists 2000..2010 (window observed by 2012) cover the outcome years 2001..2012
    events = int(annual[(annual["year"] > 2000) & (annual["onset"] == 1)].shape[0])
    assert f"{events / 12:.2f} onsets per year ({events} onsets in 12 outcome years)" in text
    table = text[text.index("threshold = the one for the latest origin:") :].splitlines()
    assert table[3].startswith("poor")  # the recommended model's line first
