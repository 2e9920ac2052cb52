"""``forecast experiments``: the shipped experiment specs, to run by name or start from."""

from __future__ import annotations

import argparse

import click

from forecast.commands._common import Group, complete

__all__ = ["experiments"]


experiments = Group(
    "experiments",
    short_help="list the shipped experiment specs, or print one to start your own from",
    help="The experiment specs shipped with the package. Every command that takes "
    "an EXPERIMENT_YAML also takes a shipped name (`forecast backtest synthetic-default`).",
)


@experiments.command("list", short_help="names and descriptions")
def _list(args: argparse.Namespace) -> int:
    import yaml

    from forecast._shipped import experiment_dir, experiment_names

    for name in experiment_names():
        spec = yaml.safe_load((experiment_dir() / f"{name}.yaml").read_text(encoding="utf-8"))
        print(f"{name:<20} {spec.get('description', '')}")
    return 0


@experiments.command(
    "show", short_help="print a spec (e.g. `forecast experiments show ewp-2025 > mine.yaml`)"
)
@click.argument(
    "name",
    help="a shipped experiment name, e.g. synthetic-default",
    shell_complete=complete("forecast._shipped:experiment_names"),
)
def _show(args: argparse.Namespace) -> int:
    from forecast._shipped import resolve_experiment

    print(resolve_experiment(args.name).read_text(encoding="utf-8"), end="")
    return 0
