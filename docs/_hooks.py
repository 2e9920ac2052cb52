"""MkDocs hooks: pages generated from the code at build time, so they cannot drift.

* ``reference/experiment-spec.md``: every key of an experiment spec, its type, range and
  choices, from :data:`forecast.experiment.EXPERIMENT_SCHEMA` (the schema the loader checks).
* ``datasets/<name>.md``: the dataset cards of the repository's ``datasets/`` folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[1]


def _rows(rule: Any, prefix: str = "") -> list[str]:
    from forecast._spec_schema import Either, ListOf, Mapping

    rows = []
    if isinstance(rule, Mapping):
        for key, sub in rule.fields.items():
            name = f"{prefix}{key}"
            required = "yes" if key in rule.required else ""
            example = f"`{sub.example}`" if sub.example else ""
            valid = sub.describe().replace("|", "\\|")
            rows.append(f"| `{name}` | {required} | {valid} | {example} |")
            rows.extend(_rows(sub, f"{name}."))
    elif isinstance(rule, ListOf):
        rows.extend(_rows(rule.item, f"{prefix[:-1]}[]."))
    elif isinstance(rule, Either):
        for _, sub in rule.options:
            rows.extend(_rows(sub, prefix))
    return rows


def experiment_spec_page() -> str:
    from forecast.experiment import EXPERIMENT_SCHEMA

    lines = [
        "# Experiment specs",
        "",
        "An experiment spec is a YAML file (or a shipped name: `forecast experiments list`). "
        "This table is generated from `forecast.experiment.EXPERIMENT_SCHEMA`, the schema "
        "`load_experiment` checks, so it lists exactly what is accepted. Checks across keys "
        "(model labels, the baseline among the labels, `origins.first <= origins.last`, each "
        "model's own parameters) are made when the spec is loaded, before any data is read.",
        "",
        "Editors validate a spec as it is typed with the JSON Schema printed by "
        "`forecast schema experiment` (the shipped specs reference it on their first line).",
        "",
        "| key | required | valid values | example |",
        "|---|---|---|---|",
        *_rows(EXPERIMENT_SCHEMA),
        "",
    ]
    return "\n".join(lines)


def on_files(files: Files, config: Any) -> Files:
    files.append(
        File.generated(config, "reference/experiment-spec.md", content=experiment_spec_page())
    )
    for card in sorted((ROOT / "datasets").glob("*.md")):
        files.append(
            File.generated(config, f"datasets/{card.name}", content=card.read_text("utf-8"))
        )
    return files
