"""Rolling-origin backtests: the splitter, the engine and its result, the task cache.

Calling the package runs :func:`forecast.backtest` (``forecast.backtest(spec)`` returns a
:class:`forecast.Backtest`), so that the package and the function can share their name.
"""

import importlib
import sys
import types

from forecast.backtest._cache import CacheInfo, TaskCache, code_version, default_cache_dir
from forecast.backtest._cluster import ProcessCluster, TLSFiles
from forecast.backtest._engine import (
    ORACLE,
    BacktestResult,
    backtest_models,
    dataset_digest,
    load_panel,
    meta_members,
    recency_weights,
    run_backtest,
)
from forecast.backtest._execute import Execution
from forecast.backtest._splitter import RollingOrigin, Split, check_no_lookahead
from forecast.backtest._summary import BacktestSummary, summarize
from forecast.backtest._task import (
    CapturedWarnings,
    capture_warnings,
    fit_forecast,
    make_estimator,
)

__all__ = [
    "ORACLE",
    "BacktestResult",
    "BacktestSummary",
    "CacheInfo",
    "CapturedWarnings",
    "Execution",
    "ProcessCluster",
    "RollingOrigin",
    "Split",
    "TLSFiles",
    "TaskCache",
    "backtest_models",
    "capture_warnings",
    "check_no_lookahead",
    "code_version",
    "dataset_digest",
    "default_cache_dir",
    "fit_forecast",
    "load_panel",
    "make_estimator",
    "meta_members",
    "recency_weights",
    "run_backtest",
    "summarize",
]


class _Callable(types.ModuleType):
    """This package, callable as :func:`forecast._backtest_result.backtest`."""

    def __call__(self, *args, **kwargs):
        # by name, not an import statement: the result object is no part of the fit kernel's
        # import closure (the task cache's code version, forecast.backtest._cache)
        backtest = importlib.import_module("forecast._backtest_result").backtest
        return backtest(*args, **kwargs)


sys.modules[__name__].__class__ = _Callable
