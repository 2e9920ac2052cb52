"""``forecast risklist`` and ``forecast explain``: the latest risk list and why a risk changed."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import click
import pandas as pd

from forecast.commands._common import (
    PATH,
    command,
    experiment_argument,
    experiment_of,
    model,
    options,
    tracking,
)

__all__ = ["explain", "fit_cache", "risklist"]


fit_cache = options(
    click.option(
        "--cache-dir",
        type=PATH,
        help="backtest fit cache (default $FORECAST_CACHE_DIR or the user cache)",
    ),
    click.option("--no-cache", is_flag=True, help="do not cache backtest fits"),
    click.option("--n-jobs", type=int, default=2, help="backtest workers (default 2)"),
)
"""The backtest fits behind a list: their cache and workers."""


@command("risklist", short_help="the latest risk list: tiers, drivers, changes, MLflow registry")
@experiment_argument
@model
@click.option("--year", type=int, help="data year (default: the last)")
@click.option(
    "--out",
    type=PATH,
    default=Path("outputs/risklist"),
    metavar="DIR",
    help="folder to write (default outputs/risklist); replaced as a whole",
)
@click.option(
    "--register",
    is_flag=True,
    help="register the model as forecast-<experiment>, with alias champion when it is the "
    "recommended model (else candidate)",
)
@tracking()
@fit_cache
@click.option("--no-backtest", is_flag=True, help="skip the backtest behind the tier meanings")
@click.option("--no-pdf", is_flag=True, help="do not write risklist.pdf")
def risklist(args: argparse.Namespace) -> int:
    """Fit a model of EXPERIMENT_YAML on every known outcome, forecast the last data year and write
    DIR/risklist.html, .csv, .pdf and risk.parquet."""
    from forecast.backtest import default_cache_dir
    from forecast.choice import recommend_model
    from forecast.pipeline import run_risklist

    start = time.perf_counter()
    result = run_risklist(
        experiment_of(args),
        out=args.out,
        model_label=args.model,
        year=args.year,
        register=args.register,
        track=not args.no_track,
        tracking_uri=args.tracking_uri,
        cache_dir=None if args.no_cache else (args.cache_dir or default_cache_dir()),
        n_jobs=args.n_jobs,
        tiers_from_backtest=not args.no_backtest,
        pdf=not args.no_pdf,
    )
    noun = result.latest.panel.unit_noun
    choice = recommend_model(result.latest.config)
    label = result.latest.spec.label
    print(choice.note_for(label) or f"model {label}, the recommended one: {choice.reason}")
    print(_top_table(result.risk.head(10), noun.singular))
    print(
        f"\n{len(result.risk)} {noun.plural}, data year {result.latest.year}; files in {args.out} "
        f"({time.perf_counter() - start:.1f} s)"
    )
    if not args.no_pdf and "pdf" not in result.paths:
        print("no risklist.pdf: Chromium is not available (the HTML page prints the same)")
    if result.run is not None:
        print(f"MLflow run {result.run.run_id} at {result.run.uri}")
        if result.run.version:
            print(
                f"registered models:/{result.run.model_name}@{result.run.alias} "
                f"(version {result.run.version})"
            )
    return 0


def _top_table(risk: pd.DataFrame, noun: str = "country") -> str:
    """The head of a risk list for the terminal: unit names under ``noun`` (e.g. "country"),
    the code only where it differs from the name."""
    names = risk["name"] if "name" in risk.columns else risk["unit"].astype(str)
    table = pd.DataFrame({"rank": risk["rank"], noun: names})
    if (names != risk["unit"].astype(str)).any():
        table["code"] = risk["unit"]
    table["risk"] = [f"{100 * p:.1f}%" for p in risk["probability"]]
    if "tier" in risk.columns:
        table["tier"] = risk["tier"]
    return _left_aligned(table)


@command("explain", short_help="why a country's risk changed between two years")
@experiment_argument
@click.option(
    "--unit", required=True, help="the country: a name (Sudan, Myanmar) or the panel's code (625)"
)
@click.option("--from", "year_from", type=int, required=True, metavar="Y1")
@click.option("--to", "year_to", type=int, required=True, metavar="Y2")
@model
def explain(args: argparse.Namespace) -> int:
    """Split the change of UNIT's forecast from year FROM to TO into indicator contributions and a
    model-update term (they add up to the change)."""
    from forecast._errors import ForecastInputError, input_error
    from forecast.backtest import load_panel
    from forecast.choice import recommend_model
    from forecast.experiment import load_experiment
    from forecast.features import format_value
    from forecast.risk import explain_change, indicator_info, resolve_unit, unit_names
    from forecast.risk._fit import history_base_label

    config = load_experiment(experiment_of(args))
    label = args.model or recommend_model(config).recommended
    panel = load_panel(config)
    try:
        unit = resolve_unit(panel, args.unit, year=args.year_to)
    except ForecastInputError as error:  # say it as explain_change does, with the hint
        _, _, hint = str(error).partition("; fix: ")
        raise input_error(
            f"unit {args.unit!r} is not in the panel in {args.year_to}",
            source=panel.name,
            fix=hint or None,
        ) from None
    base = history_base_label(config, label)  # a recalibrated copy: its base's indicators
    table = explain_change(
        config,
        model_label=base or label,
        unit=unit,
        year_from=args.year_from,
        year_to=args.year_to,
        panel=panel,
    )
    a = table.attrs
    note = recommend_model(config).note_for(label)
    if note:
        print(note)
    if base is not None:
        print(
            f"{label} is {base} recalibrated on earlier outcomes (a shift of its level that "
            f"keeps the ranking); the change is split on {base}'s own forecasts"
        )
    name = unit_names(panel, args.year_to).get(unit, str(unit))
    code = "" if name == str(unit) else f" ({unit})"
    print(
        f"{name}{code}, model {a['model']}: risk {100 * a['probability_from']:.2f}% in "
        f"{a['year_from']} -> {100 * a['probability_to']:.2f}% in {a['year_to']} "
        f"({100 * (a['probability_to'] - a['probability_from']):+.2f} points; log-odds "
        f"{a['log_odds_to'] - a['log_odds_from']:+.4f}); method: {a['method']}"
    )
    info = indicator_info(config)

    def shown_value(term: str, value: float) -> str:
        entry = info.get(term)
        return "" if entry is None else format_value(value, entry.display)

    shown = pd.DataFrame(
        {
            "what changed": table["label"],
            "kind": table["kind"],
            "from": [shown_value(t, v) for t, v in zip(table["term"], table["value_from"])],
            "to": [shown_value(t, v) for t, v in zip(table["term"], table["value_to"])],
            "points": [f"{100 * v:+.2f}" for v in table["probability"]],
            "log_odds": [f"{v:+.4f}" for v in table["log_odds"]],
            "indicator": table["term"],
        }
    )
    print(_left_aligned(shown))
    return 0


def _left_aligned(table: pd.DataFrame) -> str:
    """``table`` as text with every column left-aligned (names and words read better)."""
    widths = {c: max(len(str(c)), int(table[c].astype(str).str.len().max())) for c in table}
    return table.to_string(
        index=False,
        justify="left",
        formatters={c: (lambda v, w=w: f"{v!s:<{w}}") for c, w in widths.items()},
    )
