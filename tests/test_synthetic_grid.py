"""The ``grid`` flavour and the size and dtype options of ``synthetic-world``."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from forecast._errors import ForecastInputError
from forecast.data import load_dataset
from forecast.data.synthetic import (
    MAX_ROWS,
    MAX_UNITS,
    SYNTHETIC_FEATURES,
    generate_synthetic_world,
    oracle_window_probability,
    synthetic_world_panel,
)
from forecast.data.synthetic_grid import GRID_DESCRIPTIONS, GRID_FEATURES, generate_synthetic_grid
from forecast.outcomes import onset_within


@pytest.fixture(scope="module")
def grid() -> pd.DataFrame:
    return generate_synthetic_grid(3, n_cells=900, n_years=20)


def _queen_share(world: pd.DataFrame, column: str) -> np.ndarray:
    """Hand loop: share of each row's queen neighbours with ``column`` = 1 the year before."""
    cell = {(r, c): u for u, r, c in zip(world["unit"], world["row"], world["col"], strict=True)}
    value = {(u, y): v for u, y, v in zip(world["unit"], world["year"], world[column], strict=True)}
    out = np.full(len(world), np.nan)
    for i, (r, c, y) in enumerate(zip(world["row"], world["col"], world["year"], strict=True)):
        near = [
            value[cell[r + dr, c + dc], y - 1]
            for dr in (-1, 0, 1)
            for dc in (-1, 0, 1)
            if (dr, dc) != (0, 0)
            and (r + dr, c + dc) in cell
            and (cell[r + dr, c + dc], y - 1) in value
        ]
        out[i] = np.mean(near) if near else np.nan
    return out


def test_grid_is_a_lattice_of_cells_sorted_by_unit_then_year(grid: pd.DataFrame) -> None:
    assert list(grid.columns[:4]) == ["unit", "year", "row", "col"]
    assert isinstance(grid["unit"].dtype, pd.CategoricalDtype)
    assert grid["unit"].nunique() == 900 and len(grid) == 900 * 20
    assert (grid["year"].min(), grid["year"].max()) == (2005, 2024)
    ids = grid["unit"].astype(str)
    expected = [f"cell_{r:05d}_{c:05d}" for r, c in zip(grid["row"], grid["col"], strict=True)]
    assert ids.tolist() == expected
    assert grid.equals(grid.sort_values(["unit", "year"]).reset_index(drop=True))
    assert set(GRID_FEATURES) == set(GRID_DESCRIPTIONS)
    assert all(grid[c].dtype == np.float32 for c in GRID_FEATURES)
    ragged = generate_synthetic_grid(3, n_cells=10, n_years=2)  # 4 columns, last row of 2
    assert ragged.groupby("row", observed=True)["col"].max().tolist() == [3, 3, 1]


