"""Cost-loss model, decision rules, expected cost and capacity: toy tables and errors."""

from __future__ import annotations

import numpy as np
import pytest

from forecast._errors import ForecastInputError
from forecast.decision import (
    EWP_THRESHOLD,
    EWP_TOP30,
    CostLoss,
    ThresholdRule,
    TopKRule,
    capacity_policy,
    expected_cost,
    optimal_threshold,
)

Y = np.array([1, 0, 1, 0])
P = np.array([0.9, 0.6, 0.2, 0.1])
YEARS = np.array([2000, 2000, 2001, 2001])


def _hand_expense(y, d, c, loss, e):
    return sum(di * c + yi * loss * (1 - e * di) for yi, di in zip(y, d, strict=True))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"cost": 0.0, "loss": 1.0}, r"cost must be finite and > 0, got 0\.0"),
        ({"cost": -1.0, "loss": 1.0}, r"cost must be finite and > 0, got -1\.0"),
        ({"cost": 1.0, "loss": 0.0}, r"loss must be finite and > 0, got 0\.0"),
        ({"cost": 1.0, "loss": float("inf")}, r"loss must be finite and > 0, got inf"),
        (
            {"cost": 1.0, "loss": 1.0, "effectiveness": 0.0},
            r"effectiveness must be in \(0, 1\], got 0\.0",
        ),
        (
            {"cost": 1.0, "loss": 1.0, "effectiveness": 1.5},
            r"effectiveness must be in \(0, 1\], got 1\.5",
        ),
        (
            {"cost": 1.0, "loss": 1.0, "capacity": 0},
            r"capacity must be an integer >= 1 or None, got 0",
        ),
        (
            {"cost": 1.0, "loss": 1.0, "capacity": 2.5},
            r"capacity must be an integer >= 1 or None, got 2\.5",
        ),
        ({"cost": "1", "loss": 1.0}, r"cost must be a number, got '1'"),
    ],
)
def test_costloss_rejects_bad_input(kwargs, match):
    with pytest.raises(ForecastInputError, match=match):
        CostLoss(**kwargs)


def test_costloss_ratio_and_from_ratio():
    cl = CostLoss(cost=2.0, loss=50.0, effectiveness=0.4)
    assert cl.cost_ratio == pytest.approx(2.0 / (0.4 * 50.0))
    assert optimal_threshold(cl) == pytest.approx(0.1)
    built = CostLoss.from_ratio(0.1, effectiveness=0.4, loss=50.0)
    assert built.cost == pytest.approx(2.0) and built.cost_ratio == pytest.approx(0.1)
    with pytest.raises(ForecastInputError, match=r"cost_ratio must be finite and > 0, got -0\.1"):
        CostLoss.from_ratio(-0.1)
    with pytest.raises(ForecastInputError, match=r"effectiveness must be in \(0, 1\]"):
        CostLoss.from_ratio(0.1, effectiveness=2.0)


def test_expected_cost_hand_computed():
    cl = CostLoss(cost=1.0, loss=10.0, effectiveness=0.5)
    # d = [1, 1, 0, 0]: 1 + 10 * 0.5, 1, 10, 0 -> 17 in total
    assert expected_cost(Y, P, 0.5, cl) == pytest.approx(17 / 4)
    assert expected_cost(Y, P, 0.5, cl, groups=YEARS) == pytest.approx(17 / 2)
    # capacity 1 per year: only the 0.9 forecast is acted on -> 6 + 0 + 10 + 0
    capped = CostLoss(cost=1.0, loss=10.0, effectiveness=0.5, capacity=1)
    assert expected_cost(Y, P, 0.5, capped, groups=YEARS) == pytest.approx(16 / 2)
    # weights: rows 0 and 2 count double -> (2 * 6 + 1 + 2 * 10 + 0) / 6
    w = np.array([2.0, 1.0, 2.0, 1.0])
    assert expected_cost(Y, P, 0.5, cl, sample_weight=w) == pytest.approx(33 / 6)


def test_expected_cost_matches_row_loop(rng):
    y = rng.integers(0, 2, 200)
    p = rng.random(200)
    cl = CostLoss(cost=0.3, loss=2.0, effectiveness=0.7)
    d = (p >= 0.4).astype(int)
    assert expected_cost(y, p, 0.4, cl) == pytest.approx(_hand_expense(y, d, 0.3, 2.0, 0.7) / 200)


