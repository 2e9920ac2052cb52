"""``forecast costs``: the cost of acting on each model's warnings, for a finished backtest."""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
from pathlib import Path
from typing import Any

import click
import pandas as pd

from forecast._errors import input_error
from forecast.commands._common import (
    PATH,
    command,
    deprecated,
    read_run,
    resolve_run_source,
    run_source,
    tracking,
)

__all__ = ["costs", "parse_cost_ratio"]

DEFAULT_RATIO = 1 / 20


def parse_cost_ratio(text: str) -> float:
    """``'0.05'``, ``'1:20'`` or ``'1/20'`` -> 0.05; parts must be > 0 and the ratio < 1."""
    raw = str(text).strip()
    parts = raw.replace("/", ":").split(":")
    try:
        numbers = [float(part) for part in parts]
    except ValueError:
        numbers = []
    if len(numbers) not in (1, 2) or not all(math.isfinite(x) for x in numbers):
        raise input_error(
            f"--cost-ratio must be a number like 0.05 or odds like 1:20, got {raw!r}",
            fix="pass C / (e L), e.g. --cost-ratio 1:20",
        )
    if any(x <= 0 for x in numbers):
        raise input_error(
            f"--cost-ratio must be > 0, got {raw!r}",
            fix="costs and losses are positive: pass e.g. --cost-ratio 1:20",
        )
    value = numbers[0] / numbers[1] if len(numbers) == 2 else numbers[0]
    if value >= 1:
        raise input_error(
            f"--cost-ratio must be < 1, got {raw!r} (acting never pays when C >= e L)",
            fix="pass C / (e L) below 1, e.g. --cost-ratio 1:20",
        )
    return value


def _effectiveness(text: str | None, spec: dict[str, Any]) -> float:
    raw = text if text is not None else spec.get("effectiveness", 0.5)
    try:
        value = float(raw)
    except (TypeError, ValueError):
        value = math.nan
    if not 0.0 < value <= 1.0:
        raise input_error(
            f"--effectiveness must be in (0, 1], got {raw!r}",
            fix="pass the share of the loss that acting prevents, e.g. --effectiveness 0.5",
        )
    return value


def _capacity(text: str | None, spec: dict[str, Any]) -> int | None:
    raw = text if text is not None else spec.get("capacity", 30)
    if raw is None or str(raw).strip().lower() == "none":
        return None
    try:
        value = float(raw)
    except (TypeError, ValueError):
        value = math.nan
    if not (math.isfinite(value) and value == int(value) and value >= 1):
        raise input_error(
            f"--capacity must be an integer >= 1 or 'none', got {raw!r}",
            fix="pass the warnings that can be acted on per year, e.g. --capacity 30",
        )
    return int(value)


def _recommended(run, analysis, file) -> str | None:
    """Print the recommended model (design 0011) of the run's spec, its value below doing
    nothing first; None when the run records no models."""
    from forecast.choice import recommend_model

    if not run.spec.get("models"):
        return None
    choice = recommend_model(run.spec, costs=analysis.table())
    if choice.below_nothing:
        print(f"{choice.warning()}.", file=file)
    print(f"Recommended model: {choice.recommended} ({choice.reason}).", file=file)
    return choice.recommended


def _onset_events(run, horizon: int) -> pd.DataFrame | None:
    """Onsets counted as events per model (each onset once), from the run's annual onsets."""
    from forecast.metrics import track_record

    if run.onsets is None or not len(run.onsets):
        return None
    record = track_record(run.forecasts, horizon=horizon, data_end=run.data_end, onsets=run.onsets)
    return None if record.events is None else record.events.set_index("model")


