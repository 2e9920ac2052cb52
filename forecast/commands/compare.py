"""``forecast compare``: the models of several runs on their common rows, one HTML page."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import click

from forecast._errors import input_error
from forecast.commands._common import PATH, bootstrap, command

__all__ = ["compare"]


@command("compare", short_help="HTML comparison of the models of several runs on their common rows")
@click.argument(
    "run_dirs",
    type=PATH,
    nargs=-1,
    metavar="RUN_DIR",
    help="run folders written by `forecast backtest --out DIR`",
)
@click.option(
    "--run",
    metavar="RUN_ID",
    multiple=True,
    help="parent MLflow run of a backtest (repeatable; after the folders)",
)
@click.option(
    "--tracking-uri",
    help="MLflow tracking URI for --run (default $MLFLOW_TRACKING_URI or "
    "sqlite:///mlflow.db in the working directory)",
)
@click.option(
    "--out",
    type=PATH,
    metavar="PATH",
    required=True,
    help="where to write the HTML, e.g. compare.html",
)
@click.option(
    "--label",
    multiple=True,
    metavar="NAME",
    help="a name per run, in order (repeatable; default the experiment names)",
)
@click.option(
    "--model",
    multiple=True,
    metavar="MODEL",
    help="compare only these model labels (repeatable; default all)",
)
@bootstrap
def compare(args: argparse.Namespace) -> int:
    """Compare the models of two or more backtest runs (e.g. ewp-2025 and ewp-2025-plus) on the rows
    every run scored (same unit, year and horizon, same outcome): each model's metrics, and paired
    differences with country-bootstrap intervals for the same model across runs and for the best
    model of each run. The first run is the reference."""
    from forecast.reports import compare_runs
    from forecast.run import RunArtifacts, check_writable_file

    sources = [*(str(d) for d in args.run_dirs), *(f"--run {r}" for r in args.run)]
    if len(sources) < 2:
        raise input_error(
            f"forecast compare needs at least two runs, got {len(sources)}"
            + (f" ({sources[0]})" if sources else ""),
            fix="pass two run folders (`forecast backtest --out DIR`) and/or --run RUN_ID twice",
        )
    check_writable_file(args.out, flag="--out")  # before any work
    runs = [RunArtifacts.read(d) for d in args.run_dirs]
    with tempfile.TemporaryDirectory(prefix="forecast-compare-") as tmp:
        if args.run:
            from forecast.tracking import MlflowTracker

            tracker = MlflowTracker(args.tracking_uri)
            runs += [
                RunArtifacts.fetch(run_id, tracker, Path(tmp) / f"run{i}")
                for i, run_id in enumerate(args.run)
            ]
        staged = compare_runs(
            runs,
            Path(tmp) / "compare.html",
            labels=args.label or None,
            models=args.model or None,
            n_boot=args.n_boot,
            seed=args.seed,
        )
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(staged.read_bytes())
    print(f"comparison written to {out}")
    return 0
