"""``forecast backtest``: run an experiment spec, write its run folder, track in MLflow."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import pandas as pd

from forecast._errors import input_error
from forecast.commands._common import (
    PATH,
    cache_dir,
    command,
    experiment_argument,
    experiment_of,
    options,
    tracking,
)

if TYPE_CHECKING:
    from forecast import Backtest

__all__ = ["backtest", "backend_of", "execution_options", "print_summary"]


execution_options = options(
    click.option(
        "--n-jobs", type=int, default=2, help="parallel workers of the loky backend (default 2)"
    ),
    click.option(
        "--backend",
        type=click.Choice(["loky", "dask"]),
        help="loky (default): --n-jobs processes here; dask: the tasks run on the Dask cluster "
        "at --scheduler (the default with --scheduler), else on an in-process one. Results "
        "and the task cache are the same",
    ),
    click.option(
        "--scheduler",
        metavar="ADDRESS",
        help="Dask scheduler, e.g. tcp://127.0.0.1:8786 as printed by `forecast cluster up` "
        "or `dask scheduler`; the run fails within seconds when it does not answer",
    ),
    cache_dir,
    click.option("--no-cache", is_flag=True, help="recompute every task"),
)
"""Workers, backend and the task cache."""


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


_SHOWN = [
    "roc_auc",
    "average_precision",
    "brier",
    "brier_skill",
    "observed_expected",
    "calibration_slope",
    "recall_top10",
    "recall_top20",
    "recall_top30",
]
_COSTS_SHOWN = (
    "relative_value_1to10",
    "relative_value_1to20",
    "relative_value_1to50",
    "warnings_per_year_1to20",
    "false_alarms_per_hit_1to20",
)


def print_summary(run: Backtest, file: Any = None) -> None:
    """Pooled metrics per model (and the EWP pooling when present) as console tables."""
    file = file or sys.stdout
    pooled = run.metrics().set_index("model")
    shown = pooled[[c for c in _SHOWN if c in pooled.columns]]
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(
            f"\n{run.config.name}: {run.forecasts['origin'].nunique()} origins, "
            f"horizon {run.config.horizon}, dataset {run.provenance['dataset']}",
            file=file,
        )
        print(shown.round(4).to_string(), file=file)
        if run.artifacts.ewp_metrics is not None:
            ewp = run.artifacts.ewp_metrics.set_index("model")
            cols = [
                c
                for c in ewp.columns
                if c in ("n", "onsets", "roc_auc") or c.startswith("caught_top")
            ]
            print(
                "\nEWP pooled scoring (max risk / min rank over forecasts from Y-1, Y-2):",
                file=file,
            )
            print(ewp[cols].round(4).to_string(), file=file)


def _print_costs(run: Backtest) -> None:
    metrics = run.costs().metrics_by_model()
    rows = {
        model: {key: values.get(key) for key in _COSTS_SHOWN} for model, values in metrics.items()
    }
    print(
        "\nValue of acting on warnings (honest thresholds chosen at each origin; 1 = perfect "
        "foresight, 0 = base rate alone):"
    )
    print(pd.DataFrame.from_dict(rows, orient="index").round(3).to_string())


def _run(args: argparse.Namespace) -> int:
    from forecast.pipeline import run_experiment

    run, tracked = run_experiment(
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
    out = run.run_dir if run.run_dir is not None else Path(args.out)
    print_summary(run)
    cached = int(run.scores["cached"].sum())
    print(
        f"\n{len(run.scores)} tasks ({cached} from cache) in {run.seconds:.1f} s; outputs in {out}"
    )
    if run.note is None:
        _print_costs(run)
    else:
        print(f"\nnothing scored: {run.note}")
    if not args.no_report:
        print(f"report: {out / 'report.html'}")
    if tracked is not None:
        print(f"tracked: run {tracked.run_id} at {tracked.uri}")
    if len(run.failed):
        print(f"{len(run.failed)} task(s) failed:", file=sys.stderr)
        for row in run.failed.head(10).itertuples():
            print(f"  {row.model} at origin {row.origin}: {row.error}", file=sys.stderr)
        return 1
    return 0


@command("backtest", short_help="rolling-origin backtest of an experiment spec")
@experiment_argument
@click.option(
    "--out",
    type=PATH,
    default=Path("outputs/backtest"),
    metavar="DIR",
    help="run folder to write (default outputs/backtest)",
)
@execution_options
@click.option("--no-report", is_flag=True, help="skip the HTML report")
@tracking()
def backtest(args: argparse.Namespace) -> int:
    """Backtest every model of EXPERIMENT_YAML on a rolling origin and write the run folder DIR
    (forecasts, scores, metrics, costs, report) as a whole: on any failure DIR keeps its previous
    contents. Tracked in MLflow."""
    return _run(args)  # looked up when run (tests replace it)
