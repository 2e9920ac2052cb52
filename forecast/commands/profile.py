"""``forecast profile``: one country's risk over the years, its onsets and its drivers."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import click
import pandas as pd

from forecast.commands._common import PATH, command, experiment_of
from forecast.commands.risklist import fit_cache
from forecast.commands.whatif import _pct, text_table, unit_and_model

__all__ = ["profile"]

MARKERS = ("profile.html", "profile.csv")
"""Files that mark a folder as an earlier profile (it may be replaced)."""


@command("profile", short_help="one country's risk over the years, onsets and drivers (HTML page)")
@unit_and_model
@click.option("--years", type=int, default=20, help="years to show (default 20)")
@click.option(
    "--out",
    type=PATH,
    default=Path("outputs/profile"),
    metavar="DIR",
    help="folder to write (default outputs/profile); replaced as a whole",
)
@fit_cache
@click.option("--show", type=int, default=10, help="years to print (default 10)")
def profile(args: argparse.Namespace) -> int:
    """The forecasts the list's model made for UNIT from each of the last YEARS data years (the
    backtest, fits cached), the onsets, how the top drivers moved and why the risk changed since
    last year; writes DIR/profile.html and DIR/profile.csv and prints the yearly table."""
    from forecast.backtest import default_cache_dir, load_panel
    from forecast.choice import recommend_model
    from forecast.experiment import load_experiment
    from forecast.reports import render_profile
    from forecast.risk import country_profile, resolve_unit
    from forecast.run import check_output_dir, staged_output

    start = time.perf_counter()
    config = load_experiment(experiment_of(args))
    check_output_dir(args.out, markers=MARKERS)  # before any work
    panel = load_panel(config)
    resolve_unit(panel, args.unit)  # an unknown name fails before any fit
    profile = country_profile(
        config,
        unit=args.unit,
        model_label=args.model,
        panel=panel,
        years=args.years,
        cache_dir=None if args.no_cache else (args.cache_dir or default_cache_dir()),
        n_jobs=args.n_jobs,
    )
    with staged_output(args.out, markers=MARKERS) as stage:
        render_profile(profile, stage)
        profile.history.assign(unit=profile.unit, name=profile.name, model=profile.model).to_csv(
            stage / "profile.csv", index=False
        )
    h = profile.history.sort_values("year", ascending=False)
    table = pd.DataFrame(
        {
            "year": h["year"],
            "risk": h["probability"].map(_pct),
            "rank": h["rank"],
            "tier": h["tier"],
            "onset": h["onset"].map(lambda o: "yes" if o == 1 else ""),
        }
    )
    if h["lower"].notna().any():
        table.insert(
            2,
            "range",
            [f"{_pct(lo)}-{_pct(hi)}" for lo, hi in zip(h["lower"], h["upper"], strict=True)],
        )
    note = recommend_model(config).note_for(profile.model)
    if note:
        print(note)
    print(
        f"{profile.name} (model {profile.model}): risk of a new mass killing within "
        f"{profile.horizon} years of each data year"
    )
    print(text_table(table.head(args.show)))
    if len(profile.change):
        parts = "; ".join(
            f"{r.label} {r.points:+.1f} pts" for r in profile.change.head(3).itertuples()
        )
        print(f"\nsince {profile.year - 1}: {parts}")
    print(f"\nfiles in {args.out}: profile.html, profile.csv ({time.perf_counter() - start:.1f} s)")
    return 0
