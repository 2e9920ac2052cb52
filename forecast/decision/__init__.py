"""Decision analysis: the cost of acting on warnings (cost-loss model).

Acting on a warning costs ``C``, an unprevented onset costs ``L`` and acting
prevents the share ``e`` of the loss; acting pays when ``p > r = C / (e L)``.
This subpackage turns forecasts into decisions (threshold and top-k rules),
chooses thresholds honestly (only from outcomes known at each origin) and
scores the decisions: expected cost, relative economic value (Richardson
2000), net benefit and decision curves (Vickers & Elkin 2006).

:func:`cost_analysis` is the engine: it runs all of it over a backtest's
forecast table (the run's ``costs.csv``, MLflow metrics, figures, the
``forecast costs`` command and the report's :func:`decision_table`). The
scalar functions (:func:`best_threshold_in_sample`, :func:`rolling_thresholds`,
:func:`relative_value`, ...) are views of the same three routines: one
cost-minimising threshold fit, one honest (rolling-origin) threshold rule and
one computation of costs and values from decision counts.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from forecast.decision._analysis import POLICIES, CostAnalysis, cost_analysis, decision_table
from forecast.decision._capacity import capacity_policy
from forecast.decision._costloss import CostLoss, expected_cost, optimal_threshold
from forecast.decision._curves import (
    NAMED_COST_RATIOS,
    cost_ratio_grid,
    cost_ratio_label,
    decision_curve,
    net_benefit,
    value_curve,
)
from forecast.decision._rolling import rolling_thresholds
from forecast.decision._rules import EWP_THRESHOLD, EWP_TOP30, ThresholdRule, TopKRule
from forecast.decision._table import FORECAST_TABLE_COLUMNS
from forecast.decision._threshold import best_threshold_in_sample
from forecast.decision._value import relative_value

if TYPE_CHECKING:
    from forecast.decision._figures import decision_curve_figure, value_curve_figure
    from forecast.decision._selector import CostThresholdSelector

_LAZY = {  # imported on first use: they need matplotlib or scikit-learn
    "CostThresholdSelector": "forecast.decision._selector",
    "decision_curve_figure": "forecast.decision._figures",
    "value_curve_figure": "forecast.decision._figures",
}

__all__ = [
    "EWP_THRESHOLD",
    "EWP_TOP30",
    "FORECAST_TABLE_COLUMNS",
    "NAMED_COST_RATIOS",
    "POLICIES",
    "CostAnalysis",
    "CostLoss",
    "CostThresholdSelector",
    "ThresholdRule",
    "TopKRule",
    "best_threshold_in_sample",
    "capacity_policy",
    "cost_analysis",
    "cost_ratio_grid",
    "cost_ratio_label",
    "decision_curve",
    "decision_curve_figure",
    "decision_table",
    "expected_cost",
    "net_benefit",
    "optimal_threshold",
    "relative_value",
    "rolling_thresholds",
    "value_curve",
    "value_curve_figure",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'forecast.decision' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
