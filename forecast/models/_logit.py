"""Plain (unpenalised) logistic regression through statsmodels, with inference tables."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from forecast.models._preprocess import linear_preprocessor

__all__ = ["ConvergenceFailure", "StatsmodelsLogit"]


class ConvergenceFailure(RuntimeError):
    """The optimiser did not converge (e.g. perfect separation)."""


SEPARATION_FITTED = 1e-8
"""A training row fitted within this of 0 or 1 flags (quasi-)separation."""

SEPARATION_COEF = 10.0
"""A coefficient above this per standard deviation of its feature flags separation."""

RIDGE_PRIOR_SD = 1.0
"""The ridge refit is the MAP fit under an N(0, RIDGE_PRIOR_SD**2) prior per coefficient."""


class StatsmodelsLogit(ClassifierMixin, BaseEstimator):
    """Maximum-likelihood logit (``statsmodels.GLM``, binomial) on imputed, standardised features.

    After ``fit``, :meth:`coefficient_table` gives coefficients, standard errors, z, p-values
    and odds ratios per standard deviation of each feature. Under (quasi-)separation, flagged
    when statsmodels warns of separation or non-convergence, a training row is fitted within
    ``1e-8`` of 0 or 1, or a coefficient exceeds 10 per SD, the model is refitted with a ridge
    penalty (``fit_regularized``, L2, ``alpha = 1 / (n * RIDGE_PRIOR_SD**2)``, intercept
    unpenalised) and warns; ``separation_`` then names the reason and the table has no
    inference. A ridge fit that fails raises :class:`ConvergenceFailure` so a backtest records
    it for that origin. See ``docs/design/0012-bounded-members.md``.

    Parameters
    ----------
    max_iter : int, default 100
    """

    def __init__(self, *, max_iter: int = 100):
        self.max_iter = max_iter

    def fit(self, X, y, *, sample_weight=None, years=None):
        import statsmodels.api as sm
        from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationWarning

        self.classes_ = np.array([0, 1])
        self.preprocessor_ = linear_preprocessor().fit(X)
        Z = self.preprocessor_.transform(X)
        keep = Z.std(axis=0) > 0
        self.keep_ = keep
        design = sm.add_constant(Z[:, keep], has_constant="add")
        self.separation_ = ""
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConvergenceWarning)
            warnings.simplefilter("error", PerfectSeparationWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            model = sm.GLM(
                np.asarray(y, float),
                design,
                family=sm.families.Binomial(),
                freq_weights=sample_weight,
            )
            try:
                result = model.fit(maxiter=self.max_iter)
                self.separation_ = _separation(np.asarray(result.params), design)
            except (ConvergenceWarning, PerfectSeparationWarning, np.linalg.LinAlgError) as error:
                self.separation_ = f"{type(error).__name__}: {str(error).strip()}"
            if self.separation_:
                penalty = 1.0 / (len(design) * RIDGE_PRIOR_SD**2)
                alpha = np.full(design.shape[1], penalty)
                alpha[0] = 0.0  # the intercept is not penalised
                try:
                    result = model.fit_regularized(alpha=alpha, L1_wt=0.0)
                except ConvergenceWarning as error:
                    raise ConvergenceFailure(
                        f"statsmodels logit: {self.separation_}; the ridge refit did not "
                        f"converge: {error}"
                    ) from error
        if not np.all(np.isfinite(result.params)):
            raise ConvergenceFailure("statsmodels logit produced non-finite coefficients")
        if self.separation_:
            warnings.warn(
                f"statsmodels logit: {self.separation_}; refitted with an L2 penalty "
                f"(alpha = 1/n = {penalty:.3g})",
                UserWarning,
                stacklevel=2,
            )
        self.result_ = result
        names = np.asarray(self.preprocessor_.get_feature_names_out())[keep]
        self.feature_names_ = ["const", *names]
        self.params_ = np.asarray(result.params)
        return self

    def coefficient_table(self) -> pd.DataFrame:
        """Coefficient, standard error, z, p-value, odds ratio and its 95% interval.

        After a ridge refit (``separation_`` set) only the coefficients and odds ratios are
        given; the other columns are NaN (a penalised fit has no valid inference).
        """
        check_is_fitted(self, "result_")
        r = self.result_
        if self.separation_:
            nan = np.full(len(self.params_), np.nan)
            bse, z, p_value, ci = nan, nan, nan, np.column_stack([nan, nan])
        else:
            bse, z, p_value = np.asarray(r.bse), np.asarray(r.tvalues), np.asarray(r.pvalues)
            ci = np.asarray(r.conf_int())
        return pd.DataFrame(
            {
                "term": self.feature_names_,
                "coef": self.params_,
                "std_err": bse,
                "z": z,
                "p_value": p_value,
                "odds_ratio": np.exp(self.params_),
                "or_low": np.exp(ci[:, 0]),
                "or_high": np.exp(ci[:, 1]),
            }
        )

    def decision_function(self, X) -> np.ndarray:
        check_is_fitted(self, "params_")
        Z = self.preprocessor_.transform(X)[:, self.keep_]
        return self.params_[0] + Z @ self.params_[1:]

    def predict_proba(self, X) -> np.ndarray:
        p = 1 / (1 + np.exp(-self.decision_function(X)))
        return np.column_stack([1 - p, p])

    def predict(self, X) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)


def _separation(params: np.ndarray, design: np.ndarray) -> str:
    """Why a maximum-likelihood fit looks (quasi-)separated, or ``''``."""
    if not np.all(np.isfinite(params)):
        return "non-finite coefficients"
    eta = design @ params
    certain = int(
        np.count_nonzero(np.abs(eta) > np.log((1 - SEPARATION_FITTED) / SEPARATION_FITTED))
    )
    if certain:
        return (
            f"quasi-separation ({certain} training rows fitted within "
            f"{SEPARATION_FITTED:g} of 0 or 1)"
        )
    largest = float(np.max(np.abs(params[1:]), initial=0.0))
    if largest > SEPARATION_COEF:
        return f"quasi-separation (a coefficient of {largest:.3g} per SD of its feature)"
    return ""
