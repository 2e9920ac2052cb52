"""Drivers: exact linear and TreeSHAP attributions, ensemble averaging, occlusion, flags,
and the words they are shown in (labels, values, unit names)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from forecast._errors import ForecastInputError
from forecast.backtest._task import make_estimator
from forecast.experiment import ModelSpec
from forecast.models import fit_estimator
from forecast.panel import Panel
from forecast.risk import attribute, driver_table, driver_text, input_flags, unit_names
from forecast.risk._drivers import common_flags, flag_texts, log_odds
from forecast.statesystem import StateSystem

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
    np.testing.assert_allclose(
        att.base + att.contributions.sum(1), model.decision_function(X[:50]), rtol=0, atol=1e-9
    )
    # hand oracle for x1 (no missing values): coefficient x (x - training mean) / training sd
    coef = model.coef_[0] if name == "elastic_net" else model.params_[1]
    mean, sd = np.mean(X[:, 0]), np.std(X[:, 0])
    np.testing.assert_allclose(
        att.contributions[:, 0], coef * (X[:50, 0] - mean) / sd, rtol=1e-9, atol=1e-12
    )


def test_treeshap_and_logit_ensemble_add_up_to_the_log_odds(data):
    X = data[0][:80]
    members = [
        {"name": "elastic_net", "params": {"n_alphas": 8}},
        {"name": "xgboost", "params": {"n_estimators": 30}},
    ]
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
    np.testing.assert_allclose(
        att.contributions[:, 1], log_odds(forest, X) - log_odds(forest, occluded), atol=1e-12
    )


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
            rows.append(
                {
                    "unit": unit,
                    "year": year,
                    "moving": moving,
                    "constant": 1.0,
                    "gappy": np.nan if (unit == "A" and year == 2007) else year / 10,
                    "mk_onset": 0.0,
                }
            )
    return Panel.from_frame(
        pd.DataFrame(rows),
        features=["moving", "constant", "gappy"],
        outcomes=["mk_onset"],
        kinds={"moving": "structural"},
    )


def test_flags_mark_imputed_and_stale_inputs():
    flags = input_flags(_flag_panel(), 2007)
    assert flags.loc["A", "imputed:gappy"] and not flags.loc["B", "imputed:gappy"]
    assert flags.loc["B", "stale:moving"] and not flags.loc["A", "stale:moving"]
    assert flags.loc["B", "since:moving"] == 2004 and np.isnan(flags.loc["A", "since:moving"])
    assert not flags["stale:constant"].any()  # never moves, so never stale
    assert flags.loc["A", "flags"] == "gappy: no data for 2007 (filled in)"
    assert flags.loc["B", "flags"] == "moving: last updated 2004"
    # two unchanged years are not yet stale
    assert not input_flags(_flag_panel(), 2005).loc["B", "stale:moving"]


def test_flags_say_what_they_mean_with_labels():
    labels = {
        "moving": SimpleNamespace(text="ethnic diversity index", display=None),
        "gappy": SimpleNamespace(text="economic growth", display=None),
    }
    flags = input_flags(_flag_panel(), 2007, indicators=labels)
    assert flags.loc["B", "flags"] == "ethnic diversity index: last updated 2004"
    assert flags.loc["A", "flags"] == "economic growth: no data for 2007 (filled in)"
    shared, sentences = common_flags(flags, ["moving", "gappy"], 2007, labels, share=0.5)
    assert shared == ["moving", "gappy"]
    assert sentences == [
        "ethnic diversity index: last updated 2004 for 1 of 2 countries",
        "economic growth: no data for 2007 for 1 of 2 countries (filled in by the model)",
    ]
    assert flag_texts(flags, ["moving", "gappy"], 2007, labels, omit=shared) == ["", ""]


def test_driver_text_groups_the_largest_contributions_by_kind():
    drivers = pd.DataFrame(
        {
            "unit": ["A"] * 4,
            "feature": ["s1", "t1", "m1", "s2"],
            "kind": ["structural", "trigger", "mitigating", "structural"],
            "contribution": [0.7, 1.1, -0.4, 0.01],
        }
    )
    text = driver_text(drivers, top=3).set_index("unit")
    assert text.loc["A", "drivers_up"] == (
        "structural: s1, raises risk (odds x2.01) | trigger: t1, raises risk (odds x3.00)"
    )
    assert text.loc["A", "drivers_down"] == "mitigating: m1, lowers risk (odds x0.67)"


def test_driver_text_reads_labels_values_and_directions_in_words():
    drivers = pd.DataFrame(
        {
            "unit": ["A"] * 5,
            "feature": ["discrimpop", "year", "year_sq", "coup", "iccpr"],
            "label": [
                "share of population politically discriminated",
                "time trend",
                "time trend",
                "coup attempt in the last five years",
                "accepts UN complaints",
            ],
            "kind": ["structural", "other", "other", "trigger", "mitigating"],
            "value_text": ["42%", "", "", "yes", "no (as of 2013)"],
            "contribution": [0.63, -0.1, -0.2, 0.3, 0.2],
        }
    )
    text = driver_text(drivers).set_index("unit")
    assert text.loc["A", "drivers_up"] == (
        "structural: share of population politically discriminated: 42%, raises risk "
        "(odds x1.88) | trigger: coup attempt in the last five years: yes, raises risk "
        "(odds x1.35) | mitigating: accepts UN complaints: no (as of 2013), raises risk "
        "(odds x1.22)"
    )
    # a year and its square are one "time trend": their contributions add up
    assert text.loc["A", "drivers_down"] == "other: time trend, lowers risk (odds x0.74)"
    assert "discrimpop" not in text.loc["A", "drivers_up"]


def test_driver_table_is_long_and_labelled(data):
    model = _fit(ModelSpec("elastic_net", "e", {"n_alphas": 8}), data)
    panel = _flag_panel()
    table = driver_table(
        model,
        data[0][:2],
        np.array(["A", "B"]),
        Panel(panel.frame, "unit", "year", FEATURES, [], KINDS),
        reference=np.zeros(3),
    )
    assert len(table) == 6 and table["kind"].tolist()[:3] == ["structural", "trigger", "mitigating"]
    np.testing.assert_allclose(table["odds_ratio"], np.exp(table["contribution"]))
    assert table["label"].tolist()[:3] == FEATURES  # no labels: the names


def test_driver_table_labels_values_with_unit_and_year():
    from forecast.features import Display

    panel = _flag_panel()
    model = fit_estimator(
        make_estimator(ModelSpec("logit", "l", {}), 0),
        panel.frame[panel.features].to_numpy(dtype=float),
        np.r_[np.zeros(12), np.ones(4)],
        years=panel.frame["year"].to_numpy(),
    )
    info = {
        "moving": SimpleNamespace(text="population", display=Display("number", "people")),
        "gappy": SimpleNamespace(text="growth", display=Display("percent")),
    }
    rows = panel.frame[panel.frame["year"] == 2007]
    table = driver_table(
        model,
        rows[panel.features].to_numpy(dtype=float),
        rows["unit"].to_numpy(),
        panel,
        reference=np.zeros(3),
        indicators=info,
        year=2007,
    ).set_index(["unit", "feature"])
    assert table.loc[("A", "moving"), "label"] == "population"
    assert table.loc[("A", "moving"), "value_text"] == "2,000 people"
    assert table.loc[("B", "moving"), "value_text"] == "2,000 people (as of 2004)"  # stale
    assert table.loc[("A", "gappy"), "value_text"] == "no data"
    assert table.loc[("B", "gappy"), "value_text"] == "+200.7%"
    assert table.loc[("A", "constant"), "label"] == "constant"
    assert (table["year"] == 2007).all()


def _cow_panel() -> Panel:
    rows = []
    for code, label in (
        (625, "Sudan (EWP)"),
        (345, "Serbia (EWP)"),
        (255, "Germany (EWP)"),
        (999, None),
    ):
        for year in (1980, 1990, 2024):
            rows.append({"ccode": code, "year": year, "ewp_name": label, "x": 1.0, "mk_onset": 0.0})
    return Panel.from_frame(
        pd.DataFrame(rows),
        unit="ccode",
        features=["x"],
        outcomes=["mk_onset"],
        extra=["ewp_name"],
        unit_system="cow",
        unit_label="ewp_name",
    )


def test_unit_names_are_year_aware_state_names_with_fallbacks():
    panel = _cow_panel()
    assert unit_names(panel, 2024).to_dict() == {
        255: "Germany",
        345: "Serbia",
        625: "Sudan",
        999: "999",
    }
    then = unit_names(panel, 1980)
    assert then.loc[345] == "Yugoslavia"  # the same code, its name in 1980
    assert then.loc[255] == "Germany (EWP)"  # EWP's 255 before 1990: not a COW member
    assert unit_names(panel).equals(unit_names(panel, 2024))  # default: the last year
    plain = Panel.from_frame(panel.frame, unit="ccode", features=["x"], outcomes=["mk_onset"])
    assert unit_names(plain, 2024).loc[625] == "625"  # no system, no label: the id
    with pytest.raises(ForecastInputError, match=r"no rows in 2000.*use a year in 1980-2024"):
        unit_names(panel, 2000)


def test_state_system_names_vectorised_and_common():
    states = StateSystem.load()
    names = states.names(
        "cow", [625, 345, 345, 775, 817, "x"], [2024, 2024, 1990, 1980, 2000, 2024]
    )
    assert names.tolist() == ["Sudan", "Serbia", "Yugoslavia", "Burma", None, None]
    assert states.name("cow", 345, 2024) == "Yugoslavia"  # the list's own name
    assert states.name("cow", 345, 2024, common=True) == "Serbia"
    assert states.names("cow", [345], 2024, common=False).tolist() == ["Yugoslavia"]
