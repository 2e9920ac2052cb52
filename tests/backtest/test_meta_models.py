"""stacked and selected: weights from what each origin knew, shared member fits, known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression

from forecast._errors import ForecastInputError
from forecast._math import expit, logit
from forecast.backtest import backtest_models, meta_members, run_backtest
from forecast.experiment import experiment_from_dict
from forecast.models import (
    BAND,
    AveragingEnsemble,
    ConvergenceFailure,
    MetaEnsemble,
    ModelTags,
    _registry,
    build_model,
    choose_by_origin,
    max_shift,
)
from forecast.models._meta import MetaChoice, combine_logits, select_member, stacking_weights
from forecast.outcomes import onset_within
from forecast.panel import Panel

EN = {"name": "elastic_net", "params": {"n_alphas": 8}}
LOGIT = {
    "name": "sklearn",
    "label": "logreg",
    "params": {"class": "sklearn.linear_model.LogisticRegression", "C": 0.5, "max_iter": 1000},
}
XGB = {"name": "xgboost", "params": {"n_estimators": 20}}


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


@pytest.fixture(scope="module")
def result(toy_panel, tmp_path_factory):
    config = _config(
        [
            EN,
            LOGIT,
            XGB,
            {"name": "stacked", "params": {"min_events": 5}},
            {"name": "selected", "params": {"min_events": 5}},
        ]
    )
    cache = tmp_path_factory.mktemp("cache")
    return run_backtest(config, panel=toy_panel, cache_dir=cache), cache


# -- known answers ---------------------------------------------------------------------------


def test_combine_is_the_weighted_log_odds_and_one_hot_passes_a_member_through(rng):
    P = rng.uniform(0.01, 0.9, size=(50, 3))
    expected = expit(0.3 + logit(P) @ np.array([0.2, 0.5, 0.1]))
    np.testing.assert_allclose(combine_logits(P, [0.2, 0.5, 0.1], 0.3), expected, rtol=1e-12)
    assert np.array_equal(combine_logits(P, [0.0, 1.0, 0.0]), P[:, 1])  # bit for bit
    P[:, 2] = np.nan  # a member without forecasts at this origin is left out
    np.testing.assert_allclose(
        combine_logits(P, [0.5, 0.5, np.nan]), expit(logit(P[:, :2]).mean(axis=1)), rtol=1e-12
    )


def test_stacking_finds_the_informative_member_and_shrinks_by_n_over_n_plus_k(rng):
    n = 4000
    truth = expit(rng.normal(-2.5, 1.2, size=n))
    y = (rng.random(n) < truth).astype(float)
    noise = expit(rng.normal(-2.5, 1.2, size=n))
    P = np.column_stack([truth, noise])
    weights, intercept, lam = stacking_weights(P, y, shrinkage=30.0)
    assert lam == pytest.approx(y.sum() / (y.sum() + 30.0))
    raw = (weights - (1 - lam) / 2) / lam  # undo the shrinkage
    assert raw[0] == pytest.approx(1.0, abs=0.15) and raw[1] == pytest.approx(0.0, abs=0.05)
    assert (raw >= -1e-12).all() and abs(intercept / lam) < 0.5
    # default k = 10 (M + 1): half weight at ten onsets per fitted parameter
    _, _, half = stacking_weights(P[:600], y[:600])
    assert half == pytest.approx(y[:600].sum() / (y[:600].sum() + 30.0))


def _with_first_member(P, value):
    Q = P.copy()
    Q[:, 0] = value
    return Q


@pytest.mark.parametrize("weight", [0.25, 1 / 3, 1.7])
def test_one_member_at_one_moves_the_combined_log_odds_by_at_most_its_bound(rng, weight):
    P = rng.uniform(0.02, 0.11, size=(40, 3))  # the others say 2-11%
    weights, intercept = np.array([weight, 0.5, 0.4]), -0.3
    sane = logit(combine_logits(P, weights, intercept))
    for degenerate in (1.0, 0.0):
        moved = logit(combine_logits(_with_first_member(P, degenerate), weights, intercept))
        assert np.all(np.abs(moved - sane) <= max_shift(weight) + 1e-9)
    # the bound is attained between the ends of the band: 2 w logit(1 - 1e-4) = 18.42 w
    one, zero = (
        logit(combine_logits(_with_first_member(P, v), weights, intercept)) for v in (1.0, 0.0)
    )
    np.testing.assert_allclose(one - zero, max_shift(weight), rtol=1e-9)
    assert max_shift(weight) == pytest.approx(2 * weight * np.log((1 - BAND) / BAND))
    # the same bound holds for an ensemble averaging log-odds (weights normalised to sum 1)
    w = weights / weights.sum()
    one, zero = (
        logit(AveragingEnsemble.combine(_with_first_member(P, v), method="logit", weights=w))
        for v in (1.0, 0.0)
    )
    np.testing.assert_allclose(one - zero, max_shift(w[0]), rtol=1e-9)


def test_bounded_forecasts_are_counted_for_weighted_members_and_others_pass_unchanged(rng):
    P = rng.uniform(0.02, 0.11, size=(5, 3))
    P[0, 0], P[1, 1], P[1, 2], P[2, 2] = 1.0, 0.0, 1e-5, 1.0
    choice = MetaChoice(np.array([0.5, 0.5, 0.0]), 0.0, 0.0, 0, "stacked")
    assert choice.bounded(P).tolist() == [1, 1, 0, 0, 0]  # member 3 has weight 0
    one_hot = combine_logits(P, [1.0, 0.0, 0.0])  # a selected member is bounded too
    assert one_hot[0] == 1 - BAND and np.array_equal(one_hot[1:], P[1:, 0])


def test_selection_takes_the_lowest_log_loss_and_the_first_on_ties():
    y = np.array([1.0, 0.0, 0.0, 1.0])
    good, bad = np.array([0.8, 0.2, 0.1, 0.7]), np.array([0.4, 0.5, 0.5, 0.4])
    assert select_member(np.column_stack([bad, good]), y) == 1
    assert select_member(np.column_stack([good, good]), y) == 0


def test_history_is_only_windows_closed_by_the_origin():
    rng = np.random.default_rng(1)
    blocks = [
        (s, rng.uniform(0.01, 0.5, size=(40, 2)), (rng.random(40) < 0.2).astype(float))
        for s in range(2000, 2010)
    ]
    choices = choose_by_origin("stacked", blocks, horizon=2, members=["a", "b"], min_events=1)
    for (origin, _, _), choice in zip(blocks, choices):
        expected = sum(y.sum() for s, _, y in blocks if s + 2 <= origin)
        assert choice.n_events == expected
    # changing outcomes of windows still open at 2005 (years 2004, 2005, ...) changes nothing
    flipped = [(s, P, 1 - y if s + 2 > 2005 else y) for s, P, y in blocks]
    again = choose_by_origin("stacked", flipped, horizon=2, members=["a", "b"], min_events=1)
    for before, after in zip(choices[:6], again[:6]):
        assert np.array_equal(before.weights, after.weights)
        assert before.intercept == after.intercept


def test_equal_weights_until_the_minimum_then_both_rules():
    rng = np.random.default_rng(2)
    blocks = [
        (s, rng.uniform(0.01, 0.5, size=(30, 3)), (rng.random(30) < 0.15).astype(float))
        for s in range(2000, 2008)
    ]
    stacked = choose_by_origin("stacked", blocks, horizon=1, members=list("abc"), min_events=10)
    selected = choose_by_origin("selected", blocks, horizon=1, members=list("abc"), min_events=10)
    for s, sel in zip(stacked, selected):
        if s.n_events < 10:
            assert s.choice == sel.choice == "equal" and s.shrinkage == 0.0
            assert np.array_equal(s.weights, np.full(3, 1 / 3))
            assert np.array_equal(s.weights, sel.weights) and s.intercept == sel.intercept == 0
        else:
            assert s.choice == "stacked" and 0 < s.shrinkage < 1
            assert sel.choice in "abc" and sorted(sel.weights) == [0.0, 0.0, 1.0]


@pytest.mark.parametrize(
    ("kind", "options", "message"),
    [
        ("mean", {}, "kind must be one of"),
        ("stacked", {"min_events": -1}, "min_events must be an integer >= 0"),
        ("stacked", {"shrinkage": 0}, "shrinkage must be a number > 0"),
    ],
)
def test_bad_options_are_one_line_errors(kind, options, message):
    with pytest.raises(ForecastInputError, match=message):
        choose_by_origin(kind, [], horizon=2, members=[], **options)


def test_the_registered_estimator_weighs_equally_and_refuses_a_label():
    from forecast.models._checks import contract_data

    X, y, years = contract_data()
    model = build_model("stacked", {"members": [EN, XGB], "seed": 0})
    model.fit(X, y, years=years)
    members = np.column_stack([est.predict_proba(X)[:, 1] for _, est in model.estimators_])
    np.testing.assert_array_equal(
        model.predict_proba(X)[:, 1], expit(logit(np.clip(members, 1e-9, 1 - 1e-9)) @ [0.5, 0.5])
    )
    with pytest.raises(ForecastInputError, match=r"members \['my_label'\] are not registered"):
        build_model("selected", {"members": ["my_label"]}).fit(X, y)
    with pytest.raises(ForecastInputError, match="members must be a non-empty list"):
        build_model("stacked", {"members": []})


# -- in the engine ---------------------------------------------------------------------------


def test_meta_models_reuse_member_fits(result):
    res, cache = result
    assert len(list(cache.glob("*.npz"))) == 3 * 16  # the members' fits only
    assert set(res.scores["status"]) == {"ok"}


def test_weights_are_recomputed_by_an_independent_loop(result, toy_panel):
    """Oracle: rebuild each origin's history with a pandas filter and refit by hand."""
    f = result[0].forecasts
    wide = f.pivot_table(
        index=["unit", "year", "origin"], columns="model", values="probability"
    ).reset_index()
    wide = wide.merge(f[f.model == "logreg"][["unit", "year", "outcome"]], on=["unit", "year"])
    members = ["elastic_net", "logreg", "xgboost"]
    for origin in range(1995, 2011):
        history = wide[(wide.year + 2 <= origin) & wide.outcome.notna()]
        own = f[(f.model == "stacked") & (f.origin == origin)]
        chosen = f[(f.model == "selected") & (f.origin == origin)]
        weights = own[[f"weight_{m}" for m in members]].iloc[0].to_numpy()
        if history.outcome.sum() < 5:
            assert own.meta_choice.eq("equal").all() and np.allclose(weights, 1 / 3)
            continue
        expected, intercept, _ = stacking_weights(
            history[members].to_numpy(), history.outcome.to_numpy()
        )
        # the same optimum; only the order of the history's rows (summation) differs
        np.testing.assert_allclose(weights, expected, rtol=1e-8, atol=1e-10)
        assert own.meta_intercept.iloc[0] == pytest.approx(intercept, rel=1e-8, abs=1e-10)
        P = wide[wide.origin == origin].set_index("unit").loc[own.unit, members].to_numpy()
        np.testing.assert_array_equal(
            own.probability.to_numpy(), combine_logits(P, weights, own.meta_intercept.iloc[0])
        )
        best = members[select_member(history[members].to_numpy(), history.outcome.to_numpy())]
        assert chosen.meta_choice.eq(best).all()
        member = f[(f.model == best) & (f.origin == origin)].set_index("unit").loc[chosen.unit]
        assert np.array_equal(chosen.probability.to_numpy(), member.probability.to_numpy())


