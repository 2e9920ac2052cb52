"""``forecast whatif``: a country's risk on the published list if some triggers fired."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import click
import numpy as np
import pandas as pd

from forecast._errors import input_error
from forecast.commands._common import (
    PATH,
    command,
    experiment_argument,
    experiment_of,
    model,
    options,
)

__all__ = ["parse_settings", "text_table", "unit_and_model", "whatif"]

MARKERS = ("whatif.csv",)
"""The file that marks a folder as an earlier what-if output (it may be replaced)."""


def parse_settings(items: Sequence[str] | None) -> dict[str, float]:
    """``['coup.try.5yr=1', ...]`` -> ``{'coup.try.5yr': 1.0}``; one line per bad item."""
    out: dict[str, float] = {}
    for item in items or []:
        name, sep, value = str(item).partition("=")
        try:
            number = float(value)
        except ValueError:
            number = float("nan")
        if not sep or not name.strip() or not np.isfinite(number):
            raise input_error(
                f"--set {item!r} is not INDICATOR=NUMBER",
                fix="write e.g. --set coup.try.5yr=1 (a number, no spaces)",
            )
        out[name.strip()] = number
    return out


def _pct(p: float) -> str:
    if not np.isfinite(p):
        return "–"
    return "<0.1%" if 0 < p < 0.001 else f"{100 * p:.1f}%"


def _risk(s) -> str:
    interval = f" (range {_pct(s.lower)}–{_pct(s.upper)})" if np.isfinite(s.lower) else ""
    return f"{_pct(s.probability)}{interval}, rank {s.rank}, {s.tier}"


unit_and_model = options(
    experiment_argument,
    click.option(
        "--unit",
        required=True,
        metavar="NAME",
        help="country name (case-insensitive) or code, e.g. Sudan or 625",
    ),
    model,
)
"""The spec (positional), ``--unit NAME`` and ``--model LABEL`` of the one-country commands."""


@command("whatif", short_help="a country's risk if some triggers fired (same model as the list)")
@unit_and_model
@click.option(
    "--set",
    multiple=True,
    metavar="INDICATOR=VALUE",
    help="indicator value for the scenario in natural units (a count of battle deaths, "
    "not its log), by name or label, e.g. coup.try.5yr=1 or 'battle deaths this "
    "year=16000' (repeatable; '.' and '_' match alike); indicators derived from it "
    "(the worst of the last five years) move with it",
)
@click.option("--year", type=int, help="data year (default: the last)")
@click.option(
    "--out",
    type=PATH,
    metavar="DIR",
    help="also write DIR/whatif.csv (the list, the scenario and each trigger) and "
    "DIR/whatif.html (the same for a reader); replaced as a whole",
)
def whatif(args: argparse.Namespace) -> int:
    """The calibrated risk of UNIT on the published list (same model and fit as `forecast risklist`)
    and with the indicators given by --set changed; and what each trigger indicator alone would do
    at its event value (1 for binaries, else the 90th percentile on the side that goes with onsets).
    """
    from forecast.choice import recommend_model
    from forecast.experiment import load_experiment
    from forecast.risk import what_if

    settings = parse_settings(args.set)  # before any work
    if args.out is not None:
        from forecast.run import check_output_dir

        check_output_dir(args.out, markers=MARKERS)
    config = load_experiment(experiment_of(args))
    result = what_if(
        config, unit=args.unit, values=settings, model_label=args.model, year=args.year
    )
    y, h = result.year, config.horizon
    note = recommend_model(config).note_for(result.model)
    if note:
        print(note)
    print(
        f"{result.name}: risk of a new mass killing in {y + 1}-{y + h} (model {result.model}, "
        f"data {y})"
    )
    listed = f"list of {result.model}" if note else "published list"
    print(f"  {listed}: {_risk(result.baseline)}")
    if settings:
        m = result.moves
        changed = "; ".join(
            f"{r.label}: {r.current_text} -> {r.value_text}"
            + (f" (moves with {r.moved_with})" if r.moved_with else "")
            for r in m.itertuples()
        )
        points = 100 * (result.scenario.probability - result.baseline.probability)
        print(f"  if {changed}: {_risk(result.scenario)} ({points:+.1f} pts)")
        if result.note:
            print(f"  {result.note}")
        if result.scenario.tier != result.baseline.tier:
            print(f"  tier: {result.baseline.tier} -> {result.scenario.tier}")
        else:
            print(f"  tier unchanged ({result.baseline.tier})")
    t = result.triggers
    table = pd.DataFrame(
        {
            "trigger": t["label"],
            "now": t["current_text"],
            "if": t["event_text"],
            "risk": t["probability"].map(_pct),
            "change": [
                ("already" if a else f"{100 * c:+.1f} pts")
                for a, c in zip(t["already"], t["change"], strict=True)
            ],
            "tier": t["tier"],
        }
    )
    print("\nEach trigger alone (the others as they are):")
    print(text_table(table))
    for r in t[t["why"] != ""].itertuples():
        print(f"  {r.label} lowers risk here: {r.why}.")
    if args.out is not None:
        from forecast.reports._whatif import render_whatif
        from forecast.run import staged_output

        with staged_output(args.out, markers=MARKERS) as stage:
            _table(result).to_csv(stage / "whatif.csv", index=False)
            render_whatif(result, stage, horizon=h, listed=listed)
        print(f"\nwritten to {Path(args.out) / 'whatif.csv'} and whatif.html")
    return 0


def text_table(frame: pd.DataFrame) -> str:
    """A plain left-aligned text table (names read better left-aligned than pandas'
    right-aligned columns)."""
    cells = [[str(c) for c in frame.columns]] + [
        [str(v) for v in row] for row in frame.itertuples(index=False)
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(frame.columns))]
    return "\n".join(
        "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in cells
    )


def _table(result) -> pd.DataFrame:
    """The CSV: the published list, the scenario (when --set) and each trigger alone."""
    rows = [
        {
            "scenario": "published list",
            "indicator": "",
            "value": np.nan,
            "probability": result.baseline.probability,
            "lower": result.baseline.lower,
            "upper": result.baseline.upper,
            "rank": result.baseline.rank,
            "tier": result.baseline.tier,
        }
    ]
    if result.scenario.values:
        s = result.scenario
        rows.append(
            {
                "scenario": "--set",
                "indicator": "; ".join(s.values),
                "value": np.nan if len(s.values) > 1 else result.moves["value"].iloc[0],
                "probability": s.probability,
                "lower": s.lower,
                "upper": s.upper,
                "rank": s.rank,
                "tier": s.tier,
            }
        )
    t = result.triggers
    rows += [
        {
            "scenario": f"trigger: {r.event}",
            "indicator": r.feature,
            "value": r.event_natural,
            "probability": r.probability,
            "lower": np.nan,
            "upper": np.nan,
            "rank": r.rank,
            "tier": r.tier,
        }
        for r in t.itertuples()
    ]
    out = pd.DataFrame(rows)
    out.insert(0, "unit", result.unit)
    out.insert(1, "name", result.name)
    return out
