"""Drivers: exact linear and TreeSHAP attributions, ensemble averaging, occlusion, flags."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecast.backtest._task import make_estimator
from forecast.experiment import ModelSpec
from forecast.models import fit_estimator
from forecast.panel import Panel
from forecast.risk import attribute, driver_table, driver_text, input_flags
from forecast.risk._drivers import log_odds

FEATURES = ["x1", "x2", "x3"]
KINDS = {"x1": "structural", "x2": "trigger", "x3": "mitigating"}


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    n = 1500
    X = rng.normal(size=(n, 3))
    X[rng.random(n) < 0.1, 2] = np.nan  # x3 partly missing: imputed, with an indicator
    eta = -2.5 + 1.2 * X[:, 0] - 0.8 * X[:, 1]
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    years = np.repeat(np.arange(1980, 2010), n // 30)
    return X, y, years


def _fit(spec: ModelSpec, data):
    X, y, years = data
    return fit_estimator(make_estimator(spec, 0), X, y, years=years)


@pytest.mark.parametrize("name", ["elastic_net", "logit"])
def test_linear_contributions_are_exact_and_hand_computable(data, name):
    X = data[0]
    model = _fit(ModelSpec(name, name, {"n_alphas": 8} if name == "elastic_net" else {}), data)
    att = attribute(model, X[:50], reference=np.zeros(3))
    assert att.method == "linear" and att.additive
    np.testing.assert_allclose(att.base + att.contributions.sum(1), model.decision_function(X[:50]),
                               rtol=0, atol=1e-9)
    # hand oracle for x1 (no missing values): coefficient x (x - training mean) / training sd
    coef = model.coef_[0] if name == "elastic_net" else model.params_[1]
    mean, sd = np.mean(X[:, 0]), np.std(X[:, 0])
    np.testing.assert_allclose(att.contributions[:, 0], coef * (X[:50, 0] - mean) / sd,
                               rtol=1e-9, atol=1e-12)


def test_treeshap_and_logit_ensemble_add_up_to_the_log_odds(data):
    X = data[0][:80]
    members = [{"name": "elastic_net", "params": {"n_alphas": 8}},
               {"name": "xgboost", "params": {"n_estimators": 30}}]
    xgb = _fit(ModelSpec("xgboost", "x", {"n_estimators": 30}), data)
    att = attribute(xgb, X, reference=np.zeros(3))
    assert att.method == "treeshap"
    # float32 trees: additive to single precision
    np.testing.assert_allclose(att.base + att.contributions.sum(1), log_odds(xgb, X), atol=1e-5)
    ens = _fit(ModelSpec("ensemble", "e", {"members": members, "method": "logit"}), data)
    att = attribute(ens, X, reference=np.zeros(3))
    assert att.additive and att.method == "ensemble of linear+treeshap"
    np.testing.assert_allclose(att.base + att.contributions.sum(1), log_odds(ens, X), atol=1e-5)
    parts = [attribute(m, X, reference=np.zeros(3)).contributions for _, m in ens.estimators_]
    np.testing.assert_allclose(att.contributions, (parts[0] + parts[1]) / 2, atol=1e-12)


def test_occlusion_replaces_one_feature_by_its_training_median(data):
    X = data[0][:30]
    forest = _fit(ModelSpec("random_forest", "rf", {"n_estimators": 30}), data)
    reference = np.nanmedian(data[0], axis=0)
    att = attribute(forest, X, reference=reference)
    assert att.method == "occlusion" and not att.additive
    occluded = X.copy()
    occluded[:, 1] = reference[1]
    np.testing.assert_allclose(att.contributions[:, 1],
                               log_odds(forest, X) - log_odds(forest, occluded), atol=1e-12)


def test_recalibrated_models_attribute_their_base_model(data):
    X = data[0][:20]
    model = _fit(ModelSpec("elastic_net", "c", {"n_alphas": 8}, "platt"), data)
    att = attribute(model, X, reference=np.zeros(3))
    assert att.method == "recalibrated base: linear"
    base = attribute(model.estimator_, X, reference=np.zeros(3))
    np.testing.assert_array_equal(att.contributions, base.contributions)


def _flag_panel() -> Panel:
    rows = []
    for unit in ("A", "B"):
        for year in range(2000, 2008):
            moving = float(year) if unit == "A" or year < 2005 else 2004.0  # B frozen 2004-2007
            rows.append({"unit": unit, "year": year, "moving": moving, "constant": 1.0,
                         "gappy": np.nan if (unit == "A" and year == 2007) else year / 10,
                         "mk_onset": 0.0})
    return Panel.from_frame(pd.DataFrame(rows), features=["moving", "constant", "gappy"],
                            outcomes=["mk_onset"], kinds={"moving": "structural"})


def test_flags_mark_imputed_and_stale_inputs():
    flags = input_flags(_flag_panel(), 2007)
    assert flags.loc["A", "imputed:gappy"] and not flags.loc["B", "imputed:gappy"]
    assert flags.loc["B", "stale:moving"] and not flags.loc["A", "stale:moving"]
    assert not flags["stale:constant"].any()  # never moves, so never stale
    assert flags.loc["A", "flags"] == "imputed: gappy"
    assert flags.loc["B", "flags"] == "stale (3+ yrs unchanged): moving"
    # two unchanged years are not yet stale
    assert not input_flags(_flag_panel(), 2005).loc["B", "stale:moving"]


def test_driver_text_groups_the_largest_contributions_by_kind():
    drivers = pd.DataFrame({
        "unit": ["A"] * 4, "feature": ["s1", "t1", "m1", "s2"],
        "kind": ["structural", "trigger", "mitigating", "structural"],
        "contribution": [0.7, 1.1, -0.4, 0.01]})
    text = driver_text(drivers, top=3).set_index("unit")
    assert text.loc["A", "drivers_up"] == ("structural: s1 (odds x2.01) | "
                                          "trigger: t1 (odds x3.00)")
    assert text.loc["A", "drivers_down"] == "mitigating: m1 (odds x0.67)"


def test_driver_table_is_long_and_labelled(data):
    model = _fit(ModelSpec("elastic_net", "e", {"n_alphas": 8}), data)
    panel = _flag_panel()
    table = driver_table(model, data[0][:2], np.array(["A", "B"]),
                         Panel(panel.frame, "unit", "year", FEATURES, [], KINDS),
                         reference=np.zeros(3))
    assert len(table) == 6 and table["kind"].tolist()[:3] == ["structural", "trigger",
                                                              "mitigating"]
    np.testing.assert_allclose(table["odds_ratio"], np.exp(table["contribution"]))
