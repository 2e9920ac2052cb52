"""Decision analysis on the real EWP panel with a simple honest frequency model."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from forecast.decision import (
    EWP_THRESHOLD,
    EWP_TOP30,
    POLICIES,
    CostLoss,
    CostThresholdSelector,
    capacity_policy,
    cost_analysis,
    decision_table,
    expected_cost,
    rolling_thresholds,
)
from forecast.experiment import CostSpec

pytestmark = pytest.mark.realdata

HORIZON = 2  # mk_onset_1or2: onset in t+1 or t+2, known at the end of t+2
DATA_DIR = Path(
    os.environ.get(
        "FORECAST_DATA_DIR", Path(__file__).resolve().parents[2].parent / "shared" / "data"
    )
)


@pytest.fixture(scope="module")
def forecast_table() -> pd.DataFrame:
    """Origins 1991-2024; P(onset | cell) from resolved country-years only (add-one smoothed).

    Cells: ongoing mass killing (yes/no) x battle deaths (yes/no). Outcomes of
    the last two years are censored (NaN), never "no onset".
    """
    path = DATA_DIR / "ewp-2025" / "prepared2024predictors-2025-09-03.csv"
    cols = ["ewp_name", "year", "mk_onset_1or2", "mk_ongoing_count_log2", "battledeaths.log2"]
    panel = pd.read_csv(path, usecols=cols)
    last = int(panel["year"].max())
    panel["y"] = panel["mk_onset_1or2"].where(panel["year"] + HORIZON <= last)
    panel["cell"] = (panel["mk_ongoing_count_log2"].fillna(0) > 0) * 2 + (
        panel["battledeaths.log2"].fillna(0) > 0
    )
    parts = []
    for origin in range(1991, last + 1):
        train = panel[(panel["year"] + HORIZON <= origin) & panel["y"].notna()]
        stats = train.groupby("cell")["y"].agg(["sum", "count"])
        prior = train["y"].mean()
        rate = (stats["sum"] + prior) / (stats["count"] + 1.0)
        test = panel[panel["year"] == origin]
        parts.append(
            pd.DataFrame(
                {
                    "unit": test["ewp_name"].to_numpy(),
                    "year": origin,
                    "origin": origin,
                    "model": "cells",
                    "probability": test["cell"].map(rate).fillna(prior).to_numpy(),
                    "outcome": test["y"].to_numpy(),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def test_rolling_thresholds_on_real_panel(forecast_table):
    out = rolling_thresholds(forecast_table, 0.05, horizon=HORIZON)
    assert out["origin"].min() == 1991 and out["origin"].max() == 2024
    for row in out.itertuples():
        known = (
            (forecast_table["origin"] < row.origin)
            & (forecast_table["year"] + HORIZON <= row.origin)
            & forecast_table["outcome"].notna()
        )
        assert row.n_history == int(known.sum())
    # the two latest origins are censored: thresholds but no score
    assert out["n_scored"].tail(2).tolist() == [0, 0]
    assert out["cost"].tail(2).isna().all()
    # the threshold for live use (2024) equals a selector fitted on everything resolved by 2024
    hist = forecast_table[forecast_table["year"] + HORIZON <= 2024].dropna(subset=["outcome"])
    hist = hist[hist["origin"] < 2024]
    sel = CostThresholdSelector(0.05).fit(hist["outcome"], hist["probability"])
    assert out["threshold"].iloc[-1] == sel.threshold_


def test_decision_table_on_real_panel(forecast_table):
    analysis = cost_analysis(forecast_table, CostSpec(1.0, None), horizon=HORIZON)
    table = decision_table(analysis)
    table = table[table["policy"].isin(POLICIES)]
    assert len(table) == 9 and set(table["label"]) == {"1to10", "1to20", "1to50"}
    assert (table["years"] == 32).all()  # origins 1991-2022 resolved
    assert table["n_scored"].nunique() == 1 and table["onsets_per_year"].nunique() == 1
    for _, group in table.groupby("label"):
        by = group.set_index("policy")
        # the in-sample optimum is never worse than the fixed Bayes threshold on the same rows
        assert by.loc["in_sample", "cost_per_year"] <= by.loc["bayes", "cost_per_year"] + 1e-12
        assert (by["relative_value"] <= 1.0).all()
    known = forecast_table.dropna(subset=["outcome"])
    bayes = table[(table["label"] == "1to20") & (table["policy"] == "bayes")]
    oracle = expected_cost(
        known["outcome"], known["probability"], 0.05, CostLoss.from_ratio(0.05), known["year"]
    )
    assert bayes["cost_per_year"].item() == pytest.approx(oracle)


def test_ewp_rules_on_real_panel(forecast_table):
    known = forecast_table.dropna(subset=["outcome"])
    top30 = EWP_TOP30.warn(known["probability"], known["year"])
    assert known.groupby("year").size().min() >= 30
    assert top30.sum() == 30 * known["year"].nunique()
    per_year = capacity_policy(
        known["outcome"], known["probability"], known["year"], 30, CostLoss.from_ratio(0.05)
    )
    assert per_year["hits"].sum() == int((top30 & (known["outcome"] == 1)).sum())
    assert (per_year["hits"] + per_year["misses"] == per_year["onsets"]).all()
    assert EWP_THRESHOLD.warn(known["probability"]).sum() == int(
        (known["probability"] >= 0.04).sum()
    )
