"""``forecast report``: the model comparison report of a run folder or a tracked run."""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

import click

from forecast.commands._common import (
    PATH,
    bootstrap,
    command,
    deprecated,
    read_run,
    resolve_run_source,
    run_source,
    tracking,
)

__all__ = ["report"]


@command(
    "report", short_help="HTML model comparison report of a backtest (run folder or MLflow run)"
)
@run_source
@click.option(
    "--out",
    type=PATH,
    metavar="PATH",
    help="where to write the HTML (default DIR/report.html with --run-dir; "
    "with --run, logged to the run and written only when given)",
)
@click.option("--html", type=PATH, hidden=True)
@tracking("log the report into --run")
@click.option(
    "--baseline",
    metavar="MODEL",
    help="model to compare the others against (default: the spec's "
    "evaluation.baseline, else the first by name)",
)
@bootstrap
@click.option(
    "--effectiveness",
    type=float,
    help="share of the loss prevented by acting on a warning; the report "
    "shows the run's cost analysis and notes a different value (use "
    "`forecast costs --effectiveness` to recompute)",
)
def report(args: argparse.Namespace) -> int:
    """Write a self-contained HTML report comparing the models of a backtest: metrics with bootstrap
    intervals, paired differences, ROC/PR, calibration, catch curves, the run's cost analysis,
    onsets caught."""
    from forecast.reports import build_report
    from forecast.run import check_writable_file

    if args.html is not None:
        deprecated("--html PATH", "pass --out PATH")
        out_is_input = args.out is not None and (Path(args.out) / "forecasts.parquet").is_file()
        if out_is_input and args.run_dir is None and args.run is None:
            args.run_dir = args.out
        args.out = args.html
    resolve_run_source(args)
    options = {
        "baseline": args.baseline,
        "n_boot": args.n_boot,
        "seed": args.seed,
        "effectiveness": args.effectiveness,
    }
    target = args.out
    if target is None and args.run_dir is not None:
        target = Path(args.run_dir) / "report.html"
    if target is not None:
        check_writable_file(target, flag="--out", own=("report.html",), reading=args.run_dir)
    tracker = None
    if args.run is not None and not args.no_track:
        from forecast.tracking import MlflowTracker

        tracker = MlflowTracker(args.tracking_uri)
    with tempfile.TemporaryDirectory(prefix="forecast-report-") as tmp:
        run = read_run(args, Path(tmp))
        staged = Path(tmp) / "report.html"
        build_report(run, staged, **options)
        if tracker is not None:
            tracker.log_report(args.run, staged)
            print(f"report logged to MLflow run {args.run} as report.html")
        if target is not None:
            Path(target).parent.mkdir(parents=True, exist_ok=True)
            shutil.move(staged, target)  # a rename, or a copy across file systems
            print(f"report written to {target}")
    return 0
