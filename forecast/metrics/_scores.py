"""Probabilistic scores for binary onset forecasts.

Every function takes ``(y_true, y_score, *, sample_weight=None, ...)`` with
``y_true`` in {0, 1} and ``y_score`` a probability in [0, 1]. NaN in either is
an error (drop unknown outcomes first with :func:`forecast.metrics.evaluate`).
Weights multiply each row's contribution; zero-weight rows change nothing.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from forecast._math import fit_logistic, logit, probability_bins
from forecast._validation import (
    check_both_classes,
    check_outcomes_probabilities,
    check_probability_threshold,
)

__all__ = [
    "average_precision",
    "brier",
    "brier_skill",
    "calibration_intercept",
    "calibration_slope",
    "ece",
    "log_loss",
    "observed_expected",
    "roc_auc",
]


def level_sums(
    y: NDArray[np.float64], p: NDArray[np.float64], w: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Positive and negative weight per distinct score, highest score first."""
    order = np.argsort(-p, kind="stable")
    ps = p[order]
    starts = np.flatnonzero(np.r_[True, ps[1:] != ps[:-1]])
    wy = (w * y)[order]
    wn = (w * (1.0 - y))[order]
    return np.add.reduceat(wy, starts), np.add.reduceat(wn, starts)


def auc_from_levels(pos: NDArray, neg: NDArray) -> NDArray | float:
    """Trapezoidal ROC AUC from per-level weights (last axis = levels, descending score)."""
    cum_pos = np.cumsum(pos, axis=-1) - pos  # positives strictly above each level
    num = np.sum(neg * (cum_pos + 0.5 * pos), axis=-1)
    den = np.sum(pos, axis=-1) * np.sum(neg, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return num / den


def ap_from_levels(pos: NDArray, neg: NDArray) -> NDArray | float:
    """Step-wise average precision from per-level weights (descending score)."""
    tps = np.cumsum(pos, axis=-1)
    fps = np.cumsum(neg, axis=-1)
    total = tps + fps
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(total > 0, tps / np.where(total > 0, total, 1.0), 0.0)
        return np.sum(pos * precision, axis=-1) / tps[..., -1]


def roc_auc(
    y_true: ArrayLike, y_score: ArrayLike, *, sample_weight: ArrayLike | None = None
) -> float:
    r"""Area under the ROC curve (probability a random onset outranks a random non-onset).

    .. math::
        \mathrm{AUC} = \frac{\sum_{i: y_i=1} \sum_{j: y_j=0} w_i w_j
        \left([p_i > p_j] + \tfrac12 [p_i = p_j]\right)}{\sum_{i: y_i=1} w_i \sum_{j: y_j=0} w_j}

    Ties count one half, which equals the trapezoidal area under the weighted
    ROC curve (as :func:`sklearn.metrics.roc_auc_score`). Higher is better.

    NaN handling: NaN in ``y_true`` or ``y_score`` raises; a single class in
    ``y_true`` raises.

    References
    ----------
    Hanley, J. A. and McNeil, B. J. (1982). The meaning and use of the area under a
    receiver operating characteristic (ROC) curve. Radiology 143(1), 29-36.
    """
    y, p, w = check_outcomes_probabilities(y_true, y_score, sample_weight, caller="roc_auc")
    check_both_classes(y, w, "roc_auc")
    return float(auc_from_levels(*level_sums(y, p, w)))


def average_precision(
    y_true: ArrayLike, y_score: ArrayLike, *, sample_weight: ArrayLike | None = None
) -> float:
    r"""Average precision: precision averaged over the recall steps.

    .. math::
        \mathrm{AP} = \sum_n (R_n - R_{n-1}) P_n

    with ``P_n``, ``R_n`` the weighted precision and recall when warning on all
    rows scoring at least the n-th distinct score (no interpolation, as
    :func:`sklearn.metrics.average_precision_score`). The no-skill value is the
    base rate. Higher is better.

    NaN handling: NaN raises; a single class in ``y_true`` raises.

    References
    ----------
    Manning, C. D., Raghavan, P. and Schuetze, H. (2008). Introduction to
    Information Retrieval, ch. 8. Cambridge University Press.
    """
    y, p, w = check_outcomes_probabilities(
        y_true, y_score, sample_weight, caller="average_precision"
    )
    check_both_classes(y, w, "average_precision")
    return float(ap_from_levels(*level_sums(y, p, w)))


def brier(
    y_true: ArrayLike, y_score: ArrayLike, *, sample_weight: ArrayLike | None = None
) -> float:
    r"""Brier score: weighted mean squared error of the probability.

    .. math:: \mathrm{BS} = \frac{\sum_i w_i (p_i - y_i)^2}{\sum_i w_i}

    Lower is better. NaN handling: NaN raises.

    References
    ----------
    Brier, G. W. (1950). Verification of forecasts expressed in terms of probability.
    Monthly Weather Review 78(1), 1-3.
    """
    y, p, w = check_outcomes_probabilities(y_true, y_score, sample_weight, caller="brier")
    return float(np.sum(w * (p - y) ** 2) / np.sum(w))


def log_loss(
    y_true: ArrayLike, y_score: ArrayLike, *, sample_weight: ArrayLike | None = None
) -> float:
    r"""Logarithmic loss (negative mean log-likelihood, natural log).

    .. math::
        \mathrm{LL} = -\frac{\sum_i w_i [y_i \log \tilde p_i + (1 - y_i) \log(1 - \tilde p_i)]}
        {\sum_i w_i}, \quad \tilde p_i = \min(\max(p_i, \epsilon), 1 - \epsilon)

    with ``epsilon`` the float64 machine epsilon (the clipping of
    :func:`sklearn.metrics.log_loss`), so a confident miss costs about 36, not
    infinity. Lower is better. NaN handling: NaN raises.

    References
    ----------
    Good, I. J. (1952). Rational decisions. JRSS B 14(1), 107-114.
    """
    y, p, w = check_outcomes_probabilities(y_true, y_score, sample_weight, caller="log_loss")
    eps = np.finfo(float).eps
    q = np.clip(p, eps, 1.0 - eps)
    loss = -(y * np.log(q) + (1.0 - y) * np.log(1.0 - q))
    return float(np.sum(w * loss) / np.sum(w))


def brier_skill(
    y_true: ArrayLike,
    y_score: ArrayLike,
    *,
    sample_weight: ArrayLike | None = None,
    base_rate: float | None = None,
) -> float:
    r"""Brier skill score against a constant base-rate forecast.

    .. math::
        \mathrm{BSS} = 1 - \frac{\mathrm{BS}(p)}{\mathrm{BS}(\bar y)}, \quad
        \bar y = \texttt{base\_rate}\ \text{or}\ \frac{\sum_i w_i y_i}{\sum_i w_i}

    0 = no better than always forecasting the base rate, 1 = perfect. The
    default base rate is the sample's own (weighted) event rate, which is
    in-sample knowledge: for an honest comparison pass the rate known at
    forecast time. Higher is better.

    NaN handling: NaN raises. With the default base rate, a single class in
    ``y_true`` raises (the reference forecast would be perfect).

    References
    ----------
    Murphy, A. H. (1973). A new vector partition of the probability score.
    Journal of Applied Meteorology 12(4), 595-600.
    """
    y, p, w = check_outcomes_probabilities(y_true, y_score, sample_weight, caller="brier_skill")
    if base_rate is None:
        check_both_classes(y, w, "brier_skill")
        ref = float(np.sum(w * y) / np.sum(w))
    else:
        ref = check_probability_threshold(base_rate, caller="brier_skill (base_rate)")
    bs = np.sum(w * (p - y) ** 2)
    bs_ref = np.sum(w * (ref - y) ** 2)
    if bs_ref == 0:
        return float("nan")
    return float(1.0 - bs / bs_ref)


def observed_expected(
    y_true: ArrayLike, y_score: ArrayLike, *, sample_weight: ArrayLike | None = None
) -> float:
    r"""Calibration-in-the-large ratio of observed to expected events.

    .. math:: O/E = \frac{\sum_i w_i y_i}{\sum_i w_i p_i}

    1 is ideal; below 1 the forecasts run too high (the published EWP 2025
    forecasts have O/E about 0.6). NaN handling: NaN raises; returns NaN when
    every probability is 0.

    References
    ----------
    Steyerberg, E. W. (2019). Clinical Prediction Models, 2nd ed., ch. 15. Springer.
    """
    y, p, w = check_outcomes_probabilities(
        y_true, y_score, sample_weight, caller="observed_expected"
    )
    expected = float(np.sum(w * p))
    return float(np.sum(w * y) / expected) if expected > 0 else float("nan")


def calibration_intercept(
    y_true: ArrayLike, y_score: ArrayLike, *, sample_weight: ArrayLike | None = None
) -> float:
    r"""Calibration intercept ("calibration-in-the-large") of logistic recalibration.

    Fits :math:`\operatorname{logit} P(y_i = 1) = a + \operatorname{logit}(p_i)`
    (slope fixed at 1, i.e. the forecast as an offset) by weighted maximum
    likelihood and returns ``a``. 0 is ideal; negative means the forecasts are
    too high. ``logit(p)`` clips ``p`` to ``[eps, 1 - eps]``.

    NaN handling: NaN raises; a single class in ``y_true`` raises.

    References
    ----------
    Van Calster, B. et al. (2016). A calibration hierarchy for risk models was
    defined: from utopia to empirical data. J Clin Epidemiol 74, 167-176.
    """
    y, p, w = check_outcomes_probabilities(
        y_true, y_score, sample_weight, caller="calibration_intercept"
    )
    check_both_classes(y, w, "calibration_intercept")
    return float(fit_logistic(np.ones((y.size, 1)), y, w, offset=logit(p))[0])


def calibration_slope(
    y_true: ArrayLike, y_score: ArrayLike, *, sample_weight: ArrayLike | None = None
) -> float:
    r"""Calibration slope of logistic recalibration.

    Fits :math:`\operatorname{logit} P(y_i = 1) = a + b \operatorname{logit}(p_i)`
    by weighted maximum likelihood (Newton / IRLS) and returns ``b``. 1 is ideal;
    below 1 the forecasts are too extreme (overfitting), above 1 too timid.

    NaN handling: NaN raises; a single class in ``y_true`` raises.

    References
    ----------
    Cox, D. R. (1958). Two further applications of a model for binary
    regression. Biometrika 45(3/4), 562-565.
    """
    y, p, w = check_outcomes_probabilities(
        y_true, y_score, sample_weight, caller="calibration_slope"
    )
    check_both_classes(y, w, "calibration_slope")
    X = np.column_stack([np.ones(y.size), logit(p)])
    return float(fit_logistic(X, y, w)[1])


def ece(
    y_true: ArrayLike,
    y_score: ArrayLike,
    *,
    sample_weight: ArrayLike | None = None,
    n_bins: int = 10,
) -> float:
    r"""Expected calibration error over quantile bins of the forecast.

    .. math::
        \mathrm{ECE} = \sum_b \frac{W_b}{W} \left| \bar p_b - \bar y_b \right|

    with ``W_b`` the weight, ``p̄_b`` the mean forecast and ``ȳ_b`` the event
    rate in bin ``b``; bins are ``n_bins`` weighted quantile bins (tied scores
    share a bin; see :func:`forecast._math.probability_bins`), empty
    bins are skipped. Lower is better; 0 is perfect.

    NaN handling: NaN raises.

    References
    ----------
    Naeini, M. P., Cooper, G. and Hauskrecht, M. (2015). Obtaining well calibrated
    probabilities using Bayesian binning. AAAI 2015, 2901-2907.
    """
    y, p, w = check_outcomes_probabilities(y_true, y_score, sample_weight, caller="ece")
    bins = probability_bins(p, w, n_bins=n_bins, strategy="quantile", caller="ece")
    wb = np.bincount(bins, weights=w, minlength=n_bins)
    pb = np.bincount(bins, weights=w * p, minlength=n_bins)
    yb = np.bincount(bins, weights=w * y, minlength=n_bins)
    return float(np.sum(np.abs(pb - yb)) / np.sum(wb))
