"""Reliability tables and empirical coverage of probability intervals."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.stats import norm

from forecast._errors import input_error
from forecast._math import BinStrategy, probability_bins
from forecast._validation import check_outcomes_probabilities

__all__ = [
    "FIXED_BINS",
    "CoverageResult",
    "fixed_bin_reliability",
    "interval_coverage",
    "reliability_table",
    "wilson_interval",
]

FIXED_BINS = (0.0, 0.01, 0.03, 0.10, 0.30, 1.0)
"""Edges of the bins a risk list is read in: <1%, 1-3%, 3-10%, 10-30%, >=30%."""


def wilson_interval(
    rate: ArrayLike, n: ArrayLike, level: float = 0.95
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    r"""Wilson score interval for a binomial proportion.

    .. math::
        \frac{\hat p + z^2/2n \pm z \sqrt{\hat p(1-\hat p)/n + z^2/4n^2}}{1 + z^2/n}

    References
    ----------
    Wilson, E. B. (1927). Probable inference, the law of succession, and
    statistical inference. JASA 22(158), 209-212.
    """
    p = np.asarray(rate, dtype=float)
    n = np.asarray(n, dtype=float)
    z = norm.ppf(1.0 - (1.0 - level) / 2.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        denom = 1.0 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z / denom * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    return np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)


def _drop_unknown(y_true, *arrays):
    y = np.asarray(y_true, dtype=float)
    for a in arrays:
        if a is not None and np.shape(a) != y.shape:
            raise input_error(
                f"'y_true' has shape {y.shape} but another argument has {np.shape(a)}",
                fix="pass one value per row for every argument",
            )
    known = ~np.isnan(y)
    return y[known], [None if a is None else np.asarray(a)[known] for a in arrays]


def reliability_table(
    y_true: ArrayLike,
    y_score: ArrayLike,
    *,
    n_bins: int = 10,
    strategy: BinStrategy = "quantile",
    sample_weight: ArrayLike | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Observed event rate against mean forecast, per probability bin.

    Parameters
    ----------
    y_true : array-like
        Outcomes 0/1; NaN (unknown) rows are dropped.
    y_score : array-like
        Probabilities in [0, 1].
    n_bins, strategy
        Number of bins; 'quantile' (weighted quantiles, ties share a bin) or
        'uniform' (equal width on [0, 1]).
    level : float
        Level of the Wilson interval for the observed rate.

    Returns
    -------
    DataFrame
        Non-empty bins: ``bin``, ``p_min``, ``p_max``, ``mean_predicted``,
        ``observed_rate``, ``count`` (rows), ``events`` (weighted),
        ``wilson_lower``, ``wilson_upper``. With weights the Wilson interval
        uses Kish's effective size ``(sum w)^2 / sum w^2``.
    """
    y, (p, w) = _drop_unknown(y_true, y_score, sample_weight)
    y, p, w = check_outcomes_probabilities(y, p, w, caller="reliability_table")
    bins = probability_bins(p, w, n_bins=n_bins, strategy=strategy, caller="reliability_table")
    frame = pd.DataFrame(
        {"bin": bins, "p": p, "y": y, "w": w, "wp": w * p, "wy": w * y, "w2": w**2}
    )
    frame = frame[frame["w"] > 0]
    g = frame.groupby("bin", sort=True)
    out = pd.DataFrame(
        {
            "p_min": g["p"].min(),
            "p_max": g["p"].max(),
            "mean_predicted": g["wp"].sum() / g["w"].sum(),
            "observed_rate": g["wy"].sum() / g["w"].sum(),
            "count": g.size(),
            "events": g["wy"].sum(),
        }
    )
    n_eff = g["w"].sum() ** 2 / g["w2"].sum()
    out["wilson_lower"], out["wilson_upper"] = wilson_interval(out["observed_rate"], n_eff, level)
    return out.reset_index()


def _percent(edge: float) -> str:
    return f"{100 * edge:.3g}"


def _bin_labels(edges: NDArray[np.float64]) -> list[str]:
    """``<1%``, ``1-3%``, ..., ``>=30%`` for edges (0, .01, .03, ..., .30, 1)."""
    labels = []
    for i, (a, b) in enumerate(zip(edges[:-1], edges[1:], strict=True)):
        if i == 0 and a == 0:
            labels.append(f"<{_percent(b)}%")
        elif i == edges.size - 2 and b == 1:
            labels.append(f">={_percent(a)}%")
        else:
            labels.append(f"{_percent(a)}-{_percent(b)}%")
    return labels


