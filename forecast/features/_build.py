"""Assemble a country-year :class:`~forecast.panel.Panel` from a validated feature set.

Order of work: refuse look-ahead transforms (unless ``replication: true``), order the
indicators by their dependencies (a cycle is an error), read and check the sources (only
the columns the spec reads), build the grid from the skeleton dataset, then compute every
indicator on the grid: source value at ``t - publication_lag`` -> transform chain ->
missing-data policy. Transforms compute in float64; an indicator whose source column (or
source indicator) is float32 is stored as float32, so a lean source gives a lean panel.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pandas as pd

from forecast._errors import ForecastInputError, input_error
from forecast.features._ewp import episode_variables
from forecast.features._sources import (
    BUILTIN,
    data_root,
    load_builtin,
    load_neighbour_table,
    load_registered,
    load_user_table,
    project,
)
from forecast.features._spec import FeatureSet, Indicator
from forecast.features._transforms import Grid, get_transform
from forecast.panel import Panel

__all__ = [
    "build_from_tables",
    "build_panel",
    "check_look_ahead",
    "check_outcome_windows",
    "dependency_order",
    "load_tables",
]

GRID = "grid"
"""Pseudo-dataset with columns ``unit`` and ``year`` of the build grid itself."""


def _own_look_ahead(ind: Indicator) -> str | None:
    """Why ``ind``'s own transforms read later years (the first reason), or None."""
    for step in ind.transforms:
        reason = get_transform(step.name).look_ahead_reason(step.params)
        if reason:
            return f"transform {step.name!r} {reason}"
    return None


def check_outcome_windows(fs: FeatureSet) -> None:
    """Refuse an outcome that looks ahead (a window of onsets, e.g. ``onset_within``) without
    ``window: [first, last]``: the panel must know it is a window, never an annual event that
    an experiment may window again (:func:`forecast.outcomes.training_target`)."""
    for ind in fs.by_role("outcome"):
        reason = _own_look_ahead(ind)
        if reason and ind.window is None:
            raise input_error(
                f"outcome {ind.name!r} is a window (its {reason}) but declares none",
                source=ind.where(None),
                fix="add window: [first, last] (the years ahead it covers, e.g. [1, 2] for "
                "onset_within: {horizon: 2})",
            )


def check_look_ahead(fs: FeatureSet) -> None:
    """Refuse features/helpers that read later years unless ``replication``: through their
    own transforms, or through an indicator they read (e.g. an outcome window) that does."""
    if fs.replication:
        return
    by_name = {i.name: i for i in fs.indicators}
    for ind in fs.indicators:
        if ind.role == "outcome":
            continue
        seen, stack = {ind.name}, list(ind.depends_on())
        while stack:  # every indicator it reads, directly or through others
            name = stack.pop()
            dep = by_name.get(name)
            if dep is None or name in seen:
                continue
            seen.add(name)
            reason = _own_look_ahead(dep)
            if reason:
                raise input_error(
                    f"indicator {ind.name!r} reads {name!r}, whose {reason}",
                    source=ind.where(None),
                    fix=f"build {ind.name!r} from data known at t (e.g. the annual onset, "
                    "not the outcome window) or mark the spec 'replication: true' for a "
                    "faithful upstream rebuild that is never used to forecast",
                )
            stack.extend(dep.depends_on())
        for step in ind.transforms:
            transform = get_transform(step.name)
            reason = transform.look_ahead_reason(step.params)
            if reason:
                instead = (
                    "a backward-looking transform (e.g. carry_forward, impute_regression_past)"
                    if transform.looks_ahead
                    else f"{step.name} with years: 1 or more"
                )
                raise input_error(
                    f"indicator {ind.name!r}: transform {step.name!r} {reason}",
                    source=ind.where(step.line),
                    fix=f"use {instead} or mark the spec 'replication: true' for a "
                    "faithful upstream rebuild that is never used to forecast",
                )


