"""One-dimensional calibrators: maps from a model's probability to a recalibrated one.

Each has ``fit(p, y, w) -> self`` and ``predict(p) -> q`` on probabilities.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from sklearn.isotonic import IsotonicRegression

from forecast._math import expit, fit_logistic, logit

__all__ = ["InterceptCalibrator", "IsotonicCalibrator", "PlattCalibrator"]

Array = NDArray[np.float64]


class PlattCalibrator:
    r"""Logistic recalibration on the logit scale: :math:`q = \sigma(a + b\,\mathrm{logit}(p))`.

    Platt (1999) scaling applied to probabilities rather than margins, fitted
    by weighted maximum likelihood (Newton / IRLS).
    """

    def fit(self, p: Array, y: Array, w: Array) -> PlattCalibrator:
        X = np.column_stack([np.ones(p.size), logit(p)])
        self.coef_ = fit_logistic(X, y, w)
        return self

    def predict(self, p: Array) -> Array:
        return expit(self.coef_[0] + self.coef_[1] * logit(p))


class InterceptCalibrator:
    r"""Base-rate drift correction: :math:`q = \sigma(a + \mathrm{logit}(p))` (slope fixed at 1).

    Keeps the model's ranking and relative risks and only shifts the overall
    level so that expected onsets match recent observed onsets.
    """

    def fit(self, p: Array, y: Array, w: Array) -> InterceptCalibrator:
        self.coef_ = fit_logistic(np.ones((p.size, 1)), y, w, offset=logit(p))
        return self

    def predict(self, p: Array) -> Array:
        return expit(self.coef_[0] + logit(p))


class IsotonicCalibrator:
    """Monotone step function fitted by weighted isotonic regression (clipped outside range)."""

    def fit(self, p: Array, y: Array, w: Array) -> IsotonicCalibrator:
        self.iso_ = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(
            p, y, sample_weight=w
        )
        return self

    def predict(self, p: Array) -> Array:
        return np.asarray(self.iso_.predict(p), dtype=float)
