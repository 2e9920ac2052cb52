"""A store locked during tracking costs one line, not the run; `forecast track` logs the
finished run folder once the store is free."""

import sqlite3
import time

import pytest
import yaml
from mlflow.tracking import MlflowClient

from forecast.cli import main
from forecast.tracking import MlflowTracker, TrackingError, log_run


@pytest.fixture
def spec(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "name": "tiny",
                "dataset": "synthetic-world",
                "horizon": 2,
                "origins": {"years": [2016, 2020]},
                "models": [{"name": "logit"}],
            }
        )
    )
    return path


def _runs(uri):
    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("tiny")
    if experiment is None:
        return []
    return client.search_runs(
        [experiment.experiment_id], filter_string="tags.forecast.kind = 'backtest'"
    )


@pytest.mark.slow
def test_a_store_locked_during_tracking_costs_one_line_and_the_run_is_logged_later(
    spec, tmp_path, tracking_uri, capsys, monkeypatch
):
    db = tracking_uri.removeprefix("sqlite:///")
    lock = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    log_backtest = MlflowTracker.log_backtest
    took = {}

    def locked_log_backtest(self, *args, **kwargs):  # another process takes the store
        lock.execute("BEGIN EXCLUSIVE")
        start = time.monotonic()
        try:
            return log_backtest(self, *args, **kwargs)
        finally:
            took["seconds"] = time.monotonic() - start

    monkeypatch.setattr(MlflowTracker, "log_backtest", locked_log_backtest)
    out = tmp_path / "run"
    argv = ["--quiet", "backtest", str(spec), "--out", str(out), "--tracking-uri", tracking_uri]
    code = main([*argv, "--no-cache"])
    err = capsys.readouterr().err.strip()
    assert code == 0, err
    # one line for the store (others may say that fits warned), no traceback
    full = err
    (err,) = [line for line in full.splitlines() if "tracking at" in line]
    assert err.startswith(f"forecast: warning: tracking at {tracking_uri} failed (")
    assert "database is locked" in err and f"forecast track --run-dir {out}" in err
    assert "Traceback" not in full and len(full.splitlines()) <= 2
    assert took["seconds"] < 15  # the lock wait is bounded (MLflow's own: 20 s a statement)
    written = {p.name for p in out.iterdir()}
    assert {"forecasts.parquet", "provenance.json", "costs.csv", "report.html"} <= written

    lock.execute("COMMIT")
    monkeypatch.setattr(MlflowTracker, "log_backtest", log_backtest)
    before = _runs(tracking_uri)
    assert main(["track", "--run-dir", str(out), "--tracking-uri", tracking_uri]) == 0
    assert capsys.readouterr().out.startswith("tracked: run ")
    logged = [
        r for r in _runs(tracking_uri) if r.info.run_id not in {b.info.run_id for b in before}
    ]
    assert len(logged) == 1 and logged[0].info.status == "FINISHED"
    client = MlflowClient(tracking_uri=tracking_uri)
    assert {"forecasts.parquet", "provenance.json", "report.html"} <= {
        a.path for a in client.list_artifacts(logged[0].info.run_id)
    }
    assert logged[0].data.params["horizon"] == "2"
    assert {p.name for p in out.iterdir()} == written  # the folder is not changed


def test_log_run_turns_any_store_failure_into_one_line(tmp_path):
    class Broken:
        uri = "sqlite:///x.db"

        def log_backtest(self, *args):
            raise RuntimeError("disk I/O error\n[SQL: INSERT ...]\ntraceback noise")

    from forecast.run import RunArtifacts

    run = RunArtifacts(forecasts=None, run_dir=tmp_path / "r")  # type: ignore[arg-type]
    with pytest.raises(
        TrackingError,
        match=r"tracking at sqlite:///x\.db failed \(disk I/O error\); "
        r"the run folder .*r is complete: log it later with `forecast track --run-dir ",
    ):
        log_run(Broken(), None, None, run)


def test_a_locked_store_is_not_reported_as_a_missing_run(tracking_uri):
    from forecast import ForecastInputError

    tracker = MlflowTracker(tracking_uri)
    tracker.check()
    client = MlflowClient(tracking_uri=tracking_uri)
    run_id = client.create_run(client.create_experiment("x")).info.run_id
    lock = sqlite3.connect(tracking_uri.removeprefix("sqlite:///"), isolation_level=None)
    lock.execute("BEGIN EXCLUSIVE")
    start = time.monotonic()
    with pytest.raises(ForecastInputError, match=r"cannot read MLflow run .*database is locked"):
        tracker.model_runs(run_id)
    assert time.monotonic() - start < 15
    lock.execute("COMMIT")
    assert tracker.model_runs(run_id) == {}


def test_log_run_keeps_a_callers_mistake_and_wraps_a_store_failure(tmp_path):
    from forecast import ForecastInputError
    from forecast.run import RunArtifacts

    run = RunArtifacts(forecasts=None, run_dir=tmp_path / "r")  # type: ignore[arg-type]

    class Raising:
        uri = "sqlite:///x.db"

        def __init__(self, error):
            self.error = error

        def log_backtest(self, *args):
            raise self.error

    mistake = ForecastInputError("an MLflow run (1) is already active in this process")
    with pytest.raises(ForecastInputError, match=r"already active in this process$"):
        log_run(Raising(mistake), None, None, run)
    locked = TrackingError("cannot read MLflow run '1' at 'sqlite:///x.db' (database is locked)")
    with pytest.raises(
        TrackingError, match=r"database is locked\); the run folder .*forecast track"
    ):
        log_run(Raising(locked), None, None, run)