def dependency_order(fs: FeatureSet) -> list[Indicator]:
    """Indicators in an order where each one's dependencies come first; cycles are errors."""
    by_name = {i.name: i for i in fs.indicators}
    for ind in fs.indicators:
        for dep in ind.depends_on():
            if dep not in by_name:
                raise input_error(
                    f"indicator {ind.name!r} refers to unknown indicator {dep!r}",
                    source=ind.where(),
                    fix=f"define {dep!r} (role: helper if it is not a feature)",
                )
    done: dict[str, bool] = {}
    order: list[Indicator] = []

    def visit(name: str, path: list[str]) -> None:
        if done.get(name):
            return
        if name in path:
            cycle = " -> ".join([*path[path.index(name) :], name])
            raise input_error(
                f"cyclic spec: {cycle}",
                source=by_name[name].where(),
                fix="break the cycle; an indicator cannot depend on itself",
            )
        for dep in by_name[name].depends_on():
            visit(dep, [*path, name])
        done[name] = True
        order.append(by_name[name])

    for ind in fs.indicators:
        visit(ind.name, [])
    return order


def _needed_columns(fs: FeatureSet) -> dict[str, set[str]]:
    """Dataset -> the value columns the spec reads from it (``row``/``col`` of a lattice)."""
    needed: dict[str, set[str]] = {fs.skeleton: set()}
    for ind in fs.indicators:
        if ind.source.dataset:
            needed.setdefault(ind.source.dataset, set()).add(str(ind.source.column))
        for step in ind.transforms:
            for param in get_transform(step.name).datasets:
                if param in step.params:
                    needed.setdefault(str(step.params[param]), set()).update({"row", "col"})
    needed.pop(GRID, None)
    return needed


def _used_datasets(fs: FeatureSet) -> list[str]:
    return sorted(_needed_columns(fs))


def load_tables(fs: FeatureSet, data_dir: str | Path | None = None) -> dict[str, pd.DataFrame]:
    """Read every dataset the spec uses (built-in or declared) into tidy tables.

    Each table keeps its keys and only the columns the spec reads (event lists and
    neighbour tables are kept whole).
    """
    declared = {d.name: d for d in fs.datasets}
    needed = _needed_columns(fs)
    root: Path | None = None
    tables = {}
    for name in _used_datasets(fs):
        decl = declared.get(name)
        where = fs.where(decl.line) if decl else None
        if decl is not None and decl.kind == "dataset":
            tables[name] = load_registered(
                str(decl.dataset), decl.options, where=str(where), columns=needed[name]
            )
        elif decl is not None and decl.kind == "neighbours":
            tables[name] = load_neighbour_table(
                decl.path,  # type: ignore[arg-type]  # a neighbour table has a path
                decl.unit,
                str(decl.neighbour),
                where=str(where),
            )
        elif decl is not None:
            tables[name] = load_user_table(
                decl.path,  # type: ignore[arg-type]  # a file table has a path
                decl.unit,
                str(decl.year),
                where=str(where),
                columns=needed[name],
            )
        else:
            where = next((w for n, w in _readers(fs) if n == name), fs.where(1))
            root = root or data_root(data_dir)
            table = load_builtin(name, root, where=where)
            events = name in BUILTIN and BUILTIN[name].events  # read whole: columns derive
            tables[name] = table if events else project(table, needed[name], ("unit", "year"))
    return tables


def _readers(fs: FeatureSet) -> list[tuple[str, str]]:
    """(dataset, ``file:line`` of an indicator or transform step that reads it)."""
    out = []
    for ind in fs.indicators:
        if ind.source.dataset:
            out.append((ind.source.dataset, ind.where()))
        for step in ind.transforms:
            for param in get_transform(step.name).datasets:
                if param in step.params:
                    out.append((str(step.params[param]), ind.where(step.line)))
    return out


def _neighbour_tables(fs: FeatureSet) -> set[str]:
    return {d.name for d in fs.datasets if d.kind == "neighbours"}


def _label(fs: FeatureSet, name: str) -> str:
    """How errors name dataset ``name``: with its file when the spec declares one."""
    decl = {d.name: d for d in fs.datasets}.get(name)
    if decl is None or decl.path is None:
        return f"dataset {name!r}" + (f" ({decl.dataset})" if decl is not None else "")
    return f"{decl.path}: dataset {name!r}"


