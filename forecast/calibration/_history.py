"""Recalibration from the backtest's own history: what each origin knew about past forecasts.

The default correction is one logit shift per origin (it keeps each year's ranking), estimated
as the persistent part of the model's level error with year-to-year swings treated as noise
and shrunk toward no change, so that it moves each year's level only as far as the history
supports (docs/design/0008). Pooled scores compare units across years, and every move of one
year's level against the others reorders them.
"""

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


def _cluster_covariance(
    X: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    beta: np.ndarray,
    clusters: np.ndarray,
    offset: np.ndarray | float = 0.0,
) -> np.ndarray:
    """Cluster-robust (sandwich) covariance of a logistic fit (fixed ``offset``), by unit."""
    mu = expit(X @ beta + offset)
    bread = np.linalg.inv((X * (w * mu * (1 - mu))[:, None]).T @ X)
    scores = X * (w * (y - mu))[:, None]
    codes, _ = pd.factorize(clusters)
    summed = np.zeros((codes.max() + 1, X.shape[1]))
    np.add.at(summed, codes, scores)
    return bread @ (summed.T @ summed) @ bread


def _level_shift(
    x: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    years: np.ndarray,
    *,
    prior_sd: float,
    year_sd: float,
    max_iter: int = 100,
) -> tuple[float, float]:
    r"""Posterior mode and variance of the persistent logit shift :math:`\mu` of a history.

    Model: :math:`y_i \sim \mathrm{Bernoulli}(\sigma(x_i + \mu + \nu_{t(i)}))` with
    :math:`x_i = \mathrm{logit}\,p_i`, independent year effects
    :math:`\nu_t \sim N(0, \omega^2)` (``year_sd``: the part of a year's level error that
    does not last) and the prior :math:`\mu \sim N(0, \tau^2)` (``prior_sd``). The mode
    maximises the penalised log-likelihood

    .. math:: \sum_i w_i \left[y_i \eta_i - \log(1 + e^{\eta_i})\right]
              - \sum_t \frac{\nu_t^2}{2\omega^2} - \frac{\mu^2}{2\tau^2},
              \qquad \eta_i = x_i + \mu + \nu_{t(i)}

    (a concave function; Newton steps with the year effects eliminated by their Schur
    complement, halved until the objective does not decrease). The variance is the Laplace
    one, :math:`1 / (H_{\mu\mu} - \sum_t H_{\mu t}^2 / H_{tt})`. ``year_sd = 0`` drops
    the year effects; ``prior_sd = inf`` drops the prior (with both, the plain pooled
    maximum-likelihood intercept, :func:`forecast._math.fit_logistic`).
    """
    if year_sd == 0 and not np.isfinite(prior_sd):
        mu = float(fit_logistic(np.ones((len(x), 1)), y, w, offset=x)[0])
        v = expit(x + mu)
        return mu, float(1.0 / np.sum(w * v * (1 - v)))
    codes, _ = pd.factorize(years)
    k = int(codes.max()) + 1 if year_sd > 0 else 0
    prior = 0.0 if not np.isfinite(prior_sd) else 1.0 / prior_sd**2
    spread = 1.0 / year_sd**2 if year_sd > 0 else 0.0
    mu, nu = 0.0, np.zeros(k)

    def objective(mu: float, nu: np.ndarray) -> float:
        eta = x + mu + (nu[codes] if k else 0.0)
        return float(
            np.sum(w * (y * eta - np.logaddexp(0.0, eta)))
            - 0.5 * spread * np.sum(nu**2)
            - 0.5 * prior * mu**2
        )

    value = objective(mu, nu)
    for _ in range(max_iter):
        eta = x + mu + (nu[codes] if k else 0.0)
        q = expit(eta)
        r, v = w * (y - q), w * q * (1 - q)
        g_mu, h_mu = float(r.sum()) - prior * mu, float(v.sum()) + prior
        if k:
            cross = np.bincount(codes, v, k)
            g_nu = np.bincount(codes, r, k) - spread * nu
            h_nu = cross + spread
            schur = h_mu - float(np.sum(cross**2 / h_nu))
            d_mu = (g_mu - float(np.sum(cross * g_nu / h_nu))) / schur
            d_nu = (g_nu - cross * d_mu) / h_nu
        else:
            schur, d_mu, d_nu = h_mu, g_mu / h_mu, nu
        scale = 1.0
        while True:
            cand_mu, cand_nu = mu + scale * d_mu, (nu + scale * d_nu) if k else nu
            cand = objective(cand_mu, cand_nu)
            if cand >= value - 1e-12 * max(1.0, abs(value)) or scale < 1e-8:
                break
            scale *= 0.5
        mu, nu, value = cand_mu, cand_nu, cand
        if abs(scale * d_mu) < 1e-10 and (not k or np.max(np.abs(scale * d_nu)) < 1e-10):
            break
    if not np.isfinite(mu) or abs(mu) > 1e3:
        raise input_error(
            "the history's level shift did not converge (every past outcome is "
            "0 or every one is 1, and no prior bounds the shift)",
            fix="set a finite prior_sd, or raise min_events",
        )
    return float(mu), float(1.0 / schur)


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


