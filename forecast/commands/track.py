"""``forecast track``: log a finished run folder to MLflow (when tracking failed or was off)."""

from __future__ import annotations

import argparse

import click

from forecast.commands._common import PATH, command

__all__ = ["track"]


@command("track", short_help="log a finished run folder to MLflow")
@click.option(
    "--run-dir",
    type=PATH,
    metavar="DIR",
    required=True,
    help="run folder written by `forecast backtest --out DIR`",
)
@click.option(
    "--tracking-uri",
    help="MLflow tracking URI (default the spec's tracking.uri, else "
    "$MLFLOW_TRACKING_URI or sqlite:///mlflow.db in the working directory)",
)
def track(args: argparse.Namespace) -> int:
    """Log the run folder of a finished `forecast backtest` (its spec, forecasts, scores and files,
    and the cost analysis) as a new MLflow run: for a backtest run with --no-track or whose tracking
    failed. The folder is not changed."""
    from forecast.backtest import summarize
    from forecast.decision import cost_analysis
    from forecast.run import RunArtifacts
    from forecast.tracking import MlflowTracker, log_run

    run = RunArtifacts.read(args.run_dir)
    result = run.result()
    config = result.config
    tracker = MlflowTracker.for_job(args.tracking_uri, config.tracking_uri)
    tracker.check()  # before any work
    summary = summarize(result)
    analysis = None
    if summary.note is None:
        analysis = cost_analysis(
            result.forecasts, config.costs, horizon=run.horizon, data_end=run.data_end
        )
    print(f"tracked: run {log_run(tracker, result, summary, run, analysis)} at {tracker.uri}")
    return 0
