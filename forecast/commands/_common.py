"""Options shared by the sub-commands, and the deprecated spellings they replace."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from forecast._errors import input_error

__all__ = [
    "add_experiment",
    "add_run_source",
    "add_tracking",
    "check_shared_options",
    "deprecated",
    "experiment_of",
    "read_run",
]

_log = logging.getLogger("forecast.commands")


def check_shared_options(args: argparse.Namespace) -> None:
    """``--seed`` and ``--n-jobs``, the same in every command, before any work.

    A seed is an integer >= 0. Workers are an integer >= 1, or -1 for one per CPU; more
    than the CPUs available are capped at that number, with one log line.
    """
    seed = getattr(args, "seed", None)
    if seed is not None and seed < 0:
        raise input_error(f"--seed must be an integer >= 0, got {seed}", fix="e.g. --seed 0")
    n_jobs = getattr(args, "n_jobs", None)
    if n_jobs is None:
        return
    if n_jobs < 1 and n_jobs != -1:
        raise input_error(
            f"--n-jobs must be an integer >= 1 (or -1: one per CPU), got {n_jobs}",
            fix="e.g. --n-jobs 2",
        )
    from joblib import cpu_count

    cpus = cpu_count()
    if n_jobs == -1 or n_jobs > cpus:
        if n_jobs > cpus:
            _log.warning(f"--n-jobs {n_jobs} capped at {cpus}, the CPUs available")
        args.n_jobs = cpus


def deprecated(old: str, new: str) -> None:
    """One line on stderr: ``old`` still works for this release; use ``new``."""
    print(
        f"forecast: warning: {old} is deprecated and will be removed in the next release; {new}",
        file=sys.stderr,
    )


def add_experiment(parser: argparse.ArgumentParser) -> None:
    """The experiment spec, positional; ``--experiment`` kept as a deprecated alias."""
    parser.add_argument(
        "experiment",
        type=Path,
        nargs="?",
        metavar="EXPERIMENT_YAML",
        help="experiment spec: a YAML path or a shipped name (`forecast experiments list`)",
    )
    parser.add_argument("--experiment", dest="experiment_flag", type=Path, help=argparse.SUPPRESS)


def experiment_of(args: argparse.Namespace) -> Path:
    """The experiment path of ``args``, warning once for the deprecated ``--experiment``."""
    flag = getattr(args, "experiment_flag", None)
    if flag is not None:
        deprecated("--experiment YAML", "pass the spec as the first argument")
        if args.experiment is not None and args.experiment != flag:
            raise input_error(
                f"two experiment specs given ({args.experiment}, {flag})",
                fix="pass one spec, as the first argument",
            )
        return flag
    if args.experiment is None:
        raise input_error(
            "an experiment spec is required",
            fix="pass it as the first argument, e.g. experiments/ewp-2025.yaml",
        )
    return args.experiment


def add_tracking(parser: argparse.ArgumentParser, *, what: str = "log to MLflow") -> None:
    """``--no-track`` and ``--tracking-uri``."""
    parser.add_argument("--no-track", action="store_true", help=f"do not {what}")
    parser.add_argument(
        "--tracking-uri",
        default=None,
        help="MLflow tracking URI (default $MLFLOW_TRACKING_URI or "
        "sqlite:///mlflow.db in the working directory)",
    )


def add_run_source(parser: argparse.ArgumentParser) -> None:
    """The run to read: ``--run-dir DIR`` or ``--run RUN_ID`` (a tracked backtest)."""
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--run-dir",
        type=Path,
        metavar="DIR",
        help="run folder written by `forecast backtest --out DIR`",
    )
    source.add_argument(
        "--run", metavar="RUN_ID", help="parent MLflow run of a backtest (see `mlflow ui`)"
    )


def _looks_like_run(path: Path | None) -> bool:
    return path is not None and (Path(path) / "forecasts.parquet").is_file()


def resolve_run_source(args: argparse.Namespace) -> None:
    """Fill ``args.run_dir`` from the deprecated meaning of ``--out`` (an existing run folder
    given as input) when no ``--run-dir``/``--run`` is given; else require one of them."""
    if args.run_dir is None and args.run is None:
        if _looks_like_run(args.out):
            deprecated(
                "--out DIR as the run to read", "pass --run-dir DIR (--out is where to write)"
            )
            args.run_dir, args.out = args.out, None
        else:
            raise input_error(
                "no run to read",
                fix="pass --run-dir DIR (the --out folder of `forecast backtest`) or --run RUN_ID",
            )


def read_run(args: argparse.Namespace, tmp: Path):
    """The :class:`forecast.run.RunArtifacts` named by ``--run-dir`` or ``--run``."""
    from forecast.run import RunArtifacts

    if args.run_dir is not None:
        return RunArtifacts.read(args.run_dir)
    from forecast.tracking import MlflowTracker

    return RunArtifacts.fetch(args.run, MlflowTracker(args.tracking_uri), tmp / "run")
