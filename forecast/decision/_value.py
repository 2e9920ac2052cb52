"""Relative economic value (Richardson 2000) from the counts of a set of decisions."""

from __future__ import annotations

from typing import Literal

from forecast._errors import input_error
from forecast._validation import (
    check_capacity_groups,
    check_outcomes_probabilities,
    check_warning_threshold,
)
from forecast.decision._costloss import CostLoss, check_costloss, decision_counts, total_expense
from forecast.decision._rules import warn_mask

__all__ = ["reference_costs", "relative_value", "value_from_counts"]

Reference = Literal["climate", "nothing"]


def reference_costs(onsets: float, non_onsets: float, costloss: CostLoss) -> dict[str, float]:
    """Expense per country-year of the reference strategies at base rate ``s``.

    ``always = C + s L (1 - e)``, ``never = s L``,
    ``climate = min(always, never)``, ``perfect = s (C + L (1 - e))``, computed
    from (weighted) counts through :func:`total_expense` so that a forecast
    that equals a reference strategy has exactly its cost.
    """
    n = onsets + non_onsets
    always = float(total_expense(onsets, non_onsets, onsets, costloss)) / n
    never = float(total_expense(0.0, 0.0, onsets, costloss)) / n
    return {
        "always": always,
        "never": never,
        "climate": min(always, never),
        "perfect": float(total_expense(onsets, 0.0, onsets, costloss)) / n,
    }


def value_from_counts(
    hits: float,
    false_alarms: float,
    onsets: float,
    non_onsets: float,
    costloss: CostLoss,
    reference: Reference = "climate",
) -> float:
    """``(E_ref - E_forecast) / (E_ref - E_perfect)``; NaN if the denominator is <= 0."""
    refs = reference_costs(onsets, non_onsets, costloss)
    e_forecast = float(total_expense(hits, false_alarms, onsets, costloss)) / (onsets + non_onsets)
    e_ref = refs["climate"] if reference == "climate" else refs["never"]
    denominator = e_ref - refs["perfect"]
    scale = max(abs(e_ref), abs(refs["perfect"]), 1e-300)
    if denominator <= 1e-12 * scale:
        return float("nan")
    return (e_ref - e_forecast) / denominator


def relative_value(
    y: object,
    p: object,
    threshold: float,
    costloss: CostLoss,
    groups: object = None,
    *,
    sample_weight: object = None,
    reference: Reference = "climate",
) -> float:
    """Relative economic value of acting on warnings ``p >= threshold``.

    Richardson's (2000) value, with effectiveness ``e``: per country-year,

    - ``E_forecast = mean_i(d_i C + y_i L (1 - e d_i))``,
    - ``E_climate = min(C + s L (1 - e), s L)`` (always act / never act on
      the base rate ``s = mean(y)``),
    - ``E_perfect = s (C + L (1 - e))`` (act exactly before every onset),

    ``V = (E_climate - E_forecast) / (E_climate - E_perfect)``.

    ``V = 1`` for a perfect forecast, ``0`` for the climatological forecast
    ``p = s`` at the Bayes threshold ``r = C / (e L)``, negative when acting on
    the forecast costs more than the better of always/never acting. ``V``
    depends on the costs only through ``r``: with hit and false-alarm shares
    ``H = mean(d y)`` and ``F = mean(d (1 - y))``,
    ``V = (H - r (H + F)) / (s (1 - r))`` when never acting is the reference
    (``r >= s``) and ``V = (H - s + r (1 - H - F)) / (r (1 - s))`` otherwise.

    With ``reference='nothing'`` the reference is never acting,
    ``V_0 = (s L - E_forecast) / (s L - E_perfect)``: the share of the
    avoidable loss actually avoided.

    Weights (``sample_weight``) replace means by weighted means; with
    ``costloss.capacity`` only the top ``capacity`` rows per group may warn.

    Parameters
    ----------
    y : array-like of {0, 1}
        Observed onsets (censored rows removed).
    p : array-like of float in [0, 1]
        Forecast probabilities.
    threshold : float
        Warn when ``p >= threshold``.
    costloss : CostLoss
        Costs.
    groups : array-like, optional
        Year of each row; required when ``costloss.capacity`` is set.
    sample_weight : array-like, optional
        Row weights.
    reference : {'climate', 'nothing'}, default 'climate'
        Strategy that scores 0.

    Returns
    -------
    float
        ``V``; NaN when it is undefined because no forecast can beat the
        reference (``s`` is 0 or 1, or ``r >= 1`` so acting never pays).

    References
    ----------
    Richardson, D. S. (2000). Skill and relative economic value of the ECMWF
    ensemble prediction system. Quarterly Journal of the Royal Meteorological
    Society, 126, 649-667.
    """
    y_arr, p_arr, w_arr = check_outcomes_probabilities(
        y, p, sample_weight, caller="relative_value", names=("y", "p")
    )
    t = check_warning_threshold(threshold, caller="relative_value")
    costloss = check_costloss(costloss, caller="relative_value")
    if reference not in ("climate", "nothing"):
        raise input_error(
            f"relative_value: reference must be 'climate' or 'nothing', got {reference!r}",
            fix="use reference='climate' or reference='nothing'",
        )
    g_arr = check_capacity_groups(groups, p_arr.size, costloss.capacity, caller="relative_value")
    d = warn_mask(p_arr, t, costloss.capacity, g_arr)
    hits, false_alarms, onsets, non_onsets, _ = decision_counts(d, y_arr, w_arr)
    return value_from_counts(
        float(hits), float(false_alarms), float(onsets), float(non_onsets), costloss, reference
    )
