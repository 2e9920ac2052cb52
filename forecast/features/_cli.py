"""``forecast features`` sub-commands: build, list, agreement, lint."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import click

from forecast.commands._common import Group, complete
from forecast.panel import Panel

__all__ = ["features", "lint_lines", "summary_lines"]


def summary_lines(panel: Panel, seconds: float) -> list[str]:
    """Human-readable build summary: rows, units, years, missingness by feature and kind."""
    frame = panel.frame
    first, last = panel.years
    lines = [
        (
            f"{panel.name}: {len(frame)} rows, {panel.n_units} units, "
            f"years {first}-{last}, {len(panel.features)} features, "
            f"outcomes {panel.outcomes}, built in {seconds:.2f} s"
        )
    ]
    missing = frame[panel.features].isna().mean()
    kinds = panel.kinds
    lines.append("missing share by kind:")
    for kind in sorted(set(kinds.values())):
        cols = [c for c in panel.features if kinds.get(c) == kind]
        lines.append(
            f"  {kind:<11} {len(cols):>3} features  "
            f"{float(frame[cols].isna().to_numpy().mean()):.4f}"
        )
    lines.append("missing share by feature:")
    lines += [f"  {name:<28} {share:.4f}" for name, share in missing.items()]
    return lines


features = Group("features", short_help="build country-year panels from specs")
_SETS = complete("forecast.features:feature_set_names", files=True)
_set = click.option(
    "--set", required=True, help="feature-set name or YAML path", shell_complete=_SETS
)
_data_dir = click.option("--data-dir", help="folder containing ewp-2025/")


@features.command("build", short_help="build a feature set and write it as parquet")
@_set
@click.option("--out", help="parquet file to write (atomically)")
@_data_dir
def _build(args: argparse.Namespace) -> int:
    from forecast._files import atomic_path
    from forecast.features import build_panel, load_feature_set
    from forecast.run import check_writable_file

    if args.out:
        check_writable_file(args.out, flag="--out")  # before any work
    start = time.perf_counter()
    panel = build_panel(load_feature_set(args.set), data_dir=args.data_dir)
    seconds = time.perf_counter() - start
    if args.out:
        with atomic_path(Path(args.out)) as tmp:
            panel.frame.to_parquet(tmp, index=False)
    print("\n".join(summary_lines(panel, seconds)))
    if args.out:
        print(f"wrote {args.out}")
    return 0


@features.command("list", short_help="list the shipped feature sets")
def _list(args: argparse.Namespace) -> int:
    from forecast.features import feature_set_names, load_feature_set

    for name in feature_set_names():
        fs = load_feature_set(name)
        tag = " [replication: look-ahead, never forecast with it]" if fs.replication else ""
        print(f"{name:<18} {len(fs.features):>3} features  {fs.description}{tag}")
    return 0


@features.command("agreement", short_help="per-column agreement with the upstream panel")
@click.option(
    "--set", default="ewp-2025", help="feature-set name or YAML path", shell_complete=_SETS
)
@_data_dir
def _agreement(args: argparse.Namespace) -> int:
    import pandas as pd

    from forecast.features import agreement_table, build_panel, load_feature_set
    from forecast.features._agreement import REFERENCE_FILE
    from forecast.features._sources import data_root

    start = time.perf_counter()
    panel = build_panel(load_feature_set(args.set), data_dir=args.data_dir)
    seconds = time.perf_counter() - start
    reference = data_root(args.data_dir) / REFERENCE_FILE
    if not reference.is_file():
        from forecast._errors import DataNotAvailableError

        raise DataNotAvailableError(
            f"{reference} is missing; fix: run `forecast data fetch "
            f"ewp-2025` or set FORECAST_DATA_DIR"
        )
    table = agreement_table(panel, reference)
    with pd.option_context("display.width", 120, "display.max_rows", 200):
        print(f"{panel.name} built in {seconds:.2f} s; agreement with {REFERENCE_FILE}:")
        print(table.to_string(index=False))
    below = table[table["share"] < 0.99]
    print(f"columns below 0.99: {list(below['column'])}")
    return 0


def lint_lines(fs: object) -> list[str]:
    """What a spec lacks for readers: indicators without a ``label`` (drivers and flags then
    show the column name) and features without a ``display`` (values shown as plain
    numbers), each with its ``file:line``."""
    indicators = list(fs.indicators)  # type: ignore[attr-defined]
    unlabelled = [i for i in indicators if not i.label]
    plain = [i for i in indicators if i.role == "feature" and i.display is None]
    name = fs.name  # type: ignore[attr-defined]
    if not unlabelled:
        lines = [f"{name}: all {len(indicators)} indicators have a label"]
    else:
        lines = [
            f"{name}: {len(unlabelled)} of {len(indicators)} indicators have no label "
            "(readers see the column name):"
        ]
        lines += [
            f"  {i.where()}  {i.name} ({i.role}" + (f", {i.kind})" if i.role == "feature" else ")")
            for i in unlabelled
        ]
        lines.append("  fix: add 'label: a few plain words' to each (docs/features.md)")
    if plain:
        lines.append(
            f"{name}: {len(plain)} feature{'s' if len(plain) > 1 else ''} without "
            "display (values shown as plain numbers): " + ", ".join(i.name for i in plain)
        )
    return lines


@features.command("lint", short_help="indicators without a label or display (exit 0)")
@_set
def _lint(args: argparse.Namespace) -> int:
    """List the indicators of a feature set that readers would see by column name (no 'label:') or
    as plain numbers (no 'display:'). Always exits 0."""
    from forecast.features import load_feature_set

    print("\n".join(lint_lines(load_feature_set(args.set))))
    return 0