def test_forecast_table_with_meta_columns_passes_the_schema(result, tmp_path):
    from forecast.run import check_forecasts

    f = result[0].forecasts
    checked = check_forecasts(f, caller="test")
    assert {
        "weight_elastic_net",
        "meta_intercept",
        "meta_lambda",
        "meta_events",
        "meta_choice",
    } <= set(checked.columns)
    f.to_parquet(tmp_path / "f.parquet", index=False)  # strings and missing values mix
    assert pd.read_parquet(tmp_path / "f.parquet").shape == f.shape


def test_members_default_to_the_other_models_and_resolve_labels():
    config = _config(
        [
            EN,
            LOGIT,
            {
                "name": "ensemble",
                "label": "ens",
                "anchor_years": 5,
                "params": {"members": [EN, XGB]},
            },
            {"name": "stacked"},
            {"name": "selected", "params": {"members": ["ens", "xgboost", EN, EN]}},
        ]
    )
    stacked, selected = config.models[3], config.models[4]
    assert [m.label for m in meta_members(config, stacked)] == ["elastic_net", "logreg", "ens"]
    chosen = meta_members(config, selected)
    assert [m.label for m in chosen] == ["ens", "xgboost", "elastic_net", "elastic_net_2"]
    assert chosen[0].anchor_years == 5 and chosen[1].params == {}
    assert chosen[2].params == {"n_alphas": 8}  # a mapping is a fit of its own
    assert [m.label for m in backtest_models(config, stacked)][-1] == "stacked"


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ({"name": "stacked", "params": {"members": ["nope"]}}, "member 'nope' is neither"),
        ({"name": "stacked", "params": {"members": ["selected"]}}, "member 'selected' is neither"),
        (
            {"name": "selected", "calibration": "platt", "calibration_years": 2},
            "cannot take calibration",
        ),
    ],
)
def test_bad_members_fail_before_any_data_is_read(model, message):
    config = _config([EN, model])
    with pytest.raises(ForecastInputError, match=message):
        run_backtest(config, panel=None)  # the panel would be loaded after the check


