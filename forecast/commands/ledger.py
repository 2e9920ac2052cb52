"""``forecast ledger``: list, import, score and report the issued editions of risk lists."""

from __future__ import annotations

import argparse
from pathlib import Path

import click
import pandas as pd

from forecast.commands._common import Group, complete_dataset, options

__all__ = ["ledger"]


def _ledger(args: argparse.Namespace):
    from forecast.ledger import Ledger, ledger_dir

    return Ledger(args.ledger or ledger_dir())


def _list(args: argparse.Namespace) -> int:
    ledger = _ledger(args)
    records = ledger.records()
    if not records:
        print(f"no editions in {ledger.root}")
        return 0
    for r in records:
        print(
            f"{r.edition_id}  {r.source:<10} {r.kind:<8} data {r.data_year} window "
            f"{r.window[0]}-{r.window[1]}  {r.label}  issued {r.issued}"
            + (f"  ({len(r.unmatched)} unmatched)" if r.unmatched else "")
        )
    return 0


def _import(args: argparse.Namespace) -> int:
    from forecast.ledger import import_list, parse_window

    edition = import_list(
        args.file,
        source=args.source,
        data_year=args.data_year,
        window=parse_window(args.window),
        unit_column=args.unit_column,
        prob_column=args.prob_column,
        code_column=args.code_column,
        code_system=args.code_system,
        target=args.target,
        kind=args.kind,
    )
    stored = _ledger(args).record(edition)
    r = stored.record
    print(f"edition {r.edition_id}: {len(stored.table)} units matched, in {_ledger(args).root}")
    for item in r.unmatched:
        print(f"unmatched: {item}")
    return 0


def _score(args: argparse.Namespace):
    from forecast.data import load_dataset
    from forecast.ledger import backtest_editions, dataset_editions, outcome_table, score_editions

    editions = _ledger(args).editions()
    for name in args.dataset or []:
        editions += dataset_editions(name)
    if args.run_dir is not None:  # at the data years of the lists, else every origin
        years = sorted({e.record.data_year for e in editions}) or None
        editions += backtest_editions(args.run_dir, model=args.model, years=years)
    panel = load_dataset(args.outcomes)
    state_led = any(e.record.target == "state-led" for e in editions)
    outcomes = outcome_table(panel, state_led=state_led)
    score = score_editions(editions, outcomes, n_boot=args.n_boot)
    names = dict(zip(outcomes["code"].astype(str), outcomes["unit"], strict=True))
    return score, names


def _ci(row: pd.Series, name: str, digits: int) -> str:
    if pd.isna(row.get(name)):
        return "n/a"
    return (
        f"{row[name]:.{digits}f} ({row[f'{name}_lower']:.{digits}f}-"
        f"{row[f'{name}_upper']:.{digits}f})"
    )


def _onset_lines(score, names: dict[str, str]) -> list[str]:
    """One line per edition: each onset of its window with the rank the list gave it."""
    lines = []
    for edition, group in score.onsets.groupby("edition", sort=False):
        items = [
            f"{names.get(str(row['unit']), row['unit'])} {row['year']} "
            + ("(not listed)" if pd.isna(row["rank"]) else f"(rank {int(row['rank'])})")
            for _, row in group.sort_values(["year", "rank"]).iterrows()
        ]
        known = "" if group["observed"].all() else " [window still open]"
        lines.append(f"onsets {edition}{known}: {', '.join(items)}")
    return lines


