"""Top-k warnings per group: each group (forecast year) issues its k highest-risk warnings."""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from forecast._validation import check_group_labels, check_k, check_outcomes_probabilities

__all__ = ["group_ranks", "precision_at_k", "recall_at_k", "top_k_curve", "top_k_mask"]


def top_k_mask(
    p: ArrayLike,
    groups: ArrayLike | None,
    k: int,
    *,
    sample_weight: ArrayLike | None = None,
) -> NDArray[np.bool_]:
    r"""Mark the ``k`` highest probabilities within each group (year): the top-k warning rule.

    .. math:: d_i = [r_i \le k]

    where ``r_i`` is the rank of ``p_i`` within its group (1 = highest). Ties
    are broken by input row order (a stable sort on ``-p``: the earlier row
    ranks higher), so a group of ``n_g`` rows has exactly ``min(k, n_g)``
    warnings: ``k`` is a capacity, and a year with fewer units warns them all.
    Rows with zero ``sample_weight`` are not units: never ranked or warned.
    Without ``groups`` all rows form one group.

    Parameters
    ----------
    p : array-like of float
        Probabilities (validated by the caller).
    groups : array-like or None
        Group label (e.g. the year) of each row.
    k : int
        Warnings per group, >= 1.
    sample_weight : array-like, optional
        Row weights; only rows with a positive weight are ranked.

    Returns
    -------
    numpy.ndarray of bool
    """
    k = check_k(k, caller="top_k_mask")
    rank = group_ranks(p, groups, sample_weight=sample_weight)
    return (rank >= 0) & (rank < k)


def group_ranks(
    p: ArrayLike, groups: ArrayLike | None, *, sample_weight: ArrayLike | None = None
) -> NDArray[np.intp]:
    """0-based rank of each row's probability within its group: the one ranking of top-k rules.

    Highest first, ties by input row order (a stable sort on ``-p``); rows with zero
    ``sample_weight`` are not ranked (-1). :func:`top_k_mask` is ``0 <= rank < k``.
    """
    p = np.asarray(p, dtype=float).ravel()
    n = p.size
    codes, n_groups = np.zeros(n, dtype=np.intp), 1
    if groups is not None:  # the numbering of the groups does not matter, only which rows share one
        codes, uniques = pd.factorize(np.asarray(groups).ravel(), use_na_sentinel=False)
        n_groups = len(uniques)
    live = None if sample_weight is None else np.asarray(sample_weight) > 0
    idx = np.arange(n) if live is None else np.flatnonzero(live)
    # two stable sorts = np.lexsort((idx, -p, codes)): by group, then p descending, row order
    order = idx[np.argsort(-p[idx], kind="stable")]
    if n_groups > 1:  # small integer codes sort by radix
        small = codes.astype(np.int16 if n_groups < 2**15 else np.int64)
        order = order[np.argsort(small[order], kind="stable")]
    g_sorted = codes[order]
    starts = np.flatnonzero(np.r_[True, g_sorted[1:] != g_sorted[:-1]])
    sizes = np.diff(np.r_[starts, order.size])
    rank = np.full(n, -1, dtype=np.intp)
    rank[order] = np.arange(order.size) - np.repeat(starts, sizes)
    return rank


def _flagged(y_true, y_score, groups, k, sample_weight, caller):
    y, p, w = check_outcomes_probabilities(y_true, y_score, sample_weight, caller=caller)
    k = check_k(k, caller=caller)
    labels = check_group_labels(groups, y.size, caller=caller)
    return y, w, top_k_mask(p, labels, k, sample_weight=w)


def precision_at_k(
    y_true: ArrayLike,
    y_score: ArrayLike,
    *,
    groups: ArrayLike,
    k: int,
    sample_weight: ArrayLike | None = None,
) -> float:
    r"""Precision of issuing the k highest-risk warnings in every group (year).

    .. math::
        \mathrm{precision@k} = \frac{\sum_i w_i y_i [r_i \le k]}{\sum_i w_i [r_i \le k]}

    where ``r_i`` is the row's rank within its group (1 = highest
    probability), see :func:`top_k_mask`. Ties are broken deterministically: by
    score, then by input row order (the earlier row ranks higher). Zero-weight
    rows are not ranked. A group with fewer than ``k`` units warns all of them
    (``min(k, n_g)`` warnings). Higher is better.

    NaN handling: NaN inputs raise; ``k < 1`` raises.

    References
    ----------
    Early Warning Project (2025). Statistical Risk Assessment, US Holocaust
    Memorial Museum (top-30 list as the operational warning rule).
    """
    y, w, flag = _flagged(y_true, y_score, groups, k, sample_weight, "precision_at_k")
    den = float(np.sum(w[flag]))
    return float(np.sum(w[flag] * y[flag]) / den) if den > 0 else float("nan")


def recall_at_k(
    y_true: ArrayLike,
    y_score: ArrayLike,
    *,
    groups: ArrayLike,
    k: int,
    sample_weight: ArrayLike | None = None,
) -> float:
    r"""Share of events that fell in their group's (year's) top-k warnings.

    .. math::
        \mathrm{recall@k} = \frac{\sum_i w_i y_i [r_i \le k]}{\sum_i w_i y_i}

    Ranks ``r_i`` and ties as in :func:`precision_at_k`. Higher is better.

    NaN handling: NaN inputs raise; returns NaN when there are no events;
    invalid ``k`` raises.

    References
    ----------
    Early Warning Project (2025). Statistical Risk Assessment, US Holocaust
    Memorial Museum.
    """
    y, w, flag = _flagged(y_true, y_score, groups, k, sample_weight, "recall_at_k")
    den = float(np.sum(w * y))
    return float(np.sum(w[flag] * y[flag]) / den) if den > 0 else float("nan")


def top_k_curve(
    y_true: ArrayLike,
    y_score: ArrayLike,
    *,
    groups: ArrayLike,
    max_k: int,
    sample_weight: ArrayLike | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """:func:`recall_at_k` and :func:`precision_at_k` for every ``k = 1 .. max_k`` at once.

    One ranking (:func:`group_ranks`) instead of one per ``k``; each value is computed from
    the same warned rows, in the same order, as the single-``k`` functions, so it equals
    theirs exactly.

    Returns
    -------
    (recall, precision) : two arrays of shape ``(max_k,)``, entry ``k - 1`` for ``k``.
    """
    y, p, w = check_outcomes_probabilities(y_true, y_score, sample_weight, caller="top_k_curve")
    max_k = check_k(max_k, caller="top_k_curve", name="max_k")
    labels = check_group_labels(groups, y.size, caller="top_k_curve")
    rank = group_ranks(p, labels, sample_weight=w)
    listed = np.flatnonzero((rank >= 0) & (rank < max_k))  # row order, as the masks keep it
    r, wy, wl = rank[listed], (w * y)[listed], w[listed]
    events = float(np.sum(w * y))
    recall = np.full(max_k, np.nan)
    precision = np.full(max_k, np.nan)
    for k in range(1, max_k + 1):
        flag = r < k
        hits = np.sum(wy[flag])
        warned = float(np.sum(wl[flag]))
        if events > 0:
            recall[k - 1] = float(hits / events)
        if warned > 0:
            precision[k - 1] = float(hits / warned)
    return recall, precision
