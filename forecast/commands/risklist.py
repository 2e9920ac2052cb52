"""``forecast risklist`` and ``forecast explain``: the latest risk list and why a risk changed."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

from forecast.commands._common import add_experiment, add_tracking, experiment_of

__all__ = ["register"]


def _risklist(args: argparse.Namespace) -> int:
    from forecast.backtest import default_cache_dir
    from forecast.pipeline import run_risklist

    start = time.perf_counter()
    result = run_risklist(
        experiment_of(args), out=args.out, model_label=args.model, year=args.year,
        register=args.register, track=not args.no_track, tracking_uri=args.tracking_uri,
        cache_dir=None if args.no_cache else (args.cache_dir or default_cache_dir()),
        n_jobs=args.n_jobs, tiers_from_backtest=not args.no_backtest, pdf=not args.no_pdf)
    top = result.risk.head(10)[["rank", "unit", "probability", "tier"]]
    with pd.option_context("display.width", 120):
        print(top.assign(probability=top["probability"].round(4)).to_string(index=False))
    print(f"\n{len(result.risk)} units, data year {result.latest.year}; files in {args.out} "
          f"({time.perf_counter() - start:.1f} s)")
    if result.run is not None:
        print(f"MLflow run {result.run.run_id} at {result.run.uri}")
        if result.run.version:
            print(f"registered models:/{result.run.model_name}@champion "
                  f"(version {result.run.version})")
    return 0


def _explain(args: argparse.Namespace) -> int:
    from forecast.experiment import load_experiment
    from forecast.risk import explain_change

    config = load_experiment(experiment_of(args))
    label = args.model or config.models[0].label
    table = explain_change(config, model_label=label, unit=args.unit, year_from=args.year_from,
                           year_to=args.year_to)
    a = table.attrs
    print(f"{a['unit']}, model {a['model']}: {100 * a['probability_from']:.2f}% "
          f"({a['year_from']}) -> {100 * a['probability_to']:.2f}% ({a['year_to']}); "
          f"log-odds {a['log_odds_to'] - a['log_odds_from']:+.4f}; method: {a['method']}")
    shown = table.assign(probability_points=100 * table["probability"]).drop(
        columns="probability")
    with pd.option_context("display.width", 140, "display.max_rows", 200):
        print(shown.round(4).to_string(index=False), file=sys.stdout)
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``risklist`` and ``explain`` to the ``forecast`` command line."""
    parser = commands.add_parser(
        "risklist", help="the latest risk list: tiers, drivers, changes, MLflow registry",
        description="Fit a model of EXPERIMENT_YAML on every known outcome, forecast the last data "
                    "year and write DIR/risklist.html, .csv, .pdf and risk.parquet.")
    add_experiment(parser)
    parser.add_argument("--model", default=None, metavar="LABEL",
                        help="model label (default: the experiment's first model)")
    parser.add_argument("--year", type=int, default=None, help="data year (default: the last)")
    parser.add_argument("--out", type=Path, default=Path("outputs/risklist"),
                        metavar="DIR", help="folder to write (default outputs/risklist); replaced as a whole")
    parser.add_argument("--register", action="store_true",
                        help="register the model as forecast-<experiment> with alias champion")
    add_tracking(parser)
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="backtest fit cache (default $FORECAST_CACHE_DIR or the user cache)")
    parser.add_argument("--no-cache", action="store_true", help="do not cache backtest fits")
    parser.add_argument("--n-jobs", type=int, default=2, help="backtest workers (default 2)")
    parser.add_argument("--no-backtest", action="store_true",
                        help="skip the backtest behind the tier meanings")
    parser.add_argument("--no-pdf", action="store_true", help="do not write risklist.pdf")
    parser.set_defaults(handler=_risklist)

    explain = commands.add_parser(
        "explain", help="why a country's risk changed between two years",
        description="Split the change of UNIT's forecast from year FROM to TO into indicator "
                    "contributions and a model-update term (they add up to the change).")
    add_experiment(explain)
    explain.add_argument("--unit", required=True)
    explain.add_argument("--from", dest="year_from", type=int, required=True, metavar="Y1")
    explain.add_argument("--to", dest="year_to", type=int, required=True, metavar="Y2")
    explain.add_argument("--model", default=None, metavar="LABEL",
                         help="model label (default: the experiment's first model)")
    explain.set_defaults(handler=_explain)
