"""The backtest job end to end: outputs on disk and runs in a real SQLite MLflow store."""

from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
import yaml
from mlflow.tracking import MlflowClient

from forecast import ForecastInputError
from forecast.pipeline import run_experiment


def _spec(tmp_path, models, name="tiny"):
    path = tmp_path / f"{name}.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "name": name,
                "dataset": "synthetic-world",
                "horizon": 2,
                "origins": {"years": [2012, 2016, 2020]},
                "seed": 1,
                "models": models,
                "history_recalibration": {"models": ["elastic_net"], "min_events": 3},
            }
        )
    )
    return path


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"


CHEAP = [
    {"name": "elastic_net", "params": {"n_alphas": 6}},
    {"name": "xgboost", "params": {"n_estimators": 20}},
]


def test_parent_and_nested_runs_with_inputs_metrics_and_artifacts(tmp_path, store):
    out = tmp_path / "out"
    run, _ = run_experiment(
        _spec(tmp_path, CHEAP), out=out, n_jobs=1, tracking_uri=store, report=False
    )
    assert run.failed.empty
    for name in (
        "forecasts.parquet",
        "scores.csv",
        "metrics.csv",
        "costs.csv",
        "onsets.parquet",
        "experiment.yaml",
        "provenance.json",
    ):
        assert (out / name).is_file(), name
    client = MlflowClient(store)
    experiment = client.get_experiment_by_name("tiny")
    runs = client.search_runs([experiment.experiment_id])
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    assert len(parents) == 1
    parent = parents[0]
    assert parent.info.status == "FINISHED"
    # filed as a user expects: the spec's experiment (model training, so `mlflow ui` opens on
    # the runs table), the parent named after the experiment and time, children after models
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"
    assert parent.info.run_name.startswith("tiny 20")
    assert parent.data.params["horizon"] == "2" and len(parent.data.params["dataset_sha256"]) == 64
    assert parent.inputs.dataset_inputs[0].dataset.name == "synthetic-world"
    children = {
        r.data.tags["forecast.model"]: r
        for r in runs
        if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id
    }
    assert set(children) == {"elastic_net", "xgboost", "elastic_net_recal", "oracle"}
    assert all(run.info.run_name == label for label, run in children.items())
    metrics = children["xgboost"].data.metrics
    for key in (
        "roc_auc",
        "average_precision",
        "brier",
        "log_loss",
        "recall_top10",
        "recall_top30",
        "precision_top20",
        "cost/relative_value",
        "cost/warnings_per_year",
    ):
        assert key in metrics, key
    # the cost grid is a table of the parent, not ~200 metrics of each model run
    assert not any(k.startswith(("relative_value_1to", "ewp4pct_")) for k in metrics)
    assert len(metrics) < 80, sorted(metrics)
    # the parent shows what the collapsed runs table sorts on, and says what was run
    recommended = parent.data.tags["forecast.recommended_model"]
    assert recommended == "elastic_net_recal"  # no meta model: the first model, recalibrated
    assert parent.data.metrics["roc_auc"] == pytest.approx(
        parent.data.metrics[f"roc_auc/{recommended}"]
    )
    for model in ("elastic_net", "xgboost", "oracle"):
        assert {f"brier/{model}", f"recall_top30/{model}"} <= set(parent.data.metrics)
    note = parent.data.tags["mlflow.note.content"]
    assert note.startswith("Backtest of tiny on synthetic-world") and recommended in note
    assert children["xgboost"].data.tags["mlflow.note.content"].startswith("xgboost: model")
    history = client.get_metric_history(children["xgboost"].info.run_id, "curve/recall_at_k")
    assert [m.step for m in history][:3] == [1, 2, 3]
    artifacts = {a.path for a in client.list_artifacts(parent.info.run_id)}
    assert {"forecasts.parquet", "experiment.yaml", "metrics.csv"} <= artifacts
    # the cost files written into --out are logged under costs/, byte for byte
    logged = {a.path for a in client.list_artifacts(parent.info.run_id, "costs")}
    assert logged == {
        "costs/costs.csv",
        "costs/value_curves.png",
        "costs/decision_curves.png",
        "costs/cost_metrics.json",
    }
    local = client.download_artifacts(parent.info.run_id, "costs/costs.csv", str(tmp_path))
    assert Path(local).read_bytes() == (out / "costs.csv").read_bytes()


