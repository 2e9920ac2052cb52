"""Many-at-once forms of the metrics (top-k curves, threshold tables, shared bootstraps) equal
the one-at-a-time functions exactly; large bootstraps stay exact where they promise it."""

from __future__ import annotations

import numpy as np
import pytest

import forecast.metrics._bootstrap as bootstrap_module
from forecast._errors import ForecastInputError
from forecast.metrics import (
    bootstrap_metric,
    bootstrap_metrics,
    get_metric,
    paired_difference,
    paired_from_bootstraps,
    precision_at_k,
    precision_at_threshold,
    recall_at_k,
    recall_at_threshold,
    threshold_counts,
    top_k_curve,
    top_k_mask,
    warnings_at_threshold,
)
from forecast.metrics._batch import BATCH, ClusterLevels
from forecast.metrics._bootstrap import resample_weights
from forecast.metrics._topk import group_ranks


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(2026)


def _same(a: float, b: float) -> bool:
    return (np.isnan(a) and np.isnan(b)) or a == b


def _case(rng, trial: int):
    n = int(rng.integers(1, 300))
    y = (rng.random(n) < 0.2).astype(float)
    p = np.round(rng.random(n), int(rng.integers(1, 4)))  # ties
    groups = rng.integers(0, int(rng.integers(1, 8)), n)
    w = [None, rng.integers(0, 4, n).astype(float), rng.random(n)][trial % 3]
    if w is not None and w.sum() == 0:
        w[0] = 1.0
    return y, p, groups, w


def test_group_ranks_are_the_lexsort_order(rng):
    for trial in range(100):
        _, p, groups, w = _case(rng, trial)
        live = np.ones(p.size, bool) if w is None else w > 0
        idx = np.flatnonzero(live)
        codes = np.unique(groups, return_inverse=True)[1]
        order = idx[np.lexsort((idx, -p[idx], codes[idx]))]
        ranks = group_ranks(p, groups, sample_weight=w)
        for k in (1, 2, 5):
            expected = np.zeros(p.size, bool)
            for g in np.unique(codes):
                expected[order[codes[order] == g][:k]] = True
            np.testing.assert_array_equal(top_k_mask(p, groups, k, sample_weight=w), expected)
            np.testing.assert_array_equal((ranks >= 0) & (ranks < k), expected)


def test_top_k_curve_equals_each_k(rng):
    for trial in range(100):
        y, p, groups, w = _case(rng, trial)
        recall, precision = top_k_curve(y, p, groups=groups, max_k=9, sample_weight=w)
        for k in range(1, 10):
            assert _same(recall[k - 1], recall_at_k(y, p, groups=groups, k=k, sample_weight=w))
            assert _same(
                precision[k - 1], precision_at_k(y, p, groups=groups, k=k, sample_weight=w)
            )


def test_threshold_counts_equal_each_threshold(rng):
    for trial in range(100):
        y, p, _, w = _case(rng, trial)
        thresholds = np.r_[0.0, 1.0, rng.random(5), p[:3]]
        table = threshold_counts(y, p, thresholds=thresholds, sample_weight=w)
        for i, t in enumerate(thresholds):
            for name, func in (
                ("precision", precision_at_threshold),
                ("recall", recall_at_threshold),
                ("warnings", warnings_at_threshold),
            ):
                assert _same(table[name][i], func(y, p, threshold=t, sample_weight=w)), name


def _panel(rng, n_units=60, n_years=12):
    unit = np.repeat(np.arange(n_units), n_years)
    p = 1 / (1 + np.exp(-(-3 + rng.normal(0, 1, n_units)[unit] + rng.normal(0, 0.6, unit.size))))
    y = (rng.random(unit.size) < p).astype(float)
    return y, p, unit


