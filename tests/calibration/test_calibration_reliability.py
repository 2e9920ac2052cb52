"""Reliability tables, Wilson intervals and interval coverage."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.calibration import calibration_curve

from forecast._errors import ForecastInputError
from forecast.calibration import (
    fixed_bin_reliability,
    interval_coverage,
    reliability_table,
    wilson_interval,
)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(5)


def test_reliability_uniform_matches_sklearn(rng):
    p = rng.random(2000)
    y = (rng.random(2000) < p).astype(float)
    table = reliability_table(y, p, n_bins=5, strategy="uniform")
    prob_true, prob_pred = calibration_curve(y, p, n_bins=5, strategy="uniform")
    np.testing.assert_allclose(table["observed_rate"], prob_true, atol=1e-12)
    np.testing.assert_allclose(table["mean_predicted"], prob_pred, atol=1e-12)
    assert table["count"].sum() == 2000


def test_reliability_quantile_and_unknown_rows(rng):
    p = rng.random(1000)
    y = (rng.random(1000) < p).astype(float)
    y[:10] = np.nan
    table = reliability_table(y, p, n_bins=10)
    assert table["count"].sum() == 990 and len(table) == 10
    assert (table["wilson_lower"] <= table["observed_rate"]).all()
    assert (table["observed_rate"] <= table["wilson_upper"]).all()
    assert (table["p_min"].iloc[1:].to_numpy() > table["p_max"].iloc[:-1].to_numpy()).all()


def test_wilson_known_value():
    lo, hi = wilson_interval(0.5, 10, 0.95)
    assert lo == pytest.approx(0.2366, abs=1e-4) and hi == pytest.approx(0.7634, abs=1e-4)
    lo, hi = wilson_interval(0.0, 20, 0.95)
    assert lo == 0 and hi == pytest.approx(0.1611, abs=1e-4)


def test_interval_coverage_by_hand(rng):
    y = np.array([0, 1, 0, 1, 1, 0, 0, 0])
    bins = np.array([0, 0, 0, 0, 1, 1, 1, 1])  # observed rates 0.5 and 0.25
    lower = np.array([0.4, 0.6, 0.0, 0.1, 0.2, 0.3, 0.0, 0.1])
    upper = np.array([0.6, 0.9, 0.5, 0.4, 0.3, 0.4, 0.2, 0.3])
    res = interval_coverage(y, lower, upper, bins)
    # covered: rows 0, 2 (rate .5); rows 4, 7 (rate .25)
    assert res.coverage == pytest.approx(4 / 8)
    np.testing.assert_allclose(res.table["covered_share"], [0.5, 0.5])
    np.testing.assert_allclose(res.table["observed_rate"], [0.5, 0.25])


def test_wide_intervals_cover(rng):
    p = rng.random(500)
    y = (rng.random(500) < p).astype(float)
    res = interval_coverage(y, np.clip(p - 0.2, 0, 1), np.clip(p + 0.2, 0, 1), bins=10)
    assert res.coverage > 0.9


def test_bad_input():
    with pytest.raises(ForecastInputError, match="'lower' must not exceed 'upper'"):
        interval_coverage([0, 1], [0.5, 0.2], [0.4, 0.3])
    with pytest.raises(ForecastInputError, match=r"'y_score' must be probabilities in \[0, 1\]"):
        reliability_table([0, 1], [0.5, 1.2])
    with pytest.raises(ForecastInputError, match="'strategy' must be 'quantile' or 'uniform'"):
        reliability_table([0, 1], [0.5, 0.2], strategy="kmeans")
    with pytest.raises(ForecastInputError, match="has shape"):
        reliability_table([0, 1, 1], [0.5, 0.2])


def _wilson_by_hand(k: int, n: int, z: float) -> tuple[float, float]:
    phat = k / n
    centre = (phat + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * ((phat * (1 - phat) / n + z * z / (4 * n * n)) ** 0.5)
    return max(centre - half, 0.0), min(centre + half, 1.0)


def test_fixed_bin_reliability_matches_a_plain_loop(rng):
    p = np.concatenate([rng.uniform(0, 0.5, 3000), [0.0, 0.01, 0.1, 0.3, 1.0]])
    y = (rng.random(p.size) < p).astype(float)
    y[:7] = np.nan  # unknown outcomes are dropped
    table = fixed_bin_reliability(y, p)
    assert table["bin"].tolist() == ["<1%", "1-3%", "3-10%", "10-30%", ">=30%"]
    edges = [0.0, 0.01, 0.03, 0.10, 0.30, 1.0]
    z = 1.6448536269514722  # 90% two-sided
    for b, row in table.iterrows():
        members = [
            i
            for i in range(p.size)
            if not np.isnan(y[i])
            and edges[b] <= p[i]
            and (p[i] < edges[b + 1] or (b == len(edges) - 2 and p[i] == 1.0))
        ]
        k = sum(int(y[i]) for i in members)
        assert row["n"] == len(members) and row["events"] == k
        assert row["mean_forecast"] == pytest.approx(sum(p[i] for i in members) / len(members))
        assert row["observed_rate"] == pytest.approx(k / len(members))
        lo, hi = _wilson_by_hand(k, len(members), z)
        assert row["lower"] == pytest.approx(lo) and row["upper"] == pytest.approx(hi)
    assert table["n"].sum() == np.isfinite(y).sum()


def test_fixed_bin_reliability_keeps_empty_bins_and_checks_edges():
    table = fixed_bin_reliability([0, 1, 0], [0.005, 0.5, 0.6])
    assert table["n"].tolist() == [1, 0, 0, 0, 2]
    assert np.isnan(table.loc[1, "observed_rate"]) and np.isnan(table.loc[1, "lower"])
    custom = fixed_bin_reliability([0, 1], [0.2, 0.7], bins=(0, 0.5, 1))
    assert custom["bin"].tolist() == ["<50%", ">=50%"]
    with pytest.raises(ForecastInputError, match="edges from 0 to 1"):
        fixed_bin_reliability([0, 1], [0.2, 0.7], bins=(0.1, 0.5, 1))
    with pytest.raises(ForecastInputError, match="increase strictly"):
        fixed_bin_reliability([0, 1], [0.2, 0.7], bins=(0, 0.5, 0.5, 1))
