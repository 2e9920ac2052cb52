"""``forecast report``: the model comparison report of a backtest directory or MLflow run."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from forecast._errors import input_error

__all__ = ["ARTIFACTS", "download_run", "register"]

ARTIFACTS = ("forecasts.parquet", "scores.csv", "metrics.csv", "ewp_metrics.csv",
             "onsets.parquet", "experiment.yaml", "provenance.json")
"""Backtest files fetched from a run; only ``forecasts.parquet`` is required."""


def download_run(run_id: str, tracking_uri: str, dst: Path) -> Path:
    """Download a backtest run's artifacts into ``dst``.

    Fails when the run does not exist or has no ``forecasts.parquet``; the
    other files of :data:`ARTIFACTS` are fetched when the run has them.
    """
    import mlflow.artifacts
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri)
    try:
        run = client.get_run(run_id)
    except MlflowException as error:
        raise input_error(f"MLflow run {run_id!r} not found at {tracking_uri!r}",
                          fix="pass the parent run id printed by `forecast backtest` and the "
                              "same --tracking-uri") from error
    available = {a.path for a in client.list_artifacts(run.info.run_id)}
    if "forecasts.parquet" not in available:
        raise input_error(f"MLflow run {run_id!r} has no forecasts.parquet artifact "
                          f"(it has {sorted(available)})",
                          fix="pass the parent run of a backtest, not a per-model run")
    dst.mkdir(parents=True, exist_ok=True)
    for name in ARTIFACTS:
        if name in available:
            mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=name,
                                                dst_path=str(dst), tracking_uri=tracking_uri)
    return dst


def _report(args: argparse.Namespace) -> int:
    from forecast.reports._report import build_report

    options = {"baseline": args.baseline, "n_boot": args.n_boot, "seed": args.seed,
               "effectiveness": args.effectiveness}
    if args.out is not None:
        html = build_report(args.out, args.html, **options)
        print(f"report written to {html}")
        return 0
    from mlflow.tracking import MlflowClient

    from forecast.tracking import default_tracking_uri

    uri = args.tracking_uri or default_tracking_uri()
    with tempfile.TemporaryDirectory(prefix="forecast-report-") as tmp:
        run_dir = download_run(args.run, uri, Path(tmp) / "run")
        target = Path(args.html) if args.html else Path(tmp) / "report.html"
        html = build_report(run_dir, target, **options)
        MlflowClient(tracking_uri=uri).log_artifact(args.run, str(html))
        where = f" and written to {html}" if args.html else ""
        print(f"report logged to MLflow run {args.run} as {html.name}{where}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``report`` sub-command."""
    parser = subparsers.add_parser(
        "report", help="HTML model comparison report of a backtest (directory or MLflow run)",
        description="Write a self-contained HTML report comparing the models of a backtest: "
                    "metrics with bootstrap intervals, paired differences, ROC/PR, "
                    "calibration, catch curves, costs and value, onsets caught.")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--out", type=Path, metavar="DIR",
                        help="backtest output directory (with forecasts.parquet)")
    source.add_argument("--run", metavar="RUN_ID",
                        help="MLflow parent run of a backtest; the report is logged back to it")
    parser.add_argument("--tracking-uri", help="MLflow tracking URI (with --run); default "
                                               "$MLFLOW_TRACKING_URI or sqlite:///mlflow.db")
    parser.add_argument("--baseline", metavar="MODEL",
                        help="model to compare the others against (default: first by name)")
    parser.add_argument("--html", type=Path, metavar="PATH",
                        help="where to write the HTML (default DIR/report.html with --out)")
    parser.add_argument("--n-boot", type=int, default=300,
                        help="bootstrap replicates (default 300, at most 1000)")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    parser.add_argument("--effectiveness", type=float, default=0.5,
                        help="share of the loss prevented by acting on a warning (default 0.5)")
    parser.set_defaults(handler=_report)
