"""Acting on a fixed number of warnings per year (limited capacity)."""

from __future__ import annotations

import pandas as pd

from forecast._errors import input_error
from forecast._validation import check_group_labels, check_k, check_outcomes_probabilities
from forecast.decision._costloss import CostLoss, check_costloss, total_expense
from forecast.metrics import top_k_mask

__all__ = ["capacity_policy"]


def capacity_policy(
    y: object,
    p: object,
    groups: object,
    k: int | None,
    costloss: CostLoss,
    *,
    sample_weight: object = None,
) -> pd.DataFrame:
    """Warn on the ``k`` highest-risk units of each year and count the results.

    Per group (year) ``g`` with decisions ``d_i = 1[rank_g(p_i) <= k]`` (ties
    broken by row order; a year with fewer than ``k`` units warns all, see
    :func:`forecast.metrics.top_k_mask`): ``hits = sum d y``, ``misses = sum (1 - d) y``,
    ``false_alarms = sum d (1 - y)`` and
    ``cost = sum_i w_i (d_i C + y_i L (1 - e d_i))``. Counts are weighted with
    ``sample_weight``. The mean of a column over the rows is its value per year.

    Parameters
    ----------
    y, p : array-like
        Outcomes in {0, 1} (censored rows removed) and probabilities in [0, 1].
    groups : array-like
        Year of each row.
    k : int or None
        Warnings per year; ``None`` takes ``costloss.capacity``.
    costloss : CostLoss
        Costs.
    sample_weight : array-like, optional
        Row weights.

    Returns
    -------
    pandas.DataFrame
        One row per group, sorted by group: ``group, units, onsets, warnings,
        hits, misses, false_alarms, cost``.
    """
    y_arr, p_arr, w_arr = check_outcomes_probabilities(
        y, p, sample_weight, caller="capacity_policy", names=("y", "p")
    )
    costloss = check_costloss(costloss, caller="capacity_policy")
    if k is None:
        if costloss.capacity is None:
            raise input_error(
                "capacity_policy: k is None and costloss.capacity is None",
                fix="pass k, the number of warnings acted on per year",
            )
        k = costloss.capacity
    k = check_k(k, caller="capacity_policy")
    g_arr = check_group_labels(groups, p_arr.size, caller="capacity_policy")
    d = top_k_mask(p_arr, g_arr, k)
    onset = y_arr == 1
    frame = pd.DataFrame(
        {
            "group": g_arr,
            "units": w_arr,
            "onsets": w_arr * onset,
            "warnings": w_arr * d,
            "hits": w_arr * (d & onset),
            "misses": w_arr * (~d & onset),
            "false_alarms": w_arr * (d & ~onset),
        }
    )
    out = frame.groupby("group", sort=True).sum().reset_index()
    out["cost"] = total_expense(out["hits"], out["false_alarms"], out["onsets"], costloss)
    return out
