"""The one forecast-table schema: every rule, one line per error, the key."""

import numpy as np
import pandas as pd
import pytest

from forecast import ForecastInputError
from forecast.run import FORECAST_COLUMNS, check_forecasts


def _table(**changes):
    table = pd.DataFrame(
        {
            "unit": ["a", "b", "c", "d"],
            "year": [2000, 2000, 2001, 2001],
            "model": "m",
            "probability": [0.1, 0.2, 0.3, 0.5],
            "outcome": [0.0, 1.0, np.nan, 0.0],
        }
    )
    for column, values in changes.items():
        table[column] = pd.Series(values, dtype=object)
    return table


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"probability": [0.1, 1.5, 0.3, 0.5]}, r"column 'probability'.*\[0, 1\].*rows \[1\]"),
        ({"probability": [0.1, np.nan, 0.3, 0.5]}, r"column 'probability'.*no NaN.*rows \[1\]"),
        (
            {"outcome": [0, 2, None, 0]},
            r"column 'outcome': outcomes must be 0, 1 or missing.*\[1\]",
        ),
        ({"outcome": [0, "yes", None, 0]}, r"column 'outcome'.*rows \[1\]"),
        (
            {"year": [2000, 2000.5, 2001, 2001]},
            r"column 'year': values must be whole numbers.*\[1\]",
        ),
        ({"unit": ["a", "a", "c", "d"]}, r"\(model, unit, year\) must be unique at rows \[0, 1\]"),
        ({"horizon": [2, -1, 2, 2]}, r"column 'horizon'.*>= 0 at rows \[1\]"),
        ({"lower": [0.0, 0.1, 2.0, None]}, r"column 'lower'.*rows \[2\]"),
    ],
)
def test_each_rule_is_one_line_naming_column_and_rows(changes, match):
    with pytest.raises(ForecastInputError, match=match) as info:
        check_forecasts(_table(**changes), caller="t")
    assert "\n" not in str(info.value) and "fix:" in str(info.value)


def test_structure_errors():
    with pytest.raises(ForecastInputError, match="must be a pandas DataFrame"):
        check_forecasts([1, 2], caller="t")
    with pytest.raises(ForecastInputError, match=r"lacks column\(s\) \['outcome'\]"):
        check_forecasts(_table().drop(columns="outcome"), caller="t")
    with pytest.raises(ForecastInputError, match="no rows"):
        check_forecasts(_table().iloc[:0], caller="t")


def test_origin_is_part_of_the_key_and_values_are_normalised():
    table = pd.concat([_table().assign(origin=2000), _table().assign(origin=2001)])
    out = check_forecasts(table, caller="t")
    assert list(out.index) == list(range(8))
    assert out["year"].dtype == np.int64 and out["origin"].dtype == np.int64
    assert out["probability"].dtype == float and np.isnan(out.loc[2, "outcome"])
    assert set(FORECAST_COLUMNS) <= set(out.columns)
    with pytest.raises(ForecastInputError, match=r"\(model, unit, year, origin\) must be unique"):
        check_forecasts(pd.concat([table, table.iloc[:1]]), caller="t")


def test_outcome_columns_can_be_named():
    onsets = pd.DataFrame({"unit": ["a"], "year": [2000], "mk_onset": [3]})
    with pytest.raises(ForecastInputError, match=r"src: column 'mk_onset': outcomes must be"):
        check_forecasts(
            onsets, caller="c", required=("unit", "year"), outcomes=("mk_onset",), source="src"
        )


@pytest.mark.parametrize(
    ("column", "values"),
    [
        ("probability", [0.1, 1.5, 0.3, 0.5]),
        ("outcome", [0, 2, None, 0]),
        ("year", [2000, 2000.5, 2001, 2001]),
        ("horizon", [2, -1, 2, 2]),
        ("lower", [0.0, 0.1, 2.0, None]),
    ],
)
def test_pandera_schema_holds_the_same_rules(column, values):
    """forecast_schema (pandera) states the rules check_forecasts applies without pandera."""
    import pandera.errors

    from forecast.run import forecast_schema

    table = _table(**{column: values})
    schema = forecast_schema(list(table.columns))
    with pytest.raises(ForecastInputError, match=f"column '{column}'"):
        check_forecasts(table, caller="t")
    with pytest.raises(pandera.errors.SchemaErrors) as info:
        schema.validate(table, lazy=True)
    assert set(info.value.failure_cases["column"]) == {column}
    valid = _table()  # a valid table passes both
    forecast_schema(list(valid.columns)).validate(valid)
    check_forecasts(valid, caller="t")
