"""``forecast schema experiment|feature-set``: a spec's JSON Schema, for editors."""

from __future__ import annotations

import argparse
import json

__all__ = ["register"]


def _schema(args: argparse.Namespace) -> int:
    from forecast._json_schema import experiment_json_schema, feature_set_json_schema

    schema = {"experiment": experiment_json_schema, "feature-set": feature_set_json_schema}
    print(json.dumps(schema[args.kind](), indent=2, sort_keys=False))
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "schema",
        help="print the JSON Schema of experiment or feature-set specs (editors validate YAML)",
        description="Print the JSON Schema generated from what the spec's loader checks, "
        "e.g. `forecast schema experiment > experiment.schema.json`, and point your editor at "
        "it (`# yaml-language-server: $schema=experiment.schema.json` as a spec's first line).",
    )
    parser.add_argument("kind", choices=["experiment", "feature-set"], help="which spec")
    parser.set_defaults(handler=_schema)
