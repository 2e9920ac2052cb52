"""Honest thresholds see only the past: altering every outcome unknown at origin T leaves the
threshold chosen for T unchanged (a property test over random tables and cost settings)."""

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from forecast.decision import rolling_thresholds

HORIZON = 2


def _table(seed: int, n_units: int, n_origins: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for origin in range(2000, 2000 + n_origins):
        risk = rng.beta(1, 12, size=n_units)
        for model, noise in (("a", 0.3), ("b", 1.0)):
            p = np.clip(risk * np.exp(rng.normal(0, noise, n_units)), 1e-4, 0.99)
            for unit in range(n_units):
                rows.append(
                    (f"u{unit}", origin, origin, model, p[unit], float(rng.random() < risk[unit]))
                )
    return pd.DataFrame(rows, columns=["unit", "year", "origin", "model", "probability", "outcome"])


@settings(max_examples=25, derandomize=True, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n_units=st.integers(8, 40),
    n_origins=st.integers(4, 9),
    ratio=st.sampled_from([0.02, 0.05, 0.1, 0.3]),
    capacity=st.sampled_from([None, 3]),
    pick=st.integers(0, 100),
)
def test_threshold_at_origin_ignores_outcomes_unknown_then(
    seed, n_units, n_origins, ratio, capacity, pick
):
    table = _table(seed, n_units, n_origins)
    origins = sorted(table["origin"].unique())
    origin = origins[pick % len(origins)]
    unknown = (table["origin"] >= origin) | (table["year"] + HORIZON > origin)
    altered = table.copy()
    rng = np.random.default_rng(pick)
    altered.loc[unknown, "outcome"] = rng.choice([0.0, 1.0, np.nan], size=int(unknown.sum()))
    kwargs = {"horizon": HORIZON, "capacity": capacity}
    before = rolling_thresholds(table, ratio, **kwargs).set_index(["model", "origin"])
    after = rolling_thresholds(altered, ratio, **kwargs).set_index(["model", "origin"])
    for model in ("a", "b"):
        row_before, row_after = before.loc[(model, origin)], after.loc[(model, origin)]
        assert row_before["threshold"] == row_after["threshold"]
        assert row_before["n_history"] == row_after["n_history"]
