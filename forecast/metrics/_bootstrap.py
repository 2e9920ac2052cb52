"""Cluster bootstrap confidence intervals for metrics and paired model differences.

Resampling is expressed as weights: a replicate that draws country c twice
gives every row of c weight 2, and a country not drawn weight 0. The draw
counts per cluster are drawn once (``n_boot x n_clusters``) and shared by every
metric of one data set (:func:`bootstrap_metrics`). AUC and average precision
come from cluster sums (:class:`forecast.metrics._batch.ClusterLevels`, exact);
the other metrics with a vectorised form (Brier, log loss, O/E) from the weight
matrix ``W`` (n_boot x n_rows), or from cluster sums when ``W`` would exceed
:data:`BLOCK_ENTRIES`; the rest loop over the rows of ``W``, built in blocks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from forecast._errors import ForecastInputError, input_error
from forecast._validation import check_outcomes_probabilities
from forecast.metrics._batch import CLUSTERED, LINEAR, ClusterLevels, ClusterWeights
from forecast.metrics._registry import Metric, get_metric

__all__ = [
    "BLOCK_ENTRIES",
    "BootstrapResult",
    "PairedDifference",
    "bootstrap_metric",
    "bootstrap_metrics",
    "paired_difference",
    "paired_from_bootstraps",
]

BLOCK_ENTRIES = 2**24
"""Most entries of the weight matrix held at once (128 MB). Beyond it (replicates x rows) the
matrix is built and scored in blocks of replicates, and Brier, log loss and O/E are computed
from cluster sums (:class:`forecast.metrics._batch.ClusterWeights`): the same formulas, whose
sums may round the last bit differently than one matrix product would. AUC and average
precision are exact in every case."""


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
    counts = _counts(clusters, n_boot, rng)
    year_counts = None if years is None else _counts(years, n_boot, rng)
    return _weights(counts, clusters, year_counts, years)


def _weights(
    counts: NDArray, clusters: NDArray[np.intp], year_counts: NDArray | None, years: NDArray | None
) -> NDArray[np.float64]:
    """Rows of the weight matrix from the draw counts of the same replicates."""
    W = counts[:, clusters].astype(float)
    if year_counts is not None:
        W *= year_counts[:, years]
    return W


def _need_years(m: Metric, yr: NDArray | None, also_years: bool, caller: str) -> None:
    if (also_years or m.needs_groups) and yr is None:
        raise input_error(
            f"{caller}: 'years' is required with also_years=True or a top-k metric",
            fix="pass years=... (one label per row)",
        )


class _Draws:
    """Replicate weights ``W[b, i] = cluster_counts[b, clusters[i]] (* year_counts[b,
    years[i]]) * w[i]``: the counts drawn once, ``W`` built block by block (never whole
    when it would exceed :data:`BLOCK_ENTRIES` entries)."""

    def __init__(
        self,
        n: int,
        cl: NDArray | None,
        yr: NDArray | None,
        also_years: bool,
        n_boot: int,
        seed: Any,
        w: NDArray[np.float64],
    ) -> None:
        rng = np.random.default_rng(seed)
        self.clusters = _codes(cl, n, "clusters")
        self.cluster_counts = _counts(self.clusters, n_boot, rng)
        self.years = _codes(yr, n, "years") if also_years else None
        self.year_counts = None if self.years is None else _counts(self.years, n_boot, rng)
        self.w = w
        self.unit_weights = bool(np.all(w == 1.0))
        self.n_boot = n_boot
        self.by_cluster = self.years is None and bool(np.all((w == 0.0) | (w == 1.0)))
        """Whole-number weights from the clusters alone (no years, ``w`` in {0, 1})."""

    def blocks(self):
        """``(rows, W[rows])`` for consecutive blocks of replicates."""
        n = self.clusters.size
        step = self.n_boot if self.n_boot * n <= BLOCK_ENTRIES else max(1, BLOCK_ENTRIES // n)
        for start in range(0, self.n_boot, step):
            rows = slice(start, min(start + step, self.n_boot))
            years = None if self.year_counts is None else self.year_counts[rows]
            W = _weights(self.cluster_counts[rows], self.clusters, years, self.years)
            yield rows, W if self.unit_weights else W * self.w[None, :]


def _replicates(
    scored: Sequence[tuple[Metric, NDArray[np.float64]]],
    y: NDArray[np.float64],
    draws: _Draws,
    groups: NDArray | None,
) -> list[NDArray[np.float64]]:
    """Replicates of each ``(metric, scores)`` pair on the same draws."""
    out: list[NDArray[np.float64] | None] = [None] * len(scored)
    levels: dict[int, ClusterLevels] = {}
    for i, (metric, p) in enumerate(scored):
        if metric.batch is None or metric.name not in CLUSTERED or not draws.by_cluster:
            continue
        if id(p) not in levels:
            levels[id(p)] = ClusterLevels(y, p, draws.cluster_counts, draws.clusters, draws.w)
        cl = levels[id(p)]
        if cl.exact():
            auc = metric.name == "roc_auc"
            out[i] = cl.roc_auc() if auc else cl.average_precision(BLOCK_ENTRIES)
    if draws.by_cluster and draws.n_boot * y.size > BLOCK_ENTRIES:
        W = ClusterWeights(draws.cluster_counts, draws.clusters, draws.w)
        for i, (metric, p) in enumerate(scored):
            if out[i] is None and metric.batch is not None and metric.name in LINEAR:
                out[i] = np.asarray(metric.batch(y, p, W), dtype=float)
    rest = [i for i, r in enumerate(out) if r is None]
    if rest:
        for i in rest:
            out[i] = np.full(draws.n_boot, np.nan)
        for rows, W in draws.blocks():
            for i in rest:
                metric, p = scored[i]
                out[i][rows] = _block_replicates(metric, y, p, W, groups)  # type: ignore[index]
    return out  # type: ignore[return-value]


def _block_replicates(metric: Metric, y, p, W, groups) -> NDArray[np.float64]:
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
    ``year_column``) for top-k metrics, whose groups they are. Several metrics
    of the same data: :func:`bootstrap_metrics` (one draw, the same results).
    """
    (result,) = bootstrap_metrics(
        data,
        [metric],
        clusters=clusters,
        years=years,
        sample_weight=sample_weight,
        cluster=cluster,
        year_column=year_column,
        also_years=also_years,
        n_boot=n_boot,
        level=level,
        seed=seed,
    ).values()
    return result


