"""Inductive Venn-Abers calibration (Vovk & Petej 2014), in numpy.

For a test score ``s``, isotonic regression is fitted twice on the
calibration set plus the test point: once labelled 0 (value at ``s`` = p0) and
once labelled 1 (p1). ``[p0, p1]`` is a multiprobability interval that is
valid (well calibrated) under exchangeability; the point estimate is the
log-loss-optimal merge ``p1 / (1 - p0 + p1)``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from sklearn.isotonic import isotonic_regression

try:  # fast in-place PAVA (Cython); the public wrapper costs ~0.8 ms of validation per call
    from sklearn._isotonic import _inplace_contiguous_isotonic_regression as _pava_inplace
except ImportError:  # pragma: no cover - private sklearn API moved
    _pava_inplace = None

__all__ = ["VennAbersCalibrator"]

Array = NDArray[np.float64]


def _pava(y: Array, w: Array) -> Array:
    """Weighted increasing isotonic regression of ``y`` (already ordered by x)."""
    if _pava_inplace is None:  # pragma: no cover
        return isotonic_regression(y, sample_weight=w, increasing=True)
    out = np.ascontiguousarray(y, dtype=np.float64).copy()
    _pava_inplace(out, np.ascontiguousarray(w, dtype=np.float64).copy())
    return out


class VennAbersCalibrator:
    """Inductive Venn-Abers predictor on probability scores.

    Calibration weights are rescaled to mean 1 so the test point weighs as
    much as an average calibration row.

    References
    ----------
    Vovk, V. and Petej, I. (2014). Venn-Abers predictors. UAI 2014, 829-838.
    """

    def fit(self, p: Array, y: Array, w: Array) -> VennAbersCalibrator:
        w = w / w.mean()
        xs, inv = np.unique(p, return_inverse=True)
        self.x_ = xs
        self.w_ = np.bincount(inv, weights=w, minlength=xs.size)
        self.wy_ = np.bincount(inv, weights=w * y, minlength=xs.size)
        return self

    def _value_at(self, j: int, tie: bool, label: float) -> float:
        """Isotonic fit at a test point inserted at slot ``j`` (tied with x_[j] or not)."""
        if tie:
            w, wy = self.w_.copy(), self.wy_.copy()
            w[j] += 1.0
            wy[j] += label
        else:
            w = np.insert(self.w_, j, 1.0)
            wy = np.insert(self.wy_, j, label)
        keep = w > 0
        pos = int(np.sum(keep[:j]))  # index of the test point among groups with weight
        return float(_pava(wy[keep] / w[keep], w[keep].astype(float))[pos])

    def predict_interval(self, p: Array) -> tuple[Array, Array]:
        """Return ``(p0, p1)`` for each score (``p0 <= p1``).

        The fit only depends on where a score falls among the calibration
        scores, so one pair of isotonic fits is run per distinct slot.
        """
        p = np.asarray(p, dtype=float)
        j = np.searchsorted(self.x_, p)
        tie = (j < self.x_.size) & (self.x_[np.minimum(j, self.x_.size - 1)] == p)
        slots, inv = np.unique(2 * j + tie, return_inverse=True)
        p0 = np.array([self._value_at(s // 2, bool(s % 2), 0.0) for s in slots])
        p1 = np.array([self._value_at(s // 2, bool(s % 2), 1.0) for s in slots])
        return p0[inv], p1[inv]

    def predict(self, p: Array) -> Array:
        """Point estimate ``p1 / (1 - p0 + p1)``."""
        p0, p1 = self.predict_interval(p)
        return p1 / (1.0 - p0 + p1)
