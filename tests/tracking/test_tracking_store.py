"""Reaching the store: fast, one-line failures; concurrent first runs; the in-memory fake."""

import subprocess
import sys
import time

import pandas as pd
import pytest
import yaml

from forecast import ForecastInputError
from forecast.cli import main
from forecast.run import RunArtifacts
from forecast.tracking import MemoryTracker, MlflowTracker


def _spec(tmp_path, name="tiny"):
    path = tmp_path / f"{name}.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "name": name,
                "dataset": "synthetic-world",
                "horizon": 2,
                "origins": {"years": [2016, 2020]},
                "seed": 1,
                "models": [{"name": "elastic_net", "params": {"n_alphas": 6}}],
            }
        )
    )
    return path


@pytest.mark.parametrize("uri", ["http://127.0.0.1:9", "sqlite:////proc/mlflow.db"])
def test_unreachable_store_fails_in_seconds_in_one_line_before_any_work(tmp_path, capsys, uri):
    out = tmp_path / "out"
    start = time.monotonic()
    code = main(
        ["backtest", str(_spec(tmp_path)), "--out", str(out), "--tracking-uri", uri, "--no-cache"]
    )
    seconds = time.monotonic() - start
    err = capsys.readouterr().err.strip()
    assert code == 2 and seconds < 10
    assert err.startswith(f"forecast: error: cannot reach tracking URI '{uri}'")
    assert "\n" not in err and not out.exists()


def test_concurrent_first_runs_create_a_fresh_sqlite_store(tmp_path):
    uri = f"sqlite:///{tmp_path / 'fresh.db'}"
    code = (
        "import sys; from forecast.tracking import MlflowTracker; "
        "t = MlflowTracker(sys.argv[1]); t.check(); "
        "import forecast.tracking._store as s; s.experiment_id(t._client(), 'same')"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code, uri], stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], errors
    from mlflow.tracking import MlflowClient

    found = MlflowClient(uri).get_experiment_by_name("same")
    assert found.tags["mlflow.experimentKind"] == "custom_model_development"


def test_reading_a_missing_store_names_it(tmp_path):
    uri = f"sqlite:///{tmp_path / 'none.db'}"
    with pytest.raises(ForecastInputError, match="no MLflow store at .*does not exist"):
        MlflowTracker(uri).check(create=False)
    assert not (tmp_path / "none.db").exists()


def test_pipeline_against_the_in_memory_tracker(tmp_path):
    from forecast.pipeline import run_experiment

    tracker = MemoryTracker(tmp_path / "store")
    out = tmp_path / "out"
    run, _ = run_experiment(_spec(tmp_path), out=out, n_jobs=1, tracker=tracker, report=False)
    assert run.failed.empty
    parent = next(rid for rid, run in tracker.runs.items() if run["kind"] == "backtest")
    assert set(tracker.model_runs(parent)) == {"elastic_net", "oracle"}
    assert {"forecasts.parquet", "costs.csv", "provenance.json", "costs/costs.csv"} <= set(
        tracker.runs[parent]["files"]
    )
    child = tracker.runs[tracker.model_runs(parent)["elastic_net"]]
    assert "cost/relative_value" in child["metrics"]
    assert not any(k.startswith("relative_value_1to") for k in child["metrics"])  # in the table
    grid = tracker.runs[parent]["tables"]["costs/cost_metrics.json"]
    assert "relative_value_1to20" in set(grid["metric"])
    assert tracker.runs[parent]["tags"]["forecast.recommended_model"] == "elastic_net"
    assert "roc_auc/elastic_net" in tracker.runs[parent]["metrics"]
    fetched = RunArtifacts.fetch(parent, tracker, tmp_path / "fetched")
    pd.testing.assert_frame_equal(fetched.forecasts, RunArtifacts.read(out).forecasts)
    pd.testing.assert_frame_equal(fetched.costs, pd.read_csv(out / "costs.csv"))
