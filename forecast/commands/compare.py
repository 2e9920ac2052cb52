"""``forecast compare``: the models of several runs on their common rows, one HTML page."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from forecast._errors import input_error

__all__ = ["register"]


def _compare(args: argparse.Namespace) -> int:
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
            labels=args.label,
            models=args.model,
            n_boot=args.n_boot,
            seed=args.seed,
        )
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(staged.read_bytes())
    print(f"comparison written to {out}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``compare`` sub-command."""
    parser = subparsers.add_parser(
        "compare",
        help="HTML comparison of the models of several runs on their common rows",
        description="Compare the models of two or more backtest runs (e.g. ewp-2025 and "
        "ewp-2025-plus) on the rows every run scored (same unit, year and horizon, "
        "same outcome): each model's metrics, and paired differences with "
        "country-bootstrap intervals for the same model across runs and for the "
        "best model of each run. The first run is the reference.",
    )
    parser.add_argument(
        "run_dirs",
        type=Path,
        nargs="*",
        metavar="RUN_DIR",
        help="run folders written by `forecast backtest --out DIR`",
    )
    parser.add_argument(
        "--run",
        metavar="RUN_ID",
        action="append",
        default=[],
        help="parent MLflow run of a backtest (repeatable; after the folders)",
    )
    parser.add_argument(
        "--tracking-uri",
        default=None,
        help="MLflow tracking URI for --run (default $MLFLOW_TRACKING_URI or "
        "sqlite:///mlflow.db in the working directory)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        metavar="PATH",
        required=True,
        help="where to write the HTML, e.g. compare.html",
    )
    parser.add_argument(
        "--label",
        action="append",
        default=None,
        metavar="NAME",
        help="a name per run, in order (repeatable; default the experiment names)",
    )
    parser.add_argument(
        "--model",
        action="append",
        default=None,
        metavar="MODEL",
        help="compare only these model labels (repeatable; default all)",
    )
    parser.add_argument(
        "--n-boot", type=int, default=300, help="bootstrap replicates (default 300, at most 1000)"
    )
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    parser.set_defaults(handler=_compare)
