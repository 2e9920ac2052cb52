"""Threshold selection: in-sample optimum against brute force, the fitted selector."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from forecast._errors import ForecastInputError
from forecast.decision import (
    CostLoss,
    CostThresholdSelector,
    best_threshold_in_sample,
    expected_cost,
    optimal_threshold,
)


def _brute_force_min_cost(y, p, cl, groups=None):
    """Smallest cost over every distinct decision set reachable by a threshold."""
    candidates = np.r_[np.unique(p), 1.5]
    return min(expected_cost(y, p, t, cl, groups) for t in candidates)


def test_hand_computed_threshold():
    y = np.array([1, 0, 0])
    p = np.array([0.9, 0.5, 0.1])
    # r = 0.25: acting on 0.9 saves 0.75, acting on 0.5 or 0.1 costs 0.25 each
    assert best_threshold_in_sample(y, p, CostLoss.from_ratio(0.25)) == pytest.approx(0.7)
    # no onsets: acting on nobody is best -> midpoint of max p and 1
    assert best_threshold_in_sample([0, 0, 0], p, CostLoss.from_ratio(0.25)) == pytest.approx(0.95)
    # r = 0.95 still pays for the onset at 0.9 (saves 0.05)
    assert best_threshold_in_sample(y, p, CostLoss.from_ratio(0.95)) == pytest.approx(0.7)
    # the onset at 0.1 outweighs two false alarms: act on all -> 0.1 / 2
    assert best_threshold_in_sample([0, 0, 1], p, CostLoss.from_ratio(0.25)) == pytest.approx(0.05)
    # every row an onset: act on all -> half the smallest probability, or r if r <= 0.1
    assert best_threshold_in_sample([1, 1, 1], p, CostLoss.from_ratio(0.25)) == pytest.approx(0.05)
    assert best_threshold_in_sample([1, 1, 1], p, CostLoss.from_ratio(0.08)) == 0.08
    # r within the interval of optimal thresholds is kept: (0.5, 0.9] holds 0.6
    assert best_threshold_in_sample(y, p, CostLoss.from_ratio(0.6)) == 0.6
    # no onsets and r above every probability: r itself
    assert best_threshold_in_sample([0, 0, 0], p, CostLoss.from_ratio(0.95)) == 0.95


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("r", [0.02, 0.1, 0.4])
def test_in_sample_threshold_reaches_brute_force_minimum(seed, r):
    rng = np.random.default_rng(seed)
    p = rng.random(150).round(2)  # ties
    y = (rng.random(150) < p).astype(int)
    cl = CostLoss.from_ratio(r, 0.6)
    t = best_threshold_in_sample(y, p, cl)
    assert expected_cost(y, p, t, cl) == pytest.approx(_brute_force_min_cost(y, p, cl), abs=1e-12)
    # with a capacity of 3 per group
    groups = rng.integers(0, 10, 150)
    capped = CostLoss.from_ratio(r, 0.6, capacity=3)
    t = best_threshold_in_sample(y, p, capped, groups)
    assert expected_cost(y, p, t, capped, groups) == pytest.approx(
        _brute_force_min_cost(y, p, capped, groups), abs=1e-12
    )


def test_calibrated_probabilities_give_threshold_near_bayes(rng):
    p = rng.beta(1.0, 8.0, 200_000)
    y = (rng.random(p.size) < p).astype(int)
    cl = CostLoss.from_ratio(0.1)
    assert optimal_threshold(cl) == pytest.approx(0.1)
    assert best_threshold_in_sample(y, p, cl) == pytest.approx(0.1, abs=0.01)


def test_selector_fit_predict(rng):
    p = rng.random(300)
    y = (rng.random(300) < p).astype(int)
    sel = CostThresholdSelector(0.3, effectiveness=0.5)
    assert sel.get_params() == {
        "cost_ratio": 0.3,
        "effectiveness": 0.5,
        "capacity": None,
        "method": "empirical",
    }
    with pytest.raises(NotFittedError):
        sel.predict(p)
    sel.fit(y, p)
    cl = CostLoss.from_ratio(0.3, 0.5)
    assert sel.threshold_ == best_threshold_in_sample(y, p, cl)
    assert sel.cost_ == pytest.approx(expected_cost(y, p, sel.threshold_, cl))
    assert sel.n_samples_fit_ == 300
    np.testing.assert_array_equal(sel.predict(p), p >= sel.threshold_)
    bayes = clone(sel).set_params(method="bayes").fit(y, p)
    assert bayes.threshold_ == pytest.approx(0.3)
    assert sel.cost_ <= bayes.cost_ + 1e-12  # in-sample optimum beats any fixed threshold here


def test_selector_with_capacity(rng):
    p = rng.random(100)
    y = (rng.random(100) < p).astype(int)
    groups = np.repeat(np.arange(10), 10)
    sel = CostThresholdSelector(0.2, capacity=2).fit(y, p, groups)
    warned = sel.predict(p, groups)
    assert np.bincount(groups[warned], minlength=10).max() <= 2
    with pytest.raises(ForecastInputError, match="capacity is set but groups is None"):
        sel.predict(p)


def test_selector_errors(rng):
    p = rng.random(20)
    y = (p > 0.5).astype(int)
    with pytest.raises(ForecastInputError, match="method must be 'empirical' or 'bayes', got 'x'"):
        CostThresholdSelector(0.1, method="x").fit(y, p)
    with pytest.raises(ForecastInputError, match=r"cost_ratio must be finite and > 0, got 0\.0"):
        CostThresholdSelector(0.0).fit(y, p)
    with pytest.raises(ForecastInputError, match=r"effectiveness must be in \(0, 1\], got 0"):
        CostThresholdSelector(0.1, effectiveness=0).fit(y, p)
    with pytest.raises(ForecastInputError, match="capacity must be an integer >= 1 or None, got 0"):
        CostThresholdSelector(0.1, capacity=0).fit(y, p, np.zeros(20))
    with pytest.raises(ForecastInputError, match="capacity is set but groups is None"):
        best_threshold_in_sample(y, p, CostLoss.from_ratio(0.1, capacity=1))
