"""Vectorised metric evaluation for many weight vectors at once (bootstrap).

Each function takes validated ``y``, ``p`` of shape (n,) and a weight matrix
``W`` of shape (B, n) and returns B metric values, NaN where the metric is
undefined for a replicate (e.g. no events resampled). They compute exactly
what the scalar metric computes with ``sample_weight=W[b]``.

For cluster replicates (``W[b, i] = counts[b, cluster of i]``) two helpers avoid the
(B, n) matrix: :class:`ClusterLevels` (AUC and average precision, exact) and
:class:`ClusterWeights` (a stand-in for ``W`` in the linear metrics).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from forecast.metrics._scores import ap_from_levels, auc_from_levels

__all__ = ["BATCH"]

Array = NDArray[np.float64]


def _levels(y: Array, p: Array, W: Array) -> tuple[Array, Array]:
    order = np.argsort(-p, kind="stable")
    ps = p[order]
    starts = np.flatnonzero(np.r_[True, ps[1:] != ps[:-1]])
    Wo = W[:, order]
    pos = np.add.reduceat(Wo * y[order], starts, axis=1)
    neg = np.add.reduceat(Wo * (1.0 - y[order]), starts, axis=1)
    return pos, neg


def _two_classes(y: Array, W: Array) -> NDArray[np.bool_]:
    pos = W @ y
    return (pos > 0) & (W.sum(axis=1) - pos > 0)


def roc_auc_batch(y: Array, p: Array, W: Array) -> Array:
    out = auc_from_levels(*_levels(y, p, W))
    return np.where(_two_classes(y, W), out, np.nan)


def average_precision_batch(y: Array, p: Array, W: Array) -> Array:
    with np.errstate(invalid="ignore", divide="ignore"):
        out = ap_from_levels(*_levels(y, p, W))
    return np.where(_two_classes(y, W), out, np.nan)


def brier_batch(y: Array, p: Array, W: Array) -> Array:
    return W @ (p - y) ** 2 / W.sum(axis=1)


def log_loss_batch(y: Array, p: Array, W: Array) -> Array:
    eps = np.finfo(float).eps
    q = np.clip(p, eps, 1.0 - eps)
    loss = -(y * np.log(q) + (1.0 - y) * np.log(1.0 - q))
    return W @ loss / W.sum(axis=1)


def observed_expected_batch(y: Array, p: Array, W: Array) -> Array:
    expected = W @ p
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(expected > 0, (W @ y) / expected, np.nan)


BATCH = {
    "roc_auc": roc_auc_batch,
    "average_precision": average_precision_batch,
    "brier": brier_batch,
    "log_loss": log_loss_batch,
    "observed_expected": observed_expected_batch,
}


# -- cluster replicates without the weight matrix ---------------------------------------------


class ClusterLevels:
    """Per-level positive and negative weights of every cluster-bootstrap replicate, computed
    from cluster sums instead of the (replicates x rows) weight matrix.

    For replicate weights ``W[b, i] = counts[b, codes[i]] * w[i]`` with ``w`` in {0, 1} all
    weights are whole numbers, so every per-level sum, and every AUC numerator and
    denominator, is an exact integer (or half-integer) in floating point: the results equal
    :func:`roc_auc_batch` and :func:`average_precision_batch` on the full matrix bit for bit,
    at a cost of (replicates x clusters + replicates x rows with an onset) instead of
    (replicates x rows). Sums stay exact below 2**52, which :meth:`exact` checks.

    Attributes
    ----------
    pos : ndarray (B, K)
        Onset weight at each of the ``K`` score levels that hold an onset (highest first).
    neg_through : ndarray (B, K)
        Non-onset weight at or above each of those levels.
    neg_tied : ndarray (B, K)
        Non-onset weight tied with each of those levels.
    n_pos, n_neg : ndarray (B,)
        Total onset and non-onset weight.
    levels : ndarray (K,)
        Index of each of those levels among all ``n_levels`` distinct scores (highest first).
    """

    def __init__(
        self, y: Array, p: Array, counts: Array, codes: NDArray[np.intp], w: Array
    ) -> None:
        from scipy import sparse

        order = np.argsort(-p, kind="stable")
        ps = p[order]
        first = np.r_[True, ps[1:] != ps[:-1]]
        level = np.empty(p.size, dtype=np.intp)
        level[order] = np.cumsum(first) - 1  # 0 = highest score
        self.n_levels = int(first.sum()) if p.size else 0
        live = w > 0
        onset, other = live & (y == 1), live & (y == 0)
        self.levels = np.unique(level[onset])
        k = self.levels.size
        g = counts.shape[1]

        top = float(np.max(counts, initial=0))

        def by_cluster(rows: NDArray[np.bool_], column: NDArray[np.intp], width: int) -> Array:
            """Replicate weights summed per (cluster of the row, column): (B, width)."""
            n_rows = int(rows.sum())
            # whole numbers below 2**24 add up exactly in single precision (half the memory)
            dtype = np.float32 if top * n_rows < 2.0**24 else np.float64
            table = sparse.csr_array(
                (np.ones(n_rows, dtype=dtype), (codes[rows], column)), shape=(g, width)
            )
            out = table.T @ np.ascontiguousarray(counts.T, dtype=dtype)
            return np.asarray(out, dtype=np.float64).T

        self.pos = by_cluster(onset, np.searchsorted(self.levels, level[onset]), k)
        bucket = np.searchsorted(self.levels, level[other], side="left")  # first onset level >= own
        neg = by_cluster(other, bucket, k + 1)
        self.n_neg = neg.sum(axis=1)
        self.neg_through = np.cumsum(neg[:, :k], axis=1)
        tied = np.zeros(bucket.size, dtype=bool)
        inside = bucket < k
        tied[inside] = self.levels[bucket[inside]] == level[other][inside]
        rows_tied = np.zeros(p.size, dtype=bool)
        rows_tied[np.flatnonzero(other)[tied]] = True
        self.neg_tied = by_cluster(rows_tied, bucket[tied], k)
        self.n_pos = self.pos.sum(axis=1)

    def exact(self) -> bool:
        """All sums below 2**52, so that any summation order gives the same numbers."""
        top = float(np.max(self.n_pos, initial=0.0)) * float(np.max(self.n_neg, initial=0.0))
        return 4.0 * top < 2.0**52

    def two_classes(self) -> NDArray[np.bool_]:
        return (self.n_pos > 0) & (self.n_neg > 0)

    def roc_auc(self) -> Array:
        """:func:`roc_auc_batch`: ``sum_l neg_l (pos above l + pos_l / 2) / (P N)``."""
        below = self.n_neg[:, None] - self.neg_through
        num = np.sum(self.pos * below + 0.5 * self.pos * self.neg_tied, axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = num / (self.n_pos * self.n_neg)
        return np.where(self.two_classes(), out, np.nan)

    def average_precision(self, max_entries: int) -> Array:
        """:func:`average_precision_batch`: the same terms summed over all levels, in blocks
        of at most ``max_entries`` (replicates x levels)."""
        tps = np.cumsum(self.pos, axis=1)
        total = tps + self.neg_through
        with np.errstate(invalid="ignore", divide="ignore"):
            precision = np.where(total > 0, tps / np.where(total > 0, total, 1.0), 0.0)
        terms = self.pos * precision
        n_boot = terms.shape[0]
        rows = max(1, max_entries // max(self.n_levels, 1))
        sums = np.empty(n_boot)
        for start in range(0, n_boot, rows):
            stop = min(start + rows, n_boot)
            full = np.zeros((stop - start, self.n_levels))  # zeros where no onset: as the
            full[:, self.levels] = terms[start:stop]  # full sum over levels adds them
            sums[start:stop] = np.sum(full, axis=-1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = sums / self.n_pos
        return np.where(self.two_classes(), out, np.nan)


CLUSTERED = {"roc_auc", "average_precision"}
"""Batch metrics that :class:`ClusterLevels` computes without the weight matrix."""


class ClusterWeights:
    """The weight matrix ``W[b, i] = counts[b, codes[i]] * w[i]`` as far as the linear batch
    metrics use it (``W @ v`` and ``W.sum(axis=1)``), from per-cluster sums: (replicates x
    clusters) work instead of (replicates x rows). The sums run in another order than the
    full matrix product, so results can differ from it in the last bits."""

    def __init__(self, counts: Array, codes: NDArray[np.intp], w: Array) -> None:
        self.counts, self.codes, self.w = counts, codes, w
        self.shape = (counts.shape[0], codes.size)

    def __matmul__(self, v: Array) -> Array:
        sums = np.bincount(self.codes, weights=self.w * v, minlength=self.counts.shape[1])
        return self.counts @ sums

    def sum(self, axis: int) -> Array:
        if axis != 1:
            raise ValueError("ClusterWeights sums over rows only (axis=1)")
        return self @ np.ones(self.codes.size)


LINEAR = {"brier", "log_loss", "observed_expected"}
"""Batch metrics that use only ``W @ v`` and ``W.sum(axis=1)`` (so :class:`ClusterWeights`)."""
