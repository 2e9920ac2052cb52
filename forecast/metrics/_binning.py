"""Probability binning shared by the ECE metric and the reliability table."""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import NDArray

from forecast._errors import input_error

__all__ = ["BinStrategy", "probability_bins"]

BinStrategy = Literal["quantile", "uniform"]


def probability_bins(
    p: NDArray[np.float64],
    w: NDArray[np.float64],
    *,
    n_bins: int,
    strategy: BinStrategy = "quantile",
    caller: str = "probability_bins",
) -> NDArray[np.intp]:
    """Assign each row a bin code in ``0 .. n_bins - 1``.

    ``strategy='quantile'``: inner edges are weighted quantiles of ``p`` at
    ``j / n_bins`` (inverted-CDF definition: the smallest ``p`` whose
    cumulative weight reaches the level), computed from rows with positive
    weight only; a row equal to an edge goes to the lower bin. Tied scores
    always share a bin, so bins can hold unequal counts, and bins whose edges
    coincide stay empty. ``strategy='uniform'``: edges ``j / n_bins``, the bin
    ``[j/n, (j+1)/n)`` with the last bin closed. The result depends only on
    the multiset of ``(p, w)``, not on row order, and zero-weight rows do not
    move the edges.
    """
    if isinstance(n_bins, bool) or not isinstance(n_bins, int | np.integer) or n_bins < 1:
        raise input_error(
            f"{caller}: 'n_bins' must be an integer >= 1, got {n_bins!r}",
            fix="pass e.g. n_bins=10",
        )
    if strategy == "uniform":
        edges = np.arange(1, n_bins) / n_bins
        return np.searchsorted(edges, p, side="right").astype(np.intp)
    if strategy != "quantile":
        raise input_error(
            f"{caller}: 'strategy' must be 'quantile' or 'uniform', got {strategy!r}",
            fix="pass strategy='quantile'",
        )
    keep = w > 0
    ps, ws = p[keep], w[keep]
    order = np.argsort(ps, kind="stable")
    ps, cw = ps[order], np.cumsum(ws[order])
    levels = np.arange(1, n_bins) / n_bins * cw[-1]
    # small relative tolerance so that float round-off in cumsum cannot split ties
    idx = np.searchsorted(cw, levels * (1.0 - 1e-12), side="left")
    edges = ps[np.minimum(idx, ps.size - 1)]
    return np.searchsorted(edges, p, side="left").astype(np.intp)
