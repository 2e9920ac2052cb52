"""Jobs that run the whole chain: above backtest, decision, reports, risk and tracking.

:func:`run_experiment` backtests a spec and writes its run folder (forecasts, scores,
metrics, cost analysis, report) as one transaction, then tracks it; :func:`run_risklist`
fits, tiers, renders and tracks the latest risk list.

Names are imported on first use, so that a backtest does not import the risk-list job (and
:mod:`forecast.risk` with it) nor the other way round.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from forecast.pipeline._backtest import (
        RUN_MARKERS,
        print_summary,
        run_artifacts,
        run_experiment,
    )
    from forecast.pipeline._risklist import RisklistOutput, run_risklist

_LAZY = {
    "RUN_MARKERS": "forecast.pipeline._backtest",
    "print_summary": "forecast.pipeline._backtest",
    "run_artifacts": "forecast.pipeline._backtest",
    "run_experiment": "forecast.pipeline._backtest",
    "RisklistOutput": "forecast.pipeline._risklist",
    "run_risklist": "forecast.pipeline._risklist",
}

__all__ = [
    "RUN_MARKERS",
    "RisklistOutput",
    "print_summary",
    "run_artifacts",
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
