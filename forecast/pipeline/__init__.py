"""Jobs that run the whole chain: above backtest, decision, reports, risk and tracking.

:func:`run_experiment` backtests a spec and writes its run folder (forecasts, scores,
metrics, cost analysis, report) as one transaction, then tracks it; :func:`run_risklist`
fits, tiers, renders and tracks the latest risk list.
"""

from forecast.pipeline._backtest import RUN_MARKERS, print_summary, run_artifacts, run_experiment
from forecast.pipeline._risklist import RisklistOutput, run_risklist

__all__ = [
    "RUN_MARKERS",
    "RisklistOutput",
    "print_summary",
    "run_artifacts",
    "run_experiment",
    "run_risklist",
]
