"""Numeric helpers shared by metrics and calibration: logit/expit, a small logistic fit, bins.

``fit_logistic`` is a weighted logistic regression (Newton / IRLS) for the
couple of coefficients recalibration needs (intercept, slope), with an
optional offset: ``logit P(y = 1) = offset + X @ beta``. ``probability_bins``
assigns probabilities to quantile or uniform bins (ECE, reliability tables).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import NDArray

from forecast._errors import input_error

__all__ = ["BinStrategy", "expit", "fit_logistic", "logit", "probability_bins"]

_EPS = np.finfo(float).eps


def logit(p: NDArray[np.float64]) -> NDArray[np.float64]:
    """``log(p / (1 - p))`` with ``p`` clipped to ``[eps, 1 - eps]`` (finite for 0 and 1)."""
    q = np.clip(p, _EPS, 1.0 - _EPS)
    return np.log(q) - np.log1p(-q)


def expit(z: NDArray[np.float64]) -> NDArray[np.float64]:
    """Logistic function ``1 / (1 + exp(-z))``, overflow-safe."""
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _loglik(y: NDArray, w: NDArray, eta: NDArray) -> float:
    # log(1 + exp(eta)) computed stably
    return float(np.sum(w * (y * eta - np.logaddexp(0.0, eta))))


def fit_logistic(
    X: NDArray[np.float64],
    y: NDArray[np.float64],
    w: NDArray[np.float64],
    *,
    offset: NDArray[np.float64] | None = None,
    max_iter: int = 100,
    tol: float = 1e-10,
) -> NDArray[np.float64]:
    """Weighted maximum-likelihood logistic fit by Newton-Raphson.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Design matrix (include a column of ones for an intercept).
    y : ndarray of shape (n,)
        Outcomes in {0, 1}.
    w : ndarray of shape (n,)
        Non-negative case weights.
    offset : ndarray of shape (n,), optional
        Known part of the linear predictor (coefficient fixed at 1).

    Returns
    -------
    beta : ndarray of shape (d,)

    Notes
    -----
    Newton step ``beta += (X' W V X)^{-1} X' W (y - mu)`` with ``V = mu(1-mu)``,
    halving the step until the log-likelihood does not decrease. Fails with a
    :class:`ForecastInputError` when the data are perfectly separated (the
    maximum likelihood estimate does not exist).
    """
    n, d = X.shape
    off = np.zeros(n) if offset is None else offset
    beta = np.zeros(d)
    eta = off + X @ beta
    ll = _loglik(y, w, eta)
    converged = False
    for _ in range(max_iter):
        mu = expit(eta)
        grad = X.T @ (w * (y - mu))
        hess = (X * (w * mu * (1.0 - mu))[:, None]).T @ X
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(hess, grad, rcond=None)[0]
        scale = 1.0
        while True:
            cand = beta + scale * step
            eta_c = off + X @ cand
            ll_c = _loglik(y, w, eta_c)
            if ll_c >= ll - 1e-12 * max(1.0, abs(ll)) or scale < 1e-8:
                break
            scale *= 0.5
        beta, eta = cand, eta_c
        converged = (
            abs(ll_c - ll) <= tol * max(1.0, abs(ll)) and np.max(np.abs(scale * step)) < 1e-7
        )
        ll = ll_c
        if converged:
            break
    separated = -ll < 1e-7 * float(np.sum(w))  # (near) perfect fit: the MLE diverges
    if separated or not converged or not np.all(np.isfinite(beta)) or np.max(np.abs(beta)) > 1e3:
        raise input_error(
            "logistic recalibration did not converge (outcomes perfectly separated by the "
            "probabilities, so the maximum-likelihood fit does not exist)",
            fix="use more rows, or a method that tolerates separation (isotonic)",
        )
    return beta


BinStrategy = Literal["quantile", "uniform"]
"""Binning of :func:`probability_bins`: equal-count (quantile) or equal-width bins."""


def probability_bins(
    p: NDArray[np.float64],
    w: NDArray[np.float64],
    *,
    n_bins: int,
    strategy: BinStrategy = "quantile",
    caller: str = "probability_bins",
) -> NDArray[np.intp]:
    """Assign each row a bin code in ``0 .. n_bins - 1``.

    ``strategy='quantile'``: inner edges are weighted quantiles of ``p`` at
    ``j / n_bins`` (inverted-CDF definition: the smallest ``p`` whose
    cumulative weight reaches the level), computed from rows with positive
    weight only; a row equal to an edge goes to the lower bin. Tied scores
    always share a bin, so bins can hold unequal counts, and bins whose edges
    coincide stay empty. ``strategy='uniform'``: edges ``j / n_bins``, the bin
    ``[j/n, (j+1)/n)`` with the last bin closed. The result depends only on
    the multiset of ``(p, w)``, not on row order, and zero-weight rows do not
    move the edges.
    """
    if isinstance(n_bins, bool) or not isinstance(n_bins, int | np.integer) or n_bins < 1:
        raise input_error(
            f"{caller}: 'n_bins' must be an integer >= 1, got {n_bins!r}",
            fix="pass e.g. n_bins=10",
        )
    if strategy == "uniform":
        edges = np.arange(1, n_bins) / n_bins
        return np.searchsorted(edges, p, side="right").astype(np.intp)
    if strategy != "quantile":
        raise input_error(
            f"{caller}: 'strategy' must be 'quantile' or 'uniform', got {strategy!r}",
            fix="pass strategy='quantile'",
        )
    keep = w > 0
    ps, ws = p[keep], w[keep]
    order = np.argsort(ps, kind="stable")
    ps, cw = ps[order], np.cumsum(ws[order])
    levels = np.arange(1, n_bins) / n_bins * cw[-1]
    # small relative tolerance so that float round-off in cumsum cannot split ties
    idx = np.searchsorted(cw, levels * (1.0 - 1e-12), side="left")
    edges = ps[np.minimum(idx, ps.size - 1)]
    return np.searchsorted(edges, p, side="left").astype(np.intp)
