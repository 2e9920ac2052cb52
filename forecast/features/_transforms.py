"""Registry of indicator transforms: small functions of one country-year series.

A transform takes the current values of an indicator (a float Series aligned with the
build grid, sorted by unit then year) plus a :class:`Grid` giving each row's unit and
year, and returns a new aligned Series. Transforms that read *later* years of the same
unit declare ``looks_ahead=True`` (or, when that depends on their parameters, an ``ahead``
rule, as ``spatial_lag`` with ``years: 0``); the builder refuses them in a feature set
unless the set is marked ``replication: true``. A transform may read a dataset of the spec
(``datasets=("neighbours",)`` names the parameter that holds the dataset's name).

Add one with the decorator::

    @register_transform("winsorize", params={"upper": float})
    def _winsorize(x, grid, *, upper):
        return x.clip(upper=upper)
"""

from __future__ import annotations

import inspect
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from forecast._errors import input_error
from forecast.features import _spatial

__all__ = ["Grid", "Transform", "get_transform", "register_transform", "transform_names"]


@dataclass(frozen=True)
class Grid:
    """Rows of a build: unit codes and years, sorted by (unit, year), unique.

    Attributes
    ----------
    unit : ndarray
        Unit identifier per row (any hashable values).
    year : ndarray of int64
        Calendar year per row.
    resolve : callable
        ``resolve(name) -> Series`` returns an already built indicator (for transforms
        that combine indicators, such as ``interaction``).
    table : callable
        ``table(name) -> DataFrame`` returns a dataset of the spec, keyed by ``unit`` (for
        transforms that read one, such as ``spatial_lag``).
    """

    unit: np.ndarray
    year: np.ndarray
    resolve: Callable[[str], pd.Series] = field(default=lambda name: pd.Series(dtype=float))
    table: Callable[[str], pd.DataFrame] = field(default=lambda name: _no_table(name))

    def __post_init__(self) -> None:
        codes, uniques = pd.factorize(np.asarray(self.unit), sort=False)
        object.__setattr__(self, "_codes", codes.astype(np.int64))
        object.__setattr__(self, "_units", pd.Index(uniques))
        object.__setattr__(self, "_graphs", {})
        years = self.year.astype(np.int64)
        first, last = (int(years.min()), int(years.max())) if len(years) else (0, 0)
        # (unit, year) -> unit * span + (year - first): unique, in unit then year order
        key = codes.astype(np.int64) * (last - first + 1) + (years - first)
        object.__setattr__(self, "_span", (first, last))
        object.__setattr__(self, "_key", key)
        object.__setattr__(self, "_order", np.argsort(key, kind="stable"))

    @property
    def codes(self) -> np.ndarray:
        """Integer unit codes (0..n_units-1) for fast group operations."""
        return self._codes  # type: ignore[attr-defined]

    @property
    def units(self) -> pd.Index:
        """The distinct units, in code order (``units[codes]`` is ``unit``)."""
        return self._units  # type: ignore[attr-defined]

    def neighbours(self, dataset: str, adjacency: str = "queen") -> _spatial.Graph:
        """The neighbour graph declared by ``dataset`` over :attr:`codes` (cached); see
        :func:`forecast.features._spatial.neighbour_graph`."""
        graphs: dict = self._graphs  # type: ignore[attr-defined]
        if (dataset, adjacency) not in graphs:
            graphs[dataset, adjacency] = _spatial.neighbour_graph(
                self.units, self.table(dataset), adjacency, name=dataset
            )
        return graphs[dataset, adjacency]

    @property
    def n_years(self) -> int:
        """Number of distinct calendar years in the grid."""
        return int(np.unique(self.year).size)

    def shift(self, values: np.ndarray, k: int) -> np.ndarray:
        """Value of the same unit ``k`` years earlier (``k < 0``: later); NaN if absent."""
        key = self._key  # type: ignore[attr-defined]
        order = self._order  # type: ignore[attr-defined]
        first, last = self._span  # type: ignore[attr-defined]
        out = np.full(len(key), np.nan)
        if not len(key) or abs(k) > last - first:  # no year of the grid is k years away
            return out
        sorted_key = key[order]
        source_year = self.year.astype(np.int64) - k
        inside = (source_year >= first) & (source_year <= last)
        target = key - k  # the same unit's key k years earlier, where ``inside``
        pos = np.minimum(np.searchsorted(sorted_key, target), len(key) - 1)
        found = inside & (sorted_key[pos] == target)
        out[found] = np.asarray(values, dtype=float)[order[pos[found]]]
        return out

    def window(self, values: np.ndarray, k: int) -> np.ndarray:
        """Matrix ``(n_rows, k)`` of the values at years ``t, t-1, ..., t-k+1``."""
        return np.column_stack([self.shift(values, j) for j in range(k)])


