"""Why risk changed: the parts add up to the change; Shapley by a hand permutation loop."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from forecast._errors import ForecastInputError
from forecast.data import load_dataset
from forecast.experiment import experiment_from_dict
from forecast.risk import explain_change, fit_origin
from forecast.risk._drivers import log_odds
from forecast.risk._explain import MODEL_UPDATE, decompose_change


@pytest.fixture(scope="module")
def panel():
    return load_dataset("synthetic-world")


@pytest.fixture(scope="module")
def config():
    return experiment_from_dict(
        {
            "name": "x",
            "seed": 5,
            "models": [
                {"name": "elastic_net", "params": {"n_alphas": 8}},
                {"name": "xgboost", "params": {"n_estimators": 30}},
            ],
        }
    )


def _logit(p: float) -> float:
    return float(np.log(p) - np.log1p(-p))


def test_linear_parts_add_up_exactly(config, panel):
    table = explain_change(
        config,
        model_label="elastic_net",
        unit="Norvania",
        year_from=2021,
        year_to=2024,
        panel=panel,
    )
    a = table.attrs
    total = _logit(a["probability_to"]) - _logit(a["probability_from"])
    assert abs(table["log_odds"].sum() - total) < 1e-9
    assert abs(table["probability"].sum() - (a["probability_to"] - a["probability_from"])) < 1e-12
    assert len(table) == len(panel.features) + 1 and a["method"] == "linear (exact)"
    # the forecasts are the risk lists' (the model fitted for each year)
    fit_to = fit_origin(config, config.models[0], panel, 2024)
    fit_from = fit_origin(config, config.models[0], panel, 2021)
    assert a["probability_to"] == fit_to.probability[list(fit_to.units).index("Norvania")]
    # hand oracle of the model-update term: f_2024(x_2021) - f_2021(x_2021)
    x_from = fit_from.X[[list(fit_from.units).index("Norvania")]]
    update = (
        fit_to.estimator.decision_function(x_from) - fit_from.estimator.decision_function(x_from)
    )[0]
    assert table.set_index("term").loc[MODEL_UPDATE, "log_odds"] == pytest.approx(update, abs=1e-12)
    row = table.set_index("term").loc["battle_deaths_log2"]
    frame = panel.frame.set_index(["unit", "year"])
    assert row["value_to"] == frame.loc[("Norvania", 2024), "battle_deaths_log2"]


def test_nonlinear_groups_are_exact_shapley(config, panel):
    table = explain_change(
        config, model_label="xgboost", unit="Norvania", year_from=2023, year_to=2024, panel=panel
    )
    a = table.attrs
    total = _logit(a["probability_to"]) - _logit(a["probability_from"])
    assert abs(table["log_odds"].sum() - total) < 1e-9
    assert set(table["term"]) == {
        "structural indicators",
        "trigger indicators",
        "mitigating indicators",
        "history indicators",
        MODEL_UPDATE,
    }


def test_group_shapley_equals_the_average_over_orderings(config, panel):
    spec = config.models[1]
    fit_from = fit_origin(config, spec, panel, 2022)
    fit_to = fit_origin(config, spec, panel, 2024)
    units = [u for u in fit_to.units[:6] if u in set(fit_from.units)]
    X_from = fit_from.X[[list(fit_from.units).index(u) for u in units]]
    X_to = fit_to.X[[list(fit_to.units).index(u) for u in units]]
    terms, _ = decompose_change(fit_from, fit_to, X_from, X_to, panel.features, panel.kinds)
    kinds = ["structural", "trigger", "mitigating", "history"]
    groups = {k: [j for j, f in enumerate(panel.features) if panel.kinds[f] == k] for k in kinds}
    oracle = {k: np.zeros(len(units)) for k in kinds}
    orderings = list(itertools.permutations(kinds))
    for order in orderings:  # hand loop: switch groups to their new values one at a time
        X = X_from.copy()
        before = log_odds(fit_to.estimator, X)
        for kind in order:
            X[:, groups[kind]] = X_to[:, groups[kind]]
            after = log_odds(fit_to.estimator, X)
            oracle[kind] += (after - before) / len(orderings)
            before = after
    for kind in kinds:
        got = terms[terms["term"] == f"{kind} indicators"].sort_values("row")["log_odds"]
        np.testing.assert_allclose(got.to_numpy(), oracle[kind], atol=1e-9)


def test_unknown_unit_lists_the_units(config, panel):
    with pytest.raises(
        ForecastInputError,
        match=r"unit 'Atlantis' is not in the panel in 2023.*"
        r"use one of Aldoria",
    ):
        explain_change(
            config,
            model_label="elastic_net",
            unit="Atlantis",
            year_from=2023,
            year_to=2024,
            panel=panel,
        )


def test_unknown_year_and_model(config, panel):
    with pytest.raises(ForecastInputError, match=r"year 2031 is not a forecast year.*1971\.\.2024"):
        explain_change(
            config,
            model_label="elastic_net",
            unit="Norvania",
            year_from=2023,
            year_to=2031,
            panel=panel,
        )
    with pytest.raises(ForecastInputError, match=r"year 1961 is not a forecast year"):
        explain_change(
            config,
            model_label="elastic_net",
            unit="Norvania",
            year_from=1961,
            year_to=2024,
            panel=panel,
        )
    with pytest.raises(ForecastInputError, match=r"unknown model label 'rf'.*xgboost"):
        explain_change(
            config, model_label="rf", unit="Norvania", year_from=2023, year_to=2024, panel=panel
        )