def _print_score(args: argparse.Namespace) -> int:
    score, names = _score(args)
    table = score.editions.copy()
    shown = pd.DataFrame(
        {
            "list": table["edition"],
            "kind": table["kind"],
            "data": table["data_year"],
            "window": table["window"],
            "target": table["target"],
            "status": table["status"],
            "units": table.get("scored_units", pd.Series(dtype=float)).fillna(0).astype(int),
            "onsets": table.get("onsets", pd.Series(dtype=float)).fillna(0).astype(int),
            "top10": table.get("top10", pd.Series(dtype=float)).fillna(0).astype(int),
            "top30": table.get("top30", pd.Series(dtype=float)).fillna(0).astype(int),
        }
    )
    for name, digits in (("roc_auc", 3), ("brier", 4), ("observed_expected", 2)):
        values = table[name] if name in table else pd.Series(float("nan"), index=table.index)
        shown[name.replace("observed_expected", "O/E").replace("roc_auc", "AUC")] = [
            "" if pd.isna(v) else f"{v:.{digits}f}" for v in values
        ]
    print(shown.to_string(index=False))
    print(f"\noutcomes known through {score.last_year} ({args.outcomes})")
    level = f"{100 * score.level:.0f}%"
    for _, row in score.pooled.iterrows():
        print(
            f"pooled {row['source']} ({row['target']}, {row['editions']} lists, data "
            f"years {row['data_years']}): AUC {_ci(row, 'roc_auc', 3)}, top-30 onsets "
            f"{row['top30']} of {row['onsets']} (share {_ci(row, 'top30_share', 2)}), top-10 "
            f"{row['top10']}, Brier {_ci(row, 'brier', 4)}, O/E "
            f"{_ci(row, 'observed_expected', 2)}; {level} intervals, country-cluster "
            f"bootstrap; based on {row['onsets']} list-onsets ({row['distinct_onsets']} distinct "
            "onsets: one in the window of several lists counts once per list)"
        )
    for _, row in score.paired.iterrows():
        print(
            f"paired {row['data_year']}: {row['a']} - {row['b']} {row['metric']} "
            f"{row['difference']:+.4f} ({row['lower']:+.4f} to {row['upper']:+.4f}), "
            f"{row['units']} units, {row['units_with_onset']} with onset"
        )
    for _, row in score.movement.iterrows():
        print(
            f"moved {row['data_year']}: {row['from']} -> {row['to']}: Spearman "
            f"{row['spearman']:.3f}, top-30 overlap {row['top30_overlap']}/30"
        )
    for _, row in table.iterrows():
        for column, what in (("unmatched_units", "unmatched"), ("unscored_units", "not scored")):
            if isinstance(row.get(column), str) and row[column]:
                print(f"{what} in {row['edition']}: {row[column]}")
    if len(score.onsets):
        print("\n".join(_onset_lines(score, names)))
    return 0


def _report(args: argparse.Namespace) -> int:
    from forecast.ledger import render_track_record

    score, names = _score(args)
    path = render_track_record(score, args.out, names=names)
    print(f"wrote {path}")
    return 0


_LEDGER = click.option(
    "--ledger",
    type=click.Path(path_type=Path),
    default=None,
    metavar="DIR",
    help="ledger folder (default $FORECAST_LEDGER_DIR, else ledger/ beside the tracking store)",
)
_SCORING = options(
    _LEDGER,
    click.option(
        "--dataset",
        multiple=True,
        metavar="NAME",
        shell_complete=complete_dataset,
        help="also score a dataset of published editions, e.g. ewp-editions (repeatable)",
    ),
    click.option(
        "--run-dir",
        type=click.Path(path_type=Path),
        default=None,
        metavar="DIR",
        help="a backtest run folder: its forecasts at origin = data year join as "
        "pseudo-real-time editions",
    ),
    click.option(
        "--model", default=None, metavar="LABEL", help="model of --run-dir (default recommended)"
    ),
    click.option(
        "--outcomes",
        default="ewp-2025",
        metavar="DATASET",
        shell_complete=complete_dataset,
        help="outcome data (default ewp-2025)",
    ),
    click.option("--n-boot", type=int, default=1000, help="bootstrap replicates"),
)

ledger = Group(
    "ledger",
    short_help="the editions ledger: issued lists, scored as their outcomes arrive",
    help="Every issued risk list is an edition in the ledger; score each once its "
    "window is observed (docs/design/0014-editions-ledger.md).",
)
ledger.command("list", short_help="the editions in the ledger")(_LEDGER(_list))
ledger.command("import", short_help="record an external list from a CSV")(
    options(
        click.argument("file", type=click.Path(path_type=Path)),
        click.option("--source", required=True, help="who issued it, e.g. ewp"),
        click.option("--data-year", type=int, required=True, help="its data year"),
        click.option("--window", required=True, help="outcome years, e.g. 2024-2025"),
        click.option("--unit-column", default=None, help="column of country names"),
        click.option("--prob-column", default="probability", help="column of risks"),
        click.option("--code-column", default=None, help="column of state codes"),
        click.option("--code-system", type=click.Choice(["cow", "gw"]), default="cow"),
        click.option("--target", type=click.Choice(["any", "state-led"]), default="any"),
        click.option("--kind", type=click.Choice(["issued", "rerun"]), default="issued"),
        _LEDGER,
    )(_import)
)
ledger.command("score", short_help="score every edition whose window is observed")(
    _SCORING(_print_score)
)
ledger.command("report", short_help="write the track-record page DIR/ledger.html")(
    options(
        _SCORING,
        click.option(
            "--out",
            type=click.Path(path_type=Path),
            required=True,
            metavar="DIR",
            help="folder to write",
        ),
    )(_report)
)
