"""Honest rolling thresholds, decision tables and flat metrics: toy tables and leakage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forecast._errors import ForecastInputError
from forecast.decision import (
    POLICIES,
    CostLoss,
    cost_analysis,
    decision_table,
    relative_value,
    rolling_thresholds,
)
from forecast.experiment import CostSpec


def _toy_table() -> pd.DataFrame:
    """Three countries, origins 2000-2003, horizon 1; the 2003 outcomes are unknown."""
    p = {
        2000: [0.9, 0.5, 0.1],
        2001: [0.6, 0.4, 0.2],
        2002: [0.35, 0.1, 0.05],
        2003: [0.7, 0.2, 0.3],
    }
    y = {
        2000: [1, 0, 0],
        2001: [0, 1, 0],
        2002: [0, 0, 1],
        2003: [np.nan, np.nan, np.nan],
    }
    rows = [
        {
            "unit": unit,
            "year": year,
            "origin": year,
            "model": "m",
            "probability": p[year][i],
            "outcome": y[year][i],
        }
        for year in p
        for i, unit in enumerate("ABC")
    ]
    return pd.DataFrame(rows)


def _toy_decision_table(cost_ratios, *, effectiveness=1.0, capacity=None):
    """The threshold policies of the toy table's cost analysis at ``cost_ratios``."""
    costs = CostSpec(effectiveness, capacity, tuple(cost_ratios))
    analysis = cost_analysis(_toy_table(), costs, horizon=1)
    out = decision_table(analysis, cost_ratios)
    return out[out["policy"].isin(POLICIES)].reset_index(drop=True)


def test_rolling_thresholds_hand_computed():
    out = rolling_thresholds(_toy_table(), 0.25, horizon=1)
    assert out["origin"].tolist() == [2000, 2001, 2002, 2003]
    # 2000: no history -> Bayes 0.25; 2001: history 2000 -> act on 0.9, not on 0.5
    # -> r = 0.25 is outside (0.5, 0.9], midpoint 0.7;
    # 2002: history 2000-2001 -> act on 0.9, 0.6, 0.5, 0.4, not 0.2 -> r in (0.2, 0.4];
    # 2003: history 2000-2002 -> act on 0.9 ... 0.4, not 0.35 -> midpoint 0.375.
    assert out["threshold"].tolist() == pytest.approx([0.25, 0.7, 0.25, 0.375])
    assert out["threshold_source"].tolist() == ["bayes", "empirical", "empirical", "empirical"]
    assert out["n_history"].tolist() == [0, 3, 6, 9]
    assert out["n_history_events"].tolist() == [0, 1, 2, 3]
    # out-of-sample cost at T (L = 1, C = 0.25):
    # 2000: warn 0.9 (hit) + 0.5 (false alarm) = 0.5; 2001: no warning, a missed onset = 1;
    # 2002: warn 0.35 (false alarm) + missed onset = 1.25; 2003: unknown.
    assert out["cost"].iloc[:3].tolist() == pytest.approx([0.5, 1.0, 1.25])
    assert np.isnan(out["cost"].iloc[3]) and out["n_scored"].iloc[3] == 0
    assert out["hits"].iloc[:3].tolist() == [1, 0, 0]
    assert out["false_alarms"].iloc[:3].tolist() == [1, 0, 1]
    assert out["cost_per_year"].iloc[:3].tolist() == pytest.approx([0.5, 1.0, 1.25])


def test_bayes_method_and_min_events():
    bayes = rolling_thresholds(_toy_table(), 0.25, horizon=1, method="bayes")
    assert (bayes["threshold"] == 0.25).all() and (bayes["threshold_source"] == "bayes").all()
    strict = rolling_thresholds(_toy_table(), 0.25, horizon=1, min_events=2)
    assert strict["threshold_source"].tolist() == ["bayes", "bayes", "empirical", "empirical"]


def test_horizon_column_and_longer_horizon():
    table = _toy_table()
    table["horizon"] = 2
    out = rolling_thresholds(table, 0.25)
    # horizon 2: at 2001 nothing is resolved yet; at 2002 only the 2000 forecasts are.
    assert out["n_history"].tolist() == [0, 0, 3, 6]
    assert out["threshold"].iloc[2] == pytest.approx(0.7)
    assert out.equals(rolling_thresholds(_toy_table(), 0.25, horizon=2))


