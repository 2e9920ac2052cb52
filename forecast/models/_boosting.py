"""Gradient boosting (XGBoost) with the number of trees chosen on a temporal inner split."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

__all__ = ["TemporalXGBClassifier"]


class TemporalXGBClassifier(ClassifierMixin, BaseEstimator):
    """XGBoost whose number of boosting rounds is tuned without looking across time.

    Rounds are grown on the training rows with year ``<= max(year) - validation_years`` and
    scored by log loss on the last ``validation_years`` years; the model is refit on all
    rows with the best number of rounds (at least ``min_rounds``). Without ``years`` it is a
    plain fit with ``max_rounds``.

    Parameters
    ----------
    max_rounds : int
        Upper bound on boosting rounds.
    validation_years : int
        Length of the temporal validation block.
    patience : int
        Early-stopping patience in rounds.
    n_jobs : int, default 1
        CPU threads of a fit (the spec's ``threads``).
    device : str, optional
        XGBoost device (``cuda``, ``cuda:N``); None is the CPU (the spec's ``device``,
        resolved by :func:`forecast.models._device.resolve_device`).
    """

    def __init__(
        self,
        *,
        max_rounds: int = 800,
        validation_years: int = 5,
        patience: int = 100,
        min_rounds: int = 50,
        max_depth: int = 3,
        learning_rate: float = 0.03,
        subsample: float = 0.8,
        colsample_bytree: float = 0.8,
        min_child_weight: float = 2.0,
        reg_lambda: float = 5.0,
        random_state: int = 0,
        n_jobs: int = 1,
        device: str | None = None,
    ):
        self.max_rounds = max_rounds
        self.validation_years = validation_years
        self.patience = patience
        self.min_rounds = min_rounds
        self.max_depth = max_depth
        self.learning_rate = learning_rate
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.min_child_weight = min_child_weight
        self.reg_lambda = reg_lambda
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.device = device

    def _model(self, n_rounds: int, **extra):
        from xgboost import XGBClassifier

        return XGBClassifier(
            n_estimators=n_rounds,
            max_depth=self.max_depth,
            learning_rate=self.learning_rate,
            subsample=self.subsample,
            colsample_bytree=self.colsample_bytree,
            min_child_weight=self.min_child_weight,
            reg_lambda=self.reg_lambda,
            tree_method="hist",
            n_jobs=self.n_jobs,
            eval_metric="logloss",
            random_state=self.random_state,
            **({"device": self.device} if self.device else {}),
            **extra,
        )

    def fit(self, X, y, *, sample_weight=None, years=None):
        X = np.asarray(X, dtype=float)
        y = np.asarray(y, dtype=float)
        self.classes_ = np.array([0, 1])
        self.n_rounds_ = self.max_rounds
        if years is not None:
            years = np.asarray(years)
            inner = years <= years.max() - self.validation_years
            if (
                inner.any()
                and (~inner).any()
                and 0 < y[inner].sum() < inner.sum()
                and y[~inner].sum() > 0
            ):
                w = None if sample_weight is None else np.asarray(sample_weight)[inner]
                probe = self._model(self.max_rounds, early_stopping_rounds=self.patience)
                probe.fit(
                    X[inner],
                    y[inner],
                    sample_weight=w,
                    eval_set=[(X[~inner], y[~inner])],
                    verbose=False,
                )
                self.n_rounds_ = max(self.min_rounds, int(probe.best_iteration) + 1)
        self.model_ = self._model(self.n_rounds_).fit(X, y, sample_weight=sample_weight)
        return self

    def predict_proba(self, X) -> np.ndarray:
        check_is_fitted(self, "model_")
        return self.model_.predict_proba(np.asarray(X, dtype=float))

    def predict(self, X) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)
