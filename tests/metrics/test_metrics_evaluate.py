"""Scoring tidy forecast tables: unknown outcomes, grouping, onset ranks, oracle gap."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import brier_score_loss, roc_auc_score

from forecast._errors import ForecastInputError
from forecast.metrics import evaluate, evaluate_forecasts, get_metric, onset_ranks, oracle_gap


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(3)


@pytest.fixture
def table(rng) -> pd.DataFrame:
    rows = []
    for year in range(2010, 2016):
        for u in range(30):
            truth = 1 / (1 + np.exp(-(-2.5 + 0.1 * u - 1.5)))
            y = float(rng.random() < truth)
            if year == 2015:
                y = np.nan  # outcome window not yet observed
            for model, noise in (("a", 0.2), ("b", 1.5)):
                p = 1 / (1 + np.exp(-(np.log(truth / (1 - truth)) + rng.normal(0, noise))))
                rows.append((f"u{u}", year, model, p, y, truth))
    t = pd.DataFrame(rows, columns=["unit", "year", "model", "probability", "outcome", "truth"])
    t.loc[(t["year"] == 2010) & (t["unit"] == "u0"), "outcome"] = 1.0  # ensure an event
    return t


def test_evaluate_drops_unknown_and_counts(rng):
    y = np.array([0, 1, np.nan, 0, 1, np.nan])
    p = np.array([0.1, 0.7, 0.9, 0.3, 0.4, 0.2])
    out = evaluate(y, p, metrics=["roc_auc", "brier"])
    assert out["n"] == 4 and out["n_unknown"] == 2 and out["n_events"] == 2
    known = ~np.isnan(y)
    assert out["brier"] == pytest.approx(brier_score_loss(y[known], p[known]))
    assert out["roc_auc"] == pytest.approx(roc_auc_score(y[known], p[known]))


def test_evaluate_checks_lengths_before_dropping():
    with pytest.raises(ForecastInputError, match=r"'y_score' has \(2,\)"):
        evaluate([0, 1, np.nan], [0.1, 0.2])


def test_evaluate_forecasts_pooled_and_by_year(table):
    metrics = ["roc_auc", "brier", get_metric("recall_at_k", k=5)]
    out = evaluate_forecasts(table, metrics=metrics, by="year")
    assert set(out.columns) >= {
        "model",
        "year",
        "pooled",
        "n",
        "n_events",
        "n_unknown",
        "metric",
        "value",
        "direction",
        "note",
    }
    pooled = out[out["pooled"]].set_index(["model", "metric"])
    for model in ("a", "b"):
        part = table[(table["model"] == model) & table["outcome"].notna()]
        assert pooled.loc[(model, "roc_auc"), "value"] == pytest.approx(
            roc_auc_score(part["outcome"], part["probability"]), abs=1e-12
        )
        assert pooled.loc[(model, "brier"), "n_unknown"] == 30
        assert pooled.loc[(model, "brier"), "n"] == len(part)
    by_year = out[~out["pooled"] & (out["metric"] == "brier")]
    assert sorted(by_year["year"].unique()) == list(range(2010, 2016))
    y2015 = by_year[by_year["year"] == 2015]
    assert (y2015["n"] == 0).all() and y2015["value"].isna().all()
    assert y2015["note"].str.contains("no rows with a known outcome").all()
    # top-k uses k warnings per year: pooled recall equals the hand count
    part = table[(table["model"] == "a") & table["outcome"].notna()].copy()
    part["rank"] = part.groupby("year")["probability"].rank(ascending=False, method="first")
    expected = part.loc[part["outcome"] == 1, "rank"].le(5).mean()
    assert pooled.loc[("a", "recall_at_k[k=5]"), "value"] == pytest.approx(expected)


def test_evaluate_forecasts_year_without_onsets_gets_note(table):
    t = table.copy()
    t.loc[t["year"] == 2012, "outcome"] = 0.0
    out = evaluate_forecasts(t, metrics=["roc_auc"], by="year")
    row = out[(out["year"] == 2012) & (out["model"] == "a")].iloc[0]
    assert np.isnan(row["value"]) and "single class" in row["note"]


def test_evaluate_forecasts_bad_tables(table):
    with pytest.raises(ForecastInputError, match=r"lacks column\(s\) \['outcome'\]"):
        evaluate_forecasts(table.drop(columns="outcome"), metrics=["brier"])
    bad = table.copy()
    bad.loc[3, "probability"] = 1.5
    with pytest.raises(ForecastInputError, match=r"column 'probability'.*\[0, 1\].*rows \[3\]"):
        evaluate_forecasts(bad, metrics=["brier"])
    dup = pd.concat([table, table.iloc[[0]]])
    with pytest.raises(ForecastInputError, match=r"\(model, unit, year\) must be unique"):
        evaluate_forecasts(dup, metrics=["brier"])
    with pytest.raises(ForecastInputError, match="unknown metric 'auc'"):
        evaluate_forecasts(table, metrics=["auc"])
    with pytest.raises(ForecastInputError, match="must be a pandas DataFrame"):
        evaluate_forecasts(table.to_numpy(), metrics=["brier"])


def test_onset_ranks_wide_table(table):
    out = onset_ranks(table)
    assert list(out.columns) == [
        "unit",
        "year",
        "rank_a",
        "probability_a",
        "rank_b",
        "probability_b",
    ]
    events = table[(table["outcome"] == 1) & (table["model"] == "a")]
    assert len(out) == len(events)
    r = out.iloc[0]
    same_year = table[(table["model"] == "b") & (table["year"] == r["year"])]
    mine = same_year.loc[same_year["unit"] == r["unit"], "probability"].item()
    assert r["probability_b"] == mine
    assert r["rank_b"] == 1 + (same_year["probability"] > mine).sum()


def test_oracle_gap(table):
    out = oracle_gap(table, "truth", metrics=["brier", "roc_auc"])
    row = out[(out["model"] == "b") & (out["metric"] == "brier")].iloc[0]
    part = table[(table["model"] == "b") & table["outcome"].notna()]
    assert row["oracle"] == pytest.approx(brier_score_loss(part["outcome"], part["truth"]))
    assert row["gap"] == pytest.approx(row["value"] - row["oracle"])
    assert row["gap"] > 0  # the noisy model is worse than the truth
    with pytest.raises(ForecastInputError, match="lacks the oracle column 'p_true'"):
        oracle_gap(table, "p_true")