def test_grid_is_seeded_and_calibrated(grid: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(grid, generate_synthetic_grid(3, n_cells=900, n_years=20))
    other = generate_synthetic_grid(4, n_cells=900, n_years=20)
    assert not grid["development"].equals(other["development"])
    rate = grid["mk_onset"].mean()
    assert 0.004 <= rate <= 0.03
    p = grid["true_probability"]
    assert abs(p.mean() - rate) <= 3 * math.sqrt((p * (1 - p)).sum()) / len(grid)
    assert grid["repression"].isna().mean() > 0  # missing at random, some
    assert grid["mk_ongoing"].isna().sum() == 0


def test_neighbours_episodes_raise_the_hazard(grid: pd.DataFrame) -> None:
    """Contagion: the true hazard is higher next to an episode of the year before."""
    share = _queen_share(grid, "mk_ongoing")
    calm = ~np.isnan(share) & (grid["mk_ongoing"].to_numpy() == 0)
    near = calm & (share >= 0.25)
    far = calm & (share == 0)
    p = grid["true_probability"].to_numpy()
    assert near.sum() > 100 and p[near].mean() > 2 * p[far].mean()


def test_grid_panel_satisfies_the_panel_contract() -> None:
    panel = load_dataset("synthetic-world", flavour="grid", n_cells=64, n_years=12, seed=2)
    assert panel.features == list(GRID_FEATURES) and panel.kinds == GRID_FEATURES
    assert panel.outcomes == ["mk_onset", "mk_onset_1or2"]
    assert panel.extra == ["row", "col", "true_probability"]
    assert isinstance(panel.frame["unit"].dtype, pd.CategoricalDtype)
    assert panel.n_units == 64 and panel.years == (2013, 2024)
    frame = panel.frame
    expected = onset_within(frame, 2, onset="mk_onset")
    pd.testing.assert_series_equal(frame["mk_onset_1or2"], expected, check_names=False)
    oracle = oracle_window_probability(frame, 2)
    assert oracle.notna().sum() == 64 * 10
    wide = synthetic_world_panel(2, flavour="grid", n_cells=64, n_years=12, dtype="float64")
    assert all(wide.frame[c].dtype == np.float64 for c in wide.features)
    np.testing.assert_allclose(
        wide.frame[wide.features].to_numpy(),
        frame[panel.features].to_numpy(dtype=float),
        rtol=1e-6,
        atol=1e-6,
    )


def test_lean_country_world_is_the_default_world_in_float32() -> None:
    lean = generate_synthetic_world(5, n_countries=40, dtype="float32")
    full = generate_synthetic_world(5, n_countries=40)
    assert isinstance(lean["unit"].dtype, pd.CategoricalDtype)
    assert isinstance(lean["region"].dtype, pd.CategoricalDtype)
    assert lean["unit"].cat.categories.is_monotonic_increasing
    assert all(lean[c].dtype == np.float32 for c in SYNTHETIC_FEATURES)
    assert (lean["unit"].astype(str).to_numpy() == full["unit"].to_numpy()).all()
    np.testing.assert_allclose(
        lean[list(SYNTHETIC_FEATURES)].to_numpy(dtype=float),
        full[list(SYNTHETIC_FEATURES)].to_numpy(dtype=float),
        rtol=1e-6,
    )
    pd.testing.assert_series_equal(lean["mk_onset"], full["mk_onset"])
    assert full["unit"].dtype == "str" and full["mk_ongoing"].dtype == np.int64  # default kept


def test_worlds_beyond_the_old_cap_number_their_units() -> None:
    world = generate_synthetic_world(1, n_countries=20_000, start_year=2023, end_year=2024)
    assert world["unit"].nunique() == 20_000
    assert "Country 20000" in set(world["unit"]) and world["unit"].is_monotonic_increasing


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"flavour": "hex"}, r"flavour must be 'country' or 'grid', got 'hex'"),
        (
            {"flavour": "grid", "n_countries": 50},
            r"n_countries is not an option of the grid flavour, got n_countries: 50; "
            r"fix: write n_cells: 50 instead",
        ),
        ({"n_cells": 50}, r"n_cells is not an option of the country flavour"),
        (
            {"flavour": "grid", "regime": "nonlinear"},
            r"regime must be 'drifting' or 'stationary' for the grid flavour, got 'nonlinear'",
        ),
        ({"flavour": "grid", "n_cells": 0}, r"n_cells must be an int >= 1, got 0"),
        ({"flavour": "grid", "n_cells": 2.5}, r"n_cells must be an int >= 1, got 2\.5"),
        ({"dtype": "float16"}, r"dtype must be 'float64' or 'float32', got 'float16'"),
        (
            {"flavour": "grid", "n_cells": MAX_UNITS + 1, "n_years": 1},
            rf"n_cells must be at most {MAX_UNITS:_}, got {MAX_UNITS + 1:_}",
        ),
        (
            {"flavour": "grid", "n_cells": 2_000_000, "n_years": 30},
            rf"n_cells x years must be at most {MAX_ROWS:_} rows, got 2_000_000 x 30 = "
            r"60_000_000; fix: pass n_cells <= 1_666_666 for 30 years, or fewer years",
        ),
    ],
)
def test_bad_options_are_one_line_errors(options: dict, message: str) -> None:
    with pytest.raises(ForecastInputError, match=message) as error:
        synthetic_world_panel(**options)
    assert "\n" not in str(error.value) and str(error.value).startswith("synthetic-world:")


def test_experiment_specs_accept_the_new_options() -> None:
    from forecast.experiment import experiment_from_dict

    config = experiment_from_dict(
        {
            "name": "x",
            "models": ["logit"],
            "dataset_options": {"flavour": "grid", "n_cells": 65000, "n_years": 30, "seed": 1},
        }
    )
    assert config.dataset_options["n_cells"] == 65000
    with pytest.raises(ForecastInputError, match=r"dataset_options\.flavour: must be of type str"):
        experiment_from_dict({"name": "x", "models": ["logit"], "dataset_options": {"flavour": 1}})
