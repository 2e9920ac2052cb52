import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecast import ForecastInputError
from forecast.panel import Panel, validate_panel, year_gaps


def _frame():
    return pd.DataFrame(
        {
            "unit": ["A", "A", "A", "B", "B"],
            "year": [2000, 2001, 2003, 2000, 2001],
            "x": [1.0, 2.0, np.nan, 0.5, 0.1],
            "onset": [0, 1, np.nan, 0, 0],
        }
    )


def _check(frame, **kw):
    return validate_panel(
        frame, unit="unit", year="year", features=["x"], outcomes=["onset"], source="toy.csv", **kw
    )


def test_valid_panel_is_sorted_and_typed():
    clean = _check(_frame().iloc[::-1])
    assert clean["year"].dtype == np.int64
    assert clean["onset"].dtype == np.float64
    assert clean[["unit", "year"]].values.tolist()[0] == ["A", 2000]


def test_gaps_are_reported():
    gaps = year_gaps(_frame())
    assert gaps.to_dict("records") == [
        {
            "unit": "A",
            "first_year": 2000,
            "last_year": 2003,
            "n_missing": 1,
            "missing_years": [2002],
        }
    ]


def test_duplicate_rows_named():
    frame = pd.concat([_frame(), _frame().iloc[[3]]])
    with pytest.raises(
        ForecastInputError,
        match=r"toy.csv: .*duplicate \(unit, year\) rows at rows \[B/2000, B/2000\]",
    ):
        _check(frame)


@pytest.mark.parametrize(
    "years", [[2000.0, 2001.0, 2003.0, 2000.0, 2001.0], ["2000", "2001", "2003", "2000", "2001"]]
)
def test_years_must_be_integers(years):
    frame = _frame().assign(year=years)
    with pytest.raises(ForecastInputError, match="column 'year': years must be integers"):
        _check(frame)


def test_non_numeric_feature_named_with_rows():
    frame = _frame().astype({"x": object})
    frame.loc[1, "x"] = "high"
    with pytest.raises(
        ForecastInputError, match=r"column 'x': feature values must be numeric.* at rows \[A/2001\]"
    ):
        _check(frame)


def test_non_binary_outcome_named_with_rows():
    frame = _frame()
    frame.loc[4, "onset"] = 2
    with pytest.raises(
        ForecastInputError,
        match=r"column 'onset': outcome values must be 0, 1 or missing at rows \[B/2001\]",
    ):
        _check(frame)


def test_missing_key_column():
    with pytest.raises(ForecastInputError, match=r"missing column\(s\) \['unit'\]"):
        _check(_frame().drop(columns="unit"))


def test_empty_panel():
    with pytest.raises(ForecastInputError, match="no rows"):
        _check(_frame().iloc[:0])


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from("ABC"), st.integers(1990, 1995)), min_size=1, max_size=20)
)
def test_duplicates_detected_iff_present(keys):
    frame = pd.DataFrame(keys, columns=["unit", "year"]).assign(x=1.0, onset=0)
    has_dupes = len(set(keys)) < len(keys)
    if has_dupes:
        with pytest.raises(ForecastInputError, match="duplicate"):
            _check(frame)
    else:
        assert len(_check(frame)) == len(keys)


def test_panel_summary_counts():
    panel = Panel.from_frame(_frame(), features=["x"], outcomes=["onset"], name="toy")
    summary = panel.summary()
    assert summary["rows"] == 5 and summary["units"] == 2 and summary["units_with_gaps"] == 1
    assert summary["onset_events"] == 1 and summary["onset_missing"] == 1


def _typed():
    return pd.DataFrame(
        {
            "unit": pd.Categorical(["B", "B", "A", "A"], categories=["Z", "B", "A"]),
            "year": [2001, 2000, 2000, 2001],
            "f32": np.array([1.5, 2.5, np.nan, 4.5], dtype=np.float32),
            "i64": np.array([1, 0, 1, 0], dtype=np.int64),
            "f64": [0.1, 0.2, 0.3, 0.4],
            "onset": [0, 1, 0, 0],
        }
    )


def test_features_keep_their_dtype_and_units_stay_categorical():
    frame = _typed()
    panel = Panel.from_frame(frame, features=["f32", "i64", "f64"], outcomes=["onset"])
    clean = panel.frame
    assert [clean[c].dtype for c in ("f32", "i64", "f64")] == [np.float32, np.int64, np.float64]
    assert isinstance(clean["unit"].dtype, pd.CategoricalDtype)
    assert list(clean["unit"].cat.categories) == ["A", "B"]  # sorted, unused dropped
    assert clean[["unit", "year"]].astype({"unit": str}).values.tolist() == [
        ["A", 2000], ["A", 2001], ["B", 2000], ["B", 2001]
    ]  # fmt: skip
    assert clean["f32"].tolist()[:2] == [pytest.approx(np.nan, nan_ok=True), 4.5]
    assert panel.n_units == 2 and panel.gaps().empty
    assert frame["unit"].tolist() == ["B", "B", "A", "A"]  # the input is left alone
    clean.loc[0, "f64"] = 9.0
    assert frame["f64"].tolist() == [0.1, 0.2, 0.3, 0.4]


def test_categorical_units_with_gaps_and_duplicates():
    frame = _typed()
    frame.loc[3, "year"] = 2003
    gaps = year_gaps(frame)  # unused category 'Z' yields no group
    assert gaps.to_dict("records")[0]["missing_years"] == [2001, 2002]
    frame.loc[3, "year"] = 2000
    with pytest.raises(ForecastInputError, match=r"duplicate \(unit, year\) rows at rows \[A/2000"):
        validate_panel(frame, unit="unit", year="year", features=["f64"], outcomes=["onset"])


def test_a_frame_in_key_order_is_returned_as_is():
    frame = _frame().iloc[[0, 1, 2, 3, 4]]
    clean = _check(frame)
    pd.testing.assert_frame_equal(clean[["unit", "year", "x"]], frame[["unit", "year", "x"]])
    mixed = pd.DataFrame(
        {"unit": [2, "a", 1], "year": [2000, 2000, 2000], "x": [1.0, 2.0, 3.0], "onset": 0}
    )  # ids that do not compare: left to sort_values, as before
    assert sorted(_check(mixed)["x"]) == [1.0, 2.0, 3.0]


def _coded_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "unit": ["Yemen", "Yemen", "Germany"],
            "year": [1989, 1991, 1991],
            "ccode": [678, 679, 255],
            "x": [0.1, 0.2, 0.3],
            "onset": [0, 1, 0],
        }
    )


def test_cow_codes_come_from_the_units_or_the_declared_code_column():
    frame = _coded_frame()
    named = Panel.from_frame(
        frame, features=["x"], outcomes=["onset"], extra=["ccode"], unit_code="ccode"
    )
    assert named.cow_codes().tolist() == [255.0, 678.0, 679.0]  # per row, in (unit, year) order
    coded = Panel.from_frame(
        frame.drop(columns="unit").rename(columns={"ccode": "unit"}),
        features=["x"],
        outcomes=["onset"],
        unit_system="cow",
    )
    assert coded.cow_codes().tolist() == [255.0, 678.0, 679.0]
    assert Panel.from_frame(frame, features=["x"], outcomes=["onset"]).cow_codes() is None
    with pytest.raises(ForecastInputError, match="unit_code 'code' is not a column"):
        Panel.from_frame(frame, features=["x"], outcomes=["onset"], unit_code="code")
