"""Relative economic value and net benefit against independent formulas."""

from __future__ import annotations

import numpy as np
import pytest

from forecast._errors import ForecastInputError
from forecast.decision import (
    NAMED_COST_RATIOS,
    CostLoss,
    best_threshold_in_sample,
    cost_ratio_grid,
    cost_ratio_label,
    decision_curve,
    net_benefit,
    relative_value,
    value_curve,
)


def _richardson(y, d, r):
    """Richardson (2000) value from hit and false-alarm rates (independent route)."""
    s = y.mean()
    hit_rate = (d & (y == 1)).sum() / (y == 1).sum()
    fa_rate = (d & (y == 0)).sum() / (y == 0).sum()
    return (min(r, s) - fa_rate * r * (1 - s) + hit_rate * s * (1 - r) - s) / (min(r, s) - s * r)


@pytest.fixture
def sample(rng):
    n = 3000
    p = rng.beta(0.6, 12.0, n)
    y = (rng.random(n) < p).astype(int)
    return y, p


def test_hand_computed_toy():
    y = np.array([1, 0, 0, 0])
    p = np.array([0.8, 0.3, 0.1, 0.1])
    # r = 0.25, s = 0.25: E_f = 0.5, E_climate = 1, E_perfect = 0.25 -> V = 2/3
    assert relative_value(y, p, 0.25, CostLoss(1.0, 4.0)) == pytest.approx(2 / 3)
    # the same r with e = 0.5: E_f = 0.75, E_climate = 1, E_perfect = 0.625 -> V = 2/3
    assert relative_value(y, p, 0.25, CostLoss(0.5, 4.0, 0.5)) == pytest.approx(2 / 3)
    # NB = TP/n - FP/n * 0.25/0.75 = 1/4 - 1/12
    assert net_benefit(y, p, 0.25) == pytest.approx(1 / 6)
    # reference 'nothing': (s L - E_f) / (s L - E_perfect) = (1 - 0.5) / (1 - 0.25)
    assert relative_value(y, p, 0.25, CostLoss(1.0, 4.0), reference="nothing") == pytest.approx(
        2 / 3
    )


@pytest.mark.parametrize("r", [0.005, 0.02, 0.05, 0.1, 0.3])
@pytest.mark.parametrize("e", [1.0, 0.35])
def test_perfect_is_one_and_climatology_is_zero(sample, r, e):
    y, _ = sample
    cl = CostLoss.from_ratio(r, e)
    assert relative_value(y, y.astype(float), r, cl) == 1.0
    climatology = np.full(y.size, y.mean())
    assert relative_value(y, climatology, r, cl) == 0.0


@pytest.mark.parametrize("r", [0.01, 0.04, 0.08, 0.2, 0.6])
def test_relative_value_matches_richardson_and_net_benefit(sample, r):
    y, p = sample
    for e in (1.0, 0.5, 0.1):
        v = relative_value(y, p, r, CostLoss.from_ratio(r, e))
        assert v == pytest.approx(_richardson(y, p >= r, r), abs=1e-12)
    # Net benefit at p_t = r: V = (NB - max(NB_all, 0)) / (s - max(NB_all, 0)).
    s = y.mean()
    nb_all = max(s - (1 - s) * r / (1 - r), 0.0)
    nb = net_benefit(y, p, r)
    v = relative_value(y, p, r, CostLoss.from_ratio(r))
    assert v == pytest.approx((nb - nb_all) / (s - nb_all), abs=1e-12)


def test_known_strategies_net_benefit(sample):
    y, p = sample
    s = y.mean()
    for t in (0.0, 0.03, 0.2):
        assert net_benefit(y, np.ones(y.size), t) == pytest.approx(s - (1 - s) * t / (1 - t))
        assert net_benefit(y, np.zeros(y.size), max(t, 1e-9)) == 0.0
        assert net_benefit(y, y.astype(float), max(t, 1e-9)) == pytest.approx(s)
    curve = decision_curve(y, p, [0.01, 0.05, 0.2])
    assert list(curve.columns) == [
        "threshold",
        "net_benefit_model",
        "net_benefit_treat_all",
        "net_benefit_treat_none",
        "warnings_share",
    ]
    for row in curve.itertuples():
        assert row.net_benefit_model == pytest.approx(net_benefit(y, p, row.threshold))
        assert row.net_benefit_treat_all == pytest.approx(
            net_benefit(y, np.ones(y.size), row.threshold)
        )
        assert row.net_benefit_treat_none == 0.0
        assert row.warnings_share == pytest.approx((p >= row.threshold).mean())


