"""Averaging ensemble of registered models."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone

from forecast._errors import input_error
from forecast.models._bounds import bounded_probabilities
from forecast.models._fit import fit_estimator

__all__ = ["AveragingEnsemble"]


class AveragingEnsemble(ClassifierMixin, BaseEstimator):
    """Mean of member probabilities (``method='mean'``) or of their log-odds (``'logit'``).

    ``p = mean_m p_m`` or ``p = expit(mean_m logit p_m)``, with optional member ``weights``.
    For ``'logit'`` member probabilities are bounded to ``[1e-4, 1 - 1e-4]`` first, so one
    member moves the log-odds by at most ``forecast.models.max_shift(w_m)``
    (``docs/design/0012-bounded-members.md``); a mean moves by at most ``w_m`` already.

    Parameters
    ----------
    estimators : list of (name, estimator)
    method : {'mean', 'logit'}
    weights : list of float, optional
    """

    def __init__(self, estimators, *, method: str = "mean", weights=None):
        self.estimators = estimators
        self.method = method
        self.weights = weights

    def fit(self, X, y, *, sample_weight=None, years=None):
        if self.method not in {"mean", "logit"}:
            raise input_error(
                f"method must be 'mean' or 'logit', got {self.method!r}", fix="use method: mean"
            )
        if not self.estimators:
            raise input_error("an ensemble needs at least one member", fix="list members")
        self.classes_ = np.array([0, 1])
        self.estimators_ = [
            (name, fit_estimator(clone(est), X, y, sample_weight=sample_weight, years=years))
            for name, est in self.estimators
        ]
        return self

    @staticmethod
    def combine(probs: np.ndarray, *, method: str = "mean", weights=None) -> np.ndarray:
        """Combine member probabilities (rows x members) into one probability per row."""
        weights = np.ones(probs.shape[1]) if weights is None else np.asarray(weights, float)
        weights = weights / weights.sum()
        if method == "mean":
            return probs @ weights
        clipped = bounded_probabilities(probs)
        return 1 / (1 + np.exp(-(np.log(clipped / (1 - clipped)) @ weights)))

    def predict_proba(self, X) -> np.ndarray:
        probs = np.column_stack([est.predict_proba(X)[:, 1] for _, est in self.estimators_])
        p = self.combine(probs, method=self.method, weights=self.weights)
        return np.column_stack([1 - p, p])

    def predict(self, X) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)