def test_expected_cost_errors():
    cl = CostLoss(cost=1.0, loss=2.0, capacity=3)
    with pytest.raises(ForecastInputError, match="capacity is set but groups is None"):
        expected_cost(Y, P, 0.5, cl)
    with pytest.raises(ForecastInputError, match=r"'y' must be 0 or 1 .* at rows \[1\]"):
        expected_cost([1, np.nan, 0, 0], P, 0.5, CostLoss(1.0, 2.0))
    with pytest.raises(ForecastInputError, match=r"'p' must be probabilities in \[0, 1\]"):
        expected_cost(Y, [0.1, 1.2, 0.3, 0.4], 0.5, CostLoss(1.0, 2.0))
    with pytest.raises(ForecastInputError, match="'y' has 4 rows but 'p' has 3"):
        expected_cost(Y, P[:3], 0.5, CostLoss(1.0, 2.0))
    with pytest.raises(ForecastInputError, match="costloss must be a CostLoss"):
        expected_cost(Y, P, 0.5, 0.1)
    with pytest.raises(ForecastInputError, match="'threshold' must be a number, got nan"):
        expected_cost(Y, P, float("nan"), CostLoss(1.0, 2.0))


def test_rules_warn():
    p = np.array([0.05, 0.04, 0.03, 0.5, 0.5, 0.01])
    groups = np.array([1, 1, 1, 2, 2, 2])
    np.testing.assert_array_equal(EWP_THRESHOLD.warn(p), p >= 0.04)
    assert EWP_THRESHOLD.threshold == 0.04 and EWP_TOP30.k == 30
    # Ties broken by row order: the first 0.5 wins in group 2.
    np.testing.assert_array_equal(
        TopKRule(1).warn(p, groups), [True, False, False, True, False, False]
    )
    np.testing.assert_array_equal(TopKRule(2).warn(p), [False, False, False, True, True, False])
    assert EWP_TOP30.warn(p, groups).all()  # fewer than 30 per group
    with pytest.raises(ForecastInputError, match="'k' must be an integer >= 1, got 0"):
        TopKRule(0)
    with pytest.raises(ForecastInputError, match="'threshold' must be a number, got 'x'"):
        ThresholdRule("x")
    with pytest.raises(
        ForecastInputError, match=r"'groups' must be 1-d with 6 rows, got shape \(2,\)"
    ):
        TopKRule(1).warn(p, [1, 2])


def test_top_k_matches_per_group_loop(rng):
    p = rng.random(300).round(2)  # many ties
    groups = rng.integers(0, 7, 300)
    got = TopKRule(5).warn(p, groups)
    for g in np.unique(groups):
        idx = np.flatnonzero(groups == g)
        order = sorted(idx, key=lambda i: (-p[i], i))
        expected = set(order[:5])
        assert set(idx[got[idx]]) == expected


def test_capacity_policy_hand_computed():
    cl = CostLoss(cost=1.0, loss=10.0, effectiveness=0.5)
    out = capacity_policy(Y, P, YEARS, 1, cl)
    assert out["group"].tolist() == [2000, 2001]
    assert out["warnings"].tolist() == [1, 1]
    assert out["hits"].tolist() == [1, 1]
    assert out["misses"].tolist() == [0, 0]
    assert out["onsets"].tolist() == [1, 1]
    assert out["false_alarms"].tolist() == [0, 0]
    # 2000: act on 0.9 (onset): 1 + 5; 2001: act on 0.2 (onset): 1 + 5; 0.1 and 0.6 free.
    assert out["cost"].tolist() == pytest.approx([6.0, 6.0])
    via_costloss = capacity_policy(Y, P, YEARS, None, CostLoss(1.0, 10.0, 0.5, capacity=1))
    assert via_costloss.equals(out)
    with pytest.raises(ForecastInputError, match="k is None and costloss.capacity is None"):
        capacity_policy(Y, P, YEARS, None, cl)
    with pytest.raises(ForecastInputError, match="'k' must be an integer >= 1, got -2"):
        capacity_policy(Y, P, YEARS, -2, cl)
