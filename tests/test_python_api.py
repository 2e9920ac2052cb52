"""The Python API: forecast.backtest -> Backtest and its accessors, the docs' code."""

from __future__ import annotations

import ast
import re
import sys
import types
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import forecast
from forecast import ForecastInputError

ROOT = Path(__file__).resolve().parents[1]

SPEC = {
    "name": "py-api",
    "dataset": "synthetic-world",
    "horizon": 2,
    "origins": {"first": 2021, "last": 2023},
    "seed": 7,
    "models": ["logit"],
}


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def bt(cache):
    return forecast.backtest(SPEC, cache_dir=cache)


@pytest.fixture(scope="module")
def bt2(cache):
    return forecast.backtest(
        {**SPEC, "name": "py-api-2"},
        models=["logit", LogisticRegression(C=0.1, max_iter=500)],
        cache_dir=cache,
    )


def test_the_notebook_flow_takes_at_most_four_statements(cache):
    code = f"""
bt = forecast.backtest({SPEC!r}, cache_dir={str(cache)!r})
metrics = bt.metrics()
risks = bt.risk_list()
"""
    assert len(ast.parse(code).body) <= 4
    namespace: dict = {"forecast": forecast}
    exec(compile(code, "notebook", "exec"), namespace)
    metrics, risks = namespace["metrics"], namespace["risks"]
    assert list(metrics["model"]) == ["logit", "oracle"]  # wide: one row per model
    assert {"roc_auc", "brier", "recall_top30"} <= set(metrics.columns)
    assert risks["rank"].tolist() == list(range(1, len(risks) + 1))
    assert {"name", "probability", "tier", "tier_meaning", "drivers_up"} <= set(risks.columns)


def test_public_names_include_the_result_api():
    assert {"backtest", "Backtest", "load_experiment"} <= set(forecast.__all__)
    assert callable(forecast.backtest)
    assert forecast.backtest.run_backtest is forecast.run_backtest  # still the engine package


def test_load_experiment_accepts_a_dict_and_a_config():
    config = forecast.load_experiment(SPEC)
    assert config.name == "py-api" and [m.label for m in config.models] == ["logit"]
    assert forecast.load_experiment(config) is config
    with pytest.raises(ForecastInputError, match=r"models\.0.*unknown model|nope"):
        forecast.load_experiment({**SPEC, "models": ["nope"]})
    with pytest.raises(ForecastInputError, match="a YAML path, a dict or an ExperimentConfig"):
        forecast.load_experiment(3)  # type: ignore[arg-type]


def test_an_estimator_is_a_model_cloned_per_fit(bt2):
    estimator = LogisticRegression(C=0.1, max_iter=500)
    entry = forecast._backtest_result.estimator_entry(estimator)
    assert entry == {
        "name": "sklearn",
        "label": "LogisticRegression",
        "params": {"class": "sklearn.linear_model.LogisticRegression", "C": 0.1, "max_iter": 500},
    }
    spec = bt2.config.models[1]
    assert (spec.name, spec.label) == ("sklearn", "LogisticRegression")
    own = bt2.forecasts[bt2.forecasts["model"] == "LogisticRegression"]
    assert own["origin"].nunique() == 3 and own["probability"].between(0, 1).all()
    assert not hasattr(estimator, "coef_")  # never fitted


def test_an_estimator_in_a_dict_spec_and_its_params_in_the_cache_key(cache):
    a = forecast.backtest({**SPEC, "models": [LogisticRegression(C=0.01)]}, cache_dir=cache)
    b = forecast.backtest({**SPEC, "models": [LogisticRegression(C=1.0)]}, cache_dir=cache)
    pa = a.forecasts[a.forecasts["model"] == "LogisticRegression"]["probability"]
    pb = b.forecasts[b.forecasts["model"] == "LogisticRegression"]["probability"]
    assert not np.allclose(pa.to_numpy(), pb.to_numpy())


def test_an_estimator_with_a_nested_estimator_is_refused_in_one_line():
    from sklearn.calibration import CalibratedClassifierCV

    with pytest.raises(
        ForecastInputError, match=r"CalibratedClassifierCV: parameter\(s\) \['estimator'\]"
    ):
        forecast.backtest(SPEC, models=[CalibratedClassifierCV(LogisticRegression())])


def test_accessors_return_data_and_nothing_prints(bt, tmp_path, capsys):
    run = forecast.backtest(SPEC, cache_dir=tmp_path / "cache")
    run.save(tmp_path / "run")
    assert capsys.readouterr() == ("", "")
    assert isinstance(run.metrics(), pd.DataFrame)
    costs = bt.costs()
    assert costs.table().equals(bt.artifacts.costs)  # the run's own analysis: costs.csv
    tight = bt.costs(capacity=5, cost_ratios=[0.05])
    assert (tight.table()["capacity"] == 5).all() and "top5" in set(tight.table()["policy"])


def test_save_and_load_round_trip(bt, tmp_path):
    folder = bt.save(tmp_path / "run")
    assert folder == tmp_path / "run" and (folder / "report.html").is_file()
    again = forecast.Backtest.load(folder)
    assert again.metrics().equals(bt.metrics())
    pd.testing.assert_frame_equal(again.forecasts, bt.forecasts, check_dtype=False)
    assert again.config.models == bt.config.models and again.dataset_digest == bt.dataset_digest
    assert again.costs().table().round(12).equals(bt.costs().table().round(12))
    path = again.report(tmp_path / "again.html")
    assert "Model comparison: py-api" in path.read_text(encoding="utf-8")


