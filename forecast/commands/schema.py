"""``forecast schema experiment|feature-set``: a spec's JSON Schema, for editors."""

from __future__ import annotations

import argparse
import json

import click

from forecast.commands._common import command

__all__ = ["schema"]


@command(
    "schema",
    short_help="print the JSON Schema of experiment or feature-set specs (editors validate YAML)",
)
@click.argument(
    "kind",
    type=click.Choice(["experiment", "feature-set"]),
    metavar="KIND",
    help="which spec: experiment or feature-set",
)
def schema(args: argparse.Namespace) -> int:
    """Print the JSON Schema generated from what the spec's loader checks, e.g. `forecast schema
    experiment > experiment.schema.json`, and point your editor at it (`# yaml-language-server:
    $schema=experiment.schema.json` as a spec's first line)."""
    from forecast._json_schema import experiment_json_schema, feature_set_json_schema

    generate = {"experiment": experiment_json_schema, "feature-set": feature_set_json_schema}
    print(json.dumps(generate[args.kind](), indent=2, sort_keys=False))
    return 0
