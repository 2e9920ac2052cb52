"""Top-k warnings per group: each group (forecast year) issues its k highest-risk warnings."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from forecast._errors import input_error
from forecast.metrics._validation import check_binary_scores, check_groups, check_k

__all__ = ["precision_at_k", "recall_at_k", "top_k_mask"]


def top_k_mask(
    p: NDArray[np.float64],
    w: NDArray[np.float64],
    codes: NDArray[np.intp],
    k: int,
    caller: str,
    labels: ArrayLike | None = None,
) -> NDArray[np.bool_]:
    """Boolean mask of the k highest scores within each group.

    Rows with zero weight are not units and are never warned. Ordering within a
    group: score descending, then input row order (stable), so tied scores at
    the k-th place are resolved in favour of the earlier row.
    """
    live = w > 0
    idx = np.flatnonzero(live)
    order = idx[np.lexsort((idx, -p[idx], codes[idx]))]
    g_sorted = codes[order]
    starts = np.flatnonzero(np.r_[True, g_sorted[1:] != g_sorted[:-1]])
    sizes = np.diff(np.r_[starts, order.size])
    small = sizes < k
    if np.any(small):
        bad = g_sorted[starts[small]]
        uniques = np.unique(np.asarray(labels)) if labels is not None else None
        shown = [uniques[b].item() if uniques is not None else int(b) for b in bad[:5]]
        raise input_error(
            f"{caller}: 'k'={k} is larger than the number of units in group(s) {shown} "
            f"(smallest has {int(sizes[small].min())})",
            fix="lower k or drop the small groups",
        )
    rank = np.arange(order.size) - np.repeat(starts, sizes)
    mask = np.zeros(p.size, dtype=bool)
    mask[order[rank < k]] = True
    return mask


def _flagged(y_true, y_score, groups, k, sample_weight, caller):
    y, p, w = check_binary_scores(y_true, y_score, sample_weight, caller=caller)
    k = check_k(k, caller)
    codes = check_groups(groups, y.size, caller)
    return y, w, top_k_mask(p, w, codes, k, caller, labels=groups)


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
    probability). Ties are broken deterministically: by score, then by input
    row order (the earlier row ranks higher). Zero-weight rows are not ranked.
    Higher is better.

    NaN handling: NaN inputs raise; ``k`` larger than the number of units in a
    group, or ``k < 1``, raises.

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