def _check_keys(table: pd.DataFrame, name: str) -> None:
    """Unique (unit, year) rows in the table ``name`` (its label in errors)."""
    dup = table.duplicated(["unit", "year"], keep=False)
    if dup.any():
        rows = [
            f"{u}/{y}" for u, y in table.loc[dup, ["unit", "year"]].head(5).itertuples(index=False)
        ]
        raise input_error(
            f"duplicate source rows for (unit, year) ({int(dup.sum())} rows)",
            source=name,
            rows=rows,
            fix="keep one row per unit and year in the source",
        )


@functools.lru_cache(maxsize=1)
def _state_codes() -> frozenset[int]:
    """COW codes, plus GW codes for historical states the shipped COW table omits (spells
    ending before 1946, e.g. Papal States 327, Korea 730)."""
    from forecast.statesystem import StateSystem

    return frozenset(StateSystem.load().table["code"].astype(int))


def _check_units(table: pd.DataFrame, name: str) -> None:
    known = _state_codes()
    unknown = ~table["unit"].isin(known)
    if unknown.any():
        rows = [
            f"{u}/{y}"
            for u, y in table.loc[unknown, ["unit", "year"]].head(5).itertuples(index=False)
        ]
        raise input_error(
            f"{int(unknown.sum())} rows have unit codes that are not state codes "
            f"of the COW (or GW) state system",
            source=name,
            rows=rows,
            fix="recode the units to COW codes or drop them",
        )


def _same_keys(table: pd.DataFrame, grid: pd.DataFrame) -> bool:
    """True when ``table`` has the grid's (unit, year) rows in the grid's order."""
    if len(table) != len(grid) or not np.array_equal(
        table["year"].to_numpy(), grid["year"].to_numpy()
    ):
        return False
    a, b = table["unit"], grid["unit"]
    if (
        isinstance(a.dtype, pd.CategoricalDtype)
        and isinstance(b.dtype, pd.CategoricalDtype)
        and a.cat.categories.equals(b.cat.categories)
    ):
        return np.array_equal(a.cat.codes.to_numpy(), b.cat.codes.to_numpy())
    try:
        return bool(np.array_equal(a.to_numpy(), b.to_numpy()))
    except TypeError:
        return False


def _positions(table: pd.DataFrame, grid: pd.DataFrame) -> np.ndarray | None:
    """Row of ``table`` holding each grid (unit, year), -1 where absent; None when the
    table's rows are the grid's (the skeleton itself)."""
    if _same_keys(table, grid):
        return None
    keys = pd.MultiIndex.from_arrays([table["unit"], table["year"]])
    return keys.get_indexer(pd.MultiIndex.from_arrays([grid["unit"], grid["year"]]))


def _align(table: pd.DataFrame, column: str, pos: np.ndarray | None) -> pd.Series:
    values = table[column].to_numpy()
    if pos is None:  # the same rows: no look-up
        return pd.Series(values.astype(float) if values.dtype.kind in "fiub" else values)
    if len(values) == 0:  # a source with no rows (e.g. every row dated after t was dropped)
        return pd.Series(np.full(len(pos), np.nan))
    if values.dtype.kind in "fiub":
        out = np.where(pos >= 0, values[np.maximum(pos, 0)].astype(float), np.nan)
    else:
        out = np.where(pos >= 0, values[np.maximum(pos, 0)], None)  # type: ignore[assignment]
    return pd.Series(out)