def test_decision_table_hand_computed():
    table = _toy_decision_table([0.25])
    assert table["policy"].tolist() == ["honest", "in_sample", "bayes"]
    got = table.set_index("policy")
    assert got.loc["honest", "cost_per_year"] == pytest.approx((0.5 + 1.0 + 1.25) / 3)
    assert got.loc["honest", "threshold"] == pytest.approx(0.375)  # latest origin
    assert got.loc["honest", "threshold_median"] == pytest.approx(0.25)  # of 0.25, 0.7, 0.25
    assert got.loc["in_sample", "threshold"] == pytest.approx(0.375)
    # in-sample: warn 0.9, 0.5, 0.6, 0.4 (4 * 0.25) and miss one onset (1) -> 2 over 3 years
    assert got.loc["in_sample", "cost_per_year"] == pytest.approx(2 / 3)
    assert got.loc["bayes", "cost_per_year"] == pytest.approx(2.25 / 3)
    assert got.loc["in_sample", "hits_per_year"] == pytest.approx(2 / 3)
    assert got.loc["in_sample", "false_alarms_per_hit"] == pytest.approx(1.0)
    assert got.loc["in_sample", "expected_hits_per_year"] == pytest.approx(
        (0.9 + 0.5 + 0.6 + 0.4) / 3
    )
    # s = 1/3 > r: climate = always act (0.25), perfect = s C = 1/12, E_f = 2/9
    assert got.loc["in_sample", "relative_value"] == pytest.approx((0.25 - 2 / 9) / (0.25 - 1 / 12))
    assert got.loc["in_sample", "value_vs_nothing"] == pytest.approx(
        (1 / 3 - 2 / 9) / (1 / 3 - 1 / 12)
    )
    known = _toy_table().dropna()
    oracle = relative_value(known["outcome"], known["probability"], 0.25, CostLoss.from_ratio(0.25))
    assert got.loc["bayes", "relative_value"] == pytest.approx(oracle)
    assert (table["years"] == 3).all() and (table["n_scored"] == 9).all()


def test_decision_table_capacity_and_effectiveness():
    table = _toy_decision_table([0.25, 0.1], effectiveness=0.5, capacity=1)
    assert len(table) == 6
    assert (table["warnings_per_year"] <= 1).all()
    assert set(table["label"]) == {"1to4", "1to10"}
    # C = r e L = 0.125; bayes r = 0.25, top 1: warn 0.9 (hit), 0.6 (fa), 0.35 (fa);
    # expenses 0.125 + 0.5 | 0.125 + 1 | 0.125 + 1 -> 2.875 / 3
    bayes = table[(table["policy"] == "bayes") & (table["label"] == "1to4")]
    assert bayes["cost_per_year"].item() == pytest.approx(2.875 / 3)


def test_flat_cost_metrics_for_logging():
    """The MLflow metrics are the analysis' numbers under flat, sortable names."""
    analysis = cost_analysis(_toy_table(), CostSpec(1.0, None, (0.25, 0.1)), horizon=1)
    metrics = analysis.metrics_by_model()["m"]
    assert list(metrics) == sorted(metrics)
    assert metrics["relative_value_1to4_in_sample"] == pytest.approx(1 / 6)
    assert metrics["cost_per_year_1to4"] == pytest.approx(2.75 / 3)
    assert "relative_value_1to10" in metrics and "cost_per_year_1to10_bayes" in metrics
    assert all(isinstance(v, float) for v in metrics.values())
    table = decision_table(analysis, [0.25, 0.1]).set_index(["policy", "label"])
    for policy, suffix in (("honest", ""), ("in_sample", "_in_sample"), ("bayes", "_bayes")):
        for label in ("1to4", "1to10"):
            assert (
                metrics[f"cost_per_year_{label}{suffix}"]
                == table.loc[(policy, label), "cost_per_year"]
            )
    with pytest.raises(ForecastInputError, match="must be a CostAnalysis or its table"):
        decision_table(pd.DataFrame({"x": [1]}))
    with pytest.raises(ForecastInputError, match=r"cost ratio 0\.3 was not analysed"):
        decision_table(analysis, [0.3])


@pytest.mark.parametrize(
    ("change", "kwargs", "match"),
    [
        (lambda t: t.drop(columns="origin"), {"horizon": 1}, r"lacks column\(s\) \['origin'\]"),
        (lambda t: t, {}, "horizon is None and the table has no 'horizon' column"),
        (lambda t: t, {"horizon": -1}, "horizon must be >= 0"),
        (lambda t: t.assign(probability=1.5), {"horizon": 1}, "probabilities must be finite"),
        (lambda t: t.assign(outcome=2), {"horizon": 1}, "outcomes must be 0, 1 or missing"),
        (lambda t: pd.concat([t, t.iloc[:1]]), {"horizon": 1}, r"\(model, unit, year, origin\)"),
        (lambda t: t, {"horizon": 1, "min_events": -1}, "min_events must be an integer >= 0"),
        (lambda t: t, {"horizon": 1, "method": "oracle"}, "method must be 'empirical' or 'bayes'"),
    ],
)
def test_table_errors(change, kwargs, match):
    with pytest.raises(ForecastInputError, match=match):
        rolling_thresholds(change(_toy_table()), 0.25, **kwargs)