def _print_tables(
    analysis,
    ratios: list[float],
    file=None,
    *,
    recommended: str | None = None,
    events: pd.DataFrame | None = None,
) -> None:
    """One decision table per ratio: honest thresholds (the recommended model first), then
    all policies' value."""
    file = file or sys.stdout
    cap = (
        "no capacity limit"
        if analysis.capacity is None
        else f"at most {analysis.capacity} per year"
    )
    for r in ratios:
        rows = analysis.at(r)
        honest = rows[rows["policy"] == "honest"].set_index("model")
        first = honest.loc[recommended] if recommended in honest.index else honest.iloc[0]
        counted = (
            f"{events.loc[first.name, 'events_per_year']:.2f} onsets per year "
            f"({int(events.loc[first.name, 'onset_events'])} onsets in "
            f"{int(events.loc[first.name, 'outcome_years'])} outcome years); costs count "
            f"forecast windows, {first['onsets_per_year']:.2f} with an onset per year"
            if events is not None and first.name in events.index
            else f"{first['onsets_per_year']:.2f} forecast windows with an onset per year"
        )
        print(
            f"\nCost ratio C/(eL) = 1:{1 / r:g} (r = {r:g}), "
            f"effectiveness {analysis.effectiveness:g}, "
            f"{cap}. Costs in unprevented onsets (L = 1, C = {r * analysis.effectiveness:g}).",
            file=file,
        )
        print(
            f"Scored: forecasts with outcomes known through {analysis.data_end}: "
            f"{int(first['years'])} years, {counted}; doing nothing costs "
            f"{first['cost_nothing_per_year']:.3f} per year.",
            file=file,
        )
        shown = pd.DataFrame(
            {
                "threshold": honest["threshold"],
                "warnings/yr": honest["warnings_per_year"],
                "hits/yr": honest["hits_per_year"],
                "expected hits/yr": honest["expected_hits_per_year"],
                "false alarms/hit": honest["false_alarms_per_hit"],
                "cost/yr": honest["cost_per_year"],
                "value vs nothing": honest["value_vs_nothing"],
            }
        )
        if honest["oracle_value_share"].notna().any():
            shown["oracle share"] = honest["oracle_value_share"]
        print(
            "Threshold chosen at each origin from earlier resolved forecasts (honest); "
            "threshold = the one for the latest origin:",
            file=file,
        )
        shown = shown.sort_values("cost/yr")
        if recommended in shown.index:
            shown = shown.loc[[recommended, *shown.index.drop(recommended)]]
        print(shown.round(3).to_string(), file=file)
        values = rows.pivot(index="model", columns="policy", values="value_vs_nothing")
        order = [p for p in ("honest", "in_sample", "bayes", *analysis.rules) if p in values]
        print(
            "Value vs doing nothing by policy (in_sample: best threshold in hindsight; "
            "bayes: warn when p >= r; top-k and EWP 4% rules):",
            file=file,
        )
        print(values[order].round(3).to_string(), file=file)


def _spec_costs(run: Any) -> dict[str, Any]:
    """The ``costs`` of the run's spec: a mapping whose ``cost_ratios`` are numbers."""
    found = run.spec.get("costs") or {}
    raw = found.get("cost_ratios", ()) if isinstance(found, dict) else ()
    values = list(raw) if isinstance(raw, list | tuple) else [raw]
    ratios = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce")
    if not isinstance(found, dict) or ratios.isna().any():
        raise input_error(
            f"costs must be a mapping with numeric cost_ratios, got {found!r}"[:200],
            source=str(Path(run.run_dir or ".") / "experiment.yaml"),
            fix="write e.g. 'costs: {effectiveness: 0.5, capacity: 30, cost_ratios: [0.05]}'",
        )
    return {**found, "cost_ratios": [float(r) for r in ratios]}


def _horizon(given: int | None, run_horizon: int | None) -> int:
    """The run's horizon; ``--horizon`` only where the run does not record one."""
    if run_horizon is not None:
        if given is not None and given != run_horizon:
            raise input_error(
                f"--horizon {given} differs from the run's horizon {run_horizon}; honest "
                "thresholds must use only outcomes known at each origin",
                fix="drop --horizon (the run's own horizon is used)",
            )
        return run_horizon
    if given is None:
        raise input_error("the run records no horizon", fix="pass --horizon")
    if given < 1:
        raise input_error(f"--horizon must be >= 1, got {given}", fix="e.g. --horizon 2")
    return given


