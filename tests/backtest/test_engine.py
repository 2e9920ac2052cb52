import dataclasses

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from forecast.backtest import run_backtest
from forecast.experiment import experiment_from_dict
from forecast.models import get_test_params, model_names
from forecast.models._preprocess import linear_preprocessor
from forecast.panel import Panel


def _config(models, **extra):
    raw = {
        "name": "toy",
        "horizon": 2,
        "origins": {"first": 1995, "last": 2010},
        "min_train_years": 5,
        "models": models,
        **extra,
    }
    return experiment_from_dict(raw)


SKLEARN_LOGIT = {
    "name": "sklearn",
    "params": {"class": "sklearn.linear_model.LogisticRegression", "C": 0.5, "max_iter": 1000},
}


def test_forecast_table_columns_and_censoring(toy_panel):
    result = run_backtest(_config([SKLEARN_LOGIT]), panel=toy_panel)
    f = result.forecasts
    assert {
        "unit",
        "year",
        "model",
        "probability",
        "outcome",
        "origin",
        "horizon",
        "train_start",
        "train_end",
        "n_train",
    } <= set(f.columns)
    assert (f["year"] == f["origin"]).all()
    assert f.loc[f["year"] == 2010, "outcome"].isna().all()  # windows past 2010 are unknown
    late = f[f["year"] == 2009].merge(toy_panel.frame[toy_panel.frame.year == 2010], on="unit")
    assert (
        late["outcome"].isna().eq(late["mk_onset"] == 0).all()
    )  # unknown unless 2010 had an onset
    assert f.loc[f["year"] <= 2008, "outcome"].notna().all()
    assert len(result.scores) == 16 and (result.scores["status"] == "ok").all()


def test_backtest_matches_an_independent_hand_loop(toy_panel):
    """Oracle test: refit by hand, origin by origin, and compare probabilities exactly."""
    result = run_backtest(_config([SKLEARN_LOGIT]), panel=toy_panel)
    frame = toy_panel.frame
    onset = {(u, y): v for u, y, v in zip(frame.unit, frame.year, frame.mk_onset)}
    last = frame.groupby("unit").year.max().to_dict()
    for origin in range(1995, 2011):
        rows, y = [], []
        for i, (u, t) in enumerate(zip(frame.unit, frame.year)):  # a plain loop over rows
            if t > origin - 2:
                continue
            window = [onset[(u, t + j)] for j in (1, 2) if t + j <= last[u]]
            rows.append(i)
            y.append(max(window) if window else 0.0)
        train = frame.iloc[rows]
        model = Pipeline(
            [
                ("prep", linear_preprocessor()),
                ("model", LogisticRegression(C=0.5, max_iter=1000, random_state=0)),
            ]
        )
        model.fit(train[["x1", "x2", "x3"]].to_numpy(float), np.array(y, dtype=float))
        test = frame[frame.year == origin]
        expected = model.predict_proba(test[["x1", "x2", "x3"]].to_numpy(float))[:, 1]
        got = (
            result.forecasts[result.forecasts.origin == origin]
            .set_index("unit")
            .loc[test.unit, "probability"]
        )
        np.testing.assert_allclose(got.to_numpy(), expected, rtol=0, atol=1e-12)


MODELS = (
    [{"name": name, "params": get_test_params(name)} for name in model_names()]
    + [
        {
            "name": "elastic_net",
            "label": f"elastic_net_{method}",
            "calibration": method,
            "params": get_test_params("elastic_net"),
        }
        for method in ("platt", "venn_abers", "intercept")
    ]
    + [
        {
            "name": "ensemble",
            "label": "ensemble_anchored",
            "anchor_years": 5,
            "params": get_test_params("ensemble"),
        }
    ]
)


def _alter_after(panel: Panel, origin: int, seed: int) -> Panel:
    """Every row after ``origin`` and every outcome unknown at ``origin`` altered, a year added."""
    rng = np.random.default_rng(seed)
    frame = panel.frame.copy()
    future = frame["year"] > origin
    for column in ("x1", "x2", "x3"):
        frame.loc[future, column] = rng.normal(size=int(future.sum())) * 10
    # Onsets after the origin are unknown at T: flip them at random.
    frame.loc[future, "mk_onset"] = rng.integers(0, 2, size=int(future.sum())).astype(float)
    extra = frame[frame["year"] == frame["year"].max()].assign(year=frame["year"].max() + 1)
    frame = pd.concat([frame, extra], ignore_index=True)  # and add whole rows in the future
    return Panel.from_frame(frame, features=panel.features, outcomes=["mk_onset"], name="toy")


