"""The Click classes of the sub-commands, the options they share, and deprecated spellings."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from click.shell_completion import CompletionItem

from forecast._errors import input_error

_log = logging.getLogger("forecast.commands")

COMPLETE_VAR = "_FORECAST_COMPLETE"
"""Set to bash_source (zsh_, fish_) to print the completion script; it asks with bash_complete."""

PATH = click.Path(path_type=Path)
"""A path option or argument, given to the command as a :class:`~pathlib.Path`."""


class Command(click.Command):
    """A command whose callback takes its options as one namespace (``args.out``), checked
    by :func:`check_shared_options` before any work."""

    def invoke(self, ctx: click.Context) -> Any:
        args = argparse.Namespace(**ctx.params)
        check_shared_options(args)
        return self.callback(args) if self.callback else None


class Group(click.Group):
    """Commands in the order given, built as :class:`Command`. ``lazy`` maps a command name
    to the module that defines it under that name, imported when the command runs or is
    listed: a TAB or one command's ``--help`` imports one module."""

    command_class = Command

    def __init__(self, *args: Any, lazy: dict[str, str] | None = None, **attrs: Any) -> None:
        attrs["no_args_is_help"] = False  # no action: a usage error
        super().__init__(*args, **attrs)
        self.lazy = lazy or {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*self.commands, *self.lazy]

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return _load(f"{self.lazy[name]}:{name}") if name in self.lazy else self.commands.get(name)


def _load(target: str) -> Any:
    """``"package.module:name"`` -> that object (its module imported now)."""
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def command(name: str, **attrs: Any) -> Callable[[Callable[..., Any]], Command]:
    """``@command("name", short_help=...)`` on a handler whose docstring is the ``--help``."""
    return click.command(name, cls=Command, **attrs)


def options(*decorators: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Several option decorators as one, applied in the order given (top to bottom)."""

    def apply(function: Any) -> Any:
        for decorate in reversed(decorators):
            function = decorate(function)
        return function

    return apply


def complete(names: str, *, files: bool = False) -> Callable[..., list]:
    """Shell completion of the names listed by the function ``names`` (``"module:name"``),
    and of file names when ``files``."""

    def shell_complete(ctx: click.Context, param: click.Parameter, incomplete: str) -> list:
        found = [CompletionItem(n) for n in _load(names)() if n.startswith(incomplete)]
        return [CompletionItem(incomplete, type="file"), *found] if files else found

    return shell_complete


complete_dataset = complete("forecast.data:dataset_names")
"""Shell completion of the registered dataset names."""


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


experiment_argument = options(
    click.argument(
        "experiment",
        type=PATH,
        required=False,
        metavar="EXPERIMENT_YAML",
        help="experiment spec: a YAML path or a shipped name (`forecast experiments list`)",
        shell_complete=complete("forecast._shipped:experiment_names", files=True),
    ),
    click.option("--experiment", "experiment_flag", type=PATH, hidden=True),
)
"""The experiment spec, positional; ``--experiment`` kept as a deprecated alias."""


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


def tracking(what: str = "log to MLflow") -> Callable[[Any], Any]:
    """``--no-track`` and ``--tracking-uri``."""
    return options(
        click.option("--no-track", is_flag=True, help=f"do not {what}"),
        click.option(
            "--tracking-uri",
            help="MLflow tracking URI (default $MLFLOW_TRACKING_URI or "
            "sqlite:///mlflow.db in the working directory)",
        ),
    )


run_source = options(
    click.option(
        "--run-dir",
        type=PATH,
        metavar="DIR",
        help="run folder written by `forecast backtest --out DIR`",
    ),
    click.option(
        "--run", metavar="RUN_ID", help="parent MLflow run of a backtest (see `mlflow ui`)"
    ),
)
"""The run to read: ``--run-dir DIR`` or ``--run RUN_ID`` (a tracked backtest)."""


cache_dir = click.option(
    "--cache-dir", type=PATH, help="task cache (default $FORECAST_CACHE_DIR or the user cache dir)"
)
model = click.option(
    "--model", metavar="LABEL", help="model label (default: the recommended one, docs/design/0011)"
)
bootstrap = options(
    click.option(
        "--n-boot", type=int, default=300, help="bootstrap replicates (default 300, at most 1000)"
    ),
    click.option("--seed", type=int, default=0, help="bootstrap seed (default 0)"),
)


def resolve_run_source(args: argparse.Namespace) -> None:
    """Fill ``args.run_dir`` from the deprecated meaning of ``--out`` (an existing run folder
    given as input) when no ``--run-dir``/``--run`` is given; else require exactly one."""
    if args.run_dir is not None and args.run is not None:
        raise input_error(
            f"--run-dir {args.run_dir} and --run {args.run} name two runs", fix="pass one of them"
        )
    if args.run_dir is None and args.run is None:
        if args.out is not None and (Path(args.out) / "forecasts.parquet").is_file():
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