def fixed_bin_reliability(
    y: ArrayLike, p: ArrayLike, bins: ArrayLike = FIXED_BINS, *, level: float = 0.90
) -> pd.DataFrame:
    r"""Observed onset rate against mean forecast in fixed probability bins.

    Bin :math:`b = [e_b, e_{b+1})` holds the rows with :math:`e_b \le p_i < e_{b+1}`
    (the last bin also holds :math:`p_i = e_B`). In each bin with :math:`n_b` rows and
    :math:`k_b = \sum_{i \in b} y_i` events,

    .. math::
        \bar p_b = \frac{1}{n_b}\sum_{i \in b} p_i, \qquad
        \hat y_b = \frac{k_b}{n_b},

    and ``lower``/``upper`` is the Wilson score interval of :math:`\hat y_b` at ``level``
    (:func:`wilson_interval`; 90% by default). A calibrated model's intervals cover
    :math:`\bar p_b` in about that share of bins. Unlike :func:`reliability_table`'s
    equal-count bins, these bins split the range a risk list is read in, so a bin of
    few rows (the 10-30% a list's top shows) is not merged into its neighbours.

    Parameters
    ----------
    y : array-like
        Outcomes 0/1 (an event: a unit-year with an onset); NaN (unknown) rows are dropped.
    p : array-like
        Forecast probabilities in [0, 1].
    bins : array-like
        Increasing bin edges from 0 to 1; default :data:`FIXED_BINS`
        (<1%, 1-3%, 3-10%, 10-30%, >=30%).
    level : float
        Level of the Wilson interval, default 0.90.

    Returns
    -------
    DataFrame
        One row per bin, empty bins included (rates NaN): ``bin`` (label such as
        ``"10-30%"``), ``n``, ``mean_forecast``, ``observed_rate``, ``lower``, ``upper``,
        ``events``.

    References
    ----------
    Wilson, E. B. (1927). JASA 22(158), 209-212.
    """
    edges = np.asarray(bins, dtype=float)
    if edges.ndim != 1 or edges.size < 2 or edges[0] != 0 or edges[-1] != 1:
        raise input_error(
            f"fixed_bin_reliability: 'bins' must be edges from 0 to 1, got {edges.tolist()!r}",
            fix="pass e.g. bins=(0, 0.01, 0.03, 0.1, 0.3, 1.0)",
        )
    if np.any(np.diff(edges) <= 0):
        raise input_error(
            f"fixed_bin_reliability: 'bins' must increase strictly, got {edges.tolist()!r}",
            fix="sort the edges and drop duplicates",
        )
    if not 0 < level < 1:
        raise input_error(
            f"fixed_bin_reliability: 'level' must be in (0, 1), got {level!r}",
            fix="pass e.g. level=0.9",
        )
    yk, (pk,) = _drop_unknown(y, p)
    yk, pk, _ = check_outcomes_probabilities(yk, pk, None, caller="fixed_bin_reliability")
    code = np.clip(np.searchsorted(edges, pk, side="right") - 1, 0, edges.size - 2)
    width = edges.size - 1
    n = np.bincount(code, minlength=width).astype(float)
    events = np.bincount(code, weights=yk, minlength=width)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.bincount(code, weights=pk, minlength=width) / n
        rate = events / n
    lower, upper = wilson_interval(rate, n, level)
    return pd.DataFrame(
        {
            "bin": _bin_labels(edges),
            "n": n.astype(int),
            "mean_forecast": mean,
            "observed_rate": rate,
            "lower": np.where(n > 0, lower, np.nan),
            "upper": np.where(n > 0, upper, np.nan),
            "events": events.astype(int),
        }
    )


class CoverageResult(NamedTuple):
    """Overall empirical coverage and the per-bin table behind it."""

    coverage: float
    table: pd.DataFrame


def interval_coverage(
    y_true: ArrayLike,
    lower: ArrayLike,
    upper: ArrayLike,
    bins: int | ArrayLike = 10,
    *,
    sample_weight: ArrayLike | None = None,
) -> CoverageResult:
    r"""Empirical coverage of stated probability intervals.

    A single 0/1 outcome cannot fall "inside" a probability interval, so the
    target is the observed event rate of a calibration bin: rows are grouped
    into bins (``bins`` quantile bins of the interval midpoint, or an array of
    bin labels), and row i counts as covered when
    :math:`\ell_i \le \bar y_{b(i)} \le u_i`.

    .. math:: \mathrm{coverage} = \frac{\sum_i w_i [\ell_i \le \bar y_{b(i)} \le u_i]}{\sum_i w_i}

    Compare with the intervals' stated level; few bins make each observed
    rate noisy, so coverage of narrow intervals is underestimated.

    Returns
    -------
    CoverageResult
        ``coverage`` and ``table`` with columns ``bin``, ``count``,
        ``observed_rate``, ``mean_lower``, ``mean_upper``, ``covered_share``.
    """
    labels = None if isinstance(bins, int | np.integer) else np.asarray(bins)
    y, (lo, hi, w, lab) = _drop_unknown(y_true, lower, upper, sample_weight, labels)
    y, lo, w = check_outcomes_probabilities(y, lo, w, caller="interval_coverage (lower)")
    _, hi, _ = check_outcomes_probabilities(y, hi, None, caller="interval_coverage (upper)")
    bad = np.flatnonzero(lo > hi)
    if bad.size:
        raise input_error(
            "interval_coverage: 'lower' must not exceed 'upper'",
            rows=bad.tolist(),
            fix="pass (lower, upper) in that order",
        )
    if lab is None:
        codes = probability_bins(
            (lo + hi) / 2,
            w,
            n_bins=int(bins),  # type: ignore[arg-type]
            caller="interval_coverage",
        )
    else:
        codes = np.unique(lab, return_inverse=True)[1]
    wsum = np.bincount(codes, weights=w)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.bincount(codes, weights=w * y) / wsum
    target = rate[codes]
    covered = ((lo <= target + 1e-12) & (target <= hi + 1e-12)).astype(float)
    frame = pd.DataFrame({"bin": codes, "w": w, "wc": w * covered, "wl": w * lo, "wu": w * hi})
    frame = frame[frame["w"] > 0]
    g = frame.groupby("bin", sort=True)
    table = pd.DataFrame(
        {
            "count": g.size(),
            "observed_rate": rate[g.size().index.to_numpy()],
            "mean_lower": g["wl"].sum() / g["w"].sum(),
            "mean_upper": g["wu"].sum() / g["w"].sum(),
            "covered_share": g["wc"].sum() / g["w"].sum(),
        }
    ).reset_index()
    return CoverageResult(float(np.sum(w * covered) / np.sum(w)), table)
