"""Rolling-origin backtests: the splitter, the engine and its result."""

from forecast.backtest._engine import BacktestResult, load_panel, run_backtest
from forecast.backtest._splitter import RollingOrigin, Split, check_no_lookahead

__all__ = ["BacktestResult", "RollingOrigin", "Split", "check_no_lookahead", "load_panel",
           "run_backtest"]