@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 10_000), origin=st.integers(1996, 2008))
@pytest.mark.slow
def test_future_rows_and_unknown_outcomes_cannot_change_forecasts(toy_panel, seed, origin):
    """Leakage proof: alter every row after T and every outcome unknown at T, for every model."""
    config = _config(MODELS, origins=[origin])
    before = run_backtest(config, panel=toy_panel).forecasts
    after = run_backtest(config, panel=_alter_after(toy_panel, origin, seed)).forecasts
    cols = ["unit", "year", "model", "probability"]
    pd.testing.assert_frame_equal(
        before[cols].reset_index(drop=True), after[cols].reset_index(drop=True), check_exact=True
    )


NAIVE_BAYES = {
    "name": "sklearn",
    "label": "naive_bayes",
    "params": {"class": "sklearn.naive_bayes.GaussianNB"},
}
META = [
    SKLEARN_LOGIT,
    NAIVE_BAYES,  # cheap members: the subject is the weights
    {
        "name": "ensemble",
        "label": "anchored",
        "anchor_years": 5,
        "params": {"members": [SKLEARN_LOGIT, NAIVE_BAYES]},
    },
    {"name": "stacked", "params": {"min_events": 3}},
    {"name": "selected", "params": {"min_events": 3}},
]


@settings(
    max_examples=2, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 10_000), origin=st.integers(1998, 2005))
@pytest.mark.slow
def test_meta_model_weights_use_only_outcomes_known_at_each_origin(toy_panel, seed, origin):
    """Leakage proof for stacked and selected: their weights at T come from a history of earlier
    origins, so alter every outcome unknown at T (and every later row): the forecasts and
    weights of every origin up to T are unchanged."""
    config = _config(META, origins={"first": 1995, "last": origin})
    before = run_backtest(config, panel=toy_panel).forecasts
    after = run_backtest(config, panel=_alter_after(toy_panel, origin, seed)).forecasts
    meta = before[before["model"].isin(["stacked", "selected"])]
    assert (meta["meta_choice"] != "equal").any()  # the history was used, not only equal weights
    cols = [
        "unit",
        "year",
        "model",
        "probability",
        "meta_intercept",
        "meta_choice",
        *(c for c in before.columns if c.startswith("weight_")),
    ]
    pd.testing.assert_frame_equal(
        before[cols].reset_index(drop=True), after[cols].reset_index(drop=True), check_exact=True
    )


@pytest.mark.slow
def test_same_numbers_whatever_the_number_of_workers(toy_panel):
    config = _config(
        [
            {"name": "random_forest", "params": {"n_estimators": 20}},
            {"name": "xgboost", "params": {"n_estimators": 20}},
            {"name": "elastic_net", "params": {"n_alphas": 8}},
        ]
    )
    one = run_backtest(config, panel=toy_panel, n_jobs=1).forecasts
    two = run_backtest(config, panel=toy_panel, n_jobs=2).forecasts
    pd.testing.assert_frame_equal(one, two, check_exact=True)


def test_cache_resumes_and_rerun_is_instant(toy_panel, tmp_path):
    config = _config([{"name": "xgboost", "params": {"n_estimators": 20}}])
    partial = dataclasses.replace(config, origins=(1995, 1996, 1997))  # a "killed" run
    run_backtest(partial, panel=toy_panel, cache_dir=tmp_path)
    first = run_backtest(config, panel=toy_panel, cache_dir=tmp_path)
    assert first.scores["cached"].sum() == 3
    second = run_backtest(config, panel=toy_panel, cache_dir=tmp_path)
    assert second.scores["cached"].all()
    pd.testing.assert_frame_equal(first.forecasts, second.forecasts, check_exact=True)
    assert not list(tmp_path.glob("*.tmp"))


def test_ensemble_reuses_member_fits(toy_panel, tmp_path):
    config = _config(
        [
            {"name": "elastic_net", "params": {"n_alphas": 8}},
            {"name": "xgboost", "params": {"n_estimators": 20}},
            {
                "name": "ensemble",
                "params": {
                    "members": [
                        {"name": "elastic_net", "params": {"n_alphas": 8}},
                        {"name": "xgboost", "params": {"n_estimators": 20}},
                    ]
                },
            },
        ]
    )
    result = run_backtest(config, panel=toy_panel, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("*.npz"))) == 2 * 16  # members fitted once, not twice
    f = result.forecasts.pivot_table(index=["unit", "year"], columns="model", values="probability")
    np.testing.assert_allclose(f["ensemble"], (f["elastic_net"] + f["xgboost"]) / 2, atol=1e-15)