def test_always_and_never_acting_score_at_most_zero(sample):
    y, _ = sample
    for r in (0.01, 0.1, 0.5):
        cl = CostLoss.from_ratio(r)
        v_all = relative_value(y, np.ones(y.size), r, cl)
        v_none = relative_value(y, np.zeros(y.size), r, cl)
        assert max(v_all, v_none) == 0.0 and min(v_all, v_none) <= 0.0


def test_undefined_value_is_nan():
    y = np.array([0, 0, 0])
    assert np.isnan(relative_value(y, [0.1, 0.2, 0.3], 0.1, CostLoss.from_ratio(0.1)))
    # r >= 1: acting never pays, no forecast can have value
    assert np.isnan(relative_value([1, 0], [0.9, 0.1], 0.5, CostLoss(2.0, 1.0)))


def test_weights_equal_repeated_rows(sample):
    y, p = sample
    w = np.arange(y.size) % 3
    rep = np.repeat(np.arange(y.size), w)
    cl = CostLoss.from_ratio(0.05, 0.6)
    assert relative_value(y, p, 0.05, cl, sample_weight=w) == pytest.approx(
        relative_value(y[rep], p[rep], 0.05, cl)
    )
    assert net_benefit(y, p, 0.05, sample_weight=w) == pytest.approx(
        net_benefit(y[rep], p[rep], 0.05)
    )


def test_value_curve(sample):
    y, p = sample
    grid = cost_ratio_grid(n=9)
    a = value_curve(y, p, grid, 1.0)
    b = value_curve(y, p, grid, 0.3)
    # V depends on (C, L, e) only through r; expenses scale with e.
    np.testing.assert_allclose(a["relative_value"], b["relative_value"], atol=1e-12)
    assert not np.allclose(a["expected_cost"], b["expected_cost"])
    # the in-sample envelope is never below the Bayes-threshold value
    assert (a["relative_value_best"] >= a["relative_value"] - 1e-12).all()
    for row in a.itertuples():
        cl = CostLoss.from_ratio(row.cost_ratio)
        assert row.relative_value == pytest.approx(relative_value(y, p, row.cost_ratio, cl))
        assert row.threshold_best == best_threshold_in_sample(y, p, cl)


def test_cost_ratio_grid_and_labels():
    grid = cost_ratio_grid()
    assert grid[0] == pytest.approx(1 / 200) and grid[-1] == pytest.approx(1 / 2)
    assert np.all(np.diff(grid) > 0)
    for r in NAMED_COST_RATIOS.values():
        assert np.any(grid == r)
    assert [cost_ratio_label(r) for r in NAMED_COST_RATIOS.values()] == list(NAMED_COST_RATIOS)
    assert cost_ratio_label(0.08) == "1to12.5"
    with pytest.raises(ForecastInputError, match=r"need 0 < lo < hi, got lo=0\.5, hi=0\.1"):
        cost_ratio_grid(0.5, 0.1)
    with pytest.raises(ForecastInputError, match="n must be an integer >= 2, got 1"):
        cost_ratio_grid(n=1)


def test_value_errors(sample):
    y, p = sample
    with pytest.raises(ForecastInputError, match=r"'threshold' must be in \[0, 1\), got 1\.0"):
        net_benefit(y, p, 1.0)
    with pytest.raises(ForecastInputError, match="reference must be 'climate' or 'nothing'"):
        relative_value(y, p, 0.1, CostLoss.from_ratio(0.1), reference="always")
    with pytest.raises(ForecastInputError, match=r"thresholds must be non-empty and in \[0, 1\)"):
        decision_curve(y, p, [0.1, 1.5])
    with pytest.raises(ForecastInputError, match="'sample_weight' must be finite and >= 0"):
        net_benefit(y, p, 0.1, sample_weight=-np.ones(y.size))
