"""The cost-loss model of acting on warnings, the counts of a set of decisions and their expense."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from forecast._errors import input_error
from forecast._validation import (
    check_capacity_groups,
    check_outcomes_probabilities,
    check_warning_threshold,
)
from forecast.decision._rules import warn_mask

__all__ = [
    "CostLoss",
    "DecisionCounts",
    "check_costloss",
    "decision_counts",
    "expected_cost",
    "optimal_threshold",
    "total_expense",
]


def _positive_number(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        raise input_error(
            f"CostLoss: {name} must be a number, got {value!r}",
            fix=f"pass {name} as a positive float",
        )
    value = float(value)
    if not math.isfinite(value) or value <= 0:
        raise input_error(
            f"CostLoss: {name} must be finite and > 0, got {value!r}",
            fix=f"pass {name} as a positive float",
        )
    return value


@dataclass(frozen=True)
class CostLoss:
    """Costs of acting on a warning and of an unprevented onset.

    Acting on one warning (one country, one forecast window) costs ``C``; an
    onset that is not prevented costs ``L``; acting prevents the share ``e`` of
    the loss. For a decision ``d`` (1 = act) and an outcome ``y`` (1 = onset)
    the expense of one country-year is

    ``E(d, y) = d * C + y * L * (1 - e * d)``.

    Acting pays when ``p * e * L > C``, i.e. when ``p > r`` with the cost ratio
    ``r = C / (e * L)``.

    Parameters
    ----------
    cost : float
        Cost ``C`` of acting on one warning, > 0.
    loss : float
        Loss ``L`` of an unprevented onset, > 0 (same currency as ``cost``).
    effectiveness : float, default 1.0
        Share ``e`` of the loss that acting prevents, in (0, 1].
    capacity : int or None, default None
        Most warnings that can be acted on per year (the highest-risk ones);
        ``None`` means no limit.

    Raises
    ------
    ForecastInputError
        If ``cost`` or ``loss`` is not > 0, ``effectiveness`` is outside
        (0, 1] or ``capacity`` is < 1.
    """

    cost: float
    loss: float
    effectiveness: float = 1.0
    capacity: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "cost", _positive_number(self.cost, "cost"))
        object.__setattr__(self, "loss", _positive_number(self.loss, "loss"))
        e = self.effectiveness
        if isinstance(e, bool) or not isinstance(e, (int, float, np.number)):
            raise input_error(
                f"CostLoss: effectiveness must be a number in (0, 1], got {e!r}",
                fix="pass the share of the loss that acting prevents, e.g. 0.5",
            )
        if not 0.0 < float(e) <= 1.0:
            raise input_error(
                f"CostLoss: effectiveness must be in (0, 1], got {e!r}",
                fix="pass the share of the loss that acting prevents, e.g. 0.5",
            )
        object.__setattr__(self, "effectiveness", float(e))
        cap = self.capacity
        if cap is not None and (
            isinstance(cap, bool) or not isinstance(cap, (int, np.integer)) or cap < 1
        ):
            raise input_error(
                f"CostLoss: capacity must be an integer >= 1 or None, got {cap!r}",
                fix="pass the number of warnings that can be acted on per year, or None",
            )
        if cap is not None:
            object.__setattr__(self, "capacity", int(cap))

    @classmethod
    def from_ratio(
        cls,
        cost_ratio: float,
        effectiveness: float = 1.0,
        capacity: int | None = None,
        loss: float = 1.0,
    ) -> CostLoss:
        """Build from a cost ratio ``r = C / (e L)``: ``C = r * e * loss``.

        Costs are then in units of ``loss`` (default: one unprevented onset).
        """
        r = _positive_number(cost_ratio, "cost_ratio")
        probe = cls(cost=1.0, loss=loss, effectiveness=effectiveness, capacity=capacity)
        return cls(
            cost=r * probe.effectiveness * probe.loss,
            loss=probe.loss,
            effectiveness=probe.effectiveness,
            capacity=probe.capacity,
        )

    @property
    def cost_ratio(self) -> float:
        """Cost ratio ``r = C / (e L)``, the Bayes threshold for calibrated probabilities."""
        return self.cost / (self.effectiveness * self.loss)


def check_costloss(costloss: object, *, caller: str) -> CostLoss:
    """Return ``costloss`` if it is a :class:`CostLoss`, else raise."""
    if not isinstance(costloss, CostLoss):
        raise input_error(
            f"{caller}: costloss must be a CostLoss, got {type(costloss).__name__}",
            fix="pass CostLoss(cost=..., loss=...) or CostLoss.from_ratio(r)",
        )
    return costloss


class DecisionCounts(NamedTuple):
    """Weighted counts of decisions against outcomes (floats, or arrays for many decision sets).

    ``hits = sum w d y``, ``false_alarms = sum w d (1 - y)``, ``onsets = sum w y``,
    ``non_onsets = sum w (1 - y)``, ``expected_hits = sum w d p`` (NaN without ``p``).
    """

    hits: np.ndarray | float
    false_alarms: np.ndarray | float
    onsets: float
    non_onsets: float
    expected_hits: np.ndarray | float


def decision_counts(
    d: np.ndarray, y: np.ndarray, w: np.ndarray, p: np.ndarray | None = None
) -> DecisionCounts:
    """Weighted hits, false alarms, onsets and non-onsets of decisions ``d``.

    ``d`` is one decision set (rows) or several (sets x rows); ``y`` is 0/1
    (rows with weight 0, e.g. unknown outcomes, count nowhere); ``w`` the row
    weights; ``p`` the probabilities for ``expected_hits``. Every cost and
    value of the decision analysis is computed from these counts.
    """
    d = np.asarray(d, dtype=float)
    onset = w * (y == 1)
    non_onset = w * (y == 0)
    expected = d @ (w * p) if p is not None else np.full(d.shape[:-1], np.nan)
    return DecisionCounts(
        d @ onset, d @ non_onset, float(onset.sum()), float(non_onset.sum()), expected
    )


def total_expense(
    hits: np.ndarray | float,
    false_alarms: np.ndarray | float,
    onsets: float,
    costloss: CostLoss,
) -> np.ndarray | float:
    """Total expense of a decision set from its counts.

    ``sum_i w_i (d_i C + y_i L (1 - e d_i)) = (hits + false_alarms) C + onsets L - e L hits``.
    """
    c, loss, e = costloss.cost, costloss.loss, costloss.effectiveness
    return (hits + false_alarms) * c + onsets * loss - e * loss * hits


def optimal_threshold(costloss: CostLoss) -> float:
    """Bayes-optimal threshold for calibrated probabilities: ``r = C / (e L)``.

    Act when the expected saving exceeds the cost, ``p * e * L >= C``.

    Parameters
    ----------
    costloss : CostLoss
        The costs.

    Returns
    -------
    float
        The cost ratio ``r``.
    """
    return check_costloss(costloss, caller="optimal_threshold").cost_ratio


def expected_cost(
    y: object,
    p: object,
    threshold: float,
    costloss: CostLoss,
    groups: object = None,
    *,
    sample_weight: object = None,
) -> float:
    """Realised mean cost of warning at ``threshold``, per year (or per row).

    With decisions ``d_i = 1[p_i >= threshold]`` (and, if ``costloss.capacity``
    is set, only for the ``capacity`` highest ``p`` in each group):

    ``cost = sum_i w_i * (d_i C + y_i L (1 - e d_i)) / G``

    where ``G`` is the number of distinct groups (years). Without ``groups``
    every row is its own group and the result is the weighted mean expense per
    country-year, ``sum_i w_i E_i / sum_i w_i``.

    Parameters
    ----------
    y : array-like of {0, 1}
        Observed onsets (censored rows removed).
    p : array-like of float in [0, 1]
        Forecast probabilities.
    threshold : float
        Warn when ``p >= threshold``.
    costloss : CostLoss
        Costs, effectiveness and capacity.
    groups : array-like, optional
        Year of each row; required when ``costloss.capacity`` is set.
    sample_weight : array-like, optional
        Row weights.

    Returns
    -------
    float
        Mean cost per year (per country-year without ``groups``), in the
        currency of ``costloss``.
    """
    y_arr, p_arr, w_arr = check_outcomes_probabilities(
        y, p, sample_weight, caller="expected_cost", names=("y", "p")
    )
    t = check_warning_threshold(threshold, caller="expected_cost")
    costloss = check_costloss(costloss, caller="expected_cost")
    g_arr = check_capacity_groups(groups, p_arr.size, costloss.capacity, caller="expected_cost")
    counts = decision_counts(warn_mask(p_arr, t, costloss.capacity, g_arr), y_arr, w_arr)
    total = float(total_expense(counts.hits, counts.false_alarms, counts.onsets, costloss))
    if g_arr is None:
        return total / float(w_arr.sum())
    return total / float(np.unique(g_arr).size)
