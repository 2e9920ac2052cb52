"""Cross-sectional anchoring: each origin's mean forecast equals its recent training onset rate."""

import numpy as np
import pytest

from forecast._errors import ForecastInputError
from forecast.calibration._anchor import anchor_offset, anchored, recent_rate


def test_recent_rate_matches_a_hand_count():
    y = np.array([1, 0, 0, np.nan, 1, 0, 0, 0])
    t = np.array([2000, 2000, 2001, 2001, 2002, 2002, 2003, 2003])
    # last 2 years = 2002, 2003: 4 known rows, 1 onset -> (1 + 0.5) / (4 + 1)
    assert recent_rate(y, t, 2) == pytest.approx(1.5 / 5, abs=0)
    # all 4 years: 7 known rows, 2 onsets
    assert recent_rate(y, t, 10) == pytest.approx(2.5 / 8, abs=0)


@pytest.mark.parametrize("rate", [0.001, 0.02, 0.3, 0.97])
def test_anchor_offset_hits_the_rate_and_keeps_the_order(rate):
    p = np.random.default_rng(3).beta(0.5, 20, size=150)
    c = anchor_offset(p, rate)
    q = anchored(p, c)
    assert q.mean() == pytest.approx(rate, rel=1e-9)
    # independent route: bisection on the odds scale, q = o e^c / (1 + o e^c)
    lo, hi = 1e-30, 1e30
    odds = p / (1 - p)
    for _ in range(400):
        mid = np.sqrt(lo * hi)
        lo, hi = (mid, hi) if (odds * mid / (1 + odds * mid)).mean() < rate else (lo, mid)
    assert np.exp(c) == pytest.approx(np.sqrt(lo * hi), rel=1e-7)
    np.testing.assert_array_equal(np.argsort(q, kind="stable"), np.argsort(p, kind="stable"))


def test_anchor_rejects_an_impossible_rate_and_bad_years():
    with pytest.raises(ForecastInputError, match="rate in"):
        anchor_offset(np.array([0.1, 0.2]), 0.0)
    with pytest.raises(ForecastInputError, match="anchor_years must be >= 1"):
        recent_rate(np.array([0.0, 1.0]), np.array([2000, 2001]), 0)
