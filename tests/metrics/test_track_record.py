"""Track record of past lists: a hand-computed toy table and an independent hand loop."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecast._errors import ForecastInputError
from forecast.metrics import track_record

NAN = np.nan

# model a, horizon 2, data to 2004: the lists of 2000-2002 have observed windows, 2003 has not.
TOY = [
    # model, origin, unit, probability, outcome
    ("a", 2000, "A", 0.9, 1),
    ("a", 2000, "B", 0.8, 0),
    ("a", 2000, "C", 0.7, 1),
    ("a", 2000, "D", 0.6, 0),
    ("a", 2000, "E", 0.5, 1),
    # a tie (B before C: B ranks first) and an unknown outcome on the list (ranked, not scored)
    ("a", 2001, "A", 0.1, 0),
    ("a", 2001, "B", 0.4, NAN),
    ("a", 2001, "C", 0.4, 1),
    ("a", 2001, "D", 0.2, 0),
    ("a", 2001, "E", 0.3, 0),
    ("a", 2002, "A", 0.5, 0),
    ("a", 2002, "B", 0.4, 0),
    ("a", 2002, "C", 0.3, 0),
    ("a", 2002, "D", 0.2, 0),
    ("a", 2002, "E", 0.1, 0),
    # the window 2004-2005 is cut by the data end: a seen onset is not scored (design 0002)
    ("a", 2003, "A", 0.9, 1),
    ("a", 2003, "B", 0.1, NAN),
    ("a", 2003, "C", 0.1, NAN),
    ("a", 2003, "D", 0.1, NAN),
    ("a", 2003, "E", 0.1, NAN),
    ("b", 2000, "A", 0.1, 1),
    ("b", 2000, "B", 0.2, 0),
    ("b", 2000, "C", 0.3, 1),
    ("b", 2000, "D", 0.4, 0),
    ("b", 2000, "E", 0.5, 1),
]

# By hand, k = 3 with tiers top 1 / 2-3 / rest:
#   a 2000: ranks A B C | D E   -> top 1: A (1 onset); 2-3: B C (1); rest: D E (1)
#   a 2001: ranks B C E | D A   -> top 1: B unknown (n 0); 2-3: C E (1); rest: D A (0)
#   a 2002: no onsets           -> 1 / 2 / 2 units, 0 onsets
#   b 2000: ranks E D C | B A   -> top 1: E (1); 2-3: D C (1); rest: B A (1)
LISTS = pd.DataFrame(
    [
        ("a", 2000, 2001, 2002, 5, 3, 2, 3, 2 / 3, 2 / 3),
        ("a", 2001, 2002, 2003, 4, 2, 1, 1, 1 / 2, 1.0),
        ("a", 2002, 2003, 2004, 5, 3, 0, 0, 0.0, NAN),
        ("b", 2000, 2001, 2002, 5, 3, 2, 3, 2 / 3, 2 / 3),
    ],
    columns=[
        "model",
        "origin",
        "window_start",
        "window_end",
        "scored",
        "listed",
        "listed_onsets",
        "onsets",
        "precision",
        "recall",
    ],
)
TIERS = pd.DataFrame(
    [
        ("a", 2000, "top 1", 1, 1, 1.0),
        ("a", 2000, "2–3", 2, 1, 0.5),
        ("a", 2000, "rest", 2, 1, 0.5),
        ("a", 2001, "top 1", 0, 0, NAN),
        ("a", 2001, "2–3", 2, 1, 0.5),
        ("a", 2001, "rest", 2, 0, 0.0),
        ("a", 2002, "top 1", 1, 0, 0.0),
        ("a", 2002, "2–3", 2, 0, 0.0),
        ("a", 2002, "rest", 2, 0, 0.0),
        ("b", 2000, "top 1", 1, 1, 1.0),
        ("b", 2000, "2–3", 2, 1, 0.5),
        ("b", 2000, "rest", 2, 1, 0.5),
    ],
    columns=["model", "origin", "tier", "n", "onsets", "rate"],
)


def toy_table() -> pd.DataFrame:
    frame = pd.DataFrame(TOY, columns=["model", "origin", "unit", "probability", "outcome"])
    return frame.assign(year=frame["origin"], horizon=2)


@pytest.mark.parametrize("data_end", [2004, None])  # None: inferred from the last known 0
def test_toy_table_by_hand(data_end):
    record = track_record(toy_table(), data_end=data_end, k=3, tiers=(1,))
    assert (record.k, record.cuts, record.horizon, record.data_end) == (3, (1, 3), 2, 2004)
    got = record.lists[LISTS.columns]
    pd.testing.assert_frame_equal(got, LISTS, check_dtype=False)
    pd.testing.assert_frame_equal(record.tiers[TIERS.columns], TIERS, check_dtype=False)
    assert record.tiers["first_rank"].tolist()[:3] == [1, 2, 4]
    assert record.tiers["last_rank"].tolist()[:2] == [1, 3] and np.isnan(
        record.tiers["last_rank"].iloc[2]
    )


def test_toy_summary_pools_lists():
    record = track_record(toy_table(), k=3, tiers=(1,))
    a = record.summary().set_index("model").loc["a"]
    assert (a["lists"], a["first_origin"], a["last_origin"]) == (3, 2000, 2002)
    assert (a["listed"], a["listed_onsets"], a["onsets"]) == (8, 3, 4)
    assert a["precision"] == pytest.approx(3 / 8) and a["recall"] == pytest.approx(3 / 4)
    assert (a["rest"], a["rest_onsets"]) == (6, 1)
    assert a["rest_rate"] == pytest.approx(1 / 6) and a["lift"] == pytest.approx(2.25)
    tiers = record.tier_summary()
    a_tiers = tiers[tiers["model"] == "a"].set_index("tier")
    assert a_tiers["n"].to_dict() == {"top 1": 2, "2–3": 6, "rest": 6}
    assert a_tiers["onsets"].to_dict() == {"top 1": 1, "2–3": 2, "rest": 1}
    assert a_tiers["rate"].tolist() == pytest.approx([1 / 2, 1 / 3, 1 / 6])


def test_default_tiers_are_top10_top_k_and_rest():
    record = track_record(toy_table(), k=30)
    assert record.cuts == (10, 30)
    assert list(record.tiers["tier"].unique()) == ["top 10", "11–30", "rest"]
    assert track_record(toy_table(), k=5).cuts == (5,)


def _by_hand(table: pd.DataFrame, k: int, horizon: int, data_end: int) -> pd.DataFrame:
    """Independent loop: sort each list by -p (stable), take k, count known outcomes."""
    rows = []
    for (model, origin), part in table.groupby(["model", "origin"], sort=True):
        if origin + horizon > data_end:
            continue
        ordered = sorted(range(len(part)), key=lambda i: -part["probability"].iloc[i])
        on_list = set(ordered[:k])
        listed = onsets = hits = scored = 0
        for i in range(len(part)):
            y = part["outcome"].iloc[i]
            if np.isnan(y):
                continue
            scored += 1
            onsets += int(y)
            if i in on_list:
                listed += 1
                hits += int(y)
        rows.append((model, origin, scored, listed, hits, onsets))
    return pd.DataFrame(
        rows, columns=["model", "origin", "scored", "listed", "listed_onsets", "onsets"]
    )


def test_random_table_matches_hand_loop(rng):
    units = [f"u{i}" for i in range(40)]
    parts = []
    for model in ("m1", "m2"):
        for origin in range(1990, 2004):
            p = np.round(rng.beta(0.5, 8, size=len(units)), 2)  # rounded: many ties
            y = (rng.random(len(units)) < p * 2).astype(float)
            y[rng.random(len(units)) < 0.05] = np.nan
            parts.append(
                pd.DataFrame(
                    {
                        "model": model,
                        "origin": origin,
                        "year": origin,
                        "unit": units,
                        "probability": p,
                        "outcome": y,
                    }
                )
            )
    table = pd.concat(parts, ignore_index=True)
    record = track_record(table, horizon=3, data_end=2002, k=7)
    expected = _by_hand(table, 7, 3, 2002)
    got = record.lists[expected.columns].sort_values(["model", "origin"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    per_list = record.tiers.groupby(["model", "origin"])[["n", "onsets"]].sum().reset_index()
    assert (per_list["n"].to_numpy() == got["scored"].to_numpy()).all()
    assert (per_list["onsets"].to_numpy() == got["onsets"].to_numpy()).all()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"k": 0}, "'k' must be an integer >= 1"),
        ({"tiers": (0,)}, "'tiers' must be an integer >= 1"),
        ({"horizon": 0}, "'horizon' must be an integer >= 1"),
    ],
)
def test_bad_parameters_raise(kwargs, match):
    with pytest.raises(ForecastInputError, match=match):
        track_record(toy_table(), **kwargs)


def test_horizon_and_data_end_must_be_knowable():
    table = toy_table()
    with pytest.raises(
        ForecastInputError,
        match="one horizon is needed, the table has "
        r"horizons \[1, 2\]",
    ):
        track_record(table.assign(horizon=np.where(table["origin"] > 2001, 1, 2)))
    with pytest.raises(ForecastInputError, match="no 'horizon' column"):
        track_record(table.drop(columns="horizon"))
    with pytest.raises(ForecastInputError, match="no forecast has a fully observed outcome"):
        track_record(table.assign(outcome=table["outcome"].where(table["outcome"] == 1)))


def test_no_observed_window_is_an_empty_record():
    record = track_record(toy_table(), data_end=2001)
    assert record.lists.empty and record.tiers.empty
    assert record.summary().empty and record.tier_summary().empty


def _random_world(rng, h):
    units = [f"u{i}" for i in range(12)]
    years = range(2000, 2016)
    onsets = pd.DataFrame(
        [(u, y, int(rng.random() < 0.15)) for u in units for y in years],
        columns=["unit", "year", "onset"],
    )
    flag = onsets.set_index(["unit", "year"])["onset"]
    rows = []
    for model in ("m1", "m2"):
        for origin in range(2002, 2013):
            for u in units:
                window = [flag.get((u, origin + j), 0) for j in range(1, h + 1)]
                rows.append((model, origin, u, rng.random(), float(max(window))))
    frame = pd.DataFrame(rows, columns=["model", "origin", "unit", "probability", "outcome"])
    return frame.assign(year=frame["origin"]), onsets


@pytest.mark.parametrize("h", [1, 2, 3])
def test_onsets_are_counted_as_events_by_a_hand_loop(rng, h):
    """Each onset counts once: inside a scored list's window (T < t <= T + h), caught when its
    unit was in the top k of such a list (design 0011); recomputed by a loop over events."""
    forecasts, onsets = _random_world(rng, h)
    k, data_end = 3, 2013
    record = track_record(forecasts, horizon=h, data_end=data_end, k=k, onsets=onsets)
    summary = record.summary().set_index("model")
    for model, table in forecasts.groupby("model"):
        events = caught = 0
        for u, t, o in onsets.itertuples(index=False):
            lists = [T for T in range(t - h, t) if 2002 <= T <= 2012 and T + h <= data_end]
            if not o or not lists:
                continue
            events += 1
            tops = [
                set(table[table["origin"] == T].nlargest(k, "probability")["unit"]) for T in lists
            ]
            caught += any(u in top for top in tops)
        assert summary.loc[model, "onset_events"] == events
        assert summary.loc[model, "caught_events"] == caught
        if h > 1:  # list-windows count an onset once per window that holds it
            assert summary.loc[model, "onsets"] >= events
    assert "onset_events" not in track_record(forecasts, horizon=h, data_end=data_end).summary()


def test_events_per_outcome_year():
    forecasts, onsets = _random_world(np.random.default_rng(3), 2)
    events = track_record(forecasts, horizon=2, data_end=2013, k=3, onsets=onsets).events
    first = events.set_index("model").loc["m1"]
    assert first["outcome_years"] == 2013 - 2002  # windows of the lists 2002..2011
    in_years = onsets[(onsets["year"] > 2002) & (onsets["year"] <= 2013)]["onset"].sum()
    assert first["onset_events"] == in_years  # every unit is forecast at every origin
    assert first["events_per_year"] == pytest.approx(in_years / 11)
