"""``spatial_lag``: hand-loop oracle, leakage guard, refusals; declared neighbour sources."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecast._errors import ForecastInputError
from forecast.features import (
    Grid,
    build_from_tables,
    build_panel,
    get_transform,
    load_feature_set,
    load_tables,
)

OFFSETS = {
    "rook": [(-1, 0), (1, 0), (0, -1), (0, 1)],
    "queen": [(dr, dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1) if (dr, dc) != (0, 0)],
}
HOW = {"mean": lambda v: sum(v) / len(v), "max": max, "sum": sum}


@pytest.fixture
def lattice() -> tuple[pd.DataFrame, pd.Series, Grid]:
    """A 4 x 5 lattice with a hole (no cell at (1, 2)), a cell that enters late, gaps, NaNs."""
    rng = np.random.default_rng(11)
    cells = [(r, c) for r in range(4) for c in range(5) if (r, c) != (1, 2)]
    rows = []
    for r, c in cells:
        years = range(2003 if (r, c) == (0, 0) else 2000, 2008)
        rows += [(f"u{r}{c}", y, r, c) for y in years if not ((r, c) == (2, 2) and y == 2004)]
    table = pd.DataFrame(rows, columns=["unit", "year", "row", "col"])
    values = rng.integers(0, 5, len(table)).astype(float)
    values[rng.random(len(table)) < 0.15] = np.nan
    table["x"] = values
    grid = Grid(table["unit"].to_numpy(), table["year"].to_numpy(), table=lambda name: table)
    return table, table["x"], grid


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b)


@pytest.mark.parametrize("adjacency", ["rook", "queen"])
@pytest.mark.parametrize("how", ["mean", "max", "sum"])
@pytest.mark.parametrize("years", [1, 2])
def test_lattice_lag_matches_a_hand_loop(lattice, adjacency: str, how: str, years: int) -> None:
    table, x, grid = lattice
    got = get_transform("spatial_lag").func(
        x, grid, neighbours="lattice", adjacency=adjacency, how=how, years=years
    )
    cell = {(r, c): u for u, r, c in zip(table["unit"], table["row"], table["col"], strict=True)}
    value = dict(zip(zip(table["unit"], table["year"], strict=True), x, strict=True))
    for i, (r, c, year) in enumerate(zip(table["row"], table["col"], table["year"], strict=True)):
        near = []
        for dr, dc in OFFSETS[adjacency]:
            other = cell.get((r + dr, c + dc))
            v = value.get((other, year - years), math.nan)
            if other is not None and not math.isnan(v):
                near.append(v)
        assert _same(got.iloc[i], float(HOW[how](near)) if near else math.nan)


def test_neighbour_table_matches_a_hand_loop() -> None:
    units = np.repeat(["a", "b", "c", "d"], 4)
    years = np.tile(np.arange(2000, 2004), 4)
    x = pd.Series(np.arange(16, dtype=float))
    x[5] = np.nan
    pairs = pd.DataFrame(  # directed, a repeated pair, a self pair, an unknown unit
        {
            "unit": ["a", "a", "a", "b", "b", "c", "z"],
            "neighbour": ["b", "c", "c", "a", "b", "z", "a"],
        }
    )
    grid = Grid(units, years, table=lambda name: pairs)
    got = get_transform("spatial_lag").func(x, grid, neighbours="adj", how="sum")
    listed = {"a": ["b", "c"], "b": ["a"], "c": [], "d": []}
    value = dict(zip(zip(units, years, strict=True), x, strict=True))
    for i, (unit, year) in enumerate(zip(units, years, strict=True)):
        near = [value.get((n, year - 1), math.nan) for n in listed[unit]]
        near = [v for v in near if not math.isnan(v)]
        assert _same(got.iloc[i], float(sum(near)) if near else math.nan)


SPEC = """\
name: grid-lags
skeleton: world
datasets:
  world: {dataset: synthetic-world, options: {flavour: grid, n_cells: 36, n_years: 10, seed: 4}}
indicators:
  - {name: mk_onset, role: outcome, source: world.mk_onset}
  - {name: repression, source: world.repression, kind: structural}
  - name: near_repression
    source: {indicator: repression}
    kind: structural
    transforms: [{spatial_lag: {neighbours: world, how: mean}}]
  - name: near_battle
    source: world.battle_deaths_log2
    kind: trigger
    transforms: [{rolling_max: {window: 2}}, {spatial_lag: {neighbours: world, how: max, adjacency: rook}}]
  - name: near_ongoing_2
    source: world.mk_ongoing
    kind: history
    transforms: [{spatial_lag: {neighbours: world, how: sum, years: 2}}]