def _prepare(fs: FeatureSet, tables: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, dict]:
    if fs.skeleton not in tables:
        raise input_error(
            f"skeleton dataset {fs.skeleton!r} was not loaded",
            source=fs.where(1),
            fix="name a dataset the spec reads",
        )
    events = {
        n
        for n in tables
        if n in BUILTIN and BUILTIN[n].events and n not in {d.name for d in fs.datasets}
    }
    if fs.skeleton in events:
        raise input_error(
            f"skeleton {fs.skeleton!r} is an event list, not a unit-year table",
            source=fs.where(1),
            fix="use a country-year dataset as skeleton",
        )
    neighbour_tables = _neighbour_tables(fs)
    if fs.skeleton in neighbour_tables:
        raise input_error(
            f"skeleton {fs.skeleton!r} is a neighbour table, not a unit-year table",
            source=fs.where(1),
            fix="use a unit-year dataset as skeleton",
        )
    skeleton = tables[fs.skeleton]
    _check_keys(skeleton, _label(fs, fs.skeleton))
    grid = skeleton[["unit", "year"]]
    if fs.last_year is not None:
        grid = grid[grid["year"] <= fs.last_year]
    if grid.empty:
        raise input_error(
            f"the skeleton dataset {fs.skeleton!r} has no rows"
            + (f" up to last_year {fs.last_year}" if fs.last_year is not None else ""),
            source=str(fs.path),
            fix="check last_year against the years of the skeleton",
        )
    grid = grid.sort_values(["unit", "year"], kind="stable").reset_index(drop=True)
    ready = {}
    for name, table in tables.items():
        if name in neighbour_tables:
            ready[name] = table  # (unit, neighbour) pairs: read by spatial_lag only
            continue
        if name in events:
            table = episode_variables(table, grid, source=f"dataset {name!r}")
        elif name != fs.skeleton:  # checked above
            _check_keys(table, _label(fs, name))
        if fs.unit_system == "cow":
            _check_units(table, _label(fs, name))
        ready[name] = table
    ready[GRID] = grid.assign(unit_value=grid["unit"])
    return grid, ready


def _lookup(ready: dict[str, pd.DataFrame], grid: pd.DataFrame):
    cache: dict[str, np.ndarray | None] = {}

    def align(dataset: str, column: str) -> pd.Series:
        if dataset not in cache:
            cache[dataset] = _positions(ready[dataset], grid)
        return _align(ready[dataset], column, cache[dataset]).set_axis(grid.index)

    return align


def _check_source(fs: FeatureSet, ind: Indicator, ready: dict[str, pd.DataFrame]) -> None:
    dataset, column = ind.source.dataset, ind.source.column
    if dataset not in ready:
        raise input_error(
            f"indicator {ind.name!r}: unknown dataset {dataset!r}; valid "
            f"datasets: {', '.join(sorted(set(BUILTIN) | set(ready)))}",
            source=ind.where(),
            fix="use a listed dataset or declare it",
        )
    if dataset in _neighbour_tables(fs):
        raise input_error(
            f"indicator {ind.name!r}: dataset {dataset!r} is a neighbour table (no years)",
            source=ind.where(),
            fix=f"read values from a unit-year dataset; use {dataset!r} as the neighbours "
            "of a spatial_lag",
        )
    if column not in ready[dataset].columns:
        cols = [c for c in ready[dataset].columns if c not in ("unit",)]
        raise input_error(
            f"indicator {ind.name!r}: dataset {dataset!r} has no column "
            f"{column!r} (columns: {', '.join(map(str, cols[:25]))})",
            source=ind.where(),
            fix="correct the column name",
        )


def _compute(
    fs: FeatureSet,
    ind: Indicator,
    grid: pd.DataFrame,
    ready: dict,
    built: dict[str, pd.Series],
    g: Grid,
    align,
) -> pd.Series:
    if ind.source.indicator:
        values = built[ind.source.indicator].copy()
        lean = values.dtype == np.float32
    else:
        _check_source(fs, ind, ready)
        values = align(ind.source.dataset, ind.source.column)
        lean = ready[ind.source.dataset][ind.source.column].dtype == np.float32
    if ind.role == "label" and not ind.publication_lag:
        return values  # kept as given (text allowed)
    numeric = pd.to_numeric(values, errors="coerce")
    bad = (
        numeric.isna() & values.notna()
        if not pd.api.types.is_numeric_dtype(values.dtype)
        else pd.Series(False, index=values.index)
    )
    if bad.any():
        rows = [
            f"{u}/{y}" for u, y in grid.loc[bad, ["unit", "year"]].head(5).itertuples(index=False)
        ]
        raise input_error(
            f"indicator {ind.name!r}: source values are not numeric",
            source=f"{ind.where()} dataset {ind.source.dataset!r}",
            column=ind.source.column,
            rows=rows,
            fix="recode as numbers, or use role: label without publication_lag",
        )
    values = numeric.astype(float).rename(ind.name)
    if ind.publication_lag:
        values = pd.Series(
            g.shift(values.to_numpy(), ind.publication_lag), index=grid.index, name=ind.name
        )
    if ind.role == "label":
        return values
    for step in ind.transforms:
        if "window" in step.params and step.params["window"] > g.n_years:
            raise input_error(
                f"indicator {ind.name!r}: {step.name} window "
                f"{step.params['window']} is longer than the {g.n_years} years "
                f"of data",
                source=ind.where(step.line),
                fix=f"use a window of at most {g.n_years} years",
            )
        transform = get_transform(step.name, source=ind.where(step.line))
        try:
            values = transform.func(values, g, **step.params)
        except TypeError as error:
            raise input_error(
                f"transform {step.name!r} of {ind.name!r}: {error}",
                source=ind.where(step.line),
                fix=f"parameters: {sorted(transform.params)}",
            ) from error
        except ForecastInputError as error:  # name the spec line of the step
            raise ForecastInputError(
                f"{ind.where(step.line)}: indicator {ind.name!r}: transform {step.name!r}: {error}"
            ) from error
        values = values.rename(ind.name)
    if ind.missing.policy == "carry_forward":
        values = values.groupby(g.codes, sort=False).ffill(limit=ind.missing.max_years)
    return values.astype(np.float32) if lean and ind.role != "outcome" else values


