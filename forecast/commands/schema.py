"""``forecast schema experiment``: the experiment spec's JSON Schema, for editors."""

from __future__ import annotations

import argparse
import json

import click

from forecast.commands._common import command

__all__ = ["schema"]


@command(
    "schema", short_help="print the JSON Schema of experiment specs (editors validate YAML with it)"
)
@click.argument(
    "kind", type=click.Choice(["experiment"]), metavar="KIND", help="which spec: experiment"
)
def schema(args: argparse.Namespace) -> int:
    """Print the JSON Schema generated from the schema load_experiment checks, e.g. `forecast schema
    experiment > experiment.schema.json`, and point your editor at it (`# yaml-language-server:
    $schema=experiment.schema.json` as a spec's first line)."""
    from forecast._json_schema import experiment_json_schema

    print(json.dumps(experiment_json_schema(), indent=2, sort_keys=False))
    return 0