def bootstrap_metrics(
    data: pd.DataFrame | tuple[ArrayLike, ArrayLike],
    metrics: Sequence[str | Metric],
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
) -> dict[str, BootstrapResult]:
    """:func:`bootstrap_metric` of several metrics on one draw of replicates.

    Each result equals ``bootstrap_metric(data, metric, ...)`` with the same arguments: the
    replicates' weights depend on the seed and the clusters only, so they are drawn once and
    shared (as are the sort and the cluster sums of AUC and average precision).

    Returns
    -------
    dict
        Metric label -> :class:`BootstrapResult`, in the order given.
    """
    ms = [get_metric(metric) for metric in metrics]
    _check_boot(n_boot, level)
    if isinstance(data, pd.DataFrame):
        need_years = also_years or any(m.needs_groups for m in ms)
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
    for m in ms:
        _need_years(m, yr, also_years, "bootstrap_metric")
    estimates = [m(y, p, sample_weight=w, groups=yr) for m in ms]
    draws = _Draws(y.size, cl, yr, also_years, n_boot, seed, w)
    out = {}
    for m, estimate, reps in zip(ms, estimates, _replicates([(m, p) for m in ms], y, draws, yr)):
        lo, hi = _interval(reps, level)
        out[m.label] = BootstrapResult(
            m.label,
            estimate,
            lo,
            hi,
            float(level),
            int(n_boot),
            int(np.sum(~np.isfinite(reps))),
            reps,
        )
    return out


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
    draws = _Draws(y.size, cl, yr, also_years, n_boot, seed, w)
    reps_a, reps_b = _replicates([(m, pa), (m, pb)], y, draws, yr)
    return _paired(m.label, est_a, est_b, reps_a - reps_b, level, n_boot)


def paired_from_bootstraps(a: BootstrapResult, b: BootstrapResult) -> PairedDifference:
    """:func:`paired_difference` of two models from their own bootstraps.

    ``a`` and ``b`` must come from :func:`bootstrap_metric` (or :func:`bootstrap_metrics`)
    of the same metric on the same rows in the same order, with the same clusters, years,
    weights, ``n_boot``, ``level`` and seed: then both saw the same replicates, and the
    result equals ``paired_difference`` on those rows without scoring them again.
    """
    if (a.metric, a.n_boot, a.level) != (b.metric, b.n_boot, b.level):
        raise input_error(
            f"paired_from_bootstraps: bootstraps of {a.metric} ({a.n_boot} replicates, level "
            f"{a.level}) and {b.metric} ({b.n_boot}, {b.level}) cannot be paired",
            fix="bootstrap both models' rows with the same metric, n_boot, level and seed",
        )
    return _paired(a.metric, a.estimate, b.estimate, a.replicates - b.replicates, a.level, a.n_boot)


def _paired(
    label: str, est_a: float, est_b: float, reps: NDArray, level: float, n_boot: int
) -> PairedDifference:
    d = est_a - est_b
    lo, hi = _interval(reps, level)
    ok = reps[np.isfinite(reps)]
    p_value = float((1 + np.sum(np.abs(ok - d) >= abs(d) - 1e-15)) / (1 + ok.size))
    return PairedDifference(
        label,
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