def test_cluster_levels_equal_the_weight_matrix(rng):
    for rounding in (None, 2, 1):
        y, p, unit = _panel(rng)
        p = p if rounding is None else np.round(p, rounding)
        codes = np.unique(unit, return_inverse=True)[1]
        w = (rng.random(y.size) > 0.2).astype(float)
        counts = bootstrap_module._counts(codes, 40, np.random.default_rng(1))
        W = counts[:, codes] * w
        levels = ClusterLevels(y, p, counts, codes, w)
        assert levels.exact()
        np.testing.assert_array_equal(levels.roc_auc(), BATCH["roc_auc"](y, p, W))
        np.testing.assert_array_equal(
            levels.average_precision(97), BATCH["average_precision"](y, p, W)
        )


def test_bootstrap_metrics_equal_one_at_a_time(rng):
    y, p, unit = _panel(rng)
    names = ("roc_auc", "average_precision", "brier", "observed_expected", "log_loss")
    together = bootstrap_metrics((y, p), names, clusters=unit, n_boot=150, seed=3)
    for name in names:
        alone = bootstrap_metric((y, p), name, clusters=unit, n_boot=150, seed=3)
        both = together[name]
        assert (both.estimate, both.lower, both.upper) == (alone.estimate, alone.lower, alone.upper)
        np.testing.assert_array_equal(both.replicates, alone.replicates)


def test_paired_from_bootstraps_equals_paired_difference(rng):
    y, p, unit = _panel(rng)
    q = np.clip(p + rng.normal(0, 0.05, p.size), 0, 1)
    for metric in ("roc_auc", "brier"):
        a = bootstrap_metric((y, p), metric, clusters=unit, n_boot=120, seed=9)
        b = bootstrap_metric((y, q), metric, clusters=unit, n_boot=120, seed=9)
        reused = paired_from_bootstraps(a, b)
        direct = paired_difference(y, p, q, clusters=unit, metric=metric, n_boot=120, seed=9)
        for field in ("estimate", "lower", "upper", "p_value", "estimate_a", "estimate_b"):
            assert getattr(reused, field) == getattr(direct, field), field
    with pytest.raises(ForecastInputError, match="cannot be paired"):
        paired_from_bootstraps(a, bootstrap_metric((y, q), "brier", clusters=unit, n_boot=60))


def test_large_bootstraps_are_exact_or_say_how_close(rng, monkeypatch):
    """Past BLOCK_ENTRIES: AUC and AP unchanged; Brier and O/E from cluster sums (last bits)."""
    y, p, unit = _panel(rng, n_units=80, n_years=15)
    names = ("roc_auc", "average_precision", "brier", "observed_expected")
    small = bootstrap_metrics((y, p), names, clusters=unit, n_boot=100, seed=5)
    monkeypatch.setattr(bootstrap_module, "BLOCK_ENTRIES", 500)
    large = bootstrap_metrics((y, p), names, clusters=unit, n_boot=100, seed=5)
    for name in ("roc_auc", "average_precision"):
        np.testing.assert_array_equal(large[name].replicates, small[name].replicates)
    for name in ("brier", "observed_expected"):
        np.testing.assert_allclose(large[name].replicates, small[name].replicates, rtol=1e-12)
    # metrics without a cluster form loop over blocks of the weight matrix
    topk = get_metric("recall_at_k", k=3)
    year = np.tile(np.arange(15), 80)
    blocked = bootstrap_metric((y, p), topk, clusters=unit, years=year, n_boot=20, seed=2)
    monkeypatch.setattr(bootstrap_module, "BLOCK_ENTRIES", 2**24)
    whole = bootstrap_metric((y, p), topk, clusters=unit, years=year, n_boot=20, seed=2)
    np.testing.assert_array_equal(blocked.replicates, whole.replicates)


def test_resample_weights_match_the_draws(rng):
    """The weight matrix of the blocks is the one resample_weights documents."""
    codes = np.unique(rng.integers(0, 7, 50), return_inverse=True)[1]
    W = resample_weights(codes, None, 30, np.random.default_rng(4))
    draws = bootstrap_module._Draws(50, codes, None, False, 30, 4, np.ones(50))
    blocks = np.vstack([block for _, block in draws.blocks()])
    np.testing.assert_array_equal(blocks, W)