def test_a_failing_model_is_recorded_and_others_continue(toy_panel):
    # A separable design no longer fails the logit (it refits with a ridge, docs/design/0012),
    # and out-of-range parameters are refused when the spec loads: priors that GaussianNB
    # accepts when built but refuses when fitted do fail the fit.
    broken = {
        "name": "sklearn",
        "label": "broken",
        "params": {"class": "sklearn.naive_bayes.GaussianNB", "priors": [2.0, -1.0]},
    }
    result = run_backtest(
        _config([broken, {"name": "xgboost", "params": {"n_estimators": 10}}]), panel=toy_panel
    )
    failed = result.failed
    assert len(failed) > 0 and set(failed["model"]) == {"broken"}
    assert failed["error"].str.contains("priors", case=False).all()
    assert (result.scores[result.scores.model == "xgboost"]["status"] == "ok").all()


def test_dask_local_cluster_gives_identical_results(toy_panel):
    from dask.distributed import LocalCluster

    config = _config(
        [
            {"name": "xgboost", "params": {"n_estimators": 15}},
            {"name": "elastic_net", "params": {"n_alphas": 6}},
        ],
        origins=[2000, 2004],
    )
    local = run_backtest(config, panel=toy_panel, n_jobs=1).forecasts
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        remote = run_backtest(
            config, panel=toy_panel, backend="dask", scheduler=cluster.scheduler_address, n_jobs=2
        ).forecasts
    pd.testing.assert_frame_equal(local, remote, check_exact=True)


def _collinear(panel: Panel) -> Panel:
    frame = panel.frame.assign(x1_twice=lambda f: 2 * f["x1"])  # a rank-deficient design
    return Panel.from_frame(
        frame, features=["x1", "x2", "x3", "x1_twice"], outcomes=["mk_onset"], name="collinear"
    )


def test_fit_warnings_are_recorded_per_task_not_printed(toy_panel, tmp_path, capfd, caplog):
    config = _config(["logit"], origins=[2000, 2001, 2002, 2003])
    panel = _collinear(toy_panel)
    with caplog.at_level("WARNING", logger="forecast.backtest"):
        one = run_backtest(config, panel=panel, n_jobs=1, cache_dir=tmp_path)
        two = run_backtest(config, panel=panel, n_jobs=2, backend="loky")
        cached = run_backtest(config, panel=panel, n_jobs=2, cache_dir=tmp_path)
    scores = one.scores
    assert (scores["status"] == "ok").all() and (scores["warnings"] > 0).all()
    assert scores["warning"].str.startswith("SingularMatrixWarning: The design matrix").all()
    assert (scores["warning"].str.len() <= 200).all()
    assert cached.scores["cached"].all()
    columns = ["origin", "model", "warnings", "warning"]
    for other in (two, cached):  # the same whatever the workers, and kept by the cache
        pd.testing.assert_frame_equal(one.scores[columns], other.scores[columns])
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 3 and lines[0].startswith(
        "4 of 4 backtest tasks raised warnings (first: logit at origin 2000: "
        "SingularMatrixWarning: "
    )
    assert len(capfd.readouterr().err.splitlines()) <= 2  # no wall from the workers


def test_ensemble_adds_up_its_members_warnings(toy_panel):
    members = ["logit", {"name": "xgboost", "params": {"n_estimators": 5}}]
    config = _config(
        ["logit", {"name": "ensemble", "params": {"members": members}}], origins=[2000]
    )
    scores = run_backtest(config, panel=_collinear(toy_panel)).scores.set_index("model")
    assert scores.loc["ensemble", "warnings"] == scores.loc["logit", "warnings"] > 0
    assert scores.loc["ensemble", "warning"] == "logit: " + scores.loc["logit", "warning"]


def test_capture_warnings_records_each_threads_own_warnings():
    import threading
    import warnings

    from forecast.backtest import capture_warnings

    barrier = threading.Barrier(4)
    counts: dict[int, tuple[int, str]] = {}

    def work(i: int) -> None:
        with capture_warnings() as caught:
            barrier.wait()
            for _ in range(i + 1):  # repeats count: every warning is recorded
                warnings.warn(f"thread {i}", UserWarning)
            barrier.wait()
        counts[i] = (caught.count, caught.first)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert counts == {i: (i + 1, f"UserWarning: thread {i}") for i in range(4)}
    with pytest.warns(UserWarning, match="shown again"):  # the hook is gone afterwards
        warnings.warn("shown again", UserWarning)


def test_capture_warnings_keeps_error_filters_and_logs_one_line(caplog):
    import warnings

    from forecast.backtest import capture_warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        with pytest.raises(FutureWarning, match="still an error"), capture_warnings():
            warnings.warn("still an error", FutureWarning)
    with caplog.at_level("WARNING", logger="forecast.backtest"), capture_warnings("toy fit"):
        warnings.warn("x" * 300, UserWarning)
        warnings.warn("second", RuntimeWarning)
    [line] = [r.getMessage() for r in caplog.records]
    assert line.startswith("toy fit raised 2 warning(s) (first: UserWarning: xxx")
    assert line.endswith("...)") and len(line) == len("toy fit raised 2 warning(s) (first: )") + 200
