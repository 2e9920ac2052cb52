import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecast import ForecastInputError
from forecast.outcomes import onset_within


def _hand_window(frame: pd.DataFrame, h: int, end: int) -> list[float]:
    """Independent loop: look up each future year by dictionary."""
    onset = {(u, y): v for u, y, v in zip(frame.unit, frame.year, frame.mk_onset)}
    last = frame.groupby("unit").year.max().to_dict()
    out = []
    for u, y in zip(frame.unit, frame.year):
        values = []
        unknown = False
        for j in range(1, h + 1):
            t = y + j
            if t > end:
                unknown = True
            elif t <= last[u]:
                v = onset.get((u, t), np.nan)
                if np.isnan(v):
                    unknown = True
                else:
                    values.append(v)
        out.append(1.0 if 1.0 in values else (np.nan if unknown else 0.0))
    return out


def test_toy_window_censors_the_end_and_truncates_exits():
    frame = pd.DataFrame(
        {
            "unit": ["A"] * 5 + ["B"] * 3,
            "year": [2000, 2001, 2002, 2003, 2004, 2000, 2001, 2002],
            "mk_onset": [0, 0, 1, 0, 0, 0, 0, 0],
        }
    )
    got = onset_within(frame, 2).tolist()
    # A: 2000 -> onset 2002 within 2; 2001 -> 1; 2002 -> 0; 2003 -> 2004 known 0 but 2005 unknown.
    # B exits in 2002 while the data runs to 2004: its last windows are truncated, not unknown.
    assert got[:5] == [
        1.0,
        1.0,
        0.0,
        pytest.approx(np.nan, nan_ok=True),
        pytest.approx(np.nan, nan_ok=True),
    ]
    assert got[5:] == [0.0, 0.0, 0.0]


def test_onset_in_known_part_of_censored_window_is_one():
    frame = pd.DataFrame({"unit": ["A"] * 3, "year": [2022, 2023, 2024], "mk_onset": [0, 0, 1]})
    got = onset_within(frame, 2)
    assert got.iloc[0] == 1.0 and got.iloc[1] == 1.0 and np.isnan(got.iloc[2])


@settings(max_examples=60, deadline=None)
@given(
    onsets=st.lists(st.sampled_from([0.0, 1.0, np.nan]), min_size=3, max_size=40),
    n_units=st.integers(1, 4),
    horizon=st.integers(1, 4),
    drop=st.integers(0, 3),
)
def test_window_matches_hand_loop(onsets, n_units, horizon, drop):
    rows = []
    for u in range(n_units):
        years = list(range(1990, 1990 + len(onsets) - u * drop))
        rows += [(f"u{u}", y, onsets[i]) for i, y in enumerate(years)]
    frame = pd.DataFrame(rows, columns=["unit", "year", "mk_onset"]).sample(frac=1, random_state=0)
    end = int(frame.year.max())
    got = onset_within(frame, horizon).to_numpy()
    expected = np.array(_hand_window(frame, horizon, end))
    np.testing.assert_array_equal(got, expected)


@pytest.mark.realdata
def test_real_panel_matches_upstream_where_known(data_root):
    frame = pd.read_csv(data_root / "ewp-2025" / "prepared2024predictors-2025-09-03.csv")
    got = onset_within(frame, 2, unit="ccode")
    known = frame.year <= 2022
    assert (got[known] == frame.mk_onset_1or2[known]).all()
    assert got[frame.year >= 2023].isna().all()


@pytest.mark.parametrize("horizon", [0, -1, 1.5, True])
def test_bad_horizon(horizon):
    frame = pd.DataFrame({"unit": ["A"], "year": [2000], "mk_onset": [0]})
    with pytest.raises(ForecastInputError, match="horizon must be an integer >= 1"):
        onset_within(frame, horizon)


def test_duplicate_keys_are_refused():
    frame = pd.DataFrame({"unit": ["A", "A"], "year": [2000, 2000], "mk_onset": [0, 1]})
    with pytest.raises(ForecastInputError, match="duplicate"):
        onset_within(frame, 1)


def test_missing_column_is_named():
    frame = pd.DataFrame({"unit": ["A"], "year": [2000]})
    with pytest.raises(ForecastInputError, match="'mk_onset'"):
        onset_within(frame, 1)