def _no_table(name: str) -> pd.DataFrame:
    raise input_error(
        f"dataset {name!r} is not available to this transform",
        fix="build through build_panel or pass Grid(..., table=...)",
    )


TransformFunc = Callable[..., pd.Series]


@dataclass(frozen=True)
class Transform:
    """A registered transform.

    Attributes
    ----------
    name : str
        Name used in specs.
    func : callable
        ``func(x, grid, **params) -> Series``.
    looks_ahead : bool
        True when the value at ``t`` can depend on data dated after ``t``.
    params : dict
        Parameter name -> expected Python type (``int``, ``float``, ``str``, ``list``,
        ``dict``); parameters without a default in ``func`` are required.
    refs : tuple of str
        Parameters whose value names another indicator (dependencies of the build).
    description : str
        First line of the function's docstring.
    datasets : tuple of str
        Parameters whose value names a dataset of the spec (read by the build).
    ahead : callable or None
        ``ahead(params) -> str or None``: why the transform looks ahead with these
        parameters (None: it does not), for transforms where that depends on them.
    """

    name: str
    func: TransformFunc
    looks_ahead: bool
    params: Mapping[str, type]
    refs: tuple[str, ...]
    description: str
    datasets: tuple[str, ...] = ()
    ahead: Callable[[Mapping[str, Any]], str | None] | None = None

    def look_ahead_reason(self, params: Mapping[str, Any]) -> str | None:
        """Why the value at ``t`` may use data not known at ``t`` with ``params`` (or None)."""
        if self.looks_ahead:
            return "looks ahead (uses data dated after t)"
        return None if self.ahead is None else self.ahead(params)

    @property
    def required(self) -> tuple[str, ...]:
        """Parameters a spec must give: references, and those without a default."""
        signature = inspect.signature(self.func).parameters
        return tuple(
            p
            for p in self.params
            if p in self.refs
            or (p in signature and signature[p].default is inspect.Parameter.empty)
        )


_REGISTRY: dict[str, Transform] = {}


def register_transform(
    name: str,
    *,
    looks_ahead: bool = False,
    params: Mapping[str, type] | None = None,
    refs: tuple[str, ...] = (),
    datasets: tuple[str, ...] = (),
    ahead: Callable[[Mapping[str, Any]], str | None] | None = None,
) -> Callable[[TransformFunc], TransformFunc]:
    """Register ``func(x, grid, **params)`` as transform ``name`` (decorator)."""

    def decorate(func: TransformFunc) -> TransformFunc:
        doc = (func.__doc__ or "").strip().splitlines()
        _REGISTRY[name] = Transform(
            name,
            func,
            looks_ahead,
            dict(params or {}),
            tuple(refs),
            doc[0] if doc else "",
            tuple(datasets),
            ahead,
        )
        return func

    return decorate


def transform_names() -> list[str]:
    """Sorted names of all registered transforms."""
    return sorted(_REGISTRY)


def get_transform(name: str, *, source: str | None = None) -> Transform:
    """Look a transform up by name; an unknown name lists the valid ones."""
    if name not in _REGISTRY:
        raise input_error(
            f"unknown transform {name!r}; valid transforms: {', '.join(transform_names())}",
            source=source,
            fix="use one of the listed names or register your own with @register_transform",
        )
    return _REGISTRY[name]


def _series(values: np.ndarray | pd.Series, like: pd.Series) -> pd.Series:
    return pd.Series(np.asarray(values, dtype=float), index=like.index, name=like.name)


def _group(x: pd.Series, grid: Grid):
    return x.groupby(grid.codes, sort=False)


# --- elementwise --------------------------------------------------------------------------


@register_transform("log2", params={"offset": float})
def _log2(x: pd.Series, grid: Grid, *, offset: float = 0.0) -> pd.Series:
    """log2(x + offset); values <= 0 after the offset become missing."""
    v = x.to_numpy(dtype=float) + offset
    with np.errstate(divide="ignore", invalid="ignore"):
        return _series(np.where(v > 0, np.log2(np.where(v > 0, v, 1.0)), np.nan), x)


