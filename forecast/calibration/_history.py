"""Recalibration from the backtest's own history: what each origin knew about past forecasts."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm

from forecast._errors import input_error
from forecast._math import expit, fit_logistic, logit
from forecast.calibration._anchor import anchored

__all__ = ["HistoryShiftedClassifier", "recalibrate_from_history"]


class HistoryShiftedClassifier:
    """A fitted classifier with one origin's logit shift applied on top.

    ``q = expit(a + b * logit(p))`` with ``(a, b)`` from :func:`recalibrate_from_history` at
    that origin (or ``a`` = the origin's anchor offset, ``b = 1``), computed exactly as there,
    so a risk list (and a registered model) made from it reproduces the backtest's
    ``<model>_recal`` or anchored forecasts bit for bit.
    """

    def __init__(self, estimator, a: float, b: float = 1.0):
        self.estimator_ = estimator
        self.a = float(a)
        self.b = float(b)
        self.classes_ = np.array([0, 1])

    def predict_proba(self, X) -> np.ndarray:
        p = np.asarray(self.estimator_.predict_proba(X))[:, 1]
        q = anchored(p, self.a) if self.b == 1.0 else expit(self.a + self.b * logit(p))
        return np.column_stack([1 - q, q])

    def predict(self, X) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)


def _cluster_covariance(X: np.ndarray, y: np.ndarray, w: np.ndarray, beta: np.ndarray,
                        clusters: np.ndarray, offset: np.ndarray | float = 0.0) -> np.ndarray:
    """Cluster-robust (sandwich) covariance of a logistic fit (fixed ``offset``), clusters = units."""
    mu = expit(X @ beta + offset)
    bread = np.linalg.inv((X * (w * mu * (1 - mu))[:, None]).T @ X)
    scores = X * (w * (y - mu))[:, None]
    codes, _ = pd.factorize(clusters)
    summed = np.zeros((codes.max() + 1, X.shape[1]))
    np.add.at(summed, codes, scores)
    return bread @ (summed.T @ summed) @ bread


def _conformal_scale(q: np.ndarray, y: np.ndarray, level: float, n_bins: int = 10) -> float:
    r"""``level`` quantile of :math:`|\bar y_{b(i)} - q_i| / \sqrt{q_i}` over past forecasts.

    :math:`\bar y_b` is the observed onset rate of the calibration bin of forecast ``i``
    (``n_bins`` quantile bins of ``q``); dividing by :math:`\sqrt q` (the Poisson-like growth of
    the error with the rate) lets one number size the intervals of rare and common risks.
    """
    edges = np.quantile(q, np.linspace(0, 1, n_bins + 1)[1:-1])
    bins = np.searchsorted(edges, q, side="right")
    counts = np.bincount(bins, minlength=n_bins)
    rate = np.bincount(bins, weights=y, minlength=n_bins) / np.maximum(counts, 1)
    distance = np.abs(rate[bins] - q) / np.sqrt(np.clip(q, 1e-12, 1))
    return float(np.quantile(distance, level))


def _issued_history(issued: list[pd.DataFrame], origin: int, horizon: int) -> pd.DataFrame | None:
    """Earlier recalibrated forecasts, as issued, whose windows are observed by ``origin``."""
    if not issued:
        return None
    past = pd.concat(issued, ignore_index=True)
    past = past[past["outcome"].notna() & (past["year"] + horizon <= origin)]
    return past if len(past) else None


def recalibrate_from_history(forecasts: pd.DataFrame, *, horizon: int, models: list[str],
                             suffix: str = "_recal", level: float = 0.8,
                             half_life: float | None = None, min_events: int = 10,
                             method: str = "intercept", interval: str = "conformal",
                             n_bins: int = 10) -> pd.DataFrame:
    r"""Recalibrated copies of ``models``' forecasts, using only outcomes known at each origin.

    For origin :math:`T`, the history is every earlier forecast of the same model with
    ``origin < T`` and ``year + horizon <= T`` (its window observed by :math:`T`). A logistic
    recalibration :math:`q = \sigma(a + b\,\mathrm{logit}\,p)` (``method='platt'``) or
    :math:`q = \sigma(a + \mathrm{logit}\,p)` (``method='intercept'``, :math:`b = 1`: a
    base-rate drift correction that keeps each origin's ranking) is fitted on it, weighting
    a forecast of year :math:`t` by :math:`0.5^{(T - t)/\mathrm{half\_life}}` (recent years
    count more: base-rate drift). The interval is the ``level`` Wald interval of
    :math:`a + b\,\mathrm{logit}\,p` with a cluster-robust (by unit) covariance, mapped
    through :math:`\sigma` (``interval='wald'``: the uncertainty of the recalibration map
    only), or (``interval='conformal'``, default) :math:`[q - c\sqrt q,\ q + c\sqrt q]`
    clipped to [0, 1], where :math:`c` is the ``level`` quantile, over the recalibrated
    forecasts issued at earlier origins whose outcomes are known, of
    :math:`|\bar y_{b(i)} - q_i| / \sqrt{q_i}`: the distance between each past forecast and
    the observed onset rate of its calibration bin (``n_bins`` quantile bins). Intervals are
    sized so that past bin rates fell inside them at the stated level (until enough issued
    forecasts exist, the refit's in-sample distances are used). Origins whose history has fewer than ``min_events`` onsets keep the
    raw probability with no interval (``lower``/``upper`` NaN).

    Returns
    -------
    DataFrame
        Rows like ``forecasts`` for the new model labels ``<model><suffix>`` with ``lower``,
        ``upper``, ``recal_a`` and ``recal_b``.
    """
    if interval not in ("conformal", "wald"):
        raise input_error(f"interval must be 'conformal' or 'wald', got {interval!r}",
                          fix="use interval: conformal")
    if method not in ("platt", "intercept"):
        raise input_error(f"method must be 'platt' or 'intercept', got {method!r}",
                          fix="use method: intercept for a drift correction")
    if not 0 < level < 1:
        raise input_error(f"level must be in (0, 1), got {level!r}", fix="e.g. level: 0.8")
    unknown = sorted(set(models) - set(forecasts["model"]))
    if unknown:
        raise input_error(f"history recalibration names unknown model(s) {unknown}",
                          fix=f"use labels of the experiment: {sorted(set(forecasts['model']))}")
    z = norm.ppf(0.5 + level / 2)
    out = []
    for model in models:
        own = forecasts[forecasts["model"] == model]
        known = own[own["outcome"].notna()]
        issued: list[pd.DataFrame] = []  # recalibrated forecasts as issued at earlier origins
        for origin, block in own.groupby("origin", sort=True):
            history = known[(known["origin"] < origin) & (known["year"] + horizon <= origin)]
            block = block.copy()
            block["model"] = model + suffix
            p = block["probability"].to_numpy(float)
            if history["outcome"].sum() < min_events:
                block["lower"], block["upper"] = np.nan, np.nan
                block["recal_a"], block["recal_b"] = np.nan, np.nan
                out.append(block)
                continue
            x = logit(history["probability"].to_numpy(float))
            y = history["outcome"].to_numpy(float)
            age = origin - history["year"].to_numpy(float)
            w = np.ones_like(y) if not half_life else np.power(0.5, age / half_life)
            if method == "platt":
                X = np.column_stack([np.ones_like(x), x])
                beta = fit_logistic(X, y, w)
                cov = _cluster_covariance(X, y, w, beta, history["unit"].to_numpy())
                Xn = np.column_stack([np.ones_like(p), logit(p)])
                eta = Xn @ beta
                se = np.sqrt(np.einsum("ij,jk,ik->i", Xn, cov, Xn))
            else:
                X = np.ones((len(x), 1))
                a = fit_logistic(X, y, w, offset=x)
                cov = _cluster_covariance(X, y, w, a, history["unit"].to_numpy(), offset=x)
                beta = np.array([a[0], 1.0])
                eta = a[0] + logit(p)
                se = np.full(len(p), np.sqrt(cov[0, 0]))
            q = expit(eta)
            if interval == "conformal":
                past = _issued_history(issued, origin, horizon)
                if past is not None and past["outcome"].sum() >= min_events:
                    # Out of sample: how far the forecasts actually issued fell from bin rates.
                    scale = _conformal_scale(past["probability"].to_numpy(float),
                                             past["outcome"].to_numpy(float), level, n_bins)
                else:  # too little issued history yet: the refit's own distances
                    scale = _conformal_scale(expit(beta[0] + beta[1] * x), y, level, n_bins)
                block["lower"] = np.clip(q - scale * np.sqrt(q), 0, 1)
                block["upper"] = np.clip(q + scale * np.sqrt(q), 0, 1)
            else:
                block["lower"], block["upper"] = expit(eta - z * se), expit(eta + z * se)
            block["probability"] = q
            block["recal_a"], block["recal_b"] = beta
            out.append(block)
            issued.append(block)
    return pd.concat(out, ignore_index=True) if out else forecasts.iloc[:0]
