"""Top-k warnings per group: each group (forecast year) issues its k highest-risk warnings."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from forecast._validation import check_group_labels, check_k, check_outcomes_probabilities

__all__ = ["precision_at_k", "recall_at_k", "top_k_mask"]


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
    p = np.asarray(p, dtype=float).ravel()
    n = p.size
    if groups is None:
        codes = np.zeros(n, dtype=np.intp)
    else:
        codes = np.unique(np.asarray(groups).ravel(), return_inverse=True)[1].ravel()
    live = np.ones(n, dtype=bool) if sample_weight is None else np.asarray(sample_weight) > 0
    idx = np.flatnonzero(live)
    order = idx[np.lexsort((idx, -p[idx], codes[idx]))]  # by group, then p descending, stable
    g_sorted = codes[order]
    starts = np.flatnonzero(np.r_[True, g_sorted[1:] != g_sorted[:-1]])
    sizes = np.diff(np.r_[starts, order.size])
    rank = np.arange(order.size) - np.repeat(starts, sizes)  # 0-based rank within group
    mask = np.zeros(n, dtype=bool)
    mask[order[rank < k]] = True
    return mask


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
