"""Shared checks that every registered model must pass (the model contract)."""

from __future__ import annotations

import numpy as np
from sklearn.base import clone

from forecast.models._registry import build_model, fit_estimator, get_test_params

__all__ = ["check_model", "contract_data"]


def contract_data(seed: int = 0, n_units: int = 25, n_years: int = 24):
    """A small panel-shaped problem: features with missing values, years, rare events."""
    rng = np.random.default_rng(seed)
    n = n_units * n_years
    X = rng.normal(size=(n, 4))
    X[rng.random(size=X.shape) < 0.05] = np.nan
    years = np.tile(np.arange(1990, 1990 + n_years), n_units)
    eta = -2.5 + 1.2 * np.nan_to_num(X[:, 0]) - 0.8 * np.nan_to_num(X[:, 1])
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    return X, y, years


def check_model(name: str, params: dict | None = None) -> None:
    """Fit ``name`` with small parameters and check the contract; raise AssertionError if broken.

    The contract: ``__init__`` only stores parameters (``clone`` round-trips them); ``fit``
    accepts rows with missing values, ``years`` and ``sample_weight`` where the model declares
    them, and does not modify its inputs; ``predict_proba`` returns an ``(n, 2)`` array of
    probabilities in [0, 1] whose rows sum to 1; two fits with the same seed give the same
    probabilities; the fitted model does not depend on row order beyond the seed.
    """
    params = {**get_test_params(name), **(params or {}), "seed": 3}
    X, y, years = contract_data()
    X_before, y_before = X.copy(), y.copy()
    estimator = build_model(name, params)
    clone(estimator)
    fitted = fit_estimator(clone(estimator), X, y, years=years)
    if not (np.array_equal(X, X_before, equal_nan=True) and np.array_equal(y, y_before)):
        raise AssertionError(f"{name}: fit modified its inputs")
    proba = np.asarray(fitted.predict_proba(X))
    if proba.shape != (len(X), 2):
        raise AssertionError(f"{name}: predict_proba shape {proba.shape}, expected {(len(X), 2)}")
    if not (np.all(np.isfinite(proba)) and proba.min() >= 0 and proba.max() <= 1):
        raise AssertionError(f"{name}: probabilities outside [0, 1] or not finite")
    if not np.allclose(proba.sum(axis=1), 1.0):
        raise AssertionError(f"{name}: probabilities of a row do not sum to 1")
    again = fit_estimator(build_model(name, params), X, y, years=years).predict_proba(X)
    if not np.array_equal(proba, np.asarray(again)):
        raise AssertionError(f"{name}: two fits with the same seed differ")
    weights = np.where(years >= 2005, 2.0, 1.0)
    fit_estimator(build_model(name, params), X, y, years=years, sample_weight=weights)
