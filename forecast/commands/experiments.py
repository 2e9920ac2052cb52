"""``forecast experiments``: the shipped experiment specs, to run by name or start from."""

from __future__ import annotations

import argparse

__all__ = ["register"]


def _list(args: argparse.Namespace) -> int:
    import yaml

    from forecast._shipped import experiment_dir, experiment_names

    for name in experiment_names():
        spec = yaml.safe_load((experiment_dir() / f"{name}.yaml").read_text(encoding="utf-8"))
        print(f"{name:<20} {spec.get('description', '')}")
    return 0


def _show(args: argparse.Namespace) -> int:
    from forecast._shipped import resolve_experiment

    print(resolve_experiment(args.name).read_text(encoding="utf-8"), end="")
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "experiments",
        help="list the shipped experiment specs, or print one to start your own from",
        description="The experiment specs shipped with the package. Every command that takes "
        "an EXPERIMENT_YAML also takes a shipped name (`forecast backtest synthetic-default`).",
    )
    actions = parser.add_subparsers(dest="experiments_command", metavar="ACTION", required=True)
    actions.add_parser("list", help="names and descriptions").set_defaults(handler=_list)
    show = actions.add_parser(
        "show",
        help="print a spec (e.g. `forecast experiments show ewp-2025 > mine.yaml`)",
    )
    show.add_argument("name", help="a shipped experiment name, e.g. synthetic-default")
    show.set_defaults(handler=_show)