@register_transform("sqrt")
def _sqrt(x: pd.Series, grid: Grid) -> pd.Series:
    """Square root; negative values become missing."""
    v = x.to_numpy(dtype=float)
    return _series(np.where(v >= 0, np.sqrt(np.abs(v)), np.nan), x)


@register_transform("power", params={"exponent": float})
def _power(x: pd.Series, grid: Grid, *, exponent: float) -> pd.Series:
    """x ** exponent."""
    return _series(x.to_numpy(dtype=float) ** exponent, x)


@register_transform("scale", params={"factor": float, "offset": float})
def _scale(x: pd.Series, grid: Grid, *, factor: float = 1.0, offset: float = 0.0) -> pd.Series:
    """factor * x + offset."""
    return _series(factor * x.to_numpy(dtype=float) + offset, x)


_OPS: dict[str, Callable[[np.ndarray, float], np.ndarray]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}


@register_transform("threshold", params={"op": str, "value": float})
def _threshold(x: pd.Series, grid: Grid, *, op: str, value: float) -> pd.Series:
    """1 where ``x <op> value`` holds, else 0; missing stays missing (op in > >= < <= == !=)."""
    if op not in _OPS:
        raise input_error(
            f"threshold op {op!r} is not one of {', '.join(_OPS)}",
            fix="use one of the listed comparison operators",
        )
    v = x.to_numpy(dtype=float)
    return _series(np.where(np.isnan(v), np.nan, _OPS[op](v, value).astype(float)), x)


@register_transform("one_hot", params={"values": list})
def _one_hot(x: pd.Series, grid: Grid, *, values: list) -> pd.Series:
    """1 where x is one of ``values`` (a category indicator), else 0; missing stays missing."""
    v = x.to_numpy(dtype=float)
    return _series(np.where(np.isnan(v), np.nan, np.isin(v, values).astype(float)), x)


@register_transform("age", params={})
def _age(x: pd.Series, grid: Grid) -> pd.Series:
    """Years elapsed since the year stored in x: ``year - x`` (e.g. years since independence)."""
    return _series(grid.year - x.to_numpy(dtype=float), x)


@register_transform("fill", params={"value": float})
def _fill(x: pd.Series, grid: Grid, *, value: float) -> pd.Series:
    """Replace missing values by a constant (e.g. 'no recorded event' = 0)."""
    return x.fillna(value)


@register_transform("fill_units", params={"values": dict})
def _fill_units(x: pd.Series, grid: Grid, *, values: dict) -> pd.Series:
    """Replace missing values of the listed units by a per-unit constant ``{unit: value}``."""
    wrong = {
        k: v for k, v in values.items() if isinstance(v, bool) or not isinstance(v, int | float)
    }
    if wrong:
        raise input_error(
            f"fill_units values must be numbers, got {wrong!r}", fix="write {unit: number, ...}"
        )
    like = grid.unit[0] if len(grid.unit) else None
    try:
        by_unit = {k if like is None else type(like)(k): float(v) for k, v in values.items()}
    except (TypeError, ValueError):
        raise input_error(
            f"fill_units keys must be unit ids like {like!r}, got {list(values)!r}",
            fix="write {unit id: number, ...}",
        ) from None
    fill = pd.Series(grid.unit, index=x.index).map(by_unit)
    return x.fillna(fill)


@register_transform(
    "set_value", params={"value": float, "units": list, "first_year": int, "last_year": int}
)
def _set_value(
    x: pd.Series, grid: Grid, *, value: float, units: list, first_year: int, last_year: int
) -> pd.Series:
    """Hand correction: set ``value`` for the listed units in first_year..last_year."""
    mask = np.isin(grid.unit, units) & (grid.year >= first_year) & (grid.year <= last_year)
    out = x.to_numpy(dtype=float).copy()
    out[mask] = value
    return _series(out, x)


@register_transform("interaction", params={"with": str}, refs=("with",))
def _interaction(x: pd.Series, grid: Grid, **params: str) -> pd.Series:
    """Product x * other indicator (named by ``with``)."""
    other = grid.resolve(params["with"])
    return _series(x.to_numpy(dtype=float) * other.to_numpy(dtype=float), x)


