"""RecalibratedClassifier: temporal split, methods, intervals, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from forecast._errors import ForecastInputError
from forecast.calibration import RecalibratedClassifier, VennAbersCalibrator
from forecast.metrics import observed_expected


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(2024)


def _drift_panel(rng, n_per_year=150, years=range(1990, 2015), drift=0.06):
    yr = np.repeat(np.array(list(years)), n_per_year)
    X = rng.normal(size=(yr.size, 2))
    z = -3.0 + X @ np.array([1.0, -0.7]) + drift * (yr - yr.min())
    y = (rng.random(yr.size) < 1 / (1 + np.exp(-z))).astype(int)
    return X, y, yr


class SpyLogit(LogisticRegression):
    """Records the rows it was fitted on (to check the temporal split)."""

    def fit(self, X, y, sample_weight=None):
        self.seen_rows_ = X.shape[0]
        self.seen_weight_ = None if sample_weight is None else np.asarray(sample_weight).copy()
        return super().fit(X, y, sample_weight=sample_weight)


@pytest.mark.parametrize("method", ["platt", "isotonic", "intercept", "venn_abers"])
def test_methods_fit_and_give_intervals(rng, method):
    X, y, yr = _drift_panel(rng)
    clf = RecalibratedClassifier(
        LogisticRegression(), method=method, calibration_years=5, n_boot=50
    )
    clf.fit(X, y, years=yr)
    proba = clf.predict_proba(X[:100])
    assert proba.shape == (100, 2) and np.allclose(proba.sum(axis=1), 1)
    lo, hi = clf.predict_interval(X[:100])
    assert np.all(lo <= hi + 1e-12) and np.all((lo >= 0) & (hi <= 1))
    assert clf.base_years_ == (1990, 2009) and clf.calibration_years_ == (2010, 2014)
    assert set(clf.predict(X[:100])) <= {0, 1}


def test_temporal_split_and_refit(rng):
    X, y, yr = _drift_panel(rng)
    clf = RecalibratedClassifier(
        SpyLogit(), method="platt", calibration_years=4, gap=2, refit=False
    ).fit(X, y, years=yr)
    assert clf.estimator_.seen_rows_ == np.sum(yr <= 2014 - 4 - 2)
    assert clf.base_years_ == (1990, 2008)
    refit = clone(clf).set_params(refit=True).fit(X, y, years=yr)
    assert refit.estimator_.seen_rows_ == yr.size


def test_intercept_corrects_base_rate_drift(rng):
    X, y, yr = _drift_panel(rng, drift=0.08)
    recent = yr > 2009
    raw = LogisticRegression().fit(X[yr <= 2009], y[yr <= 2009])
    # the raw model trained on old years under-forecasts recent years
    oe_raw = observed_expected(y[recent], raw.predict_proba(X[recent])[:, 1])
    clf = RecalibratedClassifier(LogisticRegression(), method="intercept", refit=False)
    clf.fit(X, y, years=yr)
    oe_cal = observed_expected(y[recent], clf.predict_proba(X[recent])[:, 1])
    assert oe_raw > 1.3
    assert abs(oe_cal - 1) < 0.05  # in-sample on the calibration years: ~exact


def test_year_column_and_sample_weight_passthrough(rng):
    X, y, yr = _drift_panel(rng)
    frame = pd.DataFrame(X, columns=["x1", "x2"]).assign(year=yr)
    w = np.exp(0.05 * (yr - 2014))  # recency weights
    clf = RecalibratedClassifier(SpyLogit(), year_column="year", refit=False, n_boot=20)
    clf.fit(frame, y, sample_weight=w)
    np.testing.assert_allclose(clf.estimator_.seen_weight_, w[yr <= 2009])
    pipe = make_pipeline(StandardScaler(), LogisticRegression())
    RecalibratedClassifier(pipe, year_column="year", n_boot=20).fit(frame, y, sample_weight=w)


def test_venn_abers_interval_contains_isotonic_estimate(rng):
    n = 400
    p_cal = rng.random(n)
    y_cal = (rng.random(n) < p_cal**1.5).astype(float)
    va = VennAbersCalibrator().fit(p_cal, y_cal, np.ones(n))
    iso = IsotonicRegression(out_of_bounds="clip").fit(p_cal, y_cal)
    test = np.r_[rng.random(300), p_cal[:20], 0.0, 1.0]
    p0, p1 = va.predict_interval(test)
    est = iso.predict(test)
    assert np.all(p0 <= est + 1e-12) and np.all(est <= p1 + 1e-12)
    point = va.predict(test)
    assert np.all((p0 - 1e-12 <= point) & (point <= p1 + 1e-12))


def test_venn_abers_matches_brute_force(rng):
    n = 60
    p_cal = np.round(rng.random(n), 2)
    y_cal = (rng.random(n) < p_cal).astype(float)
    va = VennAbersCalibrator().fit(p_cal, y_cal, np.ones(n))
    for s in (0.005, p_cal[3], 0.5, 0.999):
        lo, hi = va.predict_interval(np.array([s]))
        for label, got in ((0.0, lo[0]), (1.0, hi[0])):
            iso = IsotonicRegression().fit(np.r_[p_cal, s], np.r_[y_cal, label])
            assert got == pytest.approx(iso.predict([s])[0], abs=1e-12)


def test_recalibrated_is_an_sklearn_estimator():
    clf = RecalibratedClassifier(LogisticRegression(), method="isotonic", calibration_years=3)
    params = clf.get_params()
    assert params["method"] == "isotonic" and params["calibration_years"] == 3
    assert not hasattr(clone(clf), "calibrator_")


def test_bad_input(rng):
    X, y, yr = _drift_panel(rng, n_per_year=40, years=range(2000, 2006))
    with pytest.raises(ForecastInputError, match="'method' must be one of"):
        RecalibratedClassifier(LogisticRegression(), method="beta").fit(X, y, years=yr)
    with pytest.raises(ForecastInputError, match="'calibration_years' must be an integer >= 1"):
        RecalibratedClassifier(LogisticRegression(), calibration_years=0).fit(X, y, years=yr)
    with pytest.raises(ForecastInputError, match="the temporal split needs years"):
        RecalibratedClassifier(LogisticRegression()).fit(X, y)
    with pytest.raises(ForecastInputError, match=r"base-model rows \(years <= 1999\) contain no"):
        RecalibratedClassifier(LogisticRegression(), calibration_years=6).fit(X, y, years=yr)
    with pytest.raises(ForecastInputError, match="'y' must be 0 or 1"):
        RecalibratedClassifier(LogisticRegression()).fit(X, np.where(y == 1, 2, 0), years=yr)
    with pytest.raises(ForecastInputError, match="does not accept 'sample_weight'"):
        RecalibratedClassifier(KNeighborsClassifier(), calibration_years=2).fit(
            X, y, years=yr, sample_weight=np.ones(y.size)
        )
    y_late0 = y.copy()
    y_late0[yr > 2003] = 0
    with pytest.raises(ForecastInputError, match=r"calibration rows \(years > 2003\) contain a "):
        RecalibratedClassifier(LogisticRegression(), calibration_years=2).fit(X, y_late0, years=yr)