def test_unreachable_tracking_uri_fails_before_any_work(tmp_path):
    out = tmp_path / "out"
    uri = f"sqlite:///{tmp_path / 'missing-folder' / 'mlflow.db'}"
    with pytest.raises(
        ForecastInputError, match="cannot reach tracking URI 'sqlite:///.*missing-folder"
    ):
        run_experiment(_spec(tmp_path, CHEAP), out=out, n_jobs=1, tracking_uri=uri, report=False)
    assert not out.exists()


def test_refuses_to_log_inside_someone_elses_run(tmp_path, store, monkeypatch):
    monkeypatch.delenv("MLFLOW_RUN_ID", raising=False)
    mlflow.set_tracking_uri(store)
    with mlflow.start_run():
        with pytest.raises(ForecastInputError, match="already active.*mlflow.end_run"):
            run_experiment(
                _spec(tmp_path, CHEAP, name="intruder"),
                out=tmp_path / "o",
                n_jobs=1,
                tracking_uri=store,
                report=False,
            )


def test_a_failing_model_marks_the_run_failed_and_keeps_the_rest(tmp_path, store):
    broken = {
        "name": "sklearn",
        "label": "broken",
        "params": {"class": "sklearn.naive_bayes.GaussianNB", "priors": [2.0, -1.0]},  # fit fails
    }
    out = tmp_path / "out"
    run, _ = run_experiment(
        _spec(tmp_path, [CHEAP[0], broken], name="failing"),
        out=out,
        n_jobs=1,
        tracking_uri=store,
        report=False,
    )
    assert 2012 in set(run.failed.loc[run.failed["model"] == "broken", "origin"])
    client = MlflowClient(store)
    runs = client.search_runs([client.get_experiment_by_name("failing").experiment_id])
    parent = next(r for r in runs if "mlflow.parentRunId" not in r.data.tags)
    assert parent.info.status == "FAILED" and "broken@2012" in parent.data.tags["forecast.failures"]
    import pandas as pd

    forecasts = pd.read_parquet(out / "forecasts.parquet")
    assert "elastic_net" in set(forecasts["model"]) and "broken" not in set(forecasts["model"])


def test_under_mlflow_run_the_backtest_is_filed_under_the_spec_experiment(
    tmp_path, store, monkeypatch
):
    client = MlflowClient(store)
    launched = client.create_run(
        client.get_experiment_by_name("Default").experiment_id
        if client.get_experiment_by_name("Default")
        else client.create_experiment("Default")
    ).info.run_id
    monkeypatch.setenv("MLFLOW_RUN_ID", launched)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", store)
    run, _ = run_experiment(
        _spec(tmp_path, CHEAP[:1], name="launched"), out=tmp_path / "out", n_jobs=1, report=False
    )
    assert run.failed.empty
    experiment = client.get_experiment_by_name("launched")
    runs = client.search_runs(
        [experiment.experiment_id], filter_string="tags.`forecast.kind` = 'backtest'"
    )
    assert len(runs) == 1
    tags = client.get_run(launched).data.tags
    assert tags["forecast.logged_in_run"] == runs[0].info.run_id
    assert tags["mlflow.runName"].startswith("launcher of launched 20")


def test_a_failure_after_the_fits_leaves_the_previous_run_folder_untouched(
    tmp_path, store, monkeypatch
):
    import forecast.reports

    out = tmp_path / "out"
    spec = _spec(tmp_path, CHEAP[:1], name="atomic")
    assert run_experiment(spec, out=out, n_jobs=1, track=False, report=False)[0].failed.empty
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def broken(*args, **kwargs):
        raise ForecastInputError("report failed")

    monkeypatch.setattr(forecast.reports, "build_report", broken)
    with pytest.raises(
        ForecastInputError,
        match=r"report failed \(nothing in .*out was "
        r"changed; partial results in .*staging",
    ):
        run_experiment(spec, out=out, n_jobs=1, track=False, report=True)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def _byo_all_zero(tmp_path):
    from forecast.features import feature_set_dir

    rng = np.random.default_rng(5)
    # onsets only before 1998: the models learn from them, every scored window (2004..2008)
    # has none
    rows = [
        (
            c,
            y,
            rng.random(),
            rng.integers(0, 500),
            int(rng.random() < 0.1),
            int(y < 1998 and rng.random() < 0.2),
        )
        for c in [f"C{i}" for i in range(12)]
        for y in range(1990, 2011)
    ]
    pd.DataFrame(
        rows, columns=["country", "year", "repression", "conflict_deaths", "coup", "onset"]
    ).to_csv(tmp_path / "my_panel.csv", index=False)
    (tmp_path / "byo.yaml").write_text((feature_set_dir() / "byo-example.yaml").read_text())
    spec = tmp_path / "zero.yaml"
    spec.write_text(
        yaml.safe_dump(
            {
                "name": "zero",
                "feature_set": str(tmp_path / "byo.yaml"),
                "outcome": "onset",
                "horizon": 2,
                "origins": {"years": [2004, 2006]},
                "models": [{"name": "logit"}],
            }
        )
    )
    return spec