@register_transform("maximum", params={"with": str}, refs=("with",))
def _maximum(x: pd.Series, grid: Grid, **params: str) -> pd.Series:
    """Element-wise max(x, other indicator); missing if either is missing."""
    other = grid.resolve(params["with"]).to_numpy(dtype=float)
    return _series(np.maximum(x.to_numpy(dtype=float), other), x)


# --- backward-looking, within unit --------------------------------------------------------


@register_transform("lag", params={"years": int})
def _lag(x: pd.Series, grid: Grid, *, years: int = 1) -> pd.Series:
    """Value of the same unit ``years`` earlier (missing if that year is absent)."""
    if years < 0:
        raise input_error(f"lag years must be >= 0, got {years}", fix="use 'lead' for leads")
    return _series(grid.shift(x.to_numpy(dtype=float), years), x)


@register_transform("change", params={"years": int})
def _change(x: pd.Series, grid: Grid, *, years: int = 1) -> pd.Series:
    """x_t - x_{t-years}."""
    v = x.to_numpy(dtype=float)
    return _series(v - grid.shift(v, years), x)


@register_transform("pct_change", params={"years": int})
def _pct_change(x: pd.Series, grid: Grid, *, years: int = 1) -> pd.Series:
    """Percent growth 100 * (x_t / x_{t-years} - 1)."""
    v = x.to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return _series(100.0 * (v / grid.shift(v, years) - 1.0), x)


def _rolling(x: pd.Series, grid: Grid, window: int, how: Callable) -> pd.Series:
    if window < 1:
        raise input_error(f"rolling window must be >= 1, got {window}", fix="use window: 1 or more")
    mat = grid.window(x.to_numpy(dtype=float), window)
    any_present = (~np.isnan(mat)).any(axis=1)
    out = np.full(len(mat), np.nan)
    if any_present.any():
        out[any_present] = how(mat[any_present], axis=1)
    return _series(out, x)


def _nanmax(m: np.ndarray, axis: int) -> np.ndarray:
    return np.nanmax(np.where(np.isnan(m), -np.inf, m), axis=axis)


@register_transform("rolling_sum", params={"window": int})
def _rolling_sum(x: pd.Series, grid: Grid, *, window: int) -> pd.Series:
    """Sum over years t-window+1..t of the unit (missing years skipped; all missing -> NaN)."""
    return _rolling(x, grid, window, np.nansum)


@register_transform("rolling_max", params={"window": int})
def _rolling_max(x: pd.Series, grid: Grid, *, window: int) -> pd.Series:
    """Max over years t-window+1..t of the unit (missing years skipped; all missing -> NaN)."""
    return _rolling(x, grid, window, _nanmax)


@register_transform("rolling_mean", params={"window": int})
def _rolling_mean(x: pd.Series, grid: Grid, *, window: int) -> pd.Series:
    """Mean over years t-window+1..t of the unit (missing years skipped; all missing -> NaN)."""
    return _rolling(x, grid, window, np.nanmean)


@register_transform("cumulative_sum")
def _cumsum(x: pd.Series, grid: Grid) -> pd.Series:
    """Running sum within unit through year t (missing counts as 0)."""
    return _group(x.fillna(0.0), grid).cumsum()


@register_transform("ever")
def _ever(x: pd.Series, grid: Grid) -> pd.Series:
    """1 from the first year with x > 0 onward within unit, else 0 (missing counts as 0)."""
    return _group((x.fillna(0.0) > 0).astype(float), grid).cummax()


@register_transform("years_since", params={"never": float})
def _years_since(x: pd.Series, grid: Grid, *, never: float = np.nan) -> pd.Series:
    """Years since the last year with x > 0 (0 in such a year); ``never`` before any event."""
    year = pd.Series(np.where(x.fillna(0.0).to_numpy() > 0, grid.year, np.nan), index=x.index)
    last = _group(year, grid).ffill()
    return _series(np.where(last.isna(), never, grid.year - last.to_numpy()), x)


@register_transform("carry_forward", params={"max_years": int})
def _carry_forward(x: pd.Series, grid: Grid, *, max_years: int | None = None) -> pd.Series:
    """Fill a missing value with the unit's last observed earlier value (at most max_years)."""
    return _group(x, grid).ffill(limit=max_years)


def _ols_fill(y: np.ndarray, z: np.ndarray, fit_mask: np.ndarray) -> tuple[float, float] | None:
    ok = fit_mask & np.isfinite(y) & np.isfinite(z)
    if ok.sum() < 3:
        return None
    zc = z[ok] - z[ok].mean()
    var = float(zc @ zc)
    if var == 0.0:
        return None
    slope = float(zc @ (y[ok] - y[ok].mean())) / var
    return float(y[ok].mean() - slope * z[ok].mean()), slope


