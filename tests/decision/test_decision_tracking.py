"""cost_analysis: oracle loops for its policies and rules, oracle share, leakage."""

from __future__ import annotations

import re
import time

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forecast._errors import ForecastInputError
from forecast.decision import (
    CostLoss,
    best_threshold_in_sample,
    cost_analysis,
    decision_table,
    rolling_thresholds,
)
from forecast.decision._threshold import min_cost_thresholds
from forecast.experiment import CostSpec

HORIZON = 2
DATA_END = 2015


def make_forecasts(
    seed: int = 0,
    n_units: int = 40,
    models: tuple[str, ...] = ("a", "b"),
    first: int = 2000,
    last: int = DATA_END,
    oracle: bool = True,
) -> pd.DataFrame:
    """Origins first..last, forecast year = origin; outcomes of the last two years only partly known.

    True risk ``q`` per unit-year; model ``a`` sees it with a little noise, ``b`` with a lot;
    ``oracle`` is ``q``. Windows cut by the data end (``year + 2 > last``) know an onset only
    half of the time and never a non-onset (NaN), as in a real backtest.
    """
    rng = np.random.default_rng(seed)
    years = np.arange(first, last + 1)
    logit = rng.normal(-4.0, 1.2, size=(n_units, 1)) + rng.normal(0, 0.5, (n_units, years.size))
    q = 1 / (1 + np.exp(-logit))
    y = (rng.random(q.shape) < q).astype(float)
    cut = years + HORIZON > last
    y[:, cut] = np.where((y[:, cut] == 1) & (rng.random(y[:, cut].shape) < 0.5), 1.0, np.nan)
    noise = {"a": 0.3, "b": 1.5}
    rows = []
    for model in (*models, *(("oracle",) if oracle else ())):
        if model == "oracle":
            p = q
        else:
            p = 1 / (1 + np.exp(-(logit + rng.normal(0, noise.get(model, 1.0), q.shape))))
        rows.append(
            pd.DataFrame(
                {
                    "unit": np.repeat([f"U{u:02d}" for u in range(n_units)], years.size),
                    "year": np.tile(years, n_units),
                    "origin": np.tile(years, n_units),
                    "model": model,
                    "probability": p.ravel(),
                    "outcome": y.ravel(),
                    "horizon": HORIZON,
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def _closed(forecasts: pd.DataFrame) -> pd.DataFrame:
    """The table with partly observed windows set to unknown (what must be scored)."""
    out = forecasts.copy()
    out.loc[out["year"] + HORIZON > DATA_END, "outcome"] = np.nan
    return out


SPEC = CostSpec(effectiveness=0.5, capacity=5, cost_ratios=(0.2, 0.05, 0.01))


@pytest.fixture(scope="module")
def forecasts() -> pd.DataFrame:
    return make_forecasts()


@pytest.fixture(scope="module")
def analysis(forecasts):
    return cost_analysis(forecasts, SPEC, horizon=HORIZON)


def _min_cost_threshold(y, p, w, costloss, eligible):
    """Scalar oracle: threshold minimising ``sum w * E(d, y)`` over ``d = eligible & (p >= t)``."""
    # Acting on row i changes its expense by w_i * (C - y_i * e * L).
    delta = w[eligible] * (costloss.cost - y[eligible] * costloss.effectiveness * costloss.loss)
    p_el = p[eligible]
    levels, inverse = np.unique(-p_el, return_inverse=True)  # levels: -p, ascending
    per_level = np.bincount(inverse, weights=delta, minlength=levels.size)
    change = np.r_[0.0, np.cumsum(per_level)]  # change[j]: act on the j highest levels
    tol = 1e-9 * max(float(np.abs(delta).sum()), 1e-300)
    j = int(np.flatnonzero(change <= change.min() + tol)[0])  # ties: fewest warnings
    probs = -levels  # distinct probabilities, descending
    # Thresholds in (below, lowest_acted] all give the chosen decisions.
    lowest_acted = float(probs[j - 1]) if j > 0 else np.inf
    below = float(probs[j]) if j < probs.size else -np.inf
    r = costloss.cost_ratio
    if below < r <= lowest_acted:
        return r
    if j == 0:
        return (below + 1.0) / 2.0 if below < 1.0 else float(np.nextafter(1.0, 2.0))
    if j == probs.size:
        return lowest_acted / 2.0
    return (lowest_acted + below) / 2.0


def test_vectorised_thresholds_equal_the_scalar_rule(rng):
    ratios = np.array([0.005, 0.02, 0.1, 0.25, 0.3, 0.5, 0.9])
    for _ in range(100):
        n = int(rng.integers(1, 40))
        p = np.round(rng.random(n), int(rng.integers(1, 3)))  # many ties
        y = (rng.random(n) < p).astype(float)
        eligible = rng.random(n) < 0.8
        eligible[0] = True
        got = min_cost_thresholds(y, p, np.ones(n), ratios, eligible)
        want = [
            _min_cost_threshold(y, p, np.ones(n), CostLoss.from_ratio(r), eligible) for r in ratios
        ]
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


def test_data_end_inferred_and_late_rows_left_out(forecasts, analysis):
    assert analysis.data_end == DATA_END
    scored_years = DATA_END - HORIZON - 2000 + 1
    assert (analysis.results["years"] == scored_years).all()
    # partly known windows: changing them changes nothing
    late = forecasts["year"] + HORIZON > DATA_END
    changed = forecasts.copy()
    changed.loc[late, "outcome"] = 1.0
    changed.loc[late, "probability"] = 0.99
    again = cost_analysis(changed, SPEC, horizon=HORIZON, data_end=DATA_END)
    pd.testing.assert_frame_equal(again.results, analysis.results)
    pd.testing.assert_frame_equal(again.thresholds, analysis.thresholds)


def test_scored_rows_are_the_observed_windows(forecasts, analysis):
    """One rule (forecast.outcomes) decides which forecasts are scored."""
    from forecast.outcomes import observed_windows, scorable_end, window_observed

    assert scorable_end(forecasts) == analysis.data_end == DATA_END
    rows = observed_windows(forecasts)  # data end inferred, horizon from the column
    mask = window_observed(forecasts, horizon=HORIZON, data_end=DATA_END)
    assert len(rows) == mask.sum() and (rows["year"] + HORIZON <= DATA_END).all()
    scored = rows.dropna(subset=["outcome"]).groupby("model").size()
    n_scored = analysis.results.groupby("model")["n_scored"].agg(["min", "max"])
    assert (n_scored["min"] == n_scored["max"]).all()
    assert n_scored["min"].to_dict() == scored.to_dict()
    with pytest.raises(ForecastInputError, match="no forecast has a fully observed outcome"):
        scorable_end(forecasts.assign(outcome=np.nan))


@pytest.mark.parametrize("ratio", [0.2, 0.05, 0.01])
def test_honest_thresholds_equal_rolling_thresholds(forecasts, analysis, ratio):
    reference = rolling_thresholds(
        _closed(forecasts), CostLoss.from_ratio(ratio, 0.5, 5), horizon=HORIZON
    )
    mine = analysis.thresholds[np.isclose(analysis.thresholds["cost_ratio"], ratio)]
    cols = ["model", "origin", "threshold_source", "n_history", "n_history_events"]
    pd.testing.assert_frame_equal(
        mine[cols].reset_index(drop=True), reference[cols], check_dtype=False
    )
    np.testing.assert_allclose(mine["threshold"], reference["threshold"], rtol=1e-12)


def _top_k_by_loop(part: pd.DataFrame, k: int) -> np.ndarray:
    """The k highest probabilities of each (origin, year), ties by row order: a plain loop."""
    warned = np.zeros(len(part), dtype=bool)
    probability = part["probability"].to_numpy()
    for rows in part.groupby(["origin", "year"]).indices.values():
        order = sorted(rows, key=lambda i: (-probability[i], i))
        warned[order[:k]] = True
    return warned


def _policy_by_hand(
    part: pd.DataFrame, threshold: np.ndarray, eligible: np.ndarray, costloss: CostLoss
) -> dict:
    """Counts, cost and values of warning at ``threshold`` (per row) on ``eligible`` rows."""
    c, e = costloss.cost, costloss.effectiveness
    d = (part["probability"].to_numpy() >= threshold) & eligible
    scored = part["outcome"].notna().to_numpy()
    d, y, p = d[scored], part["outcome"].to_numpy()[scored], part["probability"].to_numpy()[scored]
    years = part[scored].groupby(["origin", "year"]).ngroups
    hits, fas, n = float(np.sum(d * y)), float(np.sum(d * (1 - y))), y.size
    cost = float(np.sum(d * c + y * (1 - e * d)))  # L = 1
    s = y.mean()
    e_forecast, e_nothing, e_perfect = cost / n, s, s * (c + 1 - e)
    e_climate = min(c + s * (1 - e), s)
    return {
        "warnings_per_year": (hits + fas) / years,
        "hits_per_year": hits / years,
        "expected_hits_per_year": float(np.sum(d * p)) / years,
        "false_alarms_per_hit": fas / hits if hits else np.nan,
        "cost_per_year": cost / years,
        "cost_nothing_per_year": y.sum() / years,
        "relative_value": (e_climate - e_forecast) / (e_climate - e_perfect),
        "value_vs_nothing": (e_nothing - e_forecast) / (e_nothing - e_perfect),
    }


def test_policies_equal_an_oracle_loop(forecasts, analysis):
    """Honest (thresholds per origin), in-sample and Bayes policies recomputed by hand."""
    ratios = [0.2, 0.05, 0.01]
    closed = _closed(forecasts)
    records = []
    for r in ratios:
        costloss = CostLoss.from_ratio(r, 0.5, 5)
        honest = rolling_thresholds(closed, costloss, horizon=HORIZON)
        for model, part in closed.groupby("model"):
            part = part.reset_index(drop=True)
            mine = honest[honest["model"] == model].set_index("origin")["threshold"]
            known = part[part["outcome"].notna()]
            eligible = _top_k_by_loop(part, costloss.capacity)
            in_sample = best_threshold_in_sample(  # year = origin here: groups = rounds
                known["outcome"], known["probability"], costloss, known["year"]
            )
            scored_origins = np.unique(known["origin"])
            policies = {
                "honest": (
                    mine.loc[part["origin"]].to_numpy(),
                    float(np.median(mine.loc[scored_origins])),
                    float(mine.iloc[-1]),
                ),
                "in_sample": (np.full(len(part), in_sample), in_sample, in_sample),
                "bayes": (np.full(len(part), r), r, r),
            }
            for policy, (per_row, median, latest) in policies.items():
                records.append(
                    {
                        "model": model,
                        "policy": policy,
                        "label": f"1to{1 / r:.6g}",
                        "threshold": median,
                        "threshold_latest": latest,
                        **_policy_by_hand(part, per_row, eligible, costloss),
                    }
                )
    reference = pd.DataFrame(records)
    mine = decision_table(analysis, ratios)
    merged = reference.merge(mine, on=["model", "policy", "label"], suffixes=("_ref", ""))
    assert len(merged) == len(reference) == 3 * 3 * 3
    pairs = {"threshold_latest": "threshold", "threshold_ref": "threshold_median"}
    for metric in (
        "warnings_per_year",
        "hits_per_year",
        "expected_hits_per_year",
        "false_alarms_per_hit",
        "cost_per_year",
        "cost_nothing_per_year",
        "relative_value",
        "value_vs_nothing",
    ):
        pairs[f"{metric}_ref"] = metric
    for ref, col in pairs.items():
        np.testing.assert_allclose(merged[col], merged[ref], rtol=1e-10, err_msg=col)


def test_rules_recomputed_by_hand(forecasts, analysis):
    """Top-5 (capacity), top-30 (EWP) and p >= 4% rules, counted with a plain loop over years."""
    scored = _closed(forecasts).dropna(subset=["outcome"])
    for model, rows in scored.groupby("model"):
        for rule, k in (("top5", 5), ("top30", 30), ("ewp4pct", None)):
            hits = fas = 0.0
            for _, year in rows.groupby("year"):
                year = year.reset_index(drop=True)
                everyone = forecasts[
                    (forecasts["model"] == model) & (forecasts["year"] == year["year"].iloc[0])
                ]
                if k is None:
                    warned = year[year["probability"] >= 0.04]
                else:  # ranks among all forecasts of the year (outcomes unknown when warning)
                    top = everyone.sort_values("probability", ascending=False, kind="stable")
                    warned = year[year["unit"].isin(top["unit"].iloc[:k])]
                hits += warned["outcome"].sum()
                fas += (1 - warned["outcome"]).sum()
            n_years = rows["year"].nunique()
            onsets = rows["outcome"].sum()
            got = analysis.results[
                (analysis.results["model"] == model) & (analysis.results["policy"] == rule)
            ]
            assert got["hits_per_year"].iloc[0] == pytest.approx(hits / n_years)
            assert got["false_alarms_per_year"].iloc[0] == pytest.approx(fas / n_years)
            assert got["misses_per_year"].iloc[0] == pytest.approx((onsets - hits) / n_years)
            for r, cost in zip(got["cost_ratio"], got["cost_per_year"]):
                c = 0.5 * r  # C = r e L with L = 1
                expected = ((hits + fas) * c + (onsets - hits) + hits * 0.5) / n_years
                assert cost == pytest.approx(expected)


def test_oracle_share_is_one_for_the_oracle(analysis):
    oracle = analysis.results[analysis.results["model"] == "oracle"]
    positive = oracle["value_vs_nothing"] > 0
    assert positive.sum() > 20
    np.testing.assert_allclose(oracle.loc[positive, "oracle_value_share"], 1.0)
    assert oracle.loc[~positive, "oracle_value_share"].isna().all()
    metrics = analysis.metrics_by_model()
    assert metrics["oracle"]["oracle_value_share_1to20"] == pytest.approx(1.0)
    a = analysis.results.set_index(["model", "policy", "label"])
    assert metrics["a"]["oracle_value_share_1to20"] == pytest.approx(
        a.loc[("a", "honest", "1to20"), "value_vs_nothing"]
        / a.loc[("oracle", "honest", "1to20"), "value_vs_nothing"]
    )


def test_metric_names_sortable_and_stable(analysis):
    metrics = analysis.metrics_by_model()
    assert sorted(metrics) == ["a", "b", "oracle"]
    names = list(metrics["a"])
    assert names == sorted(names)
    assert all(re.fullmatch(r"[a-z0-9_.]+", n) for n in names)
    for name in (
        "relative_value_1to10",
        "relative_value_1to20",
        "relative_value_1to50",
        "cost_per_year_1to20",
        "threshold_1to20",
        "warnings_per_year_1to20",
        "false_alarms_per_hit_1to20",
        "oracle_value_share_1to20",
        "top30_hits_per_year",
        "top5_misses_per_year",
        "ewp4pct_value_vs_nothing_1to100",
        "relative_value_1to5_in_sample",
        "cost_per_year_1to50_bayes",
    ):
        assert name in names, name
    assert all(set(m) == set(names) for m in metrics.values())
    # stable: another world, same spec -> same names; without an oracle no oracle shares
    other = cost_analysis(make_forecasts(seed=3, oracle=False), SPEC, horizon=HORIZON)
    other_names = set(other.metrics_by_model()["a"])
    assert other_names == {n for n in names if not n.startswith("oracle_value_share")}
    row = analysis.results.set_index(["model", "policy", "label"]).loc[("b", "honest", "1to20")]
    assert metrics["b"]["cost_per_year_1to20"] == pytest.approx(row["cost_per_year"])
    assert metrics["b"]["threshold_1to20"] == pytest.approx(row["threshold"])


def test_curves_cover_the_grid(analysis):
    curves = analysis.curves_by_model()["a"]
    by_name: dict[str, list[int]] = {}
    for name, step, value in curves:
        by_name.setdefault(name, []).append(step)
        assert np.isfinite(value)
    steps = by_name["value_curve/relative_value"]
    assert len(steps) == len(set(steps)) >= 20
    assert min(steps) == 2 and max(steps) == 200 and {10, 20, 50, 100} <= set(steps)
    assert "decision_curve/net_benefit" in by_name
    table = analysis.results.set_index(["model", "policy", "label"])
    value = {s: v for n, s, v in curves if n == "value_curve/value_vs_nothing_in_sample"}
    assert value[20] == pytest.approx(table.loc[("a", "in_sample", "1to20"), "value_vs_nothing"])


def test_figures_and_table(analysis, tmp_path):
    paths = analysis.figures(tmp_path / "figs")
    assert [p.name for p in paths] == ["value_curves.png", "decision_curves.png"]
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in paths)
    table = analysis.table()
    assert table["cost_ratio"].min() == pytest.approx(1 / 200)
    assert table["cost_ratio"].max() == pytest.approx(1 / 2)
    assert set(table["policy"]) == {"honest", "in_sample", "bayes", "top5", "top30", "ewp4pct"}
    path = tmp_path / "costs.csv"
    table.to_csv(path, index=False)
    assert pd.read_csv(path).shape == table.shape


def test_fast_enough_for_a_synthetic_backtest():
    big = make_forecasts(
        seed=1, n_units=170, models=("m1", "m2", "m3", "m4", "m5", "m6"), first=1995, last=2024
    )
    assert big["model"].nunique() == 7 and big.groupby("model").size().min() == 5100
    start = time.perf_counter()
    cost_analysis(
        big,
        CostSpec(0.5, 30, (0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005)),
        horizon=HORIZON,
        data_end=2024,
    )
    assert time.perf_counter() - start < 5.0


@pytest.mark.parametrize(
    ("costs", "kwargs", "match"),
    [
        (CostSpec(effectiveness=0.0), {}, r"effectiveness must be in \(0, 1\], got 0\.0"),
        (CostSpec(effectiveness=1.5), {}, r"effectiveness must be in \(0, 1\], got 1\.5"),
        (CostSpec(capacity=0), {}, "capacity must be an integer >= 1 or None, got 0"),
        (CostSpec(cost_ratios=(-0.1,)), {}, r"cost ratio C / \(e L\) must be in \(0, 1\)"),
        (CostSpec(cost_ratios=(1.0,)), {}, r"at >= 1 acting never pays"),
        (CostSpec(), {"data_end": "2015"}, "data_end must be a year"),
        (CostSpec(), {"n_grid": 1}, "n_grid must be an integer >= 2, got 1"),
        (CostSpec(), {"min_events": -1}, "min_events must be an integer >= 0, got -1"),
        (CostSpec(), {"horizon": None, "drop": "horizon"}, "has no 'horizon' column"),
    ],
)
def test_bad_input(forecasts, costs, kwargs, match):
    table = forecasts.drop(columns=kwargs.pop("drop")) if "drop" in kwargs else forecasts
    kwargs.setdefault("horizon", HORIZON)
    with pytest.raises(ForecastInputError, match=match):
        cost_analysis(table, costs, **kwargs)


def test_no_closed_window(forecasts):
    with pytest.raises(ForecastInputError, match="no forecast has a fully observed outcome"):
        cost_analysis(forecasts.assign(outcome=np.nan), SPEC, horizon=HORIZON)
    with pytest.raises(ForecastInputError, match=r"no forecast has a known outcome with year"):
        cost_analysis(forecasts, SPEC, horizon=HORIZON, data_end=1990)


@st.composite
def forecast_tables(draw):
    n_units = draw(st.integers(1, 4))
    n_origins = draw(st.integers(2, 6))
    horizon = draw(st.integers(0, 2))
    grid = st.sampled_from([0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.8, 1.0])
    rows = []
    for model in draw(st.sampled_from([["a"], ["a", "b"]])):
        for origin in range(2000, 2000 + n_origins):
            lag = draw(st.integers(0, 1))
            rows += [
                {
                    "unit": unit,
                    "year": origin - lag,
                    "origin": origin,
                    "model": model,
                    "probability": draw(grid),
                    "outcome": draw(st.sampled_from([0.0, 1.0, np.nan])),
                }
                for unit in range(n_units)
            ]
    target = draw(st.integers(2000, 2000 + n_origins - 1))
    capacity = draw(st.sampled_from([None, 1, 2]))
    return pd.DataFrame(rows), horizon, target, capacity, draw(st.integers(0, 2**32 - 1))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(forecast_tables())
def test_thresholds_for_origin_never_use_outcomes_unknown_at_origin(case):
    """Scramble every row not known at T (later origins, open windows): T's thresholds stay."""
    table, horizon, target, capacity, seed = case
    future = ~((table["origin"] < target) & (table["year"] + horizon <= target))
    rng = np.random.default_rng(seed)
    changed = table.copy()
    changed.loc[future, "probability"] = rng.random(int(future.sum()))
    changed.loc[future, "outcome"] = rng.choice([0.0, 1.0, np.nan], int(future.sum()))
    costs = CostSpec(effectiveness=0.7, capacity=capacity, cost_ratios=(0.3,))
    pick = ["model", "origin", "cost_ratio", "threshold", "threshold_source", "n_history"]
    results = []
    # a separate model with one known outcome, so that something can always be scored
    other = pd.DataFrame(
        [
            {
                "unit": 0,
                "year": 2000,
                "origin": 2000,
                "model": "z",
                "probability": 0.5,
                "outcome": 0.0,
            }
        ]
    )
    for frame in (table, changed):
        frame = pd.concat([frame, other], ignore_index=True)
        got = cost_analysis(
            frame, costs, horizon=horizon, data_end=2010, min_events=0, n_grid=6
        ).thresholds
        results.append(got.loc[got["origin"] == target, pick].reset_index(drop=True))
    pd.testing.assert_frame_equal(*results)
    known = ~future & table["outcome"].notna()
    for model, n in results[0].groupby("model")["n_history"].first().items():
        assert n == int((known & (table["model"] == model)).sum()) or model == "z"
