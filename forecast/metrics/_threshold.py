"""Decision metrics for a fixed probability threshold: warn when ``p >= threshold``."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from forecast._errors import input_error
from forecast._validation import check_outcomes_probabilities, check_probability_threshold

__all__ = [
    "false_alarms_per_hit_at_threshold",
    "fbeta_at_threshold",
    "precision_at_threshold",
    "recall_at_threshold",
    "threshold_counts",
    "warnings_at_threshold",
]


def _counts(y_true, y_score, sample_weight, threshold, caller):
    y, p, w = check_outcomes_probabilities(y_true, y_score, sample_weight, caller=caller)
    t = check_probability_threshold(threshold, caller=caller)
    return _masked_counts(y, p, w, t)


def _masked_counts(y, p, w, t):
    warn = p >= t
    tp = float(np.sum(w[warn] * y[warn]))
    fp = float(np.sum(w[warn] * (1.0 - y[warn])))
    fn = float(np.sum(w[~warn] * y[~warn]))
    return tp, fp, fn


def threshold_counts(
    y_true: ArrayLike,
    y_score: ArrayLike,
    *,
    thresholds: ArrayLike,
    sample_weight: ArrayLike | None = None,
) -> dict[str, np.ndarray]:
    r"""The threshold metrics of warning at ``p >= t`` for many thresholds at once.

    One array per quantity, one entry per threshold: ``hits`` (TP), ``false_alarms`` (FP)
    and ``misses`` (FN) as in :func:`precision_at_threshold`, ``warnings = TP + FP``
    (:func:`warnings_at_threshold`), ``precision = TP / (TP + FP)`` and ``recall = TP /
    (TP + FN)`` (NaN for 0/0). With whole-number weights (none, or counts) one sort serves
    every threshold and each value equals the single-threshold function's exactly; other
    weights are summed per threshold as those functions do.
    """
    y, p, w = check_outcomes_probabilities(
        y_true, y_score, sample_weight, caller="threshold_counts"
    )
    ts = np.array(
        [
            check_probability_threshold(t, caller="threshold_counts")
            for t in np.asarray(thresholds, dtype=float).ravel()
        ]
    )
    if not np.all(w == np.round(w)) or float(np.sum(w)) >= 2.0**52:
        rows = [_masked_counts(y, p, w, t) for t in ts]
        tp, fp, fn = (np.array(c, dtype=float).reshape(ts.size) for c in zip(*rows))
    else:  # whole numbers: cumulative sums are exact, in any order
        order = np.argsort(p, kind="stable")
        below = np.searchsorted(p[order], ts, side="left")  # rows with p < t
        wy = np.r_[0.0, np.cumsum((w * y)[order])]
        wn = np.r_[0.0, np.cumsum((w * (1.0 - y))[order])]
        tp, fp, fn = wy[-1] - wy[below], wn[-1] - wn[below], wy[below]
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(tp + fp > 0, tp / (tp + fp), np.nan)
        recall = np.where(tp + fn > 0, tp / (tp + fn), np.nan)
    return {
        "hits": tp,
        "false_alarms": fp,
        "misses": fn,
        "warnings": tp + fp,
        "precision": precision,
        "recall": recall,
    }


def _ratio(num: float, den: float) -> float:
    return num / den if den > 0 else float("nan")


def precision_at_threshold(
    y_true: ArrayLike,
    y_score: ArrayLike,
    *,
    threshold: float,
    sample_weight: ArrayLike | None = None,
) -> float:
    r"""Share of warnings (``p >= threshold``) that were followed by an event.

    .. math:: \mathrm{precision} = \frac{TP}{TP + FP}, \quad
        TP = \sum_i w_i y_i [p_i \ge t], \; FP = \sum_i w_i (1 - y_i) [p_i \ge t]

    Higher is better. NaN handling: NaN inputs raise; returns NaN when no row
    is warned (0/0).

    References
    ----------
    Saito, T. and Rehmsmeier, M. (2015). The precision-recall plot is more
    informative than the ROC plot when evaluating binary classifiers on
    imbalanced datasets. PLoS ONE 10(3), e0118432.
    """
    tp, fp, _ = _counts(y_true, y_score, sample_weight, threshold, "precision_at_threshold")
    return _ratio(tp, tp + fp)


def recall_at_threshold(
    y_true: ArrayLike,
    y_score: ArrayLike,
    *,
    threshold: float,
    sample_weight: ArrayLike | None = None,
) -> float:
    r"""Share of events that were warned (``p >= threshold``), the hit rate.

    .. math:: \mathrm{recall} = \frac{TP}{TP + FN}, \quad FN = \sum_i w_i y_i [p_i < t]

    Higher is better. NaN handling: NaN inputs raise; returns NaN when there
    are no events.

    References
    ----------
    Saito, T. and Rehmsmeier, M. (2015). PLoS ONE 10(3), e0118432.
    """
    tp, _, fn = _counts(y_true, y_score, sample_weight, threshold, "recall_at_threshold")
    return _ratio(tp, tp + fn)


def fbeta_at_threshold(
    y_true: ArrayLike,
    y_score: ArrayLike,
    *,
    threshold: float,
    beta: float = 1.0,
    sample_weight: ArrayLike | None = None,
) -> float:
    r"""F-beta score of the warnings ``p >= threshold`` (recall weighted beta times).

    .. math:: F_\beta = \frac{(1 + \beta^2) TP}{(1 + \beta^2) TP + \beta^2 FN + FP}

    Higher is better. NaN handling: NaN inputs raise; returns NaN when there
    are neither events nor warnings.

    References
    ----------
    van Rijsbergen, C. J. (1979). Information Retrieval, 2nd ed., ch. 7. Butterworths.
    """
    if not (np.isfinite(beta) and beta > 0):
        raise input_error(
            f"fbeta_at_threshold: 'beta' must be a positive number, got {beta!r}",
            fix="pass e.g. beta=1 (F1) or beta=2 (recall counts more)",
        )
    tp, fp, fn = _counts(y_true, y_score, sample_weight, threshold, "fbeta_at_threshold")
    b2 = float(beta) ** 2
    return _ratio((1 + b2) * tp, (1 + b2) * tp + b2 * fn + fp)


def warnings_at_threshold(
    y_true: ArrayLike,
    y_score: ArrayLike,
    *,
    threshold: float,
    sample_weight: ArrayLike | None = None,
) -> float:
    r"""Number of warnings issued: the weighted count of rows with ``p >= threshold``.

    .. math:: N_{\mathrm{warn}} = \sum_i w_i [p_i \ge t]

    Neither higher nor lower is better (it is the cost side of a threshold).
    ``y_true`` is validated but not used. NaN handling: NaN inputs raise.

    References
    ----------
    Goldstone, J. A. et al. (2010). A global model for forecasting political
    instability. American Journal of Political Science 54(1), 190-208.
    """
    tp, fp, _ = _counts(y_true, y_score, sample_weight, threshold, "warnings_at_threshold")
    return tp + fp


def false_alarms_per_hit_at_threshold(
    y_true: ArrayLike,
    y_score: ArrayLike,
    *,
    threshold: float,
    sample_weight: ArrayLike | None = None,
) -> float:
    r"""False alarms per correctly warned event at ``p >= threshold``.

    .. math:: \mathrm{FA/hit} = \frac{FP}{TP} = \frac{1}{\mathrm{precision}} - 1

    Lower is better. NaN handling: NaN inputs raise; returns NaN when no event
    is warned (TP = 0).

    References
    ----------
    Goldstone, J. A. et al. (2010). American Journal of Political Science 54(1), 190-208.
    """
    tp, fp, _ = _counts(
        y_true, y_score, sample_weight, threshold, "false_alarms_per_hit_at_threshold"
    )
    return _ratio(fp, tp)
