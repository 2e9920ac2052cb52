"""``forecast backtest``: run an experiment spec, write its run folder, track in MLflow."""

from __future__ import annotations

import argparse
from pathlib import Path

from forecast._errors import input_error
from forecast.commands._common import add_experiment, add_tracking, experiment_of

__all__ = ["add_execution_options", "backend_of", "register"]


def add_execution_options(parser: argparse.ArgumentParser) -> None:
    """Workers, backend and the task cache."""
    parser.add_argument(
        "--n-jobs", type=int, default=2, help="parallel workers of the loky backend (default 2)"
    )
    parser.add_argument(
        "--backend",
        choices=["loky", "dask"],
        default=None,
        help="loky (default): --n-jobs processes here; dask: the tasks run on the Dask cluster "
        "at --scheduler (the default with --scheduler), else on an in-process one. Results "
        "and the task cache are the same",
    )
    parser.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="Dask scheduler, e.g. tcp://127.0.0.1:8786 as printed by `forecast cluster up` "
        "or `dask scheduler`; the run fails within seconds when it does not answer",
    )
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        help="task cache (default $FORECAST_CACHE_DIR or the user cache dir)",
    )
    parser.add_argument("--no-cache", action="store_true", help="recompute every task")


def backend_of(args: argparse.Namespace) -> str:
    """``--backend``: dask when a ``--scheduler`` is given, else loky, unless set."""
    if args.backend == "loky" and args.scheduler:
        raise input_error(
            f"--scheduler {args.scheduler} needs --backend dask, got --backend loky",
            fix="drop --backend loky, or drop --scheduler to run here",
        )
    return args.backend or ("dask" if args.scheduler else "loky")


def cache_dir_of(args: argparse.Namespace) -> Path | None:
    from forecast.backtest import default_cache_dir

    return None if args.no_cache else (args.cache_dir or default_cache_dir())


def _run(args: argparse.Namespace) -> int:
    from forecast.pipeline import run_experiment

    return run_experiment(
        experiment_of(args),
        out=args.out,
        n_jobs=args.n_jobs,
        backend=backend_of(args),
        scheduler=args.scheduler,
        cache_dir=cache_dir_of(args),
        track=not args.no_track,
        tracking_uri=args.tracking_uri,
        progress=True,
        report=not args.no_report,
    )


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "backtest",
        help="rolling-origin backtest of an experiment spec",
        description="Backtest every model of EXPERIMENT_YAML on a rolling origin and write the "
        "run folder DIR (forecasts, scores, metrics, costs, report) as a whole: "
        "on any failure DIR keeps its previous contents. Tracked in MLflow.",
    )
    add_experiment(parser)
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("outputs/backtest"),
        metavar="DIR",
        help="run folder to write (default outputs/backtest)",
    )
    add_execution_options(parser)
    parser.add_argument("--no-report", action="store_true", help="skip the HTML report")
    add_tracking(parser)
    parser.set_defaults(handler=_run)
