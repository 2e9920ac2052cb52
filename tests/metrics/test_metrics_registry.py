"""Registry lookup and invariance checks run over EVERY registered metric."""

from __future__ import annotations

import numpy as np
import pytest

from forecast._errors import ForecastInputError
from forecast.metrics import Metric, get_metric, metric_names
from forecast.metrics._batch import BATCH


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(7)


def _bound(name: str) -> Metric:
    m = get_metric(name)
    return get_metric(name, **m.example_params) if m.required_params else m


def _panel(rng, n_years=4, n_units=25):
    years = np.repeat(np.arange(2000, 2000 + n_years), n_units)
    p = rng.uniform(0.01, 0.9, years.size)  # continuous: no ties
    y = (rng.random(years.size) < p).astype(float)
    y[:2] = [0.0, 1.0]
    return y, p, years


def test_names_and_lookup():
    names = metric_names()
    assert names == sorted(names)
    assert {"roc_auc", "brier", "ece", "recall_at_k", "precision_at_threshold"} <= set(names)
    m = get_metric("brier")
    assert m.greater_is_better is False and m.direction == "lower"
    assert get_metric("roc_auc").direction == "higher"
    assert get_metric("observed_expected").direction == "closer to 1"
    assert get_metric("recall_at_k").needs_groups
    assert get_metric("recall_at_k", k=30).label == "recall_at_k[k=30]"
    assert get_metric(m) is m


def test_unknown_name_lists_valid_names():
    with pytest.raises(ForecastInputError, match=r"unknown metric 'auc'; valid names: .*roc_auc"):
        get_metric("auc")


def test_unknown_parameter():
    with pytest.raises(ForecastInputError, match=r"has no parameter\(s\) \['k'\]"):
        get_metric("brier", k=3)


def test_missing_required_parameter_names_fix():
    with pytest.raises(
        ForecastInputError, match=r"needs parameter\(s\) \['threshold'\].*get_metric"
    ):
        get_metric("precision_at_threshold")([0, 1], [0.1, 0.9])


@pytest.mark.parametrize("name", metric_names())
def test_every_metric_has_numpydoc_formula_and_reference(name):
    doc = get_metric(name).func.__doc__
    assert doc and "References" in doc and "NaN handling" in doc
    assert ("math::" in doc) or ("=" in doc)


@pytest.mark.parametrize("name", metric_names())
def test_invariant_to_row_permutation(name, rng):
    m = _bound(name)
    y, p, years = _panel(rng)
    w = rng.uniform(0.5, 2.0, y.size)
    perm = rng.permutation(y.size)
    a = m(y, p, sample_weight=w, groups=years)
    b = m(y[perm], p[perm], sample_weight=w[perm], groups=years[perm])
    assert np.isfinite(a)
    assert b == pytest.approx(a, rel=1e-10, abs=1e-12)


@pytest.mark.parametrize("name", metric_names())
def test_zero_weight_duplicates_change_nothing(name, rng):
    m = _bound(name)
    y, p, years = _panel(rng)
    w = np.ones(y.size)
    dup = rng.choice(y.size, 40)
    y2 = np.r_[y, y[dup]]
    p2 = np.r_[p, p[dup]]
    g2 = np.r_[years, years[dup]]
    w2 = np.r_[w, np.zeros(dup.size)]
    assert m(y2, p2, sample_weight=w2, groups=g2) == pytest.approx(
        m(y, p, sample_weight=w, groups=years), rel=1e-10, abs=1e-12
    )
    # and the default weights equal explicit unit weights
    assert m(y, p, groups=years) == pytest.approx(m(y, p, sample_weight=w, groups=years))


@pytest.mark.parametrize("name", [n for n in metric_names() if not get_metric(n).needs_groups])
def test_integer_weights_equal_repeated_rows(name, rng):
    m = _bound(name)
    y, p, _ = _panel(rng)
    w = rng.integers(0, 4, y.size).astype(float)
    w[:2] = 1.0
    rep = np.repeat(np.arange(y.size), w.astype(int))
    assert m(y[rep], p[rep]) == pytest.approx(m(y, p, sample_weight=w), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("name", sorted(BATCH))
def test_batch_form_equals_scalar(name, rng):
    m = get_metric(name)
    y, p, _ = _panel(rng)
    p = np.round(p, 2)  # include ties
    W = rng.integers(0, 3, size=(6, y.size)).astype(float)
    W[:, :2] = 1.0
    batch = m.batch(y, p, W)
    scalar = [m(y, p, sample_weight=W[b]) for b in range(W.shape[0])]
    np.testing.assert_allclose(batch, scalar, rtol=1e-12, atol=1e-14)