@command("costs", short_help="cost of acting on each model's warnings for a finished backtest")
@run_source
@click.option(
    "--out",
    type=PATH,
    metavar="DIR",
    help="also write DIR/costs.csv, value_curves.png and decision_curves.png",
)
@tracking("log the cost metrics into the model runs of --run")
@click.option(
    "--cost-ratio",
    multiple=True,
    metavar="R",
    help="C/(eL) as 0.05 or 1:20; repeat for several (default 1:20)",
)
@click.option(
    "--effectiveness",
    metavar="E",
    help="share of the loss prevented by acting, in (0, 1] "
    "(default: the spec's costs.effectiveness, else 0.5)",
)
@click.option(
    "--capacity",
    metavar="K",
    help="warnings acted on per year, >= 1, or 'none' "
    "(default: the spec's costs.capacity, else 30)",
)
@click.option(
    "--horizon", type=int, help="years until the outcome is known, only for a run that records none"
)
@click.option("--save", type=PATH, hidden=True)
@click.option("--log", is_flag=True, hidden=True)
def costs(args: argparse.Namespace) -> int:
    """Decision table of a finished backtest (--run-dir DIR, or --run RUN_ID from MLflow): per model
    the honest threshold, warnings, hits, false alarms per hit, cost per year and value relative to
    doing nothing, at cost ratio C/(eL). Only forecasts whose outcome windows have closed are
    scored."""
    from forecast.decision import cost_analysis
    from forecast.experiment import CostSpec
    from forecast.run import check_output_dir, staged_output

    resolve_run_source(args)
    if args.save is not None:
        deprecated("--save DIR", "pass --out DIR")
        args.out, args.save = args.save, None
    if args.log:
        if args.run is None:
            raise input_error(
                "--log needs --run", fix="pass --run RUN_ID to log into its model runs"
            )
        deprecated("--log", "cost metrics are logged into --run unless --no-track")
    ratios = [parse_cost_ratio(text) for text in (args.cost_ratio or [])] or [DEFAULT_RATIO]
    if args.out is not None:
        check_output_dir(args.out, markers=("costs.csv",))
    tracker = None
    if args.run is not None and not args.no_track:
        from forecast.tracking import MlflowTracker

        tracker = MlflowTracker(args.tracking_uri)
    with tempfile.TemporaryDirectory(prefix="forecast-costs-") as tmp:
        run = read_run(args, Path(tmp))
    spec_costs = _spec_costs(run)
    costs = CostSpec(
        effectiveness=_effectiveness(args.effectiveness, spec_costs),
        capacity=_capacity(args.capacity, spec_costs),
        cost_ratios=tuple(dict.fromkeys([*spec_costs.get("cost_ratios", ()), *ratios])),
    )
    horizon = _horizon(args.horizon, run.horizon)
    analysis = cost_analysis(run.forecasts, costs, horizon=horizon, data_end=run.data_end)
    recommended = _recommended(run, analysis, sys.stdout)
    _print_tables(analysis, ratios, recommended=recommended, events=_onset_events(run, horizon))
    print(
        f"\n{len(analysis.models)} models, {len(analysis.results)} table rows "
        f"in {analysis.seconds:.2f} s"
    )
    paths = None
    if args.out is not None:
        with staged_output(args.out, markers=("costs.csv",)) as stage:
            analysis.table().to_csv(stage / "costs.csv", index=False)
            names = ["costs.csv", *(p.name for p in analysis.figures(stage))]
        paths = [Path(args.out) / name for name in names]
        print("wrote " + ", ".join(str(p) for p in paths))
    if tracker is not None:
        from forecast.choice import spec_cost_ratio

        ratio = spec_cost_ratio([float(r) for r in spec_costs.get("cost_ratios", ())])
        logged = tracker.log_costs(analysis, args.run, files=paths, ratio=ratio)
        missing = sorted(set(analysis.models) - set(logged))
        print(
            f"logged cost metrics into {len(logged)} model runs of {args.run}"
            + (f" (no nested run for {missing})" if missing else "")
        )
    return 0