@register_transform("impute_regression_past", params={"predictor": str}, refs=("predictor",))
def _impute_past(x: pd.Series, grid: Grid, *, predictor: str) -> pd.Series:
    """Fill gaps by OLS on another indicator, refitted each year t on rows dated <= t only."""
    y = x.to_numpy(dtype=float)
    z = grid.resolve(predictor).to_numpy(dtype=float)
    out = y.copy()
    for t in np.unique(grid.year[np.isnan(y) & ~np.isnan(z)]):
        coef = _ols_fill(y, z, grid.year <= t)
        if coef is not None:
            rows = (grid.year == t) & np.isnan(y) & ~np.isnan(z)
            out[rows] = coef[0] + coef[1] * z[rows]
    return _series(out, x)


# --- across units -------------------------------------------------------------------------


def _same_year(params: Mapping[str, Any]) -> str | None:
    if params.get("years", 1) == 0:
        return (
            "looks ahead with years: 0 (uses the neighbours' values of year t, "
            "which a forecast made at t does not have)"
        )
    return None


@register_transform(
    "spatial_lag",
    params={"neighbours": str, "adjacency": str, "how": str, "years": int},
    datasets=("neighbours",),
    ahead=_same_year,
)
def _spatial_lag(
    x: pd.Series,
    grid: Grid,
    *,
    neighbours: str,
    adjacency: str = "queen",
    how: str = "mean",
    years: int = 1,
) -> pd.Series:
    """Mean, max or sum of x over the unit's neighbours ``years`` earlier (missing skipped).

    ``neighbours`` names a dataset of the spec: a lattice (``row``/``col`` columns; cells
    touching by an edge for ``adjacency: rook``, by an edge or a corner for ``queen``) or a
    neighbour table (``unit``, ``neighbour`` pairs). NaN when no neighbour has a value.
    ``years: 0`` (the neighbours' same-year values) needs ``replication: true``.
    """
    if years < 0:
        raise input_error(
            f"spatial_lag years must be >= 0, got {years}", fix="use years: 1 (the year before)"
        )
    graph = grid.neighbours(neighbours, adjacency)
    values = _spatial.spatial_aggregate(
        x.to_numpy(dtype=float), grid.codes, grid.year, graph, how=how, lag=years
    )
    return _series(values, x)


# --- look-ahead (replication of upstream steps, and outcomes) ------------------------------


@register_transform(
    "impute_regression", looks_ahead=True, params={"predictor": str}, refs=("predictor",)
)
def _impute_all(x: pd.Series, grid: Grid, *, predictor: str) -> pd.Series:
    """LOOKS AHEAD: fill gaps by one OLS on another indicator fitted on all years."""
    y = x.to_numpy(dtype=float)
    z = grid.resolve(predictor).to_numpy(dtype=float)
    coef = _ols_fill(y, z, np.ones(len(y), dtype=bool))
    out = y.copy()
    if coef is not None:
        rows = np.isnan(y) & ~np.isnan(z)
        out[rows] = coef[0] + coef[1] * z[rows]
    return _series(out, x)


@register_transform("backfill", looks_ahead=True)
def _backfill(x: pd.Series, grid: Grid) -> pd.Series:
    """LOOKS AHEAD: fill a missing value with the unit's next observed later value."""
    return _group(x, grid).bfill()


@register_transform("lead", looks_ahead=True, params={"years": int})
def _lead(x: pd.Series, grid: Grid, *, years: int = 1) -> pd.Series:
    """LOOKS AHEAD: value of the same unit ``years`` later (outcomes only, or replication)."""
    return _series(grid.shift(x.to_numpy(dtype=float), -years), x)


@register_transform("onset_within", looks_ahead=True, params={"horizon": int})
def _onset_within(x: pd.Series, grid: Grid, *, horizon: int) -> pd.Series:
    """LOOKS AHEAD (outcome): onset in t+1..t+horizon, missing when the window is censored."""
    from forecast.outcomes import onset_within

    frame = pd.DataFrame({"unit": grid.codes, "year": grid.year, "onset": x.to_numpy()})
    return _series(onset_within(frame, horizon, onset="onset").to_numpy(), x)
