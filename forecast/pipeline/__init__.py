"""Jobs that run the whole chain: above backtest, decision, reports, risk and tracking.

:func:`run_experiment` backtests a spec (:func:`forecast.backtest`) and writes its run
folder (forecasts, scores, metrics, cost analysis, report) as one transaction, then tracks
it; :func:`run_risklist` fits, tiers, renders and tracks the latest risk list. Neither
prints: the commands print what they return.

Names are imported on first use, so that a backtest does not import the risk-list job (and
:mod:`forecast.risk` with it) nor the other way round.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from forecast.pipeline._backtest import run_experiment
    from forecast.pipeline._risklist import RisklistOutput, run_risklist

_LAZY = {
    "run_experiment": "forecast.pipeline._backtest",
    "RisklistOutput": "forecast.pipeline._risklist",
    "run_risklist": "forecast.pipeline._risklist",
}

__all__ = [
    "RisklistOutput",
    "run_experiment",
    "run_risklist",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'forecast.pipeline' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
