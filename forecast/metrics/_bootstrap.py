"""Cluster bootstrap confidence intervals for metrics and paired model differences.

Resampling is expressed as weights: a replicate that draws country c twice
gives every row of c weight 2, and a country not drawn weight 0. All
replicates form one weight matrix ``W`` (n_boot x n_rows) built with
``np.bincount``; metrics with a vectorised form (AUC, AP, Brier, log loss,
O/E) score every replicate in one pass, others loop over the rows of ``W``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from forecast._errors import ForecastInputError, input_error
from forecast._validation import check_outcomes_probabilities
from forecast.metrics._registry import Metric, get_metric

__all__ = ["BootstrapResult", "PairedDifference", "bootstrap_metric", "paired_difference"]


@dataclass(frozen=True)
class BootstrapResult:
    """Point estimate and percentile bootstrap interval of one metric."""

    metric: str
    estimate: float
    lower: float
    upper: float
    level: float
    n_boot: int
    n_failed: int
    replicates: NDArray[np.float64] = field(repr=False)


@dataclass(frozen=True)
class PairedDifference:
    """Difference ``metric(A) - metric(B)`` on the same rows, with CI and p-value."""

    metric: str
    estimate: float
    lower: float
    upper: float
    level: float
    p_value: float
    estimate_a: float
    estimate_b: float
    n_boot: int
    n_failed: int
    replicates: NDArray[np.float64] = field(repr=False)


def _codes(labels: ArrayLike | None, n: int, name: str) -> NDArray[np.intp]:
    if labels is None:
        return np.arange(n, dtype=np.intp)
    arr = np.asarray(labels)
    if arr.shape != (n,):
        raise input_error(
            f"bootstrap: {name!r} must have one label per row ({n}), got shape {arr.shape}",
            fix=f"pass {name} aligned with y_true",
        )
    if pd.isna(arr).any():
        raise input_error(
            f"bootstrap: {name!r} has missing labels",
            rows=np.flatnonzero(pd.isna(arr)).tolist(),
            fix=f"give every row a {name} label",
        )
    return np.unique(arr, return_inverse=True)[1].astype(np.intp)


def _counts(codes: NDArray[np.intp], n_boot: int, rng: np.random.Generator) -> NDArray:
    """Multinomial draw counts per cluster: shape (n_boot, n_clusters)."""
    g = int(codes.max()) + 1
    draws = rng.integers(0, g, size=(n_boot, g)) + (np.arange(n_boot) * g)[:, None]
    return np.bincount(draws.ravel(), minlength=n_boot * g).reshape(n_boot, g)


def resample_weights(
    clusters: NDArray[np.intp],
    years: NDArray[np.intp] | None,
    n_boot: int,
    rng: np.random.Generator,
) -> NDArray[np.float64]:
    """Weight matrix (n_boot, n): cluster draw counts times year draw counts."""
    W = _counts(clusters, n_boot, rng)[:, clusters].astype(float)
    if years is not None:
        W *= _counts(years, n_boot, rng)[:, years]
    return W


def _need_years(m: Metric, yr: NDArray | None, also_years: bool, caller: str) -> None:
    if (also_years or m.needs_groups) and yr is None:
        raise input_error(
            f"{caller}: 'years' is required with also_years=True or a top-k metric",
            fix="pass years=... (one label per row)",
        )


def _weight_matrix(
    n: int, cl: NDArray | None, yr: NDArray | None, also_years: bool, n_boot: int, seed: Any
) -> NDArray[np.float64]:
    """Replicate weights: clusters (rows if None), times years when ``also_years``."""
    return resample_weights(
        _codes(cl, n, "clusters"),
        _codes(yr, n, "years") if also_years else None,
        n_boot,
        np.random.default_rng(seed),
    )


def _replicates(metric: Metric, y, p, w, W, groups) -> NDArray[np.float64]:
    W = W * w[None, :]
    if metric.batch is not None:
        return np.asarray(metric.batch(y, p, W), dtype=float)
    out = np.full(W.shape[0], np.nan)
    for b in range(W.shape[0]):
        if W[b].sum() <= 0:
            continue
        try:
            out[b] = metric(y, p, sample_weight=W[b], groups=groups)
        except ForecastInputError:  # undefined on this replicate (e.g. no onsets drawn)
            pass
    return out


def _check_boot(n_boot: int, level: float) -> None:
    if isinstance(n_boot, bool) or not isinstance(n_boot, int | np.integer) or n_boot < 1:
        raise input_error(
            f"bootstrap: 'n_boot' must be an integer >= 1, got {n_boot!r}",
            fix="pass e.g. n_boot=1000",
        )
    if not (isinstance(level, float | int) and 0 < level < 1):
        raise input_error(
            f"bootstrap: 'level' must be in (0, 1), got {level!r}", fix="pass e.g. level=0.95"
        )


def _interval(reps: NDArray, level: float) -> tuple[float, float]:
    ok = reps[np.isfinite(reps)]
    if ok.size == 0:
        return float("nan"), float("nan")
    alpha = (1.0 - level) / 2.0
    lo, hi = np.quantile(ok, [alpha, 1.0 - alpha])
    return float(lo), float(hi)


def _from_table(
    table: pd.DataFrame, cluster: str | None, year_column: str, need_years: bool
) -> dict[str, Any]:
    cols = ["outcome", "probability"]
    cols += [cluster] if cluster is not None else []
    cols += [year_column] if need_years else []
    missing = [c for c in cols if c not in table.columns]
    if missing:
        raise input_error(
            f"bootstrap_metric: 'table' lacks column(s) {missing}",
            fix="pass a tidy forecast table (unit, year, model, probability, outcome)",
        )
    if "model" in table.columns and table["model"].nunique() > 1:
        raise input_error(
            f"bootstrap_metric: 'table' holds {table['model'].nunique()} models",
            column="model",
            fix="filter to one model, or use paired_difference to compare two",
        )
    return {
        "y_true": table["outcome"].to_numpy(float),
        "y_score": table["probability"].to_numpy(float),
        "clusters": None if cluster is None else table[cluster].to_numpy(),
        "years": table[year_column].to_numpy() if need_years else None,
    }


def _prepare(y_true, scores, clusters, years, sample_weight, caller):
    y = np.asarray(y_true, dtype=float)
    n = y.size
    for name, arr in (("clusters", clusters), ("years", years), ("sample_weight", sample_weight)):
        if arr is not None and np.shape(arr) != (n,):
            raise input_error(
                f"{caller}: {name!r} must have one value per row ({n}), got {np.shape(arr)}",
                fix=f"align {name} with y_true",
            )
    known = ~np.isnan(y)

    def keep(a):
        return None if a is None else np.asarray(a)[known]

    checked = []
    for s in scores:
        if np.shape(s) != (n,):
            raise input_error(
                f"{caller}: scores must have one value per row ({n}), got {np.shape(s)}",
                fix="pass probabilities aligned with y_true",
            )
        yy, pp, ww = check_outcomes_probabilities(
            y[known], keep(s), keep(sample_weight), caller=caller
        )
        checked.append(pp)
    return yy, checked, ww, keep(clusters), keep(years)


def bootstrap_metric(
    data: pd.DataFrame | tuple[ArrayLike, ArrayLike],
    metric: str | Metric,
    *,
    clusters: ArrayLike | None = None,
    years: ArrayLike | None = None,
    sample_weight: ArrayLike | None = None,
    cluster: str | None = "unit",
    year_column: str = "year",
    also_years: bool = False,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int | np.random.Generator = 0,
) -> BootstrapResult:
    """Percentile cluster-bootstrap confidence interval of a metric.

    Parameters
    ----------
    data : DataFrame or (y_true, y_score)
        A tidy forecast table for ONE model (``outcome``, ``probability`` and
        the ``cluster`` / ``year_column`` columns), or a pair of arrays.
        Rows with unknown outcome (NaN) are dropped.
    metric : str or Metric
        Registry name or bound metric (see :func:`get_metric`).
    clusters, years : array-like, optional
        With array input: cluster labels (countries) and year labels. No
        clusters means rows are resampled independently.
    cluster : str or None
        With a table: the column to resample (default ``'unit'``); None = rows.
    also_years : bool
        Also resample years (two-way bootstrap: a row's weight is its
        country's draw count times its year's draw count).
    n_boot, level, seed
        Replicates, interval level, and the seed (explicit, default 0).

    Returns
    -------
    BootstrapResult
        ``estimate`` (on the full data), ``lower``/``upper`` percentile
        bounds over the replicates where the metric is defined, ``level``,
        ``n_failed`` (replicates where it is undefined, e.g. no onset drawn).

    Notes
    -----
    Replicates are weights, so a metric sees a drawn country once with weight
    equal to its draw count; top-k metrics therefore treat a duplicated
    country as one unit of double weight. Years are needed (``years`` or
    ``year_column``) for top-k metrics, whose groups they are.
    """
    m = get_metric(metric)
    _check_boot(n_boot, level)
    if isinstance(data, pd.DataFrame):
        need_years = also_years or m.needs_groups
        kw = _from_table(data, cluster, year_column, need_years)
    elif isinstance(data, tuple) and len(data) == 2:
        kw = {"y_true": data[0], "y_score": data[1], "clusters": clusters, "years": years}
    else:
        raise input_error(
            f"bootstrap_metric: 'data' must be a DataFrame or a (y_true, y_score) pair, "
            f"got {type(data).__name__}",
            fix="pass table or (y_true, y_score)",
        )
    y, (p,), w, cl, yr = _prepare(
        kw["y_true"],
        [kw["y_score"]],
        kw["clusters"],
        kw["years"],
        sample_weight,
        "bootstrap_metric",
    )
    _need_years(m, yr, also_years, "bootstrap_metric")
    estimate = m(y, p, sample_weight=w, groups=yr)
    W = _weight_matrix(y.size, cl, yr, also_years, n_boot, seed)
    reps = _replicates(m, y, p, w, W, yr)
    lo, hi = _interval(reps, level)
    return BootstrapResult(
        m.label, estimate, lo, hi, float(level), int(n_boot), int(np.sum(~np.isfinite(reps))), reps
    )


def paired_difference(
    y_true: ArrayLike,
    p_a: ArrayLike,
    p_b: ArrayLike,
    *,
    clusters: ArrayLike | None = None,
    metric: str | Metric = "roc_auc",
    years: ArrayLike | None = None,
    sample_weight: ArrayLike | None = None,
    also_years: bool = False,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int | np.random.Generator = 0,
) -> PairedDifference:
    """Bootstrap the difference ``metric(A) - metric(B)`` on the same rows.

    Both models are scored on every replicate's identical weights, so the
    interval reflects the paired (correlated) comparison.

    Returns
    -------
    PairedDifference
        ``estimate = metric(y, p_a) - metric(y, p_b)``, percentile interval
        ``lower``/``upper``, and a two-sided bootstrap p-value for "no
        difference": the replicates are centred at the estimate (to mimic the
        null) and ``p = (1 + #{|d*_b - d| >= |d|}) / (1 + B_valid)``.

    References
    ----------
    Hall, P. and Wilson, S. R. (1991). Two guidelines for bootstrap hypothesis
    testing. Biometrics 47(2), 757-762.
    """
    m = get_metric(metric)
    _check_boot(n_boot, level)
    y, (pa, pb), w, cl, yr = _prepare(
        y_true, [p_a, p_b], clusters, years, sample_weight, "paired_difference"
    )
    _need_years(m, yr, also_years, "paired_difference")
    est_a = m(y, pa, sample_weight=w, groups=yr)
    est_b = m(y, pb, sample_weight=w, groups=yr)
    d = est_a - est_b
    W = _weight_matrix(y.size, cl, yr, also_years, n_boot, seed)
    reps = _replicates(m, y, pa, w, W, yr) - _replicates(m, y, pb, w, W, yr)
    lo, hi = _interval(reps, level)
    ok = reps[np.isfinite(reps)]
    p_value = float((1 + np.sum(np.abs(ok - d) >= abs(d) - 1e-15)) / (1 + ok.size))
    return PairedDifference(
        m.label,
        d,
        lo,
        hi,
        float(level),
        min(p_value, 1.0),
        est_a,
        est_b,
        int(n_boot),
        int(np.sum(~np.isfinite(reps))),
        reps,
    )