def _table(ready: dict[str, pd.DataFrame], name: str) -> pd.DataFrame:
    """Dataset ``name`` of the build, for transforms that read one (``spatial_lag``)."""
    if name not in ready:
        raise input_error(
            f"dataset {name!r} was not loaded; loaded: {sorted(ready)}",
            fix="name a dataset of the spec (declared, or built in)",
        )
    return ready[name]


def build_from_tables(fs: FeatureSet, tables: dict[str, pd.DataFrame]) -> Panel:
    """Build the panel of ``fs`` from already loaded source tables (see :func:`load_tables`).

    Used directly by tests that perturb sources; :func:`build_panel` is the public entry.
    """
    check_look_ahead(fs)
    check_outcome_windows(fs)
    order = dependency_order(fs)
    grid, ready = _prepare(fs, tables)
    built: dict[str, pd.Series] = {}
    g = Grid(
        grid["unit"].to_numpy(),
        grid["year"].to_numpy(dtype=np.int64),
        resolve=lambda name: built[name],
        table=lambda name: _table(ready, name),
    )
    align = _lookup(ready, grid)
    for ind in order:
        built[ind.name] = _compute(fs, ind, grid, ready, built, g, align)
    keep = np.ones(len(grid), dtype=bool)
    if fs.first_year is not None:
        keep &= grid["year"].to_numpy() >= fs.first_year
    labels = [i.name for i in fs.by_role("label")]
    columns = {fs.unit: grid["unit"], fs.year: grid["year"]}
    columns.update({name: built[name] for name in labels + fs.features + fs.outcomes})
    frame = pd.DataFrame(columns, copy=False)  # copy-on-write: the built arrays, not copies
    if not keep.all():
        frame = frame.loc[keep].reset_index(drop=True)
    return Panel.from_frame(
        frame,
        unit=fs.unit,
        year=fs.year,
        features=fs.features,
        outcomes=fs.outcomes,
        kinds=fs.kinds,
        name=fs.name,
        extra=labels,
        unit_system=fs.unit_system,
        unit_label=fs.unit_label,
        unit_noun=fs.unit_noun,
        windows=fs.windows,
        source=f"{fs.path} (the panel it builds)",
    )


def build_panel(
    feature_set: FeatureSet | str | Path, *, data_dir: str | Path | None = None
) -> Panel:
    """Build the country-year panel of a feature set.

    Parameters
    ----------
    feature_set : FeatureSet, str or Path
        A loaded spec, a name from :func:`feature_set_names` or a path to a YAML file.
    data_dir : str or Path, optional
        Folder containing ``ewp-2025/``; default ``$FORECAST_DATA_DIR`` or the user cache.

    Returns
    -------
    Panel
        Features with their kinds filled, outcomes (0/1/missing), labels as ``extra``.
    """
    from forecast.features import load_feature_set

    fs = feature_set if isinstance(feature_set, FeatureSet) else load_feature_set(feature_set)
    check_look_ahead(fs)
    dependency_order(fs)
    return build_from_tables(fs, load_tables(fs, data_dir))
