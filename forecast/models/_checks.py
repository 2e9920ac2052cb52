"""Shared checks that every registered model must pass (the model contract)."""

from __future__ import annotations

import numpy as np
from sklearn.base import clone

from forecast.models._fit import accepts_fit_argument, fit_estimator
from forecast.models._registry import build_model, get_model_tags, get_test_params

__all__ = ["check_model", "contract_data"]

#: Relative tolerance of the invariance checks: floating-point summation order only.
RTOL = 1e-10


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


def _max_relative_difference(a: np.ndarray, b: np.ndarray) -> float:
    scale = np.maximum(np.abs(b), np.finfo(float).tiny)
    return float(np.max(np.abs(np.asarray(a, float) - b) / scale))


def _same(name: str, what: str, proba: np.ndarray, other, *, rtol: float = RTOL) -> None:
    difference = _max_relative_difference(np.asarray(other), proba)
    if difference > rtol:
        raise AssertionError(
            f"{name}: {what} (max relative difference {difference:.2e} > {rtol:.0e})"
        )


def check_model(name: str, params: dict | None = None) -> None:
    """Fit ``name`` with small parameters and check the contract; raise AssertionError if broken.

    The contract, each point checked on :func:`contract_data`:

    - ``fit`` accepts rows with missing values and ``years``, and does not modify its inputs;
    - ``predict_proba`` returns an ``(n, 2)`` array of finite probabilities in [0, 1] whose
      rows sum to 1;
    - two fits with the same seed give identical probabilities;
    - ``__init__`` only stores parameters: ``clone`` of the fitted model, refitted on the
      same rows, gives identical probabilities;
    - unless the model's tags say otherwise (:class:`~forecast.models.ModelTags`), the same
      rows shuffled give the same probabilities (to ``RTOL`` relative);
    - if ``fit`` takes ``sample_weight``: non-uniform weights change the probabilities;
      unless tagged otherwise, weights of one give the probabilities of no weights; and
      where tagged ``weights_as_repeats``, integer weights give the probabilities of
      repeated rows.

    Parameters
    ----------
    name : str
        A registered model (see :func:`~forecast.models.model_names`).
    params : dict, optional
        Parameters on top of :func:`~forecast.models.get_test_params`.

    Raises
    ------
    AssertionError
        Naming the model and the broken promise.
    """
    params = {**get_test_params(name), **(params or {}), "seed": 3}
    tags = get_model_tags(name, params)
    X, y, years = contract_data()
    X_before, y_before = X.copy(), y.copy()

    def fit(rows=slice(None), sample_weight=None, estimator=None):
        estimator = build_model(name, params) if estimator is None else estimator
        fitted = fit_estimator(
            estimator, X[rows], y[rows], years=years[rows], sample_weight=sample_weight
        )
        return np.asarray(fitted.predict_proba(X))

    estimator = build_model(name, params)
    fitted = fit_estimator(estimator, X, y, years=years)
    if not (np.array_equal(X, X_before, equal_nan=True) and np.array_equal(y, y_before)):
        raise AssertionError(f"{name}: fit modified its inputs")
    proba = np.asarray(fitted.predict_proba(X))
    if proba.shape != (len(X), 2):
        raise AssertionError(f"{name}: predict_proba shape {proba.shape}, expected {(len(X), 2)}")
    if not (np.all(np.isfinite(proba)) and proba.min() >= 0 and proba.max() <= 1):
        raise AssertionError(f"{name}: probabilities outside [0, 1] or not finite")
    if not np.allclose(proba.sum(axis=1), 1.0):
        raise AssertionError(f"{name}: probabilities of a row do not sum to 1")
    if not np.array_equal(proba, fit()):
        raise AssertionError(f"{name}: two fits with the same seed differ")
    if not np.array_equal(proba, fit(estimator=clone(fitted))):
        raise AssertionError(
            f"{name}: a clone refitted on the same rows gives other "
            f"probabilities (does __init__ or fit change the parameters?)"
        )
    if tags.row_order_invariant:
        order = np.random.default_rng(11).permutation(len(y))
        _same(
            name,
            "shuffling the training rows changes the probabilities; declare "
            "ModelTags(row_order_invariant=False) if the model draws rows at random",
            proba,
            fit(order),
        )
    if not accepts_fit_argument(estimator, "sample_weight"):
        return
    weights = np.where(years >= 2005, 2.0, 1.0)
    weighted = fit(sample_weight=weights)
    if _max_relative_difference(weighted, proba) <= RTOL:
        raise AssertionError(f"{name}: fit accepts sample_weight but ignores it")
    if tags.unit_weights_invariant:
        _same(
            name,
            "weights of one change the probabilities",
            proba,
            fit(sample_weight=np.ones(len(y))),
        )
    if tags.weights_as_repeats:
        repeated = np.repeat(np.arange(len(y)), weights.astype(int))
        _same(name, "integer weights differ from repeated rows", weighted, fit(repeated))
