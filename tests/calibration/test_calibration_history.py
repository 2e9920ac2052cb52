import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st

from forecast import ForecastInputError
from forecast.calibration import recalibrate_from_history


def _table(seed=0, units=30, first=1990, last=2010):
    rng = np.random.default_rng(seed)
    rows = []
    for origin in range(first, last + 1):
        for u in range(units):
            p = float(np.clip(rng.beta(0.6, 20), 1e-4, 0.9))
            y = float(rng.random() < min(1, 0.6 * p + 0.004))
            rows.append((f"u{u}", origin, "m", p, y if origin + 2 <= last else np.nan, origin))
    return pd.DataFrame(rows, columns=["unit", "year", "model", "probability", "outcome", "origin"])


def test_matches_a_statsmodels_platt_fit_on_the_history():
    table = _table()
    out = recalibrate_from_history(table, horizon=2, models=["m"], half_life=None, min_events=5,
                                   method="platt", interval="wald")
    origin = 2005
    hist = table[(table.origin < origin) & (table.year + 2 <= origin) & table.outcome.notna()]
    x = np.log(hist.probability / (1 - hist.probability))
    fit = sm.GLM(hist.outcome, sm.add_constant(x), family=sm.families.Binomial()).fit()
    block = out[out.origin == origin]
    np.testing.assert_allclose(block[["recal_a", "recal_b"]].iloc[0], fit.params.to_numpy(), atol=1e-7)
    z = np.log(table[table.origin == origin].probability / (1 - table[table.origin == origin].probability))
    expected = 1 / (1 + np.exp(-(fit.params.iloc[0] + fit.params.iloc[1] * z)))
    np.testing.assert_allclose(block.probability.to_numpy(), expected.to_numpy(), atol=1e-9)
    assert (block.lower <= block.probability).all() and (block.probability <= block.upper).all()
    assert (out.model == "m_recal").all()


def test_origins_without_enough_history_keep_raw_probabilities():
    table = _table()
    out = recalibrate_from_history(table, horizon=2, models=["m"], min_events=10_000)
    np.testing.assert_array_equal(out.probability.to_numpy(), table.probability.to_numpy())
    assert out.lower.isna().all()


@settings(max_examples=6, deadline=None)
@given(origin=st.integers(1996, 2010), seed=st.integers(0, 1000))
def test_outcomes_unknown_at_the_origin_cannot_change_its_recalibration(origin, seed):
    table = _table()
    before = recalibrate_from_history(table, horizon=2, models=["m"], min_events=3)
    rng = np.random.default_rng(seed)
    altered = table.copy()
    unknown = altered.year + 2 > origin
    altered.loc[unknown, "outcome"] = rng.integers(0, 2, int(unknown.sum())).astype(float)
    later = altered.origin > origin
    altered.loc[later, "probability"] = rng.random(int(later.sum())) * 0.5
    after = recalibrate_from_history(altered, horizon=2, models=["m"], min_events=3)
    cols = ["probability", "lower", "upper"]
    pd.testing.assert_frame_equal(before.loc[before.origin == origin, cols],
                                  after.loc[after.origin == origin, cols], check_exact=True)


def test_intercept_keeps_each_origins_ranking_and_conformal_interval_covers_history():
    table = _table()
    out = recalibrate_from_history(table, horizon=2, models=["m"], min_events=5)
    for origin, block in out[out.lower.notna()].groupby("origin"):
        raw = table[table.origin == origin]
        assert (block.probability.rank().to_numpy() == raw.probability.rank().to_numpy()).all()
        assert (block.lower < block.probability).all() and (block.probability < block.upper).all()


def test_unknown_model_is_named():
    with pytest.raises(ForecastInputError, match=r"unknown model\(s\) \['nope'\]"):
        recalibrate_from_history(_table(), horizon=2, models=["nope"])