def test_repr_is_one_line_and_an_unsaved_report_needs_a_path(bt2):
    assert repr(bt2) == "Backtest('py-api-2', 3 origins, models=['logit', 'LogisticRegression'])"
    with pytest.raises(ForecastInputError, match="the run is not saved.*pass a path"):
        bt2.report()


def test_load_refuses_a_folder_without_a_run(tmp_path):
    with pytest.raises(ForecastInputError, match="does not exist"):
        forecast.Backtest.load(tmp_path / "missing")


def test_compare_is_the_table_the_compare_page_renders(bt, bt2, tmp_path):
    from forecast.reports import compare_runs

    table = bt2.compare(bt, labels=["two", "one"], n_boot=20)
    assert {"first_run", "second_model", "metric", "difference", "lower"} <= set(table.columns)
    same = table[(table["first_model"] == "logit") & (table["metric"] == "roc_auc")].iloc[0]
    assert (same["first_run"], same["second_run"], same["difference"]) == ("one", "two", 0.0)
    page = compare_runs(
        [bt2.artifacts, bt.artifacts], tmp_path / "c.html", labels=["two", "one"], n_boot=20
    ).read_text(encoding="utf-8")
    for row in table.itertuples():
        assert (
            f"{row.first_run} / {row.first_model} − {row.second_run} / {row.second_model}" in page
        )


def test_choice_calls_recommend_model_with_the_runs_tables(bt, monkeypatch):
    seen = {}

    def recommend_model(config, *, metrics, costs):
        seen.update(config=config, metrics=metrics, costs=costs)
        return "chosen"

    monkeypatch.setitem(
        sys.modules, "forecast.choice", types.SimpleNamespace(recommend_model=recommend_model)
    )
    assert bt.choice() == "chosen"
    assert seen["config"] is bt.config and seen["metrics"].equals(bt.metrics())
    assert seen["costs"].equals(bt.artifacts.costs)


def test_profile_and_whatif_of_the_top_unit(bt):
    top = bt.risk_list()["name"].iloc[0]
    profile = bt.profile(top, years=2)
    assert profile.name == top and len(profile.history) >= 1
    scenario = bt.whatif(top, {})
    assert scenario.name == top and scenario.baseline.rank == 1
    assert scenario.baseline.probability == pytest.approx(bt.risk_list()["probability"].iloc[0])


def test_log_tracks_the_saved_run(bt, tmp_path):
    from forecast.tracking import MemoryTracker

    bt.save(tmp_path / "run")
    tracker = MemoryTracker(tmp_path / "store")
    tracked = bt.log(tracker)
    parent = tracker.runs[tracked.run_id]
    assert tracked.uri == "memory://" and parent["kind"] == "backtest"
    assert {"forecasts.parquet", "metrics.csv", "costs.csv"} <= set(parent["files"])
    assert any(
        k.startswith("cost/relative_value") for r in tracker.runs.values() for k in r["metrics"]
    )
    assert parent["tags"]["forecast.recommended_model"] == bt.choice().recommended


def test_the_backtest_command_prints_failures_and_exits_1(tmp_path, capsys):
    import yaml

    from forecast.cli import main

    broken = {
        "name": "sklearn",
        "label": "broken",
        "params": {"class": "sklearn.naive_bayes.GaussianNB", "priors": [2.0, -1.0]},  # fit fails
    }
    spec = tmp_path / "failing.yaml"
    spec.write_text(yaml.safe_dump({**SPEC, "models": ["logit", broken]}))
    args = ["backtest", str(spec), "--out", str(tmp_path / "out"), "--no-track", "--no-report"]
    assert main([*args, "--n-jobs", "1", "--cache-dir", str(tmp_path / "cache")]) == 1
    out, err = capsys.readouterr()
    assert "py-api: 3 origins, horizon 2, dataset synthetic-world" in out
    assert "broken at origin 2021" in err


def test_evaluate_forecasts_takes_a_wide_table():
    rng = np.random.default_rng(0)
    wide = pd.DataFrame(
        {
            "unit": np.repeat(list("abcdefghij"), 4),
            "year": np.tile(range(2000, 2004), 10),
            "outcome": rng.integers(0, 2, 40).astype(float),
            "m1": rng.random(40),
            "m2": rng.random(40),
        }
    )
    long = wide.melt(
        id_vars=["unit", "year", "outcome"],
        value_vars=["m1", "m2"],
        var_name="model",
        value_name="probability",
    )
    metrics = ["roc_auc", "brier"]
    assert forecast.evaluate_forecasts(wide, models=["m1", "m2"], metrics=metrics).equals(
        forecast.evaluate_forecasts(long, metrics=metrics)
    )
    with pytest.raises(ForecastInputError, match=r"missing \['m3'\]"):
        forecast.evaluate_forecasts(wide, models=["m1", "m3"])


def _python_blocks(text: str) -> str:
    return "\n".join(re.findall(r"```python\n(.*?)```", text, flags=re.S))


@pytest.mark.parametrize(
    "where", [pytest.param("docs/python.md", marks=pytest.mark.slow), "README.md#python"]
)
def test_the_documented_python_runs(where, tmp_path, monkeypatch):
    path, _, section = where.partition("#")
    text = (ROOT / path).read_text(encoding="utf-8")
    if section:
        text = text.split("\n## Python\n", 1)[1].split("\n## ", 1)[0]
    code = _python_blocks(text)
    assert code.strip(), f"no python block in {where}"
    monkeypatch.chdir(tmp_path)  # the docs write outputs/ where they run
    exec(compile(code, where, "exec"), {"__name__": "__docs__"})