@pytest.mark.parametrize("case", ["horizon past the data", "scored outcomes all 0"])
def test_nothing_scorable_is_a_result_with_the_reason(tmp_path, store, capsys, case):
    from forecast.cli import main

    if case == "horizon past the data":
        spec = tmp_path / "h50.yaml"
        spec.write_text(
            yaml.safe_dump(
                {
                    "name": "h50",
                    "dataset": "synthetic-world",
                    "horizon": 50,
                    "origins": {"years": [2016, 2020]},
                    "models": [{"name": "logit"}],
                }
            )
        )
        reason = "no forecast has a fully observed outcome window"
    else:
        spec, reason = _byo_all_zero(tmp_path), "no onsets in the scored windows"
    out = tmp_path / "out"
    assert (
        main(["backtest", str(spec), "--out", str(out), "--no-cache", "--tracking-uri", store]) == 0
    )
    assert f"nothing scored: {reason}" in capsys.readouterr().out
    metrics = pd.read_csv(out / "metrics.csv")
    assert metrics["roc_auc"].isna().all() and metrics["note"].str.startswith(reason).all()
    assert not (out / "costs.csv").exists()
    html = (out / "report.html").read_text()
    assert "Nothing could be scored" in html and reason in html
    client = MlflowClient(store)
    experiment = client.get_experiment_by_name(yaml.safe_load(spec.read_text())["name"])
    parent = client.search_runs(
        [experiment.experiment_id], filter_string="tags.`forecast.kind` = 'backtest'"
    )[0]
    assert parent.data.tags["forecast.note"].startswith(f"nothing scored: {reason}")


def test_every_task_failing_is_one_line_and_leaves_out_alone(tmp_path, capsys):
    from forecast.cli import main

    broken = {
        "name": "sklearn",
        "label": "broken",
        "params": {"class": "sklearn.naive_bayes.GaussianNB", "priors": [2.0, -1.0]},  # fit fails
    }
    spec = tmp_path / "allfail.yaml"
    spec.write_text(
        yaml.safe_dump(
            {
                "name": "allfail",
                "dataset": "synthetic-world",
                "horizon": 2,
                "origins": {"years": [2016, 2020]},
                "models": [broken],
            }
        )
    )
    out = tmp_path / "out"
    argv = ["--quiet", "backtest", str(spec), "--out", str(out), "--no-cache", "--no-track"]
    assert main(argv) == 2  # --quiet: no progress lines, only the error
    err = capsys.readouterr().err.strip()
    assert (
        err.startswith("forecast: error: ") and "every task failed (first: broken at origin" in err
    )
    assert "\n" not in err and not out.exists()


def test_meta_model_choices_are_logged_per_origin(tmp_path, store):
    spec = tmp_path / "meta.yaml"
    spec.write_text(
        yaml.safe_dump(
            {
                "name": "meta",
                "dataset": "synthetic-world",
                "horizon": 2,
                "origins": {"years": [2012, 2016, 2020]},
                "models": [
                    {"name": "logit"},
                    {"name": "elastic_net", "params": {"n_alphas": 6}},
                    {"name": "selected"},
                ],
            }
        )
    )
    run, _ = run_experiment(spec, out=tmp_path / "out", n_jobs=1, tracking_uri=store, report=False)
    assert run.failed.empty
    client = MlflowClient(store)
    experiment = client.get_experiment_by_name("meta")
    run = client.search_runs(
        [experiment.experiment_id], filter_string="tags.`forecast.model` = 'selected'"
    )[0]
    history = client.get_metric_history(run.info.run_id, "meta/weight_logit")
    assert sorted(m.step for m in history) == [2012, 2016, 2020]
    forecasts = pd.read_parquet(tmp_path / "out" / "forecasts.parquet")
    own = forecasts[forecasts["model"] == "selected"].groupby("origin")["weight_logit"].first()
    assert {m.step: m.value for m in history} == pytest.approx(own.to_dict())
