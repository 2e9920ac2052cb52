import ast
import importlib.util
import sys
import warnings
from importlib.metadata import EntryPoint
from pathlib import Path

import numpy as np
import pytest

from forecast import ForecastInputError
from forecast.models import (
    ElasticNetLogit,
    ModelTags,
    StatsmodelsLogit,
    _registry,
    build_model,
    check_model,
    get_model_tags,
    model_names,
)
from forecast.models._checks import contract_data


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(n, marks=pytest.mark.slow) if n == "hist_gradient_boosting" else n
        for n in model_names()
    ],
)
def test_every_registered_model_passes_the_shared_checks(name):
    check_model(name)


def test_template_model_passes_the_checks_through_an_entry_point(monkeypatch):
    path = Path(__file__).resolve().parents[1] / "docs" / "model_template.py"
    spec = importlib.util.spec_from_file_location("model_template", path)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "model_template", module)
    spec.loader.exec_module(module)
    point = EntryPoint("my_model", "model_template:make_my_model", "forecast.models")
    monkeypatch.setattr(
        _registry, "entry_points", lambda group: [point] if group == "forecast.models" else []
    )
    assert "my_model" in model_names()
    check_model("my_model")


def test_unknown_model_lists_the_valid_ones():
    with pytest.raises(ForecastInputError, match=r"unknown model 'nope'.*elastic_net"):
        build_model("nope")


def test_sklearn_by_dotted_path_and_bad_path():
    model = build_model("sklearn", {"class": "sklearn.naive_bayes.GaussianNB"})
    X, y, _ = contract_data()
    assert model.fit(X, y).predict_proba(X).shape == (len(y), 2)
    with pytest.raises(ForecastInputError, match=r"class: cannot import it"):
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
    assert list(table.columns) == [
        "term",
        "coef",
        "std_err",
        "z",
        "p_value",
        "odds_ratio",
        "or_low",
        "or_high",
    ]
    np.testing.assert_allclose(table["odds_ratio"], np.exp(table["coef"]))
    assert (table["std_err"] > 0).all()


def _quasi_separated():
    """A rare trigger that is on only in four onset rows: the MLE pushes them to 1."""
    X, y, _ = contract_data()
    X = np.column_stack([X, np.zeros(len(y))])
    onsets = np.flatnonzero(y == 1)[:4]
    X[onsets, 4] = 1.0
    return X, y, onsets


def test_statsmodels_logit_without_separation_is_the_plain_mle():
    import statsmodels.api as sm

    X, y, _ = contract_data()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no separation warning
        model = StatsmodelsLogit().fit(X, y)
    design = sm.add_constant(model.preprocessor_.transform(X), has_constant="add")
    plain = sm.GLM(y, design, family=sm.families.Binomial()).fit()
    assert model.separation_ == ""
    np.testing.assert_allclose(model.params_, np.asarray(plain.params), rtol=1e-10)


@pytest.mark.parametrize("perfect", [False, True])
def test_statsmodels_logit_under_separation_refits_with_a_ridge_penalty(perfect):
    X, y, onsets = _quasi_separated()
    if perfect:  # the trigger is on exactly at the onsets: complete separation
        X[:, 4] = y
    with pytest.warns(UserWarning, match=r"separation.*refitted with an L2 penalty \(alpha = 1/n"):
        model = StatsmodelsLogit().fit(X, y)
    assert model.separation_
    p = model.predict_proba(X[onsets])[:, 1]
    assert np.all((p > 0.5) & (p < 1 - 1e-6)), p  # high, but not certain
    table = model.coefficient_table()
    assert np.isfinite(table["coef"]).all() and table["std_err"].isna().all()


def test_the_checks_catch_a_broken_model(monkeypatch):
    class Broken(StatsmodelsLogit):
        def predict_proba(self, X):
            return super().predict_proba(X) * 2  # rows sum to 2

    monkeypatch.setitem(_registry._REGISTRY, "broken", lambda **params: Broken())
    with pytest.raises(AssertionError, match="broken: probabilities"):
        check_model("broken")


def _register(monkeypatch, name, factory, tags=None):
    monkeypatch.setitem(_registry._REGISTRY, name, factory)
    monkeypatch.setitem(_registry._TAGS, name, tags or ModelTags())


class _FirstHalfLogit(StatsmodelsLogit):
    """Fits on the first half of the rows it is given: depends on row order."""

    def fit(self, X, y, *, sample_weight=None, years=None):
        half = len(y) // 2
        weight = None if sample_weight is None else sample_weight[:half]
        return super().fit(X[:half], y[:half], sample_weight=weight)


class _WeightBlindLogit(StatsmodelsLogit):
    """Takes sample_weight and drops it."""

    def fit(self, X, y, *, sample_weight=None, years=None):
        return super().fit(X, y)


class _DriftingLogit(StatsmodelsLogit):
    """fit changes a parameter, so a clone of the fitted model is another model."""

    def __init__(self, *, max_iter: int = 100, shift: float = 0.0):
        super().__init__(max_iter=max_iter)
        self.shift = shift

    def fit(self, X, y, *, sample_weight=None, years=None):
        self.shift = self.shift + 1.0
        return super().fit(X, y, sample_weight=sample_weight)

    def decision_function(self, X):
        return super().decision_function(X) + self.shift