"""


@pytest.fixture(scope="module")
def grid_spec(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("spatial") / "grid.yaml"
    path.write_text(SPEC)
    return path


@settings(max_examples=15, deadline=None)
@given(
    t=st.integers(2015, 2023), seed=st.integers(0, 2**16), how=st.sampled_from(["values", "drop"])
)
def test_lags_up_to_t_ignore_data_after_t(grid_spec: Path, t: int, seed: int, how: str) -> None:
    """Altering (or dropping) every value dated after t leaves the rows up to t unchanged."""
    fs = load_feature_set(grid_spec)
    tables = load_tables(fs)
    before = build_from_tables(fs, tables).frame
    world = tables["world"]
    later = (world["year"] > t).to_numpy()
    if how == "drop":
        changed = world[~later].reset_index(drop=True)
    else:
        rng = np.random.default_rng(seed)
        changed = world.copy()
        for column in ("repression", "battle_deaths_log2", "mk_ongoing"):
            changed.loc[later, column] = rng.integers(0, 9, int(later.sum())).astype(np.float32)
    after = build_from_tables(fs, {"world": changed}).frame
    keep = ["unit", "year", *fs.features]
    pd.testing.assert_frame_equal(
        before.loc[before["year"] <= t, keep].reset_index(drop=True),
        after.loc[after["year"] <= t, keep].reset_index(drop=True),
    )


def test_grid_build_is_lean_and_reads_only_needed_columns(grid_spec: Path) -> None:
    fs = load_feature_set(grid_spec)
    tables = load_tables(fs)
    assert set(tables["world"].columns) == {
        "unit", "year", "row", "col", "mk_onset", "repression", "battle_deaths_log2", "mk_ongoing"
    }  # fmt: skip
    panel = build_from_tables(fs, tables)
    assert all(panel.frame[c].dtype == np.float32 for c in panel.features)
    assert panel.frame["mk_onset"].dtype == np.float64
    assert isinstance(panel.frame["unit"].dtype, pd.CategoricalDtype)
    assert panel.frame["near_repression"].notna().mean() > 0.8
    synthetic = load_tables(load_feature_set("synthetic-world"))["synthetic"]
    assert "region" in synthetic.columns and "regional_contagion" in synthetic.columns


def test_shipped_grid_set_builds_with_spatial_lags() -> None:
    panel = build_panel("synthetic-grid")
    near = [c for c in panel.features if c.startswith("near_")]
    assert len(near) == 4 and panel.extra == ["row", "col", "true_probability"]
    first = panel.frame["year"] == panel.frame["year"].min()
    assert panel.frame.loc[first, near].isna().all().all()  # no year before the first
    assert panel.frame.loc[~first, "near_mk_ongoing"].notna().all()


def _write(tmp_path: Path, transform: str, *, extra: str = "", datasets: str = "") -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(
        SPEC.split("indicators:")[0].rstrip("\n")
        + datasets
        + f"\n{extra}indicators:\n"
        + "  - {name: mk_onset, role: outcome, source: world.mk_onset}\n"
        + f"  - {{name: lagged, source: world.repression, kind: structural, transforms: [{transform}]}}\n"
    )
    return path


def test_same_year_lag_is_refused_unless_replication(tmp_path: Path) -> None:
    path = _write(tmp_path, "{spatial_lag: {neighbours: world, years: 0}}")
    with pytest.raises(
        ForecastInputError,
        match=r"spec.yaml:7: indicator 'lagged': transform 'spatial_lag' looks ahead with "
        r"years: 0 \(uses the neighbours' values of year t.*fix: use spatial_lag with years: 1 "
        r"or more or mark the spec 'replication: true'",
    ):
        build_panel(path)
    allowed = build_panel(_write(tmp_path, "{spatial_lag: {neighbours: world, years: 0}}",
                                 extra="replication: true\n"))  # fmt: skip
    assert allowed.frame["lagged"].notna().mean() > 0.9


@pytest.mark.parametrize(
    ("transform", "datasets", "message"),
    [
        ("{spatial_lag: {neighbours: world, how: median}}", "", r"how must be one of \['mean', 'max', 'sum'\], got 'median'"),
        ("{spatial_lag: {neighbours: world, adjacency: bishop}}", "", r"adjacency must be one of \['rook', 'queen'\]"),
        ("{spatial_lag: {how: mean}}", "", r"transform 'spatial_lag' needs the parameter\(s\) \['neighbours'\]"),
        ("{spatial_lag: {neighbours: plain}}", "\n  plain: {path: plain.csv, unit: u, year: y}",
         r"dataset 'plain': not a neighbour source: no row and col, nor neighbour, columns \(columns: unit, year, r\)"),
        ("{spatial_lag: {neighbours: adj}}", "\n  adj: {path: adj.csv, unit: u, neighbour: v}",
         r"no unit of the neighbour table is a unit of the build \(table: 1, build: 'cell_00000_00000'\)"),
    ],
)  # fmt: skip
def test_bad_spatial_lags_name_the_line(tmp_path: Path, transform, datasets, message) -> None:
    pd.DataFrame({"u": [1, 2], "y": [2020, 2020], "r": [0.1, 0.2]}).to_csv(
        tmp_path / "plain.csv", index=False
    )
    pd.DataFrame({"u": [1, 2], "v": [2, 1]}).to_csv(tmp_path / "adj.csv", index=False)
    path = _write(tmp_path, transform, datasets=datasets)
    with pytest.raises(ForecastInputError, match=message):
        build_panel(path)


@pytest.mark.parametrize(
    ("declaration", "message"),
    [
        ("{dataset: nowhere}", r"dataset 'world': unknown registered dataset 'nowhere'; valid: "),
        (
            "{dataset: synthetic-world, options: {n_planets: 3}}",
            r"dataset 'world': unknown option\(s\) \['n_planets'\] of 'synthetic-world'; valid: "
            r"\['seed', 'regime', 'n_countries', 'n_years', 'flavour', 'n_cells', 'dtype'\]",
        ),
        ("{dataset: synthetic-world, path: x.csv}", r"unknown dataset 'world' key\(s\) \['path'\]"),
    ],
)
def test_bad_registered_datasets_name_the_line(tmp_path: Path, declaration, message) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(
        f"name: x\nskeleton: world\ndatasets:\n  world: {declaration}\nindicators:\n"
        "  - {name: a, source: world.repression, kind: structural}\n"
    )
    with pytest.raises(ForecastInputError, match=rf"spec.yaml:4: {message}"):
        load_feature_set(path)


def test_bad_option_values_name_the_spec_line(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(
        "name: x\nskeleton: world\ndatasets:\n"
        "  world: {dataset: synthetic-world, options: {flavour: grid, n_cells: -4}}\n"
        "indicators:\n  - {name: a, source: world.repression, kind: structural}\n"
    )
    with pytest.raises(
        ForecastInputError,
        match=r"spec.yaml:4: dataset 'synthetic-world': synthetic-world: n_cells must be an int "
        r">= 1, got -4",
    ):
        build_panel(path)


def test_neighbour_table_cannot_be_a_value_source(tmp_path: Path) -> None:
    pd.DataFrame({"u": ["cell_00000_00000"], "v": ["cell_00000_00001"]}).to_csv(
        tmp_path / "adj.csv", index=False
    )
    path = tmp_path / "spec.yaml"
    path.write_text(
        SPEC.split("indicators:")[0]
        + "  adj: {path: adj.csv, unit: u, neighbour: v}\nindicators:\n"
        + "  - {name: a, source: adj.v, kind: structural}\n"
    )
    with pytest.raises(
        ForecastInputError, match=r"dataset 'adj' is a neighbour table \(no years\)"
    ):
        build_panel(path)


@pytest.mark.parametrize(
    ("rows", "cols", "message"),
    [
        ([0, 0, 0, 0], [0, 0, 0, 0], r"dataset 'lat': two units share a lattice cell \(e.g. 'b'\)"),
        ([0, 1, 0, 0], [0, 0, 1, 1], r"column 'row': a unit has more than one row \(e.g. 'a'\)"),
        ([0, 0.5, 0, 0], [0, 0, 1, 1], r"column 'row': lattice row values must be whole numbers"),
    ],
)
def test_broken_lattices_are_named(rows, cols, message) -> None:
    table = pd.DataFrame(
        {"unit": ["a", "a", "b", "b"], "year": [2000, 2001] * 2, "row": rows, "col": cols}
    )
    grid = Grid(table["unit"].to_numpy(), table["year"].to_numpy(), table=lambda name: table)
    with pytest.raises(ForecastInputError, match=message):
        get_transform("spatial_lag").func(pd.Series([1.0, 2, 3, 4]), grid, neighbours="lat")