def recalibrate_from_history(
    forecasts: pd.DataFrame,
    *,
    horizon: int,
    models: list[str],
    suffix: str = "_recal",
    level: float = 0.8,
    half_life: float | None = None,
    min_events: int = 10,
    method: str = "intercept",
    interval: str = "conformal",
    n_bins: int = 10,
    prior_sd: float = 0.2,
    year_sd: float = 0.5,
    issue_from: int | None = None,
) -> pd.DataFrame:
    r"""Recalibrated copies of ``models``' forecasts, using only outcomes known at each origin.

    For origin :math:`T`, the history :math:`H_T` is every earlier forecast of the same model
    with ``origin < T`` and ``year + horizon <= T`` (its window observed by :math:`T`).

    ``method='intercept'`` (default) shifts every forecast of origin :math:`T` by one logit
    constant, :math:`q = \sigma(a_T + \mathrm{logit}\,p)`, which keeps the origin's ranking.
    :math:`a_T` is the posterior mode of the persistent level error :math:`\mu` of the model
    in the history (:func:`_level_shift`):

    .. math:: y_i \sim \mathrm{Bernoulli}\big(\sigma(\mathrm{logit}\,p_i + \mu
              + \nu_{t(i)})\big),\quad \nu_t \sim N(0, \omega^2),\quad
              \mu \sim N(0, \tau^2),\qquad i \in H_T

    The year effects :math:`\nu_t` (``year_sd`` :math:`= \omega`) absorb the part of each
    past year's level error that does not last, so a history counts by its years, not by
    its rows; the prior (``prior_sd`` :math:`= \tau`) shrinks the shift toward no change by
    the information in the history (roughly, the model's own level counts as
    :math:`\omega^2/\tau^2` years of history; 6.25 with the defaults). Pooled scores
    compare units across years, and every move of one year's level against another's
    reorders them, so the shift moves only as far as the history supports
    (docs/design/0008). ``prior_sd=inf, year_sd=0`` gives the plain maximum-likelihood
    intercept of the history. ``method='platt'`` fits
    :math:`q = \sigma(a + b\,\mathrm{logit}\,p)` by maximum likelihood (no shrinkage; it
    changes the spread, not only the level).

    A forecast of year :math:`t` is weighted by :math:`0.5^{(T - t)/\mathrm{half\_life}}`
    when ``half_life`` is set. The interval (``interval='conformal'``, default) is
    :math:`[q - c\sqrt q,\ q + c\sqrt q]` clipped to [0, 1], where :math:`c` is the
    ``level`` quantile, over the recalibrated forecasts issued at earlier origins whose
    outcomes are known, of :math:`|\bar y_{b(i)} - q_i| / \sqrt{q_i}`: the distance between
    each past forecast and the observed onset rate of its calibration bin (``n_bins``
    quantile bins); until the issued forecasts hold ``min_events`` onsets, the refit's
    in-sample distances are used. ``interval='wald'`` is the ``level`` Wald interval of the
    linear predictor mapped through :math:`\sigma` (the uncertainty of the recalibration
    map only: the Laplace variance of :math:`a_T`, or for Platt a cluster-robust, by unit,
    covariance). Origins whose history has fewer than ``min_events`` onsets keep the raw
    probability with no interval (``lower``/``upper`` NaN).

    Parameters
    ----------
    issue_from : int, optional
        First origin whose recalibrated forecasts are returned; earlier origins of
        ``forecasts`` serve only as history (a burn-in, so that the first returned origin
        already has a correction).

    Returns
    -------
    DataFrame
        Rows like ``forecasts`` for the new model labels ``<model><suffix>`` with ``lower``,
        ``upper``, ``recal_a`` and ``recal_b``.
    """
    if interval not in ("conformal", "wald"):
        raise input_error(
            f"interval must be 'conformal' or 'wald', got {interval!r}",
            fix="use interval: conformal",
        )
    if method not in ("platt", "intercept"):
        raise input_error(
            f"method must be 'platt' or 'intercept', got {method!r}",
            fix="use method: intercept for a drift correction",
        )
    if not 0 < level < 1:
        raise input_error(f"level must be in (0, 1), got {level!r}", fix="e.g. level: 0.8")
    if not prior_sd > 0:
        raise input_error(
            f"prior_sd must be > 0 (inf for no prior), got {prior_sd!r}", fix="e.g. prior_sd: 0.2"
        )
    if not (np.isfinite(year_sd) and year_sd >= 0):
        raise input_error(
            f"year_sd must be finite and >= 0, got {year_sd!r}",
            fix="e.g. year_sd: 0.5 (0 drops the year effects)",
        )
    unknown = sorted(set(models) - set(forecasts["model"]))
    if unknown:
        raise input_error(
            f"history recalibration names unknown model(s) {unknown}",
            fix=f"use labels of the experiment: {sorted(set(forecasts['model']))}",
        )
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
                q = expit(eta)
            else:
                a, variance = _level_shift(
                    x, y, w, history["year"].to_numpy(), prior_sd=prior_sd, year_sd=year_sd
                )
                beta = np.array([a, 1.0])
                eta = a + logit(p)
                se = np.full(len(p), np.sqrt(variance))
                q = anchored(p, a)  # the expression HistoryShiftedClassifier uses: equal bits
            if interval == "conformal":
                past = _issued_history(issued, origin, horizon)
                if past is not None and past["outcome"].sum() >= min_events:
                    # Out of sample: how far the forecasts actually issued fell from bin rates.
                    scale = _conformal_scale(
                        past["probability"].to_numpy(float),
                        past["outcome"].to_numpy(float),
                        level,
                        n_bins,
                    )
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
    if issue_from is not None:
        out = [block for block in out if block["origin"].iloc[0] >= issue_from]
    return pd.concat(out, ignore_index=True) if out else forecasts.iloc[:0]
