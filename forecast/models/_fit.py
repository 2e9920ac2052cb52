"""Fitting any estimator with the optional ``years`` and ``sample_weight`` arguments.

A leaf module: the registry, the ensemble and the shared checks all import it, so the
package imports top-down (``_fit`` <- ``_ensemble`` <- ``_registry`` <- ``_checks``).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from sklearn.base import BaseEstimator
from sklearn.pipeline import Pipeline

__all__ = ["accepts_fit_argument", "fit_estimator"]


def _final_step(estimator: BaseEstimator) -> tuple[BaseEstimator, str]:
    """The estimator whose ``fit`` takes the extra arguments, and their routing prefix."""
    if isinstance(estimator, Pipeline):
        name, final = estimator.steps[-1]
        return final, f"{name}__"
    return estimator, ""


def _accepts(fit: Callable[..., Any], argument: str) -> bool:
    try:
        return argument in inspect.signature(fit).parameters
    except (TypeError, ValueError):
        return False


def accepts_fit_argument(estimator: BaseEstimator, argument: str) -> bool:
    """Whether ``estimator`` (or a pipeline's last step) takes ``argument`` in ``fit``.

    Parameters
    ----------
    estimator : estimator or Pipeline
    argument : str
        ``'sample_weight'`` or ``'years'``.

    Returns
    -------
    bool
    """
    return _accepts(_final_step(estimator)[0].fit, argument)


def fit_estimator(
    estimator: BaseEstimator, X, y, *, sample_weight=None, years=None
) -> BaseEstimator:
    """Fit any estimator, passing ``years`` and ``sample_weight`` where it accepts them.

    Parameters
    ----------
    estimator : estimator or Pipeline
        Fitted in place; for a pipeline the arguments go to its last step.
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    sample_weight : array-like of shape (n_samples,), optional
        Dropped for estimators whose ``fit`` has no ``sample_weight``.
    years : array-like of shape (n_samples,), optional
        Dropped for estimators whose ``fit`` has no ``years``.

    Returns
    -------
    estimator
        The fitted ``estimator``.
    """
    final, prefix = _final_step(estimator)
    kwargs: dict[str, Any] = {}
    if sample_weight is not None and _accepts(final.fit, "sample_weight"):
        kwargs[prefix + "sample_weight"] = sample_weight
    if years is not None and _accepts(final.fit, "years"):
        kwargs[prefix + "years"] = years
    return estimator.fit(X, y, **kwargs)
