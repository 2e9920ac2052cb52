"""Anchor each origin's forecasts to the recent onset rate (cross-sectional level anchoring).

A model's overall level drifts from one origin to the next for reasons that carry no
information about that year: extrapolated time trends (``year``, ``year^2``), a training
base rate that changes as the window grows, tree ensembles' coarse leaves. Anchoring keeps
the model's *relative* risks within the origin's cross-section and sets their level so that
the expected share of units with an onset equals the share observed in the last ``years``
training years. It uses only what the origin knows: the training outcomes and the features
of the forecast year. Within a year the ranking is unchanged; across years, levels become
comparable, which is what pooled scoring and a stable list need.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import brentq

from forecast._errors import input_error
from forecast._math import expit, logit

__all__ = ["anchor_offset", "anchor_to_recent_rate", "anchored", "recent_rate"]


def recent_rate(y_train: np.ndarray, years_train: np.ndarray, years: int) -> float:
    """Onset share of the last ``years`` training years, shrunk by half an event.

    .. math:: r = \\frac{\\sum_{i \\in R} y_i + 1/2}{|R| + 1}, \\quad
              R = \\{i : t_i > t_{\\max} - \\text{years},\\ y_i \\text{ known}\\}

    The half-event (Jeffreys-style) shrinkage keeps ``r`` inside ``(0, 1)`` when the
    window holds no onset.
    """
    if years < 1:
        raise input_error(
            f"anchor_years must be >= 1, got {years}",
            column="anchor_years",
            fix="use e.g. anchor_years: 20",
        )
    y = np.asarray(y_train, dtype=float)
    t = np.asarray(years_train)
    recent = (t > t.max() - years) & ~np.isnan(y)
    return float((y[recent].sum() + 0.5) / (recent.sum() + 1.0))


def anchor_offset(probability: np.ndarray, rate: float) -> float:
    """Logit shift ``c`` that makes the cross-section's mean probability equal ``rate``.

    Solves :math:`\\frac{1}{n} \\sum_i \\operatorname{expit}(\\operatorname{logit}(p_i) + c)
    = r` for ``c`` (the left side increases in ``c``, so the root is unique).
    """
    p = np.asarray(probability, dtype=float)
    if p.size == 0 or not 0.0 < rate < 1.0:
        raise input_error(
            f"anchoring needs forecasts and a rate in (0, 1); got {p.size} "
            f"forecasts and rate {rate}",
            column="anchor_years",
            fix="anchor only origins with forecast rows",
        )
    eta = logit(p)
    return float(
        brentq(
            lambda c: float(expit(eta + c).mean()) - rate,
            -60.0,
            60.0,
            xtol=1e-12,
            rtol=4 * np.finfo(float).eps,
            maxiter=200,
        )
    )


def anchored(probability: np.ndarray, offset: float) -> np.ndarray:
    """``expit(offset + logit(p))``: the same expression as
    :class:`~forecast.calibration.HistoryShiftedClassifier` so both give equal bits."""
    return expit(offset + logit(np.asarray(probability, dtype=float)))


def anchor_to_recent_rate(
    probability: np.ndarray,
    lower: np.ndarray | None,
    upper: np.ndarray | None,
    y_train: np.ndarray,
    years_train: np.ndarray,
    years: int,
):
    """An origin's forecasts (and interval bounds, when given) anchored to the onset share of
    its last ``years`` training years; the one step the backtest and risk lists share.

    Returns
    -------
    probability, lower, upper : ndarray (a bound given as None stays None)
    offset : float
        The logit shift applied (:func:`anchor_offset`).
    """
    offset = anchor_offset(probability, recent_rate(y_train, years_train, years))
    shifted = [None if a is None else anchored(a, offset) for a in (probability, lower, upper)]
    return (*shifted, offset)
