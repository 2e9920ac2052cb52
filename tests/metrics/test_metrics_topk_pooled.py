"""Top-k per year and EWP pooling, checked against hand-written loops."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from forecast._errors import ForecastInputError
from forecast.metrics import (
    ewp_pooled_rows,
    ewp_pooled_scores,
    precision_at_k,
    recall_at_k,
    top_k_mask,
)

DATA_DIR = Path(
    os.environ.get(
        "FORECAST_DATA_DIR", Path(__file__).resolve().parents[2].parent / "shared" / "data"
    )
)
PANEL = DATA_DIR / "ewp-2025" / "prepared2024predictors-2025-09-03.csv"


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(11)


def _hand_topk(y, p, groups, k):
    hits = warned = 0
    for g in dict.fromkeys(groups):  # first-seen order
        rows = [i for i in range(len(p)) if groups[i] == g]
        # stable sort: score descending, earlier row first on ties
        rows.sort(key=lambda i: -p[i])
        top = rows[:k]
        warned += len(top)
        hits += sum(y[i] for i in top)
    return hits / warned, hits / sum(y)


@pytest.mark.parametrize("k", [1, 3, 10])
def test_topk_per_year_matches_hand_loop(rng, k):
    years = rng.permutation(np.repeat([1995, 1996, 1997, 1998], 15))
    p = np.round(rng.random(years.size), 1)  # ties on purpose
    y = (rng.random(years.size) < p).astype(int)
    prec, rec = _hand_topk(y, p, years, k)
    assert precision_at_k(y, p, groups=years, k=k) == pytest.approx(prec, abs=1e-12)
    assert recall_at_k(y, p, groups=years, k=k) == pytest.approx(rec, abs=1e-12)


def test_topk_ties_break_by_row_order():
    y = np.array([0, 1, 0, 0])
    p = np.array([0.5, 0.5, 0.5, 0.1])
    assert recall_at_k(y, p, groups=[1, 1, 1, 1], k=1) == 0.0  # row 0 wins the tie
    assert recall_at_k(y, p, groups=[1, 1, 1, 1], k=2) == 1.0


def test_topk_k_is_a_capacity_and_bad_k():
    y, p, g = [0, 1, 0], [0.1, 0.2, 0.3], [1, 1, 2]
    # a group with fewer than k units warns all of them: min(k, n) warnings per group
    np.testing.assert_array_equal(top_k_mask(p, g, 2), [True, True, True])
    assert recall_at_k(y, p, groups=g, k=2) == 1.0
    assert precision_at_k(y, p, groups=g, k=2) == pytest.approx(1 / 3)
    np.testing.assert_array_equal(top_k_mask(p, g, 1), [False, True, True])
    np.testing.assert_array_equal(top_k_mask(p, g, 1, sample_weight=[1, 0, 1]), [True, False, True])
    with pytest.raises(ForecastInputError, match="'k' must be an integer >= 1"):
        precision_at_k(y, p, groups=g, k=0)
    with pytest.raises(ForecastInputError, match="'groups' is required"):
        precision_at_k(y, p, groups=None, k=1)
    with pytest.raises(ForecastInputError, match="'groups' must be 1-d with 3 rows"):
        precision_at_k(y, p, groups=[1, 2], k=1)


def _hand_pooled(fc: pd.DataFrame, onset: pd.DataFrame, lags=(1, 2)):
    """Independent route: dictionaries and explicit loops."""
    prob = {}
    by_year: dict[int, list[tuple[str, float]]] = {}
    for r in fc.itertuples():
        prob[(r.unit, r.year)] = r.probability
        by_year.setdefault(r.year, []).append((r.unit, r.probability))
    rank = {}
    for year, rows in by_year.items():
        for unit, pr in rows:
            rank[(unit, year)] = 1 + sum(1 for _, q in rows if q > pr)
    ys, ps, ranks = [], [], []
    for r in onset.itertuples():
        if pd.isna(r.mk_onset):
            continue
        keys = [(r.unit, r.year - lag) for lag in lags if (r.unit, r.year - lag) in prob]
        if not keys:
            continue
        ys.append(r.mk_onset)
        ps.append(max(prob[k] for k in keys))
        ranks.append(min(rank[k] for k in keys))
    ys, ps, ranks = np.array(ys), np.array(ps), np.array(ranks)
    return ys, ps, ranks


def _check_against_hand(fc, onset, model="m"):
    out = ewp_pooled_scores(fc.assign(model=model), onset)
    ys, ps, ranks = _hand_pooled(fc, onset)
    row = out.set_index("model").loc[model]
    assert row["n"] == ys.size and row["onsets"] == ys.sum()
    assert row["roc_auc"] == pytest.approx(roc_auc_score(ys, ps), abs=1e-12)
    assert row["average_precision"] == pytest.approx(average_precision_score(ys, ps), abs=1e-12)
    for k in (10, 20, 30):
        caught = int(np.sum(ranks[ys == 1] <= k))
        assert row[f"caught_top{k}"] == caught
        assert row[f"recall_top{k}"] == pytest.approx(caught / ys.sum())
    return out


def test_ewp_pooling_matches_hand_loop_on_toy_panel(rng):
    units = [f"c{i}" for i in range(40)]
    fc = pd.DataFrame(
        [(u, t, float(np.round(rng.random(), 2))) for t in range(2000, 2010) for u in units],
        columns=["unit", "year", "probability"],
    )
    onset = pd.DataFrame(
        [(u, t, float(rng.random() < 0.08)) for t in range(2001, 2012) for u in units],
        columns=["unit", "year", "mk_onset"],
    )
    onset.loc[5, "mk_onset"] = np.nan  # unknown outcome: dropped
    _check_against_hand(fc, onset)


def test_ewp_pooling_rows_take_max_and_min():
    fc = pd.DataFrame(
        {
            "unit": ["a", "b", "a", "b"],
            "year": [2000, 2000, 2001, 2001],
            "model": "m",
            "probability": [0.9, 0.1, 0.2, 0.3],
        }
    )
    onset = pd.DataFrame({"unit": ["a", "b"], "year": [2002, 2002], "mk_onset": [1, 0]})
    rows = ewp_pooled_rows(fc, onset).set_index("unit")
    assert rows.loc["a", "max_probability"] == 0.9 and rows.loc["a", "min_rank"] == 1
    assert rows.loc["b", "max_probability"] == 0.3 and rows.loc["b", "min_rank"] == 1
    assert (rows["n_lags"] == 2).all()
    only = ewp_pooled_rows(fc, onset.assign(year=2001), require_all_lags=True)
    assert only.empty  # 2001 has only the lag-1 forecast from 2000


@pytest.mark.realdata
def test_ewp_pooling_on_real_panel():
    """Real EWP panel, a transparent heuristic forecast, hand loop as the oracle."""
    df = pd.read_csv(
        PANEL,
        usecols=[
            "ewp_name",
            "year",
            "mk_onset",
            "mk_ongoing_count_log2",
            "battledeaths.log2",
            "coup.try.5yr",
        ],
    )
    z = (
        -4
        + 0.8 * df["mk_ongoing_count_log2"]
        + 0.25 * df["battledeaths.log2"]
        + 0.5 * df["coup.try.5yr"]
    )
    df["probability"] = 1 / (1 + np.exp(-z))
    fc = df.loc[df["year"].between(1992, 2022), ["ewp_name", "year", "probability"]]
    fc = fc.rename(columns={"ewp_name": "unit"}).reset_index(drop=True)
    onset = df.loc[df["year"].between(1994, 2024), ["ewp_name", "year", "mk_onset"]]
    onset = onset.rename(columns={"ewp_name": "unit"}).reset_index(drop=True)
    out = _check_against_hand(fc, onset, model="heuristic")
    assert 4500 < out.loc[0, "n"] < 5600  # ~5,000 country-years as in the EWP backtest
    assert 30 <= out.loc[0, "onsets"] <= 45


def test_ewp_bad_input():
    fc = pd.DataFrame({"unit": ["a"], "year": [2000], "model": ["m"], "probability": [0.2]})
    onset = pd.DataFrame({"unit": ["a"], "year": [2001], "mk_onset": [2]})
    with pytest.raises(
        ForecastInputError,
        match=r"ewp_pooled_rows \(onset\): column .mk_onset.: outcomes must be 0, 1",
    ):
        ewp_pooled_scores(fc, onset)
    with pytest.raises(ForecastInputError, match="'lags' must be positive integers"):
        ewp_pooled_scores(fc, onset.assign(mk_onset=1), lags=(0,))
    with pytest.raises(ForecastInputError, match=r"lacks column\(s\) \['mk_onset'\]"):
        ewp_pooled_scores(fc, onset.drop(columns="mk_onset"))
    with pytest.raises(ForecastInputError, match="'ks' must be integers >= 1"):
        ewp_pooled_scores(fc, onset.assign(mk_onset=1), ks=(0,))
