"""Tiers: the decision rule, and tier meanings from known backtest outcomes only."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecast._errors import ForecastInputError
from forecast.backtest import run_backtest
from forecast.data import load_dataset
from forecast.experiment import experiment_from_dict
from forecast.risk import TierRule, backtest_tier_meanings, tier_meanings, tier_rule_from_config


def test_rule_assigns_top_k_then_threshold():
    rule = TierRule((2, 4), 0.04)
    assert rule.labels == ["highest (top 2)", "high (top 4)", "elevated (>= 4%)", "lower"]
    tiers = rule.assign(np.arange(1, 8), np.array([0.5, 0.4, 0.3, 0.2, 0.05, 0.04, 0.039]))
    assert tiers.tolist() == ["highest (top 2)"] * 2 + ["high (top 4)"] * 2 + [
        "elevated (>= 4%)"
    ] * 2 + ["lower"]
    assert TierRule((3,), None).assign(np.array([1, 4]), np.array([0.9, 0.8])).tolist() == [
        "highest (top 3)",
        "lower",
    ]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"top": (30, 10)}, "increasing list lengths"),
        ({"top": ()}, "increasing list lengths"),
        ({"top": (0, 5)}, "increasing list lengths"),
        ({"threshold": 4.0}, r"'threshold' must be in \(0, 1\)"),
    ],
)
def test_rule_rejects_bad_parameters(kwargs, match):
    with pytest.raises(ForecastInputError, match=match):
        TierRule(**kwargs)


def test_default_rule_from_the_spec():
    config = experiment_from_dict(
        {
            "name": "x",
            "models": ["elastic_net"],
            "evaluation": {"top_k": [10, 20, 30]},
            "costs": {"capacity": 25},
        }
    )
    assert tier_rule_from_config(config) == TierRule((10, 25), 0.04)


def _toy() -> pd.DataFrame:
    # two origins x 4 units; tiers by rank: top 1, top 2, >= 4%, lower
    return pd.DataFrame(
        {
            "unit": list("abcd") * 2,
            "origin": [2000] * 4 + [2001] * 4,
            "probability": [0.30, 0.20, 0.05, 0.01, 0.10, 0.40, 0.02, 0.06],
            "outcome": [1, 0, 1, 0, 1, np.nan, 0, 0],
        }
    )


def test_meanings_count_only_known_outcomes():
    rule = TierRule((1, 2), 0.04)
    table = tier_meanings(_toy(), rule, horizon=2).set_index("tier")
    # origin 2000: a top1 (1), b top2 (0), c elevated (1), d lower (0)
    # origin 2001: b top1 (unknown -> dropped), a top2 (1), d elevated (0), c lower (0)
    assert table.loc["highest (top 1)", ["n", "onsets"]].tolist() == [1, 1]
    assert table.loc["high (top 2)", ["n", "onsets"]].tolist() == [2, 1]
    assert table.loc["elevated (>= 4%)", ["n", "onsets"]].tolist() == [2, 1]
    assert table.loc["lower", ["n", "onsets"]].tolist() == [2, 0]
    assert (
        "about 1 in 2 had an onset within two years (1 of n = 2"
        in table.loc["high (top 2)", "meaning"]
    )
    assert table.loc["lower", "meaning"].startswith("None of the 2 country-years")


def test_meanings_use_only_outcomes_known_by_the_list_year():
    rule = TierRule((1, 2), 0.04)
    table = tier_meanings(_toy(), rule, horizon=2, known_by=2002).set_index("tier")
    assert table["n"].sum() == 4  # origin 2001's window closes in 2003, after 2002
    assert table["last_origin"].dropna().max() == 2000


def test_meanings_require_a_forecast_table():
    with pytest.raises(ForecastInputError, match=r"lack column\(s\) \['outcome'\]"):
        tier_meanings(_toy().drop(columns="outcome"), TierRule(), horizon=2)


def test_backtest_meanings_match_a_hand_count(tmp_path):
    panel = load_dataset("synthetic-world")
    config = experiment_from_dict(
        {
            "name": "x",
            "seed": 1,
            "origins": {"first": 2016, "last": 2024},
            "models": [{"name": "xgboost", "params": {"n_estimators": 30}}],
        }
    )
    rule = TierRule((10, 30), 0.04)
    table = backtest_tier_meanings(
        config, model_label="xgboost", panel=panel, year=2021, rule=rule, cache_dir=tmp_path
    )
    assert any(tmp_path.glob("*.npz"))  # fits cached for the full backtest
    # oracle: the full backtest, ranked and counted by hand for origins <= 2021 - 2
    full = run_backtest(config, panel=panel, cache_dir=tmp_path).forecasts
    full = full[(full["model"] == "xgboost") & (full["origin"] <= 2019)]
    assert full["outcome"].notna().all()
    counts = {label: [0, 0] for label in rule.labels}
    for _, block in full.groupby("origin"):
        order = sorted(
            zip(block["probability"], block["unit"], block["outcome"]), key=lambda r: (-r[0], r[1])
        )
        for rank, (p, _, y) in enumerate(order, start=1):
            label = (
                rule.labels[0]
                if rank <= 10
                else rule.labels[1]
                if rank <= 30
                else rule.labels[2]
                if p >= 0.04
                else rule.labels[3]
            )
            counts[label][0] += 1
            counts[label][1] += int(y)
    got = table.set_index("tier")[["n", "onsets"]]
    assert {k: list(map(int, v)) for k, v in got.iterrows()} == counts
    assert table["last_origin"].max() == 2019 and table["n"].sum() == 4 * 160
