r"""Bounded members: member probabilities are held to a band before a logit-scale combination.

A member forecast of exactly 0 or 1 has infinite log-odds; clipped at 1e-9 it still sits at
:math:`\pm 20.7` and one member with a modest weight drags the combination with it. Every
member probability is bounded to :math:`[\varepsilon, 1 - \varepsilon]` (``BAND``), so one
member moves the combined log-odds :math:`c + \sum_m w_m z_m` by at most
:math:`2 L w_m` with :math:`L = \mathrm{logit}(1 - \varepsilon)` (:func:`max_shift`). Values
inside the band are returned unchanged. See ``docs/design/0012-bounded-members.md``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from forecast._math import logit

__all__ = ["BAND", "bounded_count", "bounded_log_odds", "bounded_probabilities", "max_shift"]

BAND = 1e-4
"""Member probabilities are bounded to ``[BAND, 1 - BAND]`` (log-odds within +-9.21)."""


def bounded_probabilities(probabilities: NDArray) -> NDArray:
    """Member probabilities held to ``[BAND, 1 - BAND]`` (NaN stays NaN)."""
    return np.clip(np.asarray(probabilities, float), BAND, 1 - BAND)


def bounded_log_odds(probabilities: NDArray) -> NDArray:
    """Log-odds of the bounded probabilities: within ``[-L, L]``, ``L = logit(1 - BAND)``."""
    return logit(bounded_probabilities(probabilities))


def bounded_count(probabilities: NDArray, weights: NDArray | None = None) -> NDArray:
    """Per row, how many member forecasts (rows x members) lie outside the band.

    Only members with a non-missing, non-zero weight count (a member left out or weighted 0
    does not reach the combination).
    """
    P = np.asarray(probabilities, float)
    outside = (P < BAND) | (P > 1 - BAND)
    if weights is not None:
        w = np.asarray(weights, float)
        outside &= ~np.isnan(w) & (w != 0)
    return outside.sum(axis=1)


def max_shift(weight: float) -> float:
    r"""The most one member of log-odds weight ``weight`` can move the combined log-odds.

    :math:`2\,|w|\,\mathrm{logit}(1 - \varepsilon)`: 18.42 |w| for the band's
    :math:`\varepsilon = 10^{-4}`.
    """
    return 2.0 * abs(float(weight)) * float(logit(np.array(1 - BAND)))
