"""Elastic-net logistic regression with the penalty tuned on a temporal inner split."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from forecast._errors import input_error
from forecast.models._preprocess import linear_preprocessor

__all__ = ["ElasticNetLogit"]


def _log_loss(y: np.ndarray, p: np.ndarray, w: np.ndarray) -> float:
    p = np.clip(p, 1e-12, 1 - 1e-12)
    return float(-np.sum(w * (y * np.log(p) + (1 - y) * np.log1p(-p))) / np.sum(w))


class ElasticNetLogit(ClassifierMixin, BaseEstimator):
    """Binomial elastic net (glum) whose penalty is chosen without looking across time.

    The regularisation path (``n_alphas`` log-spaced penalties) is fitted on the training
    rows whose year is at most ``max(year) - validation_years`` and scored by log loss on the
    last ``validation_years`` years; the penalty with the lowest validation loss is refit on
    all training rows, warm-started at the inner path's solution. Without ``years`` it falls
    back to the last 20% of rows in the given
    order (callers pass rows sorted by year). Objective for penalty ``a`` and mixing ``r``::

        min_b  -1/n sum_i w_i [y_i log p_i + (1-y_i) log(1-p_i)] + a (r |b|_1 + (1-r)/2 |b|_2^2)

    Parameters
    ----------
    l1_ratio : float, default 0.5
        Mixing ``r`` (0 = ridge, 1 = lasso). EWP uses 0.5.
    n_alphas : int, default 25
        Path length; ``min_alpha_ratio`` sets its lower end relative to the largest penalty.
    validation_years : int, default 5
        Length of the temporal validation block.
    alpha : float, optional
        Fixed penalty; skips tuning.
    """

    def __init__(
        self,
        l1_ratio: float = 0.5,
        *,
        n_alphas: int = 25,
        min_alpha_ratio: float = 1e-3,
        validation_years: int = 5,
        alpha: float | None = None,
    ):
        self.l1_ratio = l1_ratio
        self.n_alphas = n_alphas
        self.min_alpha_ratio = min_alpha_ratio
        self.validation_years = validation_years
        self.alpha = alpha

    def _glm(
        self,
        X: np.ndarray,
        y: np.ndarray,
        w: np.ndarray,
        *,
        alpha: float | None = None,
        start: np.ndarray | None = None,
    ):
        """A regularisation path (``alpha=None``) or one fit at ``alpha`` warm-started at
        ``start``."""
        from glum import GeneralizedLinearRegressor

        model = GeneralizedLinearRegressor(
            family="binomial",
            l1_ratio=self.l1_ratio,
            alpha_search=alpha is None,
            alpha=alpha,
            n_alphas=self.n_alphas,
            min_alpha_ratio=self.min_alpha_ratio,
            start_params=start,
            solver="irls-cd",
            robust=False,
        )
        model.fit(X, y, sample_weight=w, store_covariance_matrix=False)
        return model

    def fit(self, X, y, *, sample_weight=None, years=None):
        if not 0 <= self.l1_ratio <= 1:
            raise input_error(
                f"l1_ratio must be in [0, 1], got {self.l1_ratio!r}",
                fix="use 0.5 for the EWP elastic net",
            )
        y = np.asarray(y, dtype=float)
        self.classes_ = np.array([0, 1])
        w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, float)
        self.preprocessor_ = linear_preprocessor().fit(X)
        Z = np.asfortranarray(self.preprocessor_.transform(X), dtype=float)  # float32 panels too
        start = None
        if self.alpha is not None:
            self.alpha_ = float(self.alpha)
        else:
            if years is None:
                cut = int(len(y) * 0.8)
                inner = np.arange(len(y)) < cut
            else:
                years = np.asarray(years)
                inner = years <= years.max() - self.validation_years
            if inner.sum() == 0 or (~inner).sum() == 0 or y[inner].min() == y[inner].max():
                inner = np.arange(len(y)) < int(len(y) * 0.8)
            path = self._glm(Z[inner], y[inner], w[inner])
            coef = np.asarray(path.coef_path_)
            intercept = np.asarray(path.intercept_path_)
            eta = intercept[:, None] + coef @ Z[~inner].T
            losses = [_log_loss(y[~inner], 1 / (1 + np.exp(-e)), w[~inner]) for e in eta]
            self.alphas_ = np.asarray(path._alphas)
            self.validation_loss_ = np.asarray(losses)
            best = int(np.argmin(losses))
            self.alpha_ = float(self.alphas_[best])
            start = np.concatenate([[intercept[best]], coef[best]])
        final = self._glm(Z, y, w, alpha=self.alpha_, start=start)
        self.coef_ = np.asarray(final.coef_)
        self.intercept_ = float(final.intercept_)
        self.n_features_in_ = Z.shape[1]
        return self

    def decision_function(self, X) -> np.ndarray:
        check_is_fitted(self, "coef_")
        return self.intercept_ + self.preprocessor_.transform(X) @ self.coef_

    def predict_proba(self, X) -> np.ndarray:
        p = 1 / (1 + np.exp(-self.decision_function(X)))
        return np.column_stack([1 - p, p])

    def predict(self, X) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)

    def linear_contributions(self, X):
        """Per-feature contributions to the log-odds (standardised x times coefficient)."""
        Z = self.preprocessor_.transform(X)
        return Z * self.coef_, self.preprocessor_.get_feature_names_out()
