"""Curves over thresholds and cost ratios: decision curves and value curves."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from forecast._errors import input_error
from forecast._validation import check_outcomes_probabilities, check_probability_threshold
from forecast.decision._costloss import CostLoss, decision_counts, total_expense
from forecast.decision._threshold import min_cost_thresholds
from forecast.decision._value import reference_costs, value_from_counts

__all__ = [
    "NAMED_COST_RATIOS",
    "cost_ratio_grid",
    "cost_ratio_label",
    "decision_curve",
    "net_benefit",
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


def cost_ratio_grid(
    lo: float = 1 / 200, hi: float = 1 / 2, n: int = 25, *, extra: object = ()
) -> np.ndarray:
    """Cost ratios ``r = 1 / k`` for integer odds ``k`` log-spaced from ``1 / hi`` to ``1 / lo``.

    ``k = unique(round(geomspace(1 / hi, 1 / lo, n)))``; ratios outside
    ``[lo, hi]`` are dropped, ``lo`` and ``hi`` themselves, the entries of
    :data:`NAMED_COST_RATIOS` (1:10, 1:20, 1:50) that fall in ``[lo, hi]``
    and ``extra`` (any ratios in (0, 1)) are merged in; ratios equal up to
    ``1e-9`` relative are kept once (the first of sorted order). Sorted
    ascending. Integer odds give readable labels (``1to20``) and one
    MLflow step per ratio (``step = 1 / r``). This is the grid of
    :func:`cost_analysis`, :func:`value_curve` and :func:`decision_curve`.
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
    ratios = 1.0 / np.unique(np.round(np.geomspace(1.0 / hi, 1.0 / lo, int(n))))
    ratios = ratios[(ratios >= lo) & (ratios <= hi)]
    named = [r for r in NAMED_COST_RATIOS.values() if lo <= r <= hi]
    ratios = np.sort(np.r_[named, ratios, lo, hi, np.asarray(extra, dtype=float).ravel()])
    keep = np.r_[True, np.diff(ratios) > 1e-9 * ratios[1:]]
    return ratios[keep]


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
    y_arr, p_arr, w_arr = check_outcomes_probabilities(
        y, p, sample_weight, caller="decision_curve", names=("y", "p")
    )
    t = cost_ratio_grid() if thresholds is None else np.asarray(thresholds, dtype=float).ravel()
    bad = ~np.isfinite(t) | (t < 0) | (t >= 1)
    if t.size == 0 or bad.any():
        raise input_error(
            "decision_curve: thresholds must be non-empty and in [0, 1)",
            rows=np.flatnonzero(bad).tolist(),
            fix="pass threshold probabilities such as np.linspace(0.01, 0.5, 50)",
        )
    counts = decision_counts(p_arr[None, :] >= t[:, None], y_arr, w_arr)  # thresholds x rows
    n = counts.onsets + counts.non_onsets
    s = counts.onsets / n
    tp, fp = counts.hits / n, counts.false_alarms / n
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


def net_benefit(y: object, p: object, threshold: float, *, sample_weight: object = None) -> float:
    """Net benefit of treating (warning on) ``p >= threshold`` (Vickers & Elkin 2006).

    ``NB = TP / n - FP / n * p_t / (1 - p_t)`` with ``p_t`` the threshold
    probability, ``TP`` the onsets warned on and ``FP`` the warnings without an
    onset (weighted counts and ``n = sum(w)`` with ``sample_weight``). Treating
    nobody has ``NB = 0``; treating everybody ``NB = s - (1 - s) p_t / (1 - p_t)``.
    With effectiveness 1 and ``p_t = r`` it is tied to the relative value:
    ``V = (NB - max(NB_all, 0)) / (s - max(NB_all, 0))``. One point of
    :func:`decision_curve`.

    Parameters
    ----------
    y : array-like of {0, 1}
        Observed onsets.
    p : array-like of float in [0, 1]
        Forecast probabilities.
    threshold : float
        Threshold probability ``p_t`` in [0, 1).
    sample_weight : array-like, optional
        Row weights.

    Returns
    -------
    float
        Net benefit, in true positives per country-year.

    References
    ----------
    Vickers, A. J., & Elkin, E. B. (2006). Decision curve analysis: a novel
    method for evaluating prediction models. Medical Decision Making, 26(6),
    565-574.
    """
    t = check_probability_threshold(threshold, caller="net_benefit", below_one=True)
    curve = decision_curve(y, p, [t], sample_weight=sample_weight)
    return float(curve["net_benefit_model"].iloc[0])


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
    y_arr, p_arr, w_arr = check_outcomes_probabilities(
        y, p, sample_weight, caller="value_curve", names=("y", "p")
    )
    ratios = cost_ratio_grid() if cost_ratios is None else np.asarray(cost_ratios, float).ravel()
    costlosses = [CostLoss.from_ratio(float(r), effectiveness) for r in ratios]
    best = min_cost_thresholds(y_arr, p_arr, w_arr, ratios, np.ones(p_arr.size, dtype=bool))
    bayes = decision_counts(p_arr[None, :] >= ratios[:, None], y_arr, w_arr)
    fitted = decision_counts(p_arr[None, :] >= best[:, None], y_arr, w_arr)
    onsets, non_onsets = float(bayes.onsets), float(bayes.non_onsets)
    bayes_hits, bayes_alarms = np.asarray(bayes.hits), np.asarray(bayes.false_alarms)
    fitted_hits, fitted_alarms = np.asarray(fitted.hits), np.asarray(fitted.false_alarms)
    rows = []
    for i, (r, costloss) in enumerate(zip(ratios, costlosses)):
        refs = reference_costs(onsets, non_onsets, costloss)
        rows.append(
            {
                "cost_ratio": float(r),
                "threshold_bayes": float(r),
                "relative_value": value_from_counts(
                    bayes_hits[i], bayes_alarms[i], onsets, non_onsets, costloss
                ),
                "threshold_best": float(best[i]),
                "relative_value_best": value_from_counts(
                    fitted_hits[i], fitted_alarms[i], onsets, non_onsets, costloss
                ),
                "expected_cost": float(
                    total_expense(bayes_hits[i], bayes_alarms[i], onsets, costloss)
                )
                / (onsets + non_onsets),
                "climate_cost": refs["climate"],
                "perfect_cost": refs["perfect"],
            }
        )
    return pd.DataFrame(rows)
