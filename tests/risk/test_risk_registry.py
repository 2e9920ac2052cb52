"""The risklist/explain CLI, MLflow tracking and the model registry round trip."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
import yaml
from mlflow.tracking import MlflowClient

from forecast._errors import ForecastInputError
from forecast.backtest import dataset_digest
from forecast.cli import main
from forecast.data import load_dataset
from forecast.experiment import experiment_from_dict
from forecast.panel import Panel
from forecast.risk import (
    build_risklist,
    fit_latest,
    load_registered,
    log_risklist,
    reproduce_registered,
)

SPEC = {
    "name": "x",
    "dataset": "synthetic-world",
    "seed": 3,
    "origins": {"first": 2016, "last": 2024},
    "models": [{"name": "elastic_net", "params": {"n_alphas": 8}}],
}


@pytest.fixture(scope="module")
def empty_store(tmp_path_factory) -> Path:
    """An initialised SQLite MLflow store (creating one takes seconds); tests get a copy."""
    path = tmp_path_factory.mktemp("store") / "mlflow.db"
    MlflowClient(f"sqlite:///{path}").search_experiments()
    return path


@pytest.fixture
def store(empty_store, tmp_path) -> str:
    """A per-test SQLite store."""
    shutil.copy(empty_store, tmp_path / "mlflow.db")
    return f"sqlite:///{tmp_path / 'mlflow.db'}"


@pytest.fixture
def spec_file(tmp_path) -> Path:
    path = tmp_path / "x.yaml"
    path.write_text(yaml.safe_dump(SPEC))
    return path


@pytest.mark.slow
def test_risklist_registers_a_model_that_reproduces_the_list(tmp_path, spec_file, store):
    out = tmp_path / "out"
    code = main(
        [
            "risklist",
            str(spec_file),
            "--out",
            str(out),
            "--register",
            "--tracking-uri",
            store,
            "--no-pdf",
            "--cache-dir",
            str(tmp_path / "cache"),
            "--n-jobs",
            "1",
        ]
    )
    assert code == 0
    for name in ("risklist.html", "risklist.csv", "risk.parquet", "drivers.parquet", "tiers.csv"):
        assert (out / name).is_file()
    risk = pd.read_parquet(out / "risk.parquet")
    assert risk["rank"].tolist() == list(range(1, len(risk) + 1))
    csv = pd.read_csv(out / "risklist.csv")  # which model made the list (design 0011)
    assert set(csv["model"]) == {"elastic_net"} and "model_note" not in csv
    assert "elastic_net (elastic_net), the recommended model" in (out / "risklist.html").read_text(
        encoding="utf-8"
    )
    assert risk["tier_meaning"].str.contains("in the backtest").all()
    assert risk["drivers_up"].str.contains(r"odds x").any()

    # the registered champion, loaded by alias, gives the same probabilities
    mlflow.set_tracking_uri(store)
    model = mlflow.sklearn.load_model("models:/forecast-x@champion")
    panel = load_dataset("synthetic-world")
    rows = np.flatnonzero(panel.frame["year"].to_numpy() == 2024)
    X = panel.frame[panel.features].to_numpy(dtype=float)[rows]
    by_unit = risk.set_index("unit")["probability"]
    expected = by_unit.loc[panel.frame["unit"].to_numpy()[rows]].to_numpy()
    np.testing.assert_allclose(model.predict_proba(X)[:, 1], expected, rtol=0, atol=1e-15)
    again = reproduce_registered("forecast-x", tracking_uri=store)
    assert again["unit"].tolist() == risk["unit"].tolist()
    np.testing.assert_array_equal(again["probability"].to_numpy(), risk["probability"].to_numpy())
    _, tags = load_registered("forecast-x", tracking_uri=store)
    assert tags["data_year"] == "2024" and tags["dataset_sha256"] == dataset_digest(panel.frame)
    assert json.loads(tags["experiment_spec"])["models"] == SPEC["models"]
    runs = MlflowClient(store).search_runs(
        [MlflowClient(store).get_experiment_by_name("x").experiment_id]
    )
    assert [r.info.run_name for r in runs] == ["risklist-2024"]

    # a later registration moves the alias; a changed dataset is refused
    assert (
        main(
            [
                "risklist",
                str(spec_file),
                "--out",
                str(tmp_path / "o2"),
                "--year",
                "2023",
                "--register",
                "--tracking-uri",
                store,
                "--no-pdf",
                "--no-backtest",
            ]
        )
        == 0
    )
    _, tags = load_registered("forecast-x", tracking_uri=store)
    assert tags["data_year"] == "2023"
    changed = panel.frame.assign(autocracy=panel.frame["autocracy"] + 0.01)
    altered = Panel(changed, panel.unit, panel.year, panel.features, panel.outcomes, panel.kinds)
    with pytest.raises(ForecastInputError, match="dataset differs"):
        reproduce_registered("forecast-x", tracking_uri=store, panel=altered)
    with pytest.raises(ForecastInputError, match="no registered model 'forecast-y'"):
        load_registered("forecast-y", tracking_uri=store)


def test_logs_into_the_run_handed_over_by_mlflow_run(store, monkeypatch):
    config = experiment_from_dict(SPEC)
    latest = fit_latest(config, model_label="elastic_net", panel=load_dataset("synthetic-world"))
    risk = build_risklist(latest)
    client = MlflowClient(store)
    experiment_id = client.create_experiment(config.tracking_experiment or config.name)
    handed = client.create_run(experiment_id).info.run_id
    monkeypatch.setenv("MLFLOW_RUN_ID", handed)
    run = log_risklist(latest, risk, [], tracking_uri=store)
    assert run.run_id == handed
    assert len(client.search_runs([experiment_id])) == 1
    logged = client.get_run(handed).data
    assert logged.params["risklist.data_year"] == "2024"
    assert logged.tags["forecast.kind"] == "risklist"
    assert logged.tags["mlflow.runName"] == "risklist-2024"
    # launched in another experiment (e.g. `mlflow run .` files into Default): the list is
    # filed under the spec's experiment and the launcher run links to it
    other = client.create_run(client.create_experiment("launched")).info.run_id
    monkeypatch.setenv("MLFLOW_RUN_ID", other)
    run = log_risklist(latest, risk, [], tracking_uri=store)
    assert run.run_id != other
    assert client.get_run(run.run_id).info.experiment_id == experiment_id
    launcher = client.get_run(other).data.tags
    assert launcher["forecast.logged_in_run"] == run.run_id
    assert launcher["mlflow.runName"] == "launcher of risklist-2024"
    monkeypatch.delenv("MLFLOW_RUN_ID", raising=False)  # mlflow clears it when the run ends
    mlflow.set_tracking_uri(store)
    with (
        mlflow.start_run(experiment_id=experiment_id),
        pytest.raises(ForecastInputError, match="already active"),
    ):
        log_risklist(latest, risk, [], tracking_uri=store)


def test_cli_without_tracking_and_its_errors(tmp_path, spec_file, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "plain"
    assert main(["risklist", str(spec_file), "--out", str(out), "--no-track", "--no-backtest"]) == 0
    assert {p.name for p in out.iterdir()} == {
        "risklist.html",
        "risklist.csv",
        "risklist.pdf",
        "risk.parquet",
        "drivers.parquet",
    }
    assert not (tmp_path / "mlflow.db").exists()
    page = (out / "risklist.html").read_text()
    assert '<th scope="col">Data flags</th>' in page and "Plausible range" not in page
    capsys.readouterr()
    cases = [
        (["--model", "nope"], r"unknown model label 'nope'.*\['elastic_net'\]"),
        (["--year", "1900"], r"year 1900 is not a forecast year"),
        (["--register"], r"registering a model needs tracking"),
    ]
    for extra, message in cases:
        assert main(["risklist", str(spec_file), "--out", str(out), "--no-track", *extra]) == 2
        assert pd.Series([capsys.readouterr().err]).str.contains(message).item(), extra

    assert (
        main(["explain", str(spec_file), "--unit", "Norvania", "--from", "2023", "--to", "2024"])
        == 0
    )
    printed = capsys.readouterr().out
    assert "(model update)" in printed and "Norvania, model elastic_net" in printed
    assert (
        main(["explain", str(spec_file), "--unit", "Atlantis", "--from", "2023", "--to", "2024"])
        == 2
    )
    assert "unit 'Atlantis' is not in the panel" in capsys.readouterr().err


@pytest.mark.slow
def test_history_recalibrated_list_equals_the_backtest_and_registers(tmp_path, store, monkeypatch):
    """A ``<model>_recal`` list is the backtest's recalibrated forecast of that origin, with its
    conformal interval, and the registered model reproduces it."""
    from forecast.backtest import run_backtest

    monkeypatch.setenv("FORECAST_CACHE_DIR", str(tmp_path / "cache"))
    raw = {
        **SPEC,
        "origins": {"first": 2008, "last": 2024},
        "history_recalibration": {"models": ["elastic_net"], "min_events": 3},
    }
    path = tmp_path / "recal.yaml"
    path.write_text(yaml.safe_dump(raw))
    out = tmp_path / "out"
    code = main(
        [
            "risklist",
            str(path),
            "--model",
            "elastic_net_recal",
            "--out",
            str(out),
            "--register",
            "--tracking-uri",
            store,
            "--no-pdf",
            "--n-jobs",
            "1",
        ]
    )
    assert code == 0
    risk = pd.read_parquet(out / "risk.parquet").set_index("unit")
    backtest = run_backtest(experiment_from_dict(raw), n_jobs=1).forecasts
    expected = backtest[
        (backtest.model == "elastic_net_recal") & (backtest.origin == 2024)
    ].set_index("unit")
    np.testing.assert_array_equal(risk.loc[expected.index, "probability"], expected["probability"])
    np.testing.assert_array_equal(risk.loc[expected.index, "lower"], expected["lower"])
    assert (risk["lower"] <= risk["probability"]).all() and (
        risk["probability"] <= risk["upper"]
    ).all()
    again = reproduce_registered("forecast-x", tracking_uri=store).set_index("unit")
    np.testing.assert_allclose(
        again.loc[expected.index, "probability"], expected["probability"], rtol=0, atol=1e-15
    )


def test_champion_goes_to_the_recommended_model_only(tmp_path):
    """docs/design/0011: the alias champion marks the recommended model's version; another
    model registered from the same spec gets the alias candidate."""
    from forecast.risk import fit_latest, log_risklist
    from forecast.tracking import MemoryTracker

    config = experiment_from_dict(
        {**SPEC, "models": [*SPEC["models"], {"name": "logit"}], "default_model": "logit"}
    )
    panel = load_dataset("synthetic-world")
    tracker = MemoryTracker(tmp_path)
    for label, alias in (("elastic_net", "candidate"), ("logit", "champion")):
        latest = fit_latest(config, model_label=label, panel=panel)
        run = log_risklist(latest, latest.table(), [], register=True, tracker=tracker)
        assert run.alias == alias
        _, tags = tracker.load_registered("forecast-x", alias=alias)
        assert tags["forecast.model_label"] == label


def test_explain_of_a_recalibrated_default_splits_its_base_models_change(tmp_path, capsys):
    """The rule's model may be a `_recal` copy (the published list): explain says so and splits
    the change on the base model's forecasts instead of refusing its own default."""
    spec = {
        **SPEC,
        "origins": {"first": 2019, "last": 2024},
        "history_recalibration": {"models": ["elastic_net"]},
    }
    path = tmp_path / "recal.yaml"
    path.write_text(yaml.safe_dump(spec))
    argv = ["explain", str(path), "--unit", "Norvania", "--from", "2023", "--to", "2024"]
    assert main([*argv, "--model", "elastic_net_recal"]) == 0
    printed = capsys.readouterr().out
    assert "elastic_net_recal is elastic_net recalibrated" in printed
    assert "Norvania, model elastic_net:" in printed