def test_a_meta_model_alone_has_no_members():
    with pytest.raises(ForecastInputError, match="has no members"):
        run_backtest(_config([{"name": "stacked"}]), panel=None)


class _Certain(ClassifierMixin, BaseEstimator):
    """A logistic regression that says exactly 1.0 for the row it ranks highest."""

    def fit(self, X, y, *, sample_weight=None, years=None):
        self.model_ = LogisticRegression(max_iter=1000).fit(np.nan_to_num(X), y)
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X):
        p = self.model_.predict_proba(np.nan_to_num(X))[:, 1]
        p[np.argmax(p)] = 1.0
        return np.column_stack([1 - p, p])


class _Failing(_Certain):
    def fit(self, X, y, *, sample_weight=None, years=None):
        raise ConvergenceFailure("this member never converges")


@pytest.fixture
def registered(monkeypatch):
    for name, model in (("certain", _Certain), ("failing", _Failing)):
        monkeypatch.setitem(_registry._REGISTRY, name, lambda model=model, **params: model())
        monkeypatch.setitem(_registry._TAGS, name, ModelTags())


def test_a_member_that_says_one_is_bounded_recorded_and_counted(toy_panel, registered, tmp_path):
    config = _config(
        [EN, "certain", {"name": "stacked", "params": {"min_events": 5}}],
        origins=[2000, 2004, 2008],
    )
    res = run_backtest(config, panel=toy_panel, cache_dir=tmp_path)
    f = res.forecasts.set_index(["origin", "unit"])
    own = f[f.model == "stacked"]
    certain = f[f.model == "certain"].loc[own.index, "probability"].to_numpy()
    en = f[f.model == "elastic_net"].loc[own.index, "probability"].to_numpy()
    assert (certain == 1.0).sum() == 3  # one row per origin
    np.testing.assert_array_equal(own.meta_bounded.to_numpy(), (certain == 1.0).astype(int))
    eta = (
        own.meta_intercept
        + own.weight_elastic_net * logit(np.clip(en, BAND, 1 - BAND))
        + own.weight_certain * logit(np.clip(certain, BAND, 1 - BAND))
    )
    np.testing.assert_allclose(own.probability, expit(eta.to_numpy()), rtol=1e-12)
    scores = res.scores[res.scores.model == "stacked"]
    assert scores.warning.str.startswith("1 member forecasts bounded to [1e-4, 1-1e-4]").all()
    assert (scores.warnings >= 1).all()


