"""Scalar metrics: agreement with scikit-learn, known values and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from forecast._errors import ForecastInputError
from forecast.metrics import (
    average_precision,
    brier,
    brier_skill,
    calibration_intercept,
    calibration_slope,
    ece,
    false_alarms_per_hit_at_threshold,
    fbeta_at_threshold,
    log_loss,
    observed_expected,
    precision_at_threshold,
    recall_at_threshold,
    roc_auc,
    warnings_at_threshold,
)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20250903)


@pytest.fixture
def data(rng):
    n = 3000
    p = rng.beta(0.6, 15, n)
    y = (rng.random(n) < p).astype(float)
    w = rng.gamma(2.0, 1.0, n)
    return y, p, w


PAIRS = [
    (roc_auc, skm.roc_auc_score),
    (average_precision, skm.average_precision_score),
    (brier, skm.brier_score_loss),
    (log_loss, skm.log_loss),
]


@pytest.mark.parametrize(("ours", "theirs"), PAIRS, ids=[p[0].__name__ for p in PAIRS])
@pytest.mark.parametrize("weighted", [False, True])
def test_agrees_with_sklearn(data, ours, theirs, weighted):
    y, p, w = data
    sw = w if weighted else None
    assert abs(ours(y, p, sample_weight=sw) - theirs(y, p, sample_weight=sw)) < 1e-12


@pytest.mark.parametrize(("ours", "theirs"), PAIRS, ids=[p[0].__name__ for p in PAIRS])
def test_agrees_with_sklearn_with_ties(rng, ours, theirs):
    p = np.round(rng.random(500), 1)  # heavy ties
    y = (rng.random(500) < p).astype(float)
    assert abs(ours(y, p) - theirs(y, p)) < 1e-12


def test_log_loss_clips_like_sklearn():
    y = np.array([1.0, 0.0, 1.0])
    p = np.array([0.0, 1.0, 0.5])
    assert abs(log_loss(y, p) - skm.log_loss(y, p)) < 1e-12
    assert np.isfinite(log_loss(y, p))


def test_auc_toy_table():
    # one inversion out of 4 pairs, plus a tie counted one half
    assert roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == pytest.approx(0.75)
    assert roc_auc([0, 1], [0.3, 0.3]) == pytest.approx(0.5)


def test_brier_skill_and_oe_by_hand(data):
    y, p, w = data
    rate = np.sum(w * y) / np.sum(w)
    expected = 1 - np.sum(w * (p - y) ** 2) / np.sum(w * (rate - y) ** 2)
    assert brier_skill(y, p, sample_weight=w) == pytest.approx(expected, abs=1e-12)
    ref = 1 - np.mean((p - y) ** 2) / np.mean((0.02 - y) ** 2)
    assert brier_skill(y, p, base_rate=0.02) == pytest.approx(ref, abs=1e-12)
    assert observed_expected(y, p, sample_weight=w) == pytest.approx(
        np.sum(w * y) / np.sum(w * p), abs=1e-12
    )
    assert brier_skill(y, np.full_like(p, rate), sample_weight=w) == pytest.approx(0, abs=1e-12)


def test_calibration_slope_intercept_on_calibrated_data(rng):
    n = 40000
    z = rng.normal(-2.5, 1.2, n)
    p = 1 / (1 + np.exp(-z))
    y = (rng.random(n) < p).astype(float)
    assert calibration_slope(y, p) == pytest.approx(1.0, abs=0.06)
    assert calibration_intercept(y, p) == pytest.approx(0.0, abs=0.05)
    # forecasts twice too extreme on the logit scale -> slope about 0.5
    p_extreme = 1 / (1 + np.exp(-(2 * z + 2.5)))
    assert calibration_slope(y, p_extreme) == pytest.approx(0.5, abs=0.04)


def test_calibration_slope_matches_statsmodels(data):
    sm = pytest.importorskip("statsmodels.api")
    y, p, w = data
    lp = np.log(p / (1 - p))
    fit = sm.GLM(y, sm.add_constant(lp), family=sm.families.Binomial(), freq_weights=w).fit()
    assert calibration_slope(y, p, sample_weight=w) == pytest.approx(fit.params[1], abs=1e-8)
    off = sm.GLM(
        y, np.ones((y.size, 1)), family=sm.families.Binomial(), offset=lp, freq_weights=w
    ).fit()
    assert calibration_intercept(y, p, sample_weight=w) == pytest.approx(off.params[0], abs=1e-8)


def test_ece_by_hand_loop(rng):
    p = rng.random(1000)
    y = (rng.random(1000) < p**2).astype(float)
    order = np.sort(p)
    total = 0.0
    for chunk in np.array_split(order, 10):  # no ties: quantile bins are equal chunks
        mask = (p >= chunk[0]) & (p <= chunk[-1])
        total += mask.sum() / p.size * abs(p[mask].mean() - y[mask].mean())
    assert ece(y, p) == pytest.approx(total, abs=1e-12)
    assert ece(y, p, n_bins=1) == pytest.approx(abs(p.mean() - y.mean()), abs=1e-12)


def test_threshold_metrics_by_hand():
    y = np.array([1, 0, 1, 0, 0, 1, 0])
    p = np.array([0.9, 0.8, 0.6, 0.5, 0.2, 0.1, 0.05])
    # warn p >= 0.5: rows 0..3 -> TP 2, FP 2, FN 1
    assert precision_at_threshold(y, p, threshold=0.5) == pytest.approx(0.5)
    assert recall_at_threshold(y, p, threshold=0.5) == pytest.approx(2 / 3)
    assert fbeta_at_threshold(y, p, threshold=0.5) == pytest.approx(skm.f1_score(y, p >= 0.5))
    assert fbeta_at_threshold(y, p, threshold=0.5, beta=2) == pytest.approx(
        skm.fbeta_score(y, p >= 0.5, beta=2)
    )
    assert warnings_at_threshold(y, p, threshold=0.5) == 4
    assert false_alarms_per_hit_at_threshold(y, p, threshold=0.5) == pytest.approx(1.0)
    assert np.isnan(precision_at_threshold(y, p, threshold=0.95))  # no warnings: 0/0
    assert np.isnan(false_alarms_per_hit_at_threshold(y, p, threshold=0.95))


# ----------------------------------------------------------------------------- bad input


def test_scores_outside_unit_interval():
    with pytest.raises(ForecastInputError, match=r"'y_score' must be probabilities in \[0, 1\]"):
        brier([0, 1], [0.2, 1.3])
    with pytest.raises(ForecastInputError, match=r"'y_score'.*NaN.*rows \[1\]"):
        roc_auc([0, 1], [0.2, np.nan])


def test_nan_outcome_is_rejected_with_fix():
    with pytest.raises(ForecastInputError, match=r"'y_true' must be 0 or 1.*evaluate"):
        brier([0, np.nan], [0.2, 0.3])


def test_single_class():
    for f in (roc_auc, average_precision, calibration_slope, calibration_intercept):
        with pytest.raises(ForecastInputError, match=r"single class \(only 0"):
            f([0, 0, 0], [0.1, 0.2, 0.3])
    with pytest.raises(ForecastInputError, match=r"single class \(only 1"):
        roc_auc([1, 1], [0.1, 0.2])
    # zero-weight rows do not count as a class
    with pytest.raises(ForecastInputError, match="single class"):
        roc_auc([0, 1], [0.1, 0.2], sample_weight=[1, 0])


def test_mismatched_lengths():
    with pytest.raises(ForecastInputError, match=r"'y_true' has 3 rows but 'y_score' has 2"):
        brier([0, 1, 0], [0.1, 0.2])
    with pytest.raises(ForecastInputError, match=r"'sample_weight' has 1 rows"):
        brier([0, 1], [0.1, 0.2], sample_weight=[1])


def test_bad_weights():
    with pytest.raises(ForecastInputError, match=r"'sample_weight' must be finite and >= 0"):
        brier([0, 1], [0.1, 0.2], sample_weight=[1, -1])
    with pytest.raises(ForecastInputError, match="sums to 0"):
        brier([0, 1], [0.1, 0.2], sample_weight=[0, 0])


@pytest.mark.parametrize("bad", [-0.1, 1.5, np.nan, "high"])
def test_threshold_outside_unit_interval(bad):
    with pytest.raises(ForecastInputError, match=r"'threshold' must be (in|a number in) \[0, 1\]"):
        precision_at_threshold([0, 1], [0.1, 0.2], threshold=bad)


def test_bad_base_rate_and_beta():
    with pytest.raises(ForecastInputError, match="base_rate"):
        brier_skill([0, 1], [0.1, 0.2], base_rate=2.0)
    with pytest.raises(ForecastInputError, match="'beta' must be a positive number"):
        fbeta_at_threshold([0, 1], [0.1, 0.2], threshold=0.1, beta=0)


def test_bad_n_bins():
    with pytest.raises(ForecastInputError, match="'n_bins' must be an integer >= 1"):
        ece([0, 1], [0.1, 0.2], n_bins=0)


def test_separation_is_reported():
    with pytest.raises(ForecastInputError, match="perfectly separated"):
        calibration_slope([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9])
