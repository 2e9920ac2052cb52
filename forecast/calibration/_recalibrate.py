"""Temporal recalibration wrapper around any probabilistic classifier."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.pipeline import Pipeline
from sklearn.utils import _safe_indexing
from sklearn.utils.validation import check_is_fitted, has_fit_parameter

from forecast._errors import ForecastInputError, input_error
from forecast.calibration._calibrators import (
    InterceptCalibrator,
    IsotonicCalibrator,
    PlattCalibrator,
)
from forecast.calibration._venn_abers import VennAbersCalibrator
from forecast.models import fit_estimator

__all__ = ["RecalibratedClassifier"]

Method = Literal["platt", "isotonic", "venn_abers", "intercept"]
_CALIBRATORS = {
    "platt": PlattCalibrator,
    "isotonic": IsotonicCalibrator,
    "intercept": InterceptCalibrator,
    "venn_abers": VennAbersCalibrator,
}


def _weight_params(estimator: Any, sample_weight: NDArray | None) -> dict[str, Any]:
    if sample_weight is None:
        return {}
    if has_fit_parameter(estimator, "sample_weight"):
        return {"sample_weight": sample_weight}
    if isinstance(estimator, Pipeline) and has_fit_parameter(
        estimator.steps[-1][1], "sample_weight"
    ):
        return {f"{estimator.steps[-1][0]}__sample_weight": sample_weight}
    raise input_error(
        f"RecalibratedClassifier: the estimator {type(estimator).__name__} does not accept "
        "'sample_weight'",
        fix="drop sample_weight or wrap an estimator whose fit takes sample_weight",
    )


class RecalibratedClassifier(ClassifierMixin, BaseEstimator):
    """Recalibrate a classifier on its most recent years, with probability intervals.

    ``fit`` uses only the rows it is given (all available at fit time) and a
    TEMPORAL inner split: a copy of ``estimator`` is fitted on rows with
    ``year <= max_year - calibration_years - gap``, and the calibrator on that
    copy's probabilities for the last ``calibration_years`` years. With
    ``refit=True`` the base model is then refitted on all rows and the
    calibrator applied on top of it.

    Parameters
    ----------
    estimator : classifier
        Any estimator with ``fit`` and ``predict_proba`` for outcomes 0/1.
    method : {'platt', 'isotonic', 'venn_abers', 'intercept'}
        ``platt``: logistic on logit(p) (intercept and slope); ``isotonic``;
        ``venn_abers``: inductive Venn-Abers (interval ``[p0, p1]``);
        ``intercept``: logistic intercept only (base-rate drift correction).
    calibration_years : int
        Number of most recent distinct-year span used for the calibrator.
    gap : int
        Years left out between the base model's training rows and the
        calibration years. With a two-year outcome window (onset in t+1 or
        t+2) use ``gap=2`` (or 1) so that the base model's training labels do
        not reach into the calibration years.
    refit : bool
        Refit the base model on all rows after calibrating (default True).
    year_column : str, optional
        Column of ``X`` (a DataFrame) holding the year; alternatively pass
        ``years=`` to :meth:`fit`. The column stays in ``X`` for the model.
    n_boot, level, seed
        Bootstrap of the calibration set behind :meth:`predict_interval` for
        platt / isotonic / intercept (Venn-Abers has its own interval).

    Attributes
    ----------
    estimator_ : classifier
        The fitted base model used at prediction time.
    calibrator_ : object
        Fitted map from base probability to recalibrated probability.
    boot_calibrators_ : list
        Calibrators fitted on bootstrap resamples of the calibration set.
    base_years_, calibration_years_ : tuple of int
        (first, last) year of the base-model rows and of the calibration rows.
    classes_ : ndarray
        ``[0, 1]``.
    """

    def __init__(
        self,
        estimator: Any,
        *,
        method: Method = "platt",
        calibration_years: int = 5,
        gap: int = 0,
        refit: bool = True,
        year_column: str | None = None,
        n_boot: int = 200,
        level: float = 0.8,
        seed: int = 0,
    ) -> None:
        self.estimator = estimator
        self.method = method
        self.calibration_years = calibration_years
        self.gap = gap
        self.refit = refit
        self.year_column = year_column
        self.n_boot = n_boot
        self.level = level
        self.seed = seed

    # ------------------------------------------------------------------ checks
    def _check_params(self) -> None:
        if self.method not in _CALIBRATORS:
            raise input_error(
                f"RecalibratedClassifier: 'method' must be one of {sorted(_CALIBRATORS)}, "
                f"got {self.method!r}",
                fix="pass method='platt'",
            )
        for name in ("calibration_years", "gap", "n_boot"):
            value = getattr(self, name)
            low = 1 if name != "gap" else 0
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
                raise input_error(
                    f"RecalibratedClassifier: {name!r} must be an integer >= {low}, got {value!r}",
                    fix=f"pass e.g. {name}={max(low, 5 if name != 'n_boot' else 200)}",
                )
        if not 0 < self.level < 1:
            raise input_error(
                f"RecalibratedClassifier: 'level' must be in (0, 1), got {self.level!r}",
                fix="pass e.g. level=0.8",
            )

    def _years(self, X: Any, years: ArrayLike | None, n: int) -> NDArray[np.float64]:
        if years is None:
            if self.year_column is None or not isinstance(X, pd.DataFrame):
                raise input_error(
                    "RecalibratedClassifier.fit: the temporal split needs years",
                    fix="pass fit(X, y, years=...) or year_column= with a DataFrame X",
                )
            if self.year_column not in X.columns:
                raise input_error(
                    f"RecalibratedClassifier.fit: X lacks year_column {self.year_column!r}",
                    fix="pass the name of the year column of X",
                )
            years = X[self.year_column]
        yr = pd.to_numeric(pd.Series(np.asarray(years)), errors="coerce").to_numpy(float)
        if yr.shape != (n,) or np.isnan(yr).any():
            raise input_error(
                f"RecalibratedClassifier.fit: 'years' must be {n} numeric years without NaN",
                fix="pass one year per row of X",
            )
        return yr

    # --------------------------------------------------------------------- fit
    def fit(
        self,
        X: Any,
        y: ArrayLike,
        *,
        years: ArrayLike | None = None,
        sample_weight: ArrayLike | None = None,
    ) -> RecalibratedClassifier:
        """Fit the base model and the calibrator with a temporal inner split.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n, d)
        y : array-like of shape (n,)
            Outcomes 0/1 (drop unknown outcomes before fitting).
        years : array-like of shape (n,), optional
            Year of each row (else ``X[year_column]``).
        sample_weight : array-like of shape (n,), optional
            E.g. recency weights; passed to the base model and the calibrator.
        """
        self._check_params()
        y_arr = np.asarray(y, dtype=float)
        n = y_arr.size
        if not np.isin(y_arr, (0.0, 1.0)).all():
            bad = np.flatnonzero(~np.isin(y_arr, (0.0, 1.0)))
            raise input_error(
                "RecalibratedClassifier.fit: 'y' must be 0 or 1 (drop unknown outcomes first)",
                rows=bad.tolist(),
                fix="recode y to 0/1 and drop rows whose outcome is unknown",
            )
        yr = self._years(X, years, n)
        w = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=float)
        if w.shape != (n,) or not (np.isfinite(w).all() and (w >= 0).all()):
            raise input_error(
                "RecalibratedClassifier.fit: 'sample_weight' must be n finite weights >= 0",
                fix="pass one non-negative weight per row",
            )
        last = yr.max()
        cal = yr > last - self.calibration_years
        base = yr <= last - self.calibration_years - self.gap
        cut = int(last - self.calibration_years)
        parts = (
            ("base-model", base, f"<= {cut - self.gap}"),
            ("calibration", cal, f"> {cut}"),
        )
        for name, mask, span in parts:
            classes = np.unique(y_arr[mask])
            if classes.size < 2:
                found = "no rows" if classes.size == 0 else "a single class"
                raise input_error(
                    f"RecalibratedClassifier.fit: the {name} rows (years {span}) contain {found}",
                    fix="change calibration_years/gap so both parts hold events and non-events",
                )
        sw = None if sample_weight is None else w
        if sw is not None:
            _weight_params(self.estimator, sw)  # refuse estimators that ignore weights
        early = fit_estimator(
            clone(self.estimator),
            _safe_indexing(X, np.flatnonzero(base)),
            y_arr[base],
            sample_weight=None if sw is None else sw[base],
            years=yr[base],
        )
        p_cal = self._positive_proba(early, _safe_indexing(X, np.flatnonzero(cal)))
        y_cal, w_cal = y_arr[cal], w[cal]
        self.calibrator_ = _CALIBRATORS[self.method]().fit(p_cal, y_cal, w_cal)  # type: ignore[attr-defined]
        self.boot_calibrators_ = self._bootstrap(p_cal, y_cal, w_cal)
        if self.refit:
            self.estimator_ = fit_estimator(
                clone(self.estimator), X, y_arr, sample_weight=sw, years=yr
            )
        else:
            self.estimator_ = early
        self.classes_ = np.array([0, 1])
        self.base_years_ = (int(yr[base].min()), int(yr[base].max()))
        self.calibration_years_ = (int(yr[cal].min()), int(yr[cal].max()))
        return self

    def _bootstrap(self, p: NDArray, y: NDArray, w: NDArray) -> list[Any]:
        if self.method == "venn_abers":
            return []
        rng = np.random.default_rng(self.seed)
        fitted = []
        for _ in range(self.n_boot):
            idx = rng.integers(0, p.size, p.size)
            if np.unique(y[idx]).size < 2:
                continue
            try:
                fitted.append(
                    _CALIBRATORS[self.method]().fit(p[idx], y[idx], w[idx])  # type: ignore[attr-defined]
                )
            except ForecastInputError:  # separation in a tiny resample
                continue
        return fitted

    @staticmethod
    def _positive_proba(model: Any, X: Any) -> NDArray[np.float64]:
        proba = np.asarray(model.predict_proba(X), dtype=float)
        col = int(np.flatnonzero(np.asarray(model.classes_) == 1)[0])
        return np.clip(proba[:, col], 0.0, 1.0)

    # ----------------------------------------------------------------- predict
    def predict_proba(self, X: Any) -> NDArray[np.float64]:
        """Recalibrated probabilities, shape (n, 2) for classes [0, 1]."""
        check_is_fitted(self, "calibrator_")
        q = np.clip(self.calibrator_.predict(self._positive_proba(self.estimator_, X)), 0, 1)
        return np.column_stack([1.0 - q, q])

    def predict(self, X: Any) -> NDArray[np.int_]:
        """Class 1 when the recalibrated probability is >= 0.5."""
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)

    def predict_interval(self, X: Any) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Lower and upper probability per row.

        Venn-Abers: the multiprobability interval ``[p0, p1]``. Other methods:
        the central ``level`` percentile interval of the calibrators fitted on
        ``n_boot`` bootstrap resamples of the calibration rows (the
        uncertainty of the recalibration, not of the base model).
        """
        check_is_fitted(self, "calibrator_")
        p = self._positive_proba(self.estimator_, X)
        if self.method == "venn_abers":
            return self.calibrator_.predict_interval(p)
        if not self.boot_calibrators_:
            raise input_error(
                "RecalibratedClassifier.predict_interval: no bootstrap resample of the "
                "calibration rows could be fitted",
                fix="use more calibration_years or method='venn_abers'",
            )
        draws = np.vstack([c.predict(p) for c in self.boot_calibrators_])
        alpha = (1.0 - self.level) / 2.0
        lower, upper = np.quantile(draws, [alpha, 1.0 - alpha], axis=0)
        return lower, upper
