"""``forecast completion SHELL``: the shell completion script (Click's)."""

from __future__ import annotations

import argparse

import click
from click.shell_completion import get_completion_class

from forecast.commands._common import COMPLETE_VAR, command

__all__ = ["completion"]


@command(
    "completion",
    short_help="print the shell completion script (bash, zsh or fish)",
    help="Print the script that completes commands, options, experiment and dataset names "
    'for SHELL, e.g. `eval "$(forecast completion bash)"` in ~/.bashrc (the same as '
    f"`{COMPLETE_VAR}=bash_source forecast`).",
)
@click.argument(
    "shell", type=click.Choice(["bash", "zsh", "fish"]), metavar="SHELL", help="bash, zsh or fish"
)
def completion(args: argparse.Namespace) -> int:
    root = click.get_current_context().find_root().command
    shell = get_completion_class(args.shell)(root, {}, "forecast", COMPLETE_VAR)  # type: ignore[misc]
    print(shell.source())
    return 0
