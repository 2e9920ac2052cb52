"""Transforms recomputed by hand loops over toy panels (oracle tests)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from forecast._errors import ForecastInputError
from forecast.features import Grid, get_transform, register_transform


@pytest.fixture
def toy() -> tuple[pd.Series, Grid]:
    rng = np.random.default_rng(7)
    units = np.repeat(["A", "B"], 8)
    years = np.concatenate([np.arange(2000, 2008), np.r_[2000:2004, 2005:2009]])  # B has a gap
    values = rng.integers(0, 4, 16).astype(float)
    values[[2, 11]] = np.nan
    return pd.Series(values), Grid(units, years)


def _lookup(x: pd.Series, grid: Grid) -> dict[tuple[str, int], float]:
    return {(u, int(y)): float(v) for u, y, v in zip(grid.unit, grid.year, x)}


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def test_lag_and_lead_follow_years_not_rows(toy: tuple[pd.Series, Grid]) -> None:
    x, grid = toy
    table = _lookup(x, grid)
    lag = get_transform("lag").func(x, grid, years=2)
    lead = get_transform("lead").func(x, grid, years=1)
    for i, (u, y) in enumerate(zip(grid.unit, grid.year)):
        assert _same(lag.iloc[i], table.get((u, int(y) - 2), math.nan))
        assert _same(lead.iloc[i], table.get((u, int(y) + 1), math.nan))


@pytest.mark.parametrize(
    "name, how",
    [("rolling_sum", sum), ("rolling_max", max), ("rolling_mean", lambda v: sum(v) / len(v))],
)
def test_rolling(toy: tuple[pd.Series, Grid], name: str, how) -> None:
    x, grid = toy
    table = _lookup(x, grid)
    got = get_transform(name).func(x, grid, window=3)
    for i, (u, y) in enumerate(zip(grid.unit, grid.year)):
        window = [table.get((u, int(y) - j), math.nan) for j in range(3)]
        window = [v for v in window if not math.isnan(v)]
        assert _same(got.iloc[i], float(how(window)) if window else math.nan)


def test_cumulative_ever_years_since_carry(toy: tuple[pd.Series, Grid]) -> None:
    x, grid = toy
    cum = get_transform("cumulative_sum").func(x, grid)
    ever = get_transform("ever").func(x, grid)
    since = get_transform("years_since").func(x, grid, never=-1.0)
    carried = get_transform("carry_forward").func(x, grid, max_years=1)
    for unit in ("A", "B"):
        rows = np.flatnonzero(grid.unit == unit)
        total, last_event, last_value, run = 0.0, None, math.nan, 0
        for i in rows:
            v, y = x.iloc[i], int(grid.year[i])
            total += 0.0 if math.isnan(v) else v
            if not math.isnan(v) and v > 0:
                last_event = y
            assert cum.iloc[i] == total
            assert ever.iloc[i] == float(last_event is not None)
            assert since.iloc[i] == (-1.0 if last_event is None else y - last_event)
            if math.isnan(v):
                run += 1
                assert _same(carried.iloc[i], last_value if run <= 1 else math.nan)
            else:
                run, last_value = 0, v
                assert carried.iloc[i] == v


def test_elementwise() -> None:
    x = pd.Series([0.0, 1.0, 3.0, np.nan])
    grid = Grid(np.array(["A"] * 4), np.arange(2000, 2004))
    np.testing.assert_allclose(
        get_transform("log2").func(x, grid, offset=1.0), [0.0, 1.0, 2.0, np.nan]
    )
    np.testing.assert_allclose(
        get_transform("threshold").func(x, grid, op=">=", value=1), [0.0, 1.0, 1.0, np.nan]
    )
    np.testing.assert_allclose(
        get_transform("one_hot").func(x, grid, values=[0, 3]), [1.0, 0.0, 1.0, np.nan]
    )
    np.testing.assert_allclose(
        get_transform("age").func(pd.Series([1990.0] * 4), grid), [10, 11, 12, 13]
    )
    with pytest.raises(ForecastInputError, match="threshold op '=>' is not one of"):
        get_transform("threshold").func(x, grid, op="=>", value=1)


def test_impute_past_uses_only_earlier_years() -> None:
    years = np.tile(np.arange(2000, 2010), 3)
    units = np.repeat(["A", "B", "C"], 10)
    z = pd.Series(np.arange(30, dtype=float))
    y = 2.0 * z + 1.0
    y[years >= 2008] = np.nan
    built = {"z": z}
    grid = Grid(units, years, resolve=built.__getitem__)
    past = get_transform("impute_regression_past").func(y, grid, predictor="z")
    np.testing.assert_allclose(past, 2.0 * z + 1.0)
    y2 = y.copy()
    y2[(years == 2005) & (units == "A")] = np.nan
    y2[(years == 2009) & (units == "B")] = 1000.0  # a later outlier must not matter
    again = get_transform("impute_regression_past").func(y2, grid, predictor="z")
    assert again[(years == 2005) & (units == "A")].item() == pytest.approx(11.0)


def test_register_custom_transform() -> None:
    @register_transform("test_double", params={"factor": float})
    def _double(x: pd.Series, grid: Grid, *, factor: float = 2.0) -> pd.Series:
        """Multiply by a factor."""
        return x * factor

    transform = get_transform("test_double")
    assert not transform.looks_ahead and transform.description == "Multiply by a factor."
    with pytest.raises(ForecastInputError, match="unknown transform 'nope'"):
        get_transform("nope")
