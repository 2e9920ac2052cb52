"""Run an estimator's fit and predictions with a bounded number of OpenMP threads."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.utils.validation import check_is_fitted

__all__ = ["ThreadLimited"]


class ThreadLimited(ClassifierMixin, BaseEstimator):
    """``estimator`` fitted and used under ``threadpool_limits(threads)``.

    For estimators whose parallelism is OpenMP and that take no thread count of their own
    (scikit-learn's ``HistGradientBoostingClassifier``): the spec's ``threads``.

    Parameters
    ----------
    estimator : classifier
        Cloned at fit.
    threads : int, default 1
        OpenMP threads during ``fit``, ``predict_proba`` and ``predict``.
    """

    def __init__(self, estimator: Any, *, threads: int = 1):
        self.estimator = estimator
        self.threads = threads

    def _limits(self):
        from threadpoolctl import threadpool_limits

        return threadpool_limits(limits=self.threads, user_api="openmp")

    def fit(self, X, y, sample_weight=None):
        with self._limits():
            self.estimator_ = clone(self.estimator).fit(X, y, sample_weight=sample_weight)
        self.classes_ = self.estimator_.classes_
        return self

    def predict_proba(self, X) -> np.ndarray:
        check_is_fitted(self, "estimator_")
        with self._limits():
            return self.estimator_.predict_proba(X)

    def predict(self, X) -> np.ndarray:
        check_is_fitted(self, "estimator_")
        with self._limits():
            return self.estimator_.predict(X)
