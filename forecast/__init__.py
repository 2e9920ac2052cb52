"""Leakage-safe forecasting and evaluation of atrocity early-warning models.

The public API; names are imported on first use so ``import forecast`` stays fast.

>>> import forecast
>>> bt = forecast.backtest("experiments/synthetic-default.yaml")   # doctest: +SKIP
>>> bt.metrics()                                                   # doctest: +SKIP
>>> bt.risk_list()                                                 # doctest: +SKIP

``forecast.backtest`` is also the subpackage of the engine (:mod:`forecast.backtest`);
calling it runs :func:`forecast._backtest_result.backtest`.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from forecast._errors import DataNotAvailableError, ForecastInputError

__version__ = "0.1.0"

_LAZY = {
    "Backtest": "forecast._backtest_result",
    "Panel": "forecast.panel",
    "onset_within": "forecast.outcomes",
    "load_dataset": "forecast.data",
    "load_feature_set": "forecast.features",
    "build_panel": "forecast.features",
    "load_experiment": "forecast.experiment",
    "build_model": "forecast.models",
    "check_model": "forecast.models",
    "register_model": "forecast.models",
    "RollingOrigin": "forecast.backtest",
    "run_backtest": "forecast.backtest",
    "get_metric": "forecast.metrics",
    "evaluate_forecasts": "forecast.metrics",
    "recalibrate_from_history": "forecast.calibration",
    "RecalibratedClassifier": "forecast.calibration",
    "CostLoss": "forecast.decision",
    "cost_analysis": "forecast.decision",
    "build_report": "forecast.reports",
    "fit_latest": "forecast.risk",
    "explain_change": "forecast.risk",
}

_MODULES = {"backtest": "forecast.backtest"}  # a callable subpackage (see above)

__all__ = ["DataNotAvailableError", "ForecastInputError", *sorted({*_LAZY, *_MODULES})]


def __getattr__(name: str) -> Any:
    if name in _MODULES:
        return import_module(_MODULES[name])
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'forecast' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | set(_MODULES))
