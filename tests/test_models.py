import importlib.util
import sys
from importlib.metadata import EntryPoint
from pathlib import Path

import numpy as np
import pytest

from forecast import ForecastInputError
from forecast.models import (
    ElasticNetLogit,
    StatsmodelsLogit,
    _registry,
    build_model,
    check_model,
    model_names,
)
from forecast.models._checks import contract_data


@pytest.mark.parametrize("name", model_names())
def test_every_registered_model_passes_the_shared_checks(name):
    check_model(name)


def test_template_model_passes_the_checks_through_an_entry_point(monkeypatch):
    path = Path(__file__).resolve().parents[1] / "docs" / "model_template.py"
    spec = importlib.util.spec_from_file_location("model_template", path)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "model_template", module)
    spec.loader.exec_module(module)
    point = EntryPoint("my_model", "model_template:make_my_model", "forecast.models")
    monkeypatch.setattr(_registry, "entry_points", lambda group: [point] if group == "forecast.models" else [])
    assert "my_model" in model_names()
    check_model("my_model")


def test_unknown_model_lists_the_valid_ones():
    with pytest.raises(ForecastInputError, match=r"unknown model 'nope'.*elastic_net"):
        build_model("nope")


def test_sklearn_by_dotted_path_and_bad_path():
    model = build_model("sklearn", {"class": "sklearn.naive_bayes.GaussianNB"})
    X, y, _ = contract_data()
    assert model.fit(X, y).predict_proba(X).shape == (len(y), 2)
    with pytest.raises(ForecastInputError, match="cannot import classifier"):
        build_model("sklearn", {"class": "sklearn.nothing.Here"})


def test_elastic_net_tunes_on_the_last_years_only():
    X, y, years = contract_data()
    model = ElasticNetLogit(n_alphas=8, validation_years=4).fit(X, y, years=years)
    assert model.alpha_ in model.alphas_
    assert len(model.validation_loss_) == len(model.alphas_)
    assert model.alpha_ == model.alphas_[int(np.argmin(model.validation_loss_))]


def test_statsmodels_logit_has_an_inference_table():
    X, y, _ = contract_data()
    table = StatsmodelsLogit().fit(X, y).coefficient_table()
    assert list(table.columns) == ["term", "coef", "std_err", "z", "p_value", "odds_ratio",
                                   "or_low", "or_high"]
    np.testing.assert_allclose(table["odds_ratio"], np.exp(table["coef"]))
    assert (table["std_err"] > 0).all()


def test_the_checks_catch_a_broken_model(monkeypatch):
    class Broken(StatsmodelsLogit):
        def predict_proba(self, X):
            return super().predict_proba(X) * 2  # rows sum to 2

    monkeypatch.setitem(_registry._REGISTRY, "broken", lambda **params: Broken())
    with pytest.raises(AssertionError, match="broken: probabilities"):
        check_model("broken")
