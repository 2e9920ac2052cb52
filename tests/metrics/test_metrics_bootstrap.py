"""Cluster bootstrap and paired comparisons."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from forecast._errors import ForecastInputError
from forecast.metrics import bootstrap_metric, get_metric, paired_difference, roc_auc
from forecast.metrics._bootstrap import resample_weights


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(99)


def _panel(rng, n_units=170, n_years=30):
    unit = np.repeat(np.arange(n_units), n_years)
    year = np.tile(np.arange(1994, 1994 + n_years), n_units)
    frailty = rng.normal(0, 1, n_units)[unit]
    z = -4.2 + frailty + rng.normal(0, 0.5, unit.size)
    p = 1 / (1 + np.exp(-z))
    y = (rng.random(unit.size) < p).astype(float)
    return y, p, unit, year


def test_resample_weights_are_cluster_counts(rng):
    clusters = np.array([0, 0, 1, 2, 2, 2])
    W = resample_weights(clusters, None, 50, rng)
    assert W.shape == (50, 6)
    # rows of the same cluster share a weight and a replicate draws 3 clusters
    assert np.all(W[:, 0] == W[:, 1]) and np.all(W[:, 3] == W[:, 5])
    assert np.all(W[:, [0, 2, 3]].sum(axis=1) == 3)


def test_bootstrap_matches_explicit_resampling_loop(rng):
    y, p, unit, _ = _panel(rng, n_units=40, n_years=10)
    res = bootstrap_metric((y, p), "roc_auc", clusters=unit, n_boot=60, seed=5)
    # independent route: draw the same clusters, build the resampled data set by concatenation
    g = np.random.default_rng(5)
    draws = g.integers(0, 40, size=(60, 40))
    by_unit = {u: np.flatnonzero(unit == u) for u in range(40)}
    manual = []
    for b in range(60):
        rows = np.concatenate([by_unit[u] for u in draws[b]])
        yy = y[rows]
        manual.append(roc_auc(yy, p[rows]) if 0 < yy.sum() < yy.size else np.nan)
    np.testing.assert_allclose(res.replicates, manual, rtol=1e-12)
    assert res.estimate == pytest.approx(roc_auc(y, p))
    assert res.lower < res.estimate < res.upper and res.level == 0.95


def test_bootstrap_from_table_and_years(rng):
    y, p, unit, year = _panel(rng, n_units=60, n_years=12)
    table = pd.DataFrame({"unit": unit, "year": year, "model": "m", "probability": p, "outcome": y})
    table.loc[:5, "outcome"] = np.nan
    a = bootstrap_metric(table, "brier", n_boot=200, seed=1)
    b = bootstrap_metric(table, "brier", n_boot=200, seed=1, also_years=True)
    assert a.estimate == b.estimate
    assert (b.upper - b.lower) >= 0.8 * (a.upper - a.lower)
    again = bootstrap_metric(table, "brier", n_boot=200, seed=1)
    assert again.lower == a.lower and again.upper == a.upper  # deterministic
    topk = bootstrap_metric(table, get_metric("recall_at_k", k=10), n_boot=30, seed=2)
    assert 0 <= topk.lower <= topk.upper <= 1


def test_auc_bootstrap_speed(rng):
    """1000 cluster resamples of ~5000 rows x 170 clusters stay vectorised: CPU time (not wall
    time, which other processes inflate) under 5 s."""
    y, p, unit, _ = _panel(rng, n_units=170, n_years=30)
    bootstrap_metric((y, p), "roc_auc", clusters=unit, n_boot=10, seed=0)  # warm-up
    start = time.process_time()
    res = bootstrap_metric((y, p), "roc_auc", clusters=unit, n_boot=1000, seed=0)
    elapsed = time.process_time() - start
    assert elapsed < 5.0, elapsed
    assert res.n_failed == 0 and res.replicates.shape == (1000,)


def test_paired_difference(rng):
    y, p, unit, _ = _panel(rng, n_units=80, n_years=20)
    noisy = np.clip(p + rng.normal(0, 0.03, p.size), 0, 1)
    res = paired_difference(y, p, noisy, clusters=unit, metric="roc_auc", n_boot=300, seed=4)
    assert res.estimate == pytest.approx(roc_auc(y, p) - roc_auc(y, noisy))
    assert res.lower <= res.estimate <= res.upper
    same = paired_difference(y, p, p, clusters=unit, n_boot=100, seed=4)
    assert same.estimate == 0 and same.p_value == 1.0
    assert 0 < res.p_value <= 1


def test_bootstrap_bad_input(rng):
    y, p, unit, _ = _panel(rng, n_units=10, n_years=5)
    with pytest.raises(ForecastInputError, match="'n_boot' must be an integer >= 1"):
        bootstrap_metric((y, p), "brier", n_boot=0)
    with pytest.raises(ForecastInputError, match=r"'level' must be in \(0, 1\)"):
        bootstrap_metric((y, p), "brier", level=95)
    with pytest.raises(ForecastInputError, match="'clusters' must have one value per row"):
        bootstrap_metric((y, p), "brier", clusters=unit[:3])
    with pytest.raises(ForecastInputError, match="holds 2 models"):
        bootstrap_metric(
            pd.DataFrame(
                {"unit": [1, 2], "model": ["a", "b"], "probability": [0.1, 0.2], "outcome": [0, 1]}
            ),
            "brier",
        )
    with pytest.raises(ForecastInputError, match="'years' is required"):
        bootstrap_metric((y, p), "brier", also_years=True)
    with pytest.raises(ForecastInputError, match="must be a DataFrame or a"):
        bootstrap_metric(y, "brier")
    with pytest.raises(ForecastInputError, match="scores must have one value per row"):
        paired_difference(y, p, p[:4])
