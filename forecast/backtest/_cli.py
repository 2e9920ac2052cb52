"""``forecast backtest``: run an experiment spec, write forecasts, track in MLflow."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

__all__ = ["default_cache_dir", "register"]


def default_cache_dir() -> Path:
    """``$FORECAST_CACHE_DIR`` or ``<user cache dir>/forecast/fits``."""
    import platformdirs

    env = os.environ.get("FORECAST_CACHE_DIR")
    return Path(env) if env else Path(platformdirs.user_cache_dir("forecast")) / "fits"


def add_execution_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--n-jobs", type=int, default=2, help="parallel workers (default 2)")
    parser.add_argument("--backend", choices=["loky", "dask"], default="loky",
                        help="joblib backend; dask runs the tasks on a Dask cluster")
    parser.add_argument("--scheduler", default=None,
                        help="Dask scheduler address (with --backend dask); default: in-process cluster")
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="task cache (default $FORECAST_CACHE_DIR or the user cache dir)")
    parser.add_argument("--no-cache", action="store_true", help="recompute every task")
    parser.add_argument("--no-track", action="store_true", help="do not log to MLflow")
    parser.add_argument("--no-report", action="store_true", help="skip the HTML report")
    parser.add_argument("--tracking-uri", default=None,
                        help="MLflow tracking URI (default $MLFLOW_TRACKING_URI or sqlite:///mlflow.db)")


def _run(args: argparse.Namespace) -> int:
    from forecast.backtest._pipeline import run_experiment

    return run_experiment(
        args.experiment, out=args.out, n_jobs=args.n_jobs, backend=args.backend,
        scheduler=args.scheduler, cache_dir=None if args.no_cache else (args.cache_dir or default_cache_dir()),
        track=not args.no_track, tracking_uri=args.tracking_uri, progress=True,
        report=not args.no_report)


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "backtest", help="rolling-origin backtest of an experiment spec",
        description="Backtest every model of EXPERIMENT_YAML on a rolling origin; write "
                    "DIR/forecasts.parquet, DIR/scores.csv and DIR/metrics.csv; track in MLflow.")
    parser.add_argument("experiment", type=Path, metavar="EXPERIMENT_YAML")
    parser.add_argument("--out", type=Path, default=Path("outputs/backtest"),
                        help="output directory (default outputs/backtest)")
    add_execution_options(parser)
    parser.set_defaults(handler=_run)
