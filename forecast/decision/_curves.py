"""Curves over thresholds and cost ratios: decision curves and value curves."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from forecast._errors import input_error
from forecast.decision._costloss import CostLoss
from forecast.decision._threshold import best_threshold_in_sample
from forecast.decision._validate import check_outcomes_probabilities
from forecast.decision._value import (
    decision_counts,
    reference_costs,
    total_expense,
    value_from_counts,
)

__all__ = [
    "NAMED_COST_RATIOS",
    "cost_ratio_grid",
    "cost_ratio_label",
    "decision_curve",
    "value_curve",
]

NAMED_COST_RATIOS: dict[str, float] = {"1to10": 1 / 10, "1to20": 1 / 20, "1to50": 1 / 50}
"""Summary cost ratios ``r = C / (e L)``: acting is worth it at odds 1:10, 1:20, 1:50."""


def cost_ratio_label(cost_ratio: float) -> str:
    """Metric-name label of a cost ratio: ``1/10 -> '1to10'``, ``0.08 -> '1to12.5'``."""
    if not cost_ratio > 0:
        raise input_error(
            f"cost_ratio_label: cost_ratio must be > 0, got {cost_ratio!r}",
            fix="pass C / (e L), e.g. 0.05",
        )
    return f"1to{1.0 / float(cost_ratio):.6g}"


def cost_ratio_grid(lo: float = 1 / 200, hi: float = 1 / 2, n: int = 25) -> np.ndarray:
    """Log-spaced cost ratios from ``lo`` to ``hi``, plus the named points inside.

    Returns ``n`` values ``lo * (hi / lo) ** (i / (n - 1))`` merged with the
    entries of :data:`NAMED_COST_RATIOS` (1:10, 1:20, 1:50) that fall in
    ``[lo, hi]`` (a grid point equal to a named ratio up to rounding is
    replaced by the exact value), sorted ascending.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise input_error(
            f"cost_ratio_grid: n must be an integer >= 2, got {n!r}", fix="pass e.g. n=25"
        )
    if not (0 < lo < hi < math.inf):
        raise input_error(
            f"cost_ratio_grid: need 0 < lo < hi, got lo={lo!r}, hi={hi!r}",
            fix="pass e.g. lo=1/200, hi=1/2",
        )
    grid = np.geomspace(lo, hi, int(n))
    named = np.array([r for r in NAMED_COST_RATIOS.values() if lo <= r <= hi])
    # A grid point that is a named ratio up to rounding is replaced by the exact value.
    near = np.isclose(grid[:, None], named[None, :], rtol=1e-9, atol=0).any(axis=1)
    return np.sort(np.concatenate([grid[~near], named]))


def decision_curve(
    y: object, p: object, thresholds: object = None, *, sample_weight: object = None
) -> pd.DataFrame:
    """Net benefit of the model, of warning on all and of warning on none.

    For each threshold probability ``p_t``:
    ``NB_model = TP / n - FP / n * p_t / (1 - p_t)`` (warn when ``p >= p_t``),
    ``NB_all = s - (1 - s) p_t / (1 - p_t)``, ``NB_none = 0``
    (Vickers & Elkin 2006).

    Parameters
    ----------
    y, p : array-like
        Outcomes in {0, 1} and probabilities in [0, 1].
    thresholds : array-like of float in [0, 1), optional
        Defaults to :func:`cost_ratio_grid`.
    sample_weight : array-like, optional
        Row weights.

    Returns
    -------
    pandas.DataFrame
        Columns ``threshold, net_benefit_model, net_benefit_treat_all,
        net_benefit_treat_none, warnings_share``.
    """
    y_arr, p_arr, w_arr = check_outcomes_probabilities(y, p, sample_weight, caller="decision_curve")
    t = cost_ratio_grid() if thresholds is None else np.asarray(thresholds, dtype=float).ravel()
    bad = ~np.isfinite(t) | (t < 0) | (t >= 1)
    if t.size == 0 or bad.any():
        raise input_error(
            "decision_curve: thresholds must be non-empty and in [0, 1)",
            rows=np.flatnonzero(bad).tolist(),
            fix="pass threshold probabilities such as np.linspace(0.01, 0.5, 50)",
        )
    n = float(w_arr.sum())
    s = float(np.sum(w_arr * y_arr)) / n
    d = p_arr[None, :] >= t[:, None]  # thresholds x rows
    tp = (d * (w_arr * y_arr)[None, :]).sum(axis=1) / n
    fp = (d * (w_arr * (1.0 - y_arr))[None, :]).sum(axis=1) / n
    odds = t / (1.0 - t)
    return pd.DataFrame(
        {
            "threshold": t,
            "net_benefit_model": tp - fp * odds,
            "net_benefit_treat_all": s - (1.0 - s) * odds,
            "net_benefit_treat_none": np.zeros_like(t),
            "warnings_share": tp + fp,
        }
    )


def value_curve(
    y: object,
    p: object,
    cost_ratios: object = None,
    effectiveness: float = 1.0,
    *,
    sample_weight: object = None,
) -> pd.DataFrame:
    """Relative economic value (Richardson 2000) across cost ratios.

    For each ``r`` (costs ``L = 1``, ``C = r e``) reports the value of warning
    at the Bayes threshold ``p >= r`` (honest if the probabilities are
    calibrated) and at the in-sample cost-optimal threshold (the optimistic
    envelope ``max_t V(t)``), see :func:`relative_value` for the formula.
    ``V`` depends on the costs only through ``r``; ``effectiveness`` scales the
    absolute expenses (per country-year, in units of ``L``).

    Parameters
    ----------
    y, p : array-like
        Outcomes in {0, 1} and probabilities in [0, 1].
    cost_ratios : array-like of float > 0, optional
        Defaults to :func:`cost_ratio_grid`.
    effectiveness : float, default 1.0
        Share of the loss prevented by acting, in (0, 1].
    sample_weight : array-like, optional
        Row weights.

    Returns
    -------
    pandas.DataFrame
        Columns ``cost_ratio, threshold_bayes, relative_value, threshold_best,
        relative_value_best, expected_cost, climate_cost, perfect_cost``.
    """
    y_arr, p_arr, w_arr = check_outcomes_probabilities(y, p, sample_weight, caller="value_curve")
    ratios = cost_ratio_grid() if cost_ratios is None else np.asarray(cost_ratios, float).ravel()
    n = float(w_arr.sum())
    rows = []
    for r in ratios:
        costloss = CostLoss.from_ratio(float(r), effectiveness)
        best = best_threshold_in_sample(y_arr, p_arr, costloss, sample_weight=w_arr)
        counts_bayes = decision_counts(p_arr >= r, y_arr, w_arr)
        counts_best = decision_counts(p_arr >= best, y_arr, w_arr)
        refs = reference_costs(counts_bayes[2], counts_bayes[3], costloss)
        rows.append(
            {
                "cost_ratio": float(r),
                "threshold_bayes": float(r),
                "relative_value": value_from_counts(*counts_bayes, costloss),
                "threshold_best": best,
                "relative_value_best": value_from_counts(*counts_best, costloss),
                "expected_cost": total_expense(*counts_bayes[:3], costloss) / n,
                "climate_cost": refs["climate"],
                "perfect_cost": refs["perfect"],
            }
        )
    return pd.DataFrame(rows)
