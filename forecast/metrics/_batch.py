"""Vectorised metric evaluation for many weight vectors at once (bootstrap).

Each function takes validated ``y``, ``p`` of shape (n,) and a weight matrix
``W`` of shape (B, n) and returns B metric values, NaN where the metric is
undefined for a replicate (e.g. no events resampled). They compute exactly
what the scalar metric computes with ``sample_weight=W[b]``.
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
