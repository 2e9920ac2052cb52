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


class StatsmodelsLogit(ClassifierMixin, BaseEstimator):
    """Maximum-likelihood logit (``statsmodels.Logit``) on imputed, standardised features.

    After ``fit``, :meth:`coefficient_table` gives coefficients, standard errors, z, p-values
    and odds ratios per standard deviation of each feature. Separation or non-convergence
    raises :class:`ConvergenceFailure` so a backtest records it for that origin.

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
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConvergenceWarning)
            warnings.simplefilter("error", PerfectSeparationWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            try:
                model = sm.GLM(
                    np.asarray(y, float),
                    design,
                    family=sm.families.Binomial(),
                    freq_weights=sample_weight,
                )
                result = model.fit(maxiter=self.max_iter)
            except (ConvergenceWarning, PerfectSeparationWarning, np.linalg.LinAlgError) as error:
                raise ConvergenceFailure(f"statsmodels logit did not converge: {error}") from error
        if not np.all(np.isfinite(result.params)):
            raise ConvergenceFailure("statsmodels logit produced non-finite coefficients")
        self.result_ = result
        names = np.asarray(self.preprocessor_.get_feature_names_out())[keep]
        self.feature_names_ = ["const", *names]
        self.params_ = np.asarray(result.params)
        return self

    def coefficient_table(self) -> pd.DataFrame:
        """Coefficient, standard error, z, p-value, odds ratio and its 95% interval."""
        check_is_fitted(self, "result_")
        r = self.result_
        ci = np.asarray(r.conf_int())
        return pd.DataFrame(
            {
                "term": self.feature_names_,
                "coef": self.params_,
                "std_err": np.asarray(r.bse),
                "z": np.asarray(r.tvalues),
                "p_value": np.asarray(r.pvalues),
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