def test_a_separated_logit_is_refitted_and_stays_in_the_combination(toy_panel, tmp_path):
    frame = toy_panel.frame.copy()
    frame["leak"] = onset_within(frame, 2).fillna(0) * 100.0  # the MLE cannot converge
    panel = Panel.from_frame(
        frame, features=["x1", "x2", "x3", "leak"], outcomes=["mk_onset"], name="sep"
    )
    config = _config(["logit", XGB, {"name": "stacked"}], origins=[1998, 2001])
    res = run_backtest(config, panel=panel, cache_dir=tmp_path)
    logit_scores = res.scores[res.scores.model == "logit"]
    assert (logit_scores.status == "ok").all()
    assert logit_scores.warning.str.contains("refitted with an L2 penalty").all()
    own = res.forecasts[res.forecasts.model == "stacked"]
    assert own.weight_logit.gt(0).all() and own.probability.between(BAND, 1 - BAND).all()


def test_a_failing_member_is_left_out_at_its_origins(toy_panel, registered, tmp_path):
    config = _config(
        ["failing", XGB, {"name": "stacked", "params": {"min_events": 3}}],
        origins=[1998, 1999, 2000, 2001],
    )
    res = run_backtest(config, panel=toy_panel, cache_dir=tmp_path)
    assert (res.scores.loc[res.scores.model == "failing", "status"] == "failed").all()
    own = res.forecasts[res.forecasts.model == "stacked"]
    assert len(own) and own["weight_failing"].isna().all()
    xgb = res.forecasts[res.forecasts.model == "xgboost"].set_index(["origin", "unit"])
    for origin, block in own.groupby("origin"):
        assert block.weight_xgboost.gt(0).all()
        P = np.column_stack(
            [np.full(len(block), np.nan), xgb.loc[origin].loc[block.unit, "probability"].to_numpy()]
        )
        weights = block[["weight_failing", "weight_xgboost"]].iloc[0].to_numpy()
        np.testing.assert_array_equal(
            block.probability.to_numpy(), combine_logits(P, weights, block.meta_intercept.iloc[0])
        )


def test_meta_ensemble_from_fitted_applies_one_origins_weights(rng):
    class Fixed:
        def __init__(self, p):
            self.p = p

        def predict_proba(self, X):
            return np.column_stack([1 - self.p, self.p])

    a, b = rng.uniform(0.01, 0.5, 20), rng.uniform(0.01, 0.5, 20)
    model = MetaEnsemble.from_fitted([("a", Fixed(a)), ("b", None)], weights=[1.0, np.nan])
    assert np.array_equal(model.predict_proba(np.zeros((20, 1)))[:, 1], a)
    model = MetaEnsemble.from_fitted(
        [("a", Fixed(a)), ("b", Fixed(b))], weights=[0.7, 0.4], intercept=-0.2
    )
    np.testing.assert_array_equal(
        model.predict_proba(np.zeros((20, 1)))[:, 1],
        combine_logits(np.column_stack([a, b]), [0.7, 0.4], -0.2),
    )