def test_decision_table_errors():
    with pytest.raises(ForecastInputError, match=r"must be in \(0, 1\), got -1\.0"):
        _toy_decision_table([-1.0])
    with pytest.raises(ForecastInputError, match="no forecast has a known outcome"):
        cost_analysis(_toy_table().assign(outcome=np.nan), CostSpec(), horizon=1, data_end=2003)
    with pytest.raises(ForecastInputError, match="capacity must be an integer >= 1 or None"):
        _toy_decision_table([0.1], capacity=0)


@st.composite
def forecast_tables(draw):
    n_units = draw(st.integers(1, 4))
    n_origins = draw(st.integers(2, 6))
    horizon = draw(st.integers(0, 2))
    models = draw(st.sampled_from([["a"], ["a", "b"]]))
    grid = st.sampled_from([0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.8, 1.0])
    rows = []
    for model in models:
        for origin in range(2000, 2000 + n_origins):
            lag = draw(st.integers(0, 1))  # forecast data year = origin or origin - 1
            for unit in range(n_units):
                rows.append(
                    {
                        "unit": unit,
                        "year": origin - lag,
                        "origin": origin,
                        "model": model,
                        "probability": draw(grid),
                        "outcome": draw(st.sampled_from([0.0, 1.0, 1.0, np.nan])),
                    }
                )
    table = pd.DataFrame(rows)
    target = draw(st.integers(2000, 2000 + n_origins - 1))
    capacity = draw(st.sampled_from([None, 1, 2]))
    seed = draw(st.integers(0, 2**32 - 1))
    return table, horizon, target, capacity, seed


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(forecast_tables(), st.sampled_from([0.05, 0.2, 0.5]))
def test_threshold_never_uses_outcomes_unknown_at_origin(case, r):
    table, horizon, target, capacity, seed = case
    # Rows whose outcome window had not closed at T (or made at/after T): the future.
    future = ~((table["origin"] < target) & (table["year"] + horizon <= target))
    known = ~future & table["outcome"].notna()
    rng = np.random.default_rng(seed)
    changed = table.copy()
    n_future = int(future.sum())
    changed.loc[future, "probability"] = rng.random(n_future)
    changed.loc[future, "outcome"] = rng.choice([0.0, 1.0, np.nan], n_future)
    kwargs = {"horizon": horizon, "capacity": capacity, "min_events": 0}
    before = rolling_thresholds(table, r, **kwargs)
    after = rolling_thresholds(changed, r, **kwargs)
    pick = ["model", "origin", "threshold", "threshold_source", "n_history"]
    at_t = before["origin"] == target
    pd.testing.assert_frame_equal(
        before.loc[at_t, pick].reset_index(drop=True),
        after.loc[after["origin"] == target, pick].reset_index(drop=True),
    )
    # the history is exactly the rows known at T, model by model
    for model, n in before.loc[at_t, ["model", "n_history"]].itertuples(index=False):
        assert n == int((known & (table["model"] == model)).sum())


def test_honest_grid_ranks_once_as_each_history_would():
    """The capacity ranking is computed once per round; each origin's history sees the same
    eligible rows as ranking that history alone (the rule of honest_threshold_grid)."""
    from forecast.decision._rolling import honest_threshold_grid, known_at
    from forecast.decision._rules import capacity_mask
    from forecast.decision._table import check_forecast_table
    from forecast.decision._threshold import min_cost_thresholds

    rng = np.random.default_rng(11)
    units, years = 25, np.arange(2000, 2014)
    table = pd.DataFrame(
        {
            "unit": np.tile(np.arange(units), years.size).astype(str),
            "year": np.repeat(years, units),
            "origin": np.repeat(years, units),
            "model": "m",
            "probability": np.round(rng.random(units * years.size) * 0.3, 2),  # ties
            "outcome": (rng.random(units * years.size) < 0.15).astype(float),
        }
    )
    table.loc[rng.random(len(table)) < 0.1, "outcome"] = np.nan  # unknown inside rounds
    rows = check_forecast_table(table, 2, caller="test")
    ratios = np.array([0.05, 0.1, 0.3])
    for capacity in (None, 1, 4):
        grid = honest_threshold_grid(rows, ratios, capacity, 1)
        p, y, groups = (rows[c].to_numpy() for c in ("probability", "outcome", "round"))
        for o, origin in enumerate(grid.origins):
            mask = known_at(rows, int(origin))
            if not grid.empirical[o]:
                continue
            eligible = capacity_mask(p[mask], groups[mask], capacity)  # this history alone
            expected = min_cost_thresholds(y[mask], p[mask], np.ones(mask.sum()), ratios, eligible)
            np.testing.assert_array_equal(grid.thresholds[o], expected)
