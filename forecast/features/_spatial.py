"""Neighbour graphs and spatial aggregation for the ``spatial_lag`` transform.

A graph is declared by a dataset of the spec, in one of two forms:

- a lattice: a table with ``unit``, ``row`` and ``col`` columns (one cell per unit, e.g.
  the grid flavour of ``synthetic-world``); neighbours touch by an edge (``rook``, up to 4)
  or by an edge or a corner (``queen``, up to 8);
- a neighbour table: ``unit`` and ``neighbour`` columns, one row per pair ("``neighbour``
  is a neighbour of ``unit``"; list both directions for a symmetric graph).

Graphs are compressed sparse rows over the build's unit codes (:attr:`Grid.codes`):
the neighbours of unit ``i`` are ``indices[indptr[i]:indptr[i + 1]]``. Everything is
vectorised over units; aggregation loops over years only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecast._errors import input_error

__all__ = ["ADJACENCIES", "AGGREGATES", "neighbour_graph", "spatial_aggregate"]

_ROOK = ((-1, 0), (1, 0), (0, -1), (0, 1))
ADJACENCIES: dict[str, tuple[tuple[int, int], ...]] = {
    "rook": _ROOK,
    "queen": (*_ROOK, (-1, -1), (-1, 1), (1, -1), (1, 1)),
}
"""Lattice offsets (row, col) of each adjacency."""
AGGREGATES: tuple[str, ...] = ("mean", "max", "sum")

Graph = tuple[np.ndarray, np.ndarray]


def neighbour_graph(units: pd.Index, table: pd.DataFrame, adjacency: str, *, name: str) -> Graph:
    """CSR graph ``(indptr, indices)`` over the positions of ``units`` (the build's units).

    ``table`` is a lattice (``unit``, ``row``, ``col``) or a neighbour table (``unit``,
    ``neighbour``); ``name`` is its dataset name in errors. Units of the table that are not
    in the build are ignored; a build unit the table does not list has no neighbours.
    """
    if "neighbour" in table.columns:
        src = units.get_indexer(pd.Index(table["unit"]))
        dst = units.get_indexer(pd.Index(table["neighbour"]))
        if len(table) and not (src >= 0).any():
            raise input_error(
                f"no unit of the neighbour table is a unit of the build (table: "
                f"{_plain(table['unit'].iloc[0])!r}, build: {_plain(units[0])!r})",
                source=f"dataset {name!r}",
                fix="use the panel's unit ids (same spelling and type) in the neighbour table",
            )
    elif {"row", "col"} <= set(table.columns):
        src, dst = _lattice_pairs(units, table, adjacency, name)
    else:
        raise input_error(
            f"not a neighbour source: no row and col, nor neighbour, columns (columns: "
            f"{', '.join(map(str, table.columns[:12]))})",
            source=f"dataset {name!r}",
            fix="name a dataset with row and col columns (a lattice) or a neighbour table "
            "declared as {path: ..., unit: ..., neighbour: ...}",
        )
    keep = (src >= 0) & (dst >= 0) & (src != dst)
    pairs = np.sort(src[keep].astype(np.int64) * len(units) + dst[keep])
    pairs = pairs[np.r_[True, pairs[1:] != pairs[:-1]]]  # a pair listed twice counts once
    src, dst = pairs // len(units), pairs % len(units)  # sorted by src, then dst
    indptr = np.zeros(len(units) + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=len(units)), out=indptr[1:])
    return indptr, dst


def _plain(value: object) -> object:
    """A numpy scalar as the Python value it holds (for messages)."""
    return value.item() if isinstance(value, np.generic) else value


def _lattice_pairs(
    units: pd.Index, table: pd.DataFrame, adjacency: str, name: str
) -> tuple[np.ndarray, np.ndarray]:
    """(unit, neighbour) positions in ``units`` of the lattice cells that touch."""
    if adjacency not in ADJACENCIES:
        raise input_error(
            f"adjacency must be one of {list(ADJACENCIES)}, got {adjacency!r}",
            fix="write adjacency: queen (edges and corners) or rook (edges only)",
        )
    codes, uniques = pd.factorize(table["unit"], sort=False)
    cells = {}
    for axis in ("row", "col"):
        values = pd.to_numeric(table[axis], errors="coerce").to_numpy(dtype=float)
        if not np.all(np.isfinite(values) & (values == np.round(values))):
            raise input_error(
                f"lattice {axis} values must be whole numbers",
                source=f"dataset {name!r}",
                column=axis,
                fix="give every unit integer row and col coordinates",
            )
        one = np.empty(len(uniques), dtype=np.int64)
        one[codes] = values.astype(np.int64)  # any of the unit's rows: checked next
        if np.any(one[codes] != values):
            raise input_error(
                f"a unit has more than one {axis} "
                f"(e.g. {_plain(uniques[codes[one[codes] != values][0]])!r})",
                source=f"dataset {name!r}",
                column=axis,
                fix="give each unit one lattice cell in every year",
            )
        cells[axis] = one - one.min() + 1  # a margin of 1: offsets never wrap to a next row
    width = int(cells["col"].max()) + 2
    key = cells["row"] * width + cells["col"]
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    shared = sorted_key[1:] == sorted_key[:-1]
    if shared.any():
        raise input_error(
            f"two units share a lattice cell (e.g. {_plain(uniques[order[1:][shared][0]])!r})",
            source=f"dataset {name!r}",
            fix="give every unit its own (row, col)",
        )
    position = units.get_indexer(pd.Index(uniques))
    src, dst = [], []
    for dr, dc in ADJACENCIES[adjacency]:
        target = key + dr * width + dc
        at = np.minimum(np.searchsorted(sorted_key, target), len(key) - 1)
        found = sorted_key[at] == target
        src.append(position[found])
        dst.append(position[order[at[found]]])
    return np.concatenate(src), np.concatenate(dst)


def spatial_aggregate(
    values: np.ndarray,
    codes: np.ndarray,
    years: np.ndarray,
    graph: Graph,
    *,
    how: str,
    lag: int,
) -> np.ndarray:
    """For each row (unit ``i``, year ``t``): ``how`` over the neighbours ``j`` of ``i`` of
    ``values`` at ``(j, t - lag)``, skipping missing values; NaN without a known neighbour.

    ``codes`` and ``years`` give each row's unit position and year (unique pairs).
    """
    if how not in AGGREGATES:
        raise input_error(
            f"how must be one of {list(AGGREGATES)}, got {how!r}",
            fix="write how: mean, max or sum",
        )
    indptr, indices = graph
    n_units = len(indptr) - 1
    out = np.full(len(values), np.nan)
    if not len(values) or not len(indices):
        return out
    first, span = int(years.min()), int(years.max() - years.min()) + 1
    slot = years.astype(np.int64) - first
    dense = np.full((span, n_units), np.nan)  # year-major: one year is contiguous
    dense[slot, codes] = values
    lagged = np.full((span, n_units), np.nan)
    has = np.diff(indptr) > 0
    starts = indptr[:-1][has]
    for t in range(lag, span):
        near = dense[t - lag][indices]
        known = ~np.isnan(near)
        count = np.add.reduceat(known, starts, dtype=np.int64)
        if how == "max":
            agg = np.fmax.reduceat(near, starts)
        else:
            agg = np.add.reduceat(np.where(known, near, 0.0), starts)
            if how == "mean":
                agg = agg / np.maximum(count, 1)
        lagged[t, has] = np.where(count > 0, agg, np.nan)
    out[:] = lagged[slot, codes]
    return out