@pytest.mark.parametrize(
    ("model", "tags", "message"),
    [
        (
            _FirstHalfLogit,
            None,
            r"first_half: shuffling the training rows changes the probabilities",
        ),
        (_WeightBlindLogit, None, r"weight_blind: fit accepts sample_weight but ignores it"),
        (_DriftingLogit, None, r"drifting: a clone refitted on the same rows gives other"),
        (
            ElasticNetLogit,
            ModelTags(weights_as_repeats=True),
            r"false_repeats: integer weights differ from repeated rows",
        ),
    ],
    ids=["row-order", "ignored-weights", "clone", "undeserved-tag"],
)
def test_the_checks_catch_each_broken_promise(monkeypatch, model, tags, message):
    name = message.split(":")[0]
    _register(monkeypatch, name, lambda **params: model(), tags)
    with pytest.raises(AssertionError, match=message):
        check_model(name)


def test_a_declared_tag_skips_only_its_own_check(monkeypatch):
    _register(
        monkeypatch,
        "first_half",
        lambda **params: _FirstHalfLogit(),
        ModelTags(row_order_invariant=False),
    )
    check_model("first_half")


def test_ensemble_tags_are_those_all_members_share():
    assert not get_model_tags("random_forest").row_order_invariant
    assert get_model_tags("ensemble", {"members": ["elastic_net", "logit"]}) == ModelTags()
    mixed = get_model_tags("ensemble", {"members": ["logit", {"name": "xgboost"}]})
    assert mixed == ModelTags(row_order_invariant=False)
    assert not get_model_tags(
        "hist_gradient_boosting", {"early_stopping": True}
    ).row_order_invariant
    with pytest.raises(ForecastInputError, match=r"unknown model 'nope'.*use one of"):
        get_model_tags("nope")


def _local_imports(path: Path) -> set[str]:
    """Modules of forecast.models that ``path`` imports, at any depth (lazy ones too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("forecast.models."):
            found.add(node.module.rsplit(".", 1)[1])
    return found


def test_the_models_package_imports_top_down():
    package = Path(__file__).resolve().parents[1] / "forecast" / "models"
    graph = {p.stem: _local_imports(p) for p in package.glob("_*.py") if p.stem != "__init__"}
    done: set[str] = set()

    def visit(module, path):
        if module in path:
            raise AssertionError(f"import cycle: {' -> '.join([*path, module])}")
        if module not in done:
            for child in graph.get(module, ()):
                visit(child, [*path, module])
            done.add(module)

    for module in graph:
        visit(module, [])


@pytest.mark.parametrize("name", ["elastic_net", "logit", "xgboost", "random_forest"])
def test_float32_panels_fit_and_forecast_like_float64(name):
    from forecast.models import fit_estimator

    X, y, years = contract_data(seed=5)
    X32 = X.astype(np.float32)
    params = {"n_estimators": 30} if name in ("xgboost", "random_forest") else {}
    p32 = fit_estimator(build_model(name, params), X32, y, years=years).predict_proba(X32)
    p64 = fit_estimator(build_model(name, params), X32.astype(float), y, years=years)
    np.testing.assert_allclose(p32[:, 1], p64.predict_proba(X32.astype(float))[:, 1], atol=1e-3)


@pytest.mark.parametrize(
    "name, params, message",
    [
        ("xgboost", {"n_estimators": -1}, r"model 'xgboost': n_estimators: out of range, got -1"),
        ("xgboost", {"learning_rate": float("nan")}, r"learning_rate: must be a finite number"),
        ("xgboost", {"n_estimators": True}, r"n_estimators: not an accepted value, got True"),
        ("xgboost_tuned", {"max_rounds": 0}, r"max_rounds: out of range, got 0"),
        ("elastic_net", {"n_alphas": 0}, r"model 'elastic_net': n_alphas: out of range, got 0"),
        ("elastic_net", {"l1_ratio": 1.5}, r"l1_ratio: out of range, got 1\.5"),
        ("logit", {"max_iter": -1}, r"max_iter: out of range, got -1"),
        ("hist_gradient_boosting", {"max_iter": 0}, r"max_iter: out of range, got 0"),
        ("ensemble", {"members": ["logit"], "weights": [float("inf")]}, r"weights: must be a fini"),
        ("sklearn", {"class": "subprocess.run"}, r"class: not in an allowed module"),
        ("sklearn", {"class": "sklearn.utils.Bunch"}, r"not a scikit-learn estimator class"),
    ],
)
def test_params_outside_the_declared_constraints_are_refused_before_building(name, params, message):
    with pytest.raises(ForecastInputError, match=message):
        build_model(name, params)


@pytest.mark.parametrize("name", sorted(set(model_names()) - {"stacked", "selected"}))
def test_the_test_params_of_every_model_meet_its_constraints(name):
    from forecast.models import check_model_params, get_test_params

    check_model_params(name, get_test_params(name))
