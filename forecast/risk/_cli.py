"""``forecast risklist`` and ``forecast explain``: the latest risk list and why a risk changed."""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from forecast._errors import input_error
from forecast.experiment import ExperimentConfig
from forecast.panel import Panel
from forecast.risk._drivers import attribute, driver_table, driver_text, input_flags
from forecast.risk._explain import change_text, explain_change
from forecast.risk._fit import LatestForecast, fit_latest
from forecast.risk._registry import RiskRun, log_risklist
from forecast.risk._tiers import TierRule, backtest_tier_meanings, tier_rule_from_config

__all__ = ["RisklistOutput", "build_risklist", "register", "run_risklist"]

_COLUMNS = ("rank", "unit", "probability", "lower", "upper", "tier", "tier_meaning",
            "previous_probability", "change", "drivers_up", "drivers_down", "flags")


@dataclass
class RisklistOutput:
    """What :func:`run_risklist` made: the list, its drivers, tier meanings, files and run."""

    latest: LatestForecast
    risk: pd.DataFrame
    drivers: pd.DataFrame
    meanings: pd.DataFrame | None
    paths: dict[str, Path] = field(default_factory=dict)
    run: RiskRun | None = None


def build_risklist(latest: LatestForecast, *, meanings: pd.DataFrame | None = None,
                   rule: TierRule | None = None, drivers: pd.DataFrame | None = None,
                   top_drivers: int = 4) -> pd.DataFrame:
    """The risk list of ``latest``: one row per unit, ranked.

    Columns: those of :data:`forecast.reports.RISKLIST_COLUMNS` (``tier_meaning`` only with
    ``meanings`` from :func:`~forecast.risk.backtest_tier_meanings`) plus ``year``,
    ``previous_rank`` and ``change_drivers`` (the two largest parts of the change since the
    previous list, see :func:`~forecast.risk.explain_change`).
    """
    cur = latest.current
    rule = rule or tier_rule_from_config(latest.config)
    risk = latest.table()
    risk["tier"] = rule.assign(risk["rank"].to_numpy(), risk["probability"].to_numpy())
    if meanings is not None:
        risk["tier_meaning"] = risk["tier"].map(dict(zip(meanings["tier"], meanings["meaning"])))
    if drivers is None:
        drivers = driver_table(cur.estimator, cur.X, cur.units, latest.panel,
                               reference=cur.train_median)
    risk = risk.merge(driver_text(drivers, top=top_drivers), on="unit", how="left")
    flags = input_flags(latest.panel, latest.year)["flags"].rename("flags")
    risk = risk.merge(flags, left_on="unit", right_index=True, how="left")
    if latest.previous is not None:
        changes = change_text(latest.previous, cur, latest.features, latest.panel.kinds)
        risk = risk.merge(changes, on="unit", how="left")
        risk["change_drivers"] = risk["change_drivers"].fillna("")
    else:
        risk["change_drivers"] = ""
    columns = [c for c in _COLUMNS if c in risk.columns]
    columns += ["year", "previous_rank", "change_drivers"]
    return risk[columns].sort_values("rank", kind="stable").reset_index(drop=True)


def _pct(p: float) -> str:
    return f"{100 * p:g}%"


def _method_note(latest: LatestForecast, rule: TierRule, attribution: str,
                 meanings: pd.DataFrame | None) -> str:
    cur, h = latest.current, latest.config.horizon
    y = latest.year
    tops = " and ".join(f"top {k}" for k in rule.top)
    threshold = (f", then any country at or above {_pct(rule.threshold)}"
                 if rule.threshold is not None else "")
    paragraphs = [
        (f"Risk is the model's probability that a new mass-killing episode begins in the "
         f"country within {h} year{'s' if h > 1 else ''} after {y} ({y + 1}-{y + h}). The model "
         f"({latest.spec.label}: {latest.spec.name}) was trained on the {cur.n_train} "
         f"country-years {cur.train_start}-{cur.train_end} whose outcome was known by {y} "
         f"({cur.n_train_onsets} with an onset), exactly as the backtest trains it for {y}, so "
         "these probabilities equal the backtest's forecasts for that year."),
        f"Tiers follow the decision rule: the {tops} of the list{threshold}. "
        + ("What a tier means is how often countries the same model placed in it in the "
           f"backtest went on to have an onset, using only outcomes known by {y}."
           if meanings is not None else "No backtest was run for the tier meanings."),
        ("Raising and lowering risk: the indicators that move this country's log-odds up or "
         "down the most relative to the training data, grouped as structural, trigger, "
         "mitigating and history. 'odds x1.5' means the indicator multiplies the odds of an "
         f"onset by 1.5. Attribution method: {attribution}."),
        (f"Change compares with the list the same rule gives from {y - 1} data (a model trained "
         f"on outcomes known by {y - 1}); `forecast explain` splits a change into indicator "
         "contributions and a model-update term.") if latest.previous is not None else "",
        ("Data flags: 'imputed' inputs were missing and filled in by the model; 'stale' inputs "
         "have not changed for three or more years (often carried forward)."),
        *latest.notes,
    ]
    return "\n\n".join(p for p in paragraphs if p)


def _meta(latest: LatestForecast, attribution: str) -> dict[str, str]:
    cur, cfg, y = latest.current, latest.config, latest.year
    return {
        "Forecast window": f"{y + 1}-{y + cfg.horizon}", "Data year": str(y),
        "Model": f"{latest.spec.label} ({latest.spec.name})",
        "Trained on": f"{cur.train_start}-{cur.train_end}, {cur.n_train} country-years, "
                      f"{cur.n_train_onsets} onsets",
        "Dataset": f"{latest.panel.name} (sha256 {latest.dataset_digest[:12]})",
        "Experiment": f"{cfg.name} ({cfg.source})", "Drivers": attribution,
    }


def _tracking_uri(uri: str | None, config: ExperimentConfig) -> str | None:
    if os.environ.get("MLFLOW_RUN_ID"):  # launched by `mlflow run`: its run and store
        return os.environ.get("MLFLOW_TRACKING_URI", uri)
    return uri or config.tracking_uri


def run_risklist(experiment: Path | str | ExperimentConfig, *, out: Path,
                 model_label: str | None = None, year: int | None = None,
                 panel: Panel | None = None, register: bool = False, track: bool = True,
                 tracking_uri: str | None = None, cache_dir: Path | None = None,
                 n_jobs: int = 2, tiers_from_backtest: bool = True, pdf: bool = True
                 ) -> RisklistOutput:
    """Fit, tier, attribute and render a risk list; optionally track and register it.

    Writes ``risklist.html``, ``risklist.csv`` (and ``risklist.pdf``) via
    :func:`forecast.reports.render_risklist`, plus ``risk.parquet`` (the list),
    ``drivers.parquet`` (every unit x feature contribution) and ``tiers.csv``. The model
    defaults to the first of the experiment. Tier meanings come from a backtest of the model
    cached in ``cache_dir`` (None = no cache).
    """
    from forecast.backtest._engine import load_panel
    from forecast.experiment import load_experiment
    from forecast.reports import render_risklist

    config = experiment if isinstance(experiment, ExperimentConfig) else load_experiment(experiment)
    if register and not track:
        raise input_error("registering a model needs tracking", fix="drop --no-track")
    uri = _tracking_uri(tracking_uri, config)
    if track:
        from forecast.tracking import MlflowTracker

        uri = MlflowTracker(uri).uri
        MlflowTracker(uri).check()  # before any work
    label = model_label or config.models[0].label
    panel = panel if panel is not None else load_panel(config)
    latest = fit_latest(config, model_label=label, panel=panel, year=year)
    rule = tier_rule_from_config(config)
    meanings = (backtest_tier_meanings(config, model_label=label, panel=panel, year=latest.year,
                                       rule=rule, cache_dir=cache_dir, n_jobs=n_jobs)
                if tiers_from_backtest else None)
    cur = latest.current
    drivers = driver_table(cur.estimator, cur.X, cur.units, panel, reference=cur.train_median)
    attribution = attribute(cur.estimator, cur.X[:1], reference=cur.train_median).method
    risk = build_risklist(latest, meanings=meanings, rule=rule, drivers=drivers)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    shown = risk.drop(columns=[c for c in ("lower", "upper") if risk[c].isna().all()])
    y = latest.year
    paths = render_risklist(
        shown, out, title=f"Risk of a new mass killing, {y + 1}-{y + config.horizon}",
        method_note=_method_note(latest, rule, attribution, meanings),
        meta=_meta(latest, attribution), pdf=pdf)
    paths["risk"] = out / "risk.parquet"
    risk.to_parquet(paths["risk"], index=False)
    paths["drivers"] = out / "drivers.parquet"
    drivers.to_parquet(paths["drivers"], index=False)
    if meanings is not None:
        paths["tiers"] = out / "tiers.csv"
        meanings.to_csv(paths["tiers"], index=False)
    run = None
    if track:
        run = log_risklist(latest, risk, list(paths.values()), tracking_uri=uri,
                           register=register)
    return RisklistOutput(latest, risk, drivers, meanings, paths, run)


def _risklist(args: argparse.Namespace) -> int:
    from forecast.backtest._cli import default_cache_dir

    start = time.perf_counter()
    result = run_risklist(
        args.experiment, out=args.out, model_label=args.model, year=args.year,
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

    config = load_experiment(args.experiment)
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
        description="Fit a model of EXPERIMENT on every known outcome, forecast the last data "
                    "year and write DIR/risklist.html, .csv, .pdf and risk.parquet.")
    parser.add_argument("--experiment", type=Path, required=True, metavar="YAML")
    parser.add_argument("--model", default=None, metavar="LABEL",
                        help="model label (default: the experiment's first model)")
    parser.add_argument("--year", type=int, default=None, help="data year (default: the last)")
    parser.add_argument("--out", type=Path, default=Path("outputs/risklist"),
                        help="output directory (default outputs/risklist)")
    parser.add_argument("--register", action="store_true",
                        help="register the model as forecast-<experiment> with alias champion")
    parser.add_argument("--tracking-uri", default=None,
                        help="MLflow tracking URI (default $MLFLOW_TRACKING_URI or "
                             "sqlite:///mlflow.db)")
    parser.add_argument("--no-track", action="store_true", help="do not log to MLflow")
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
    explain.add_argument("--experiment", type=Path, required=True, metavar="YAML")
    explain.add_argument("--unit", required=True)
    explain.add_argument("--from", dest="year_from", type=int, required=True, metavar="Y1")
    explain.add_argument("--to", dest="year_to", type=int, required=True, metavar="Y2")
    explain.add_argument("--model", default=None, metavar="LABEL",
                         help="model label (default: the experiment's first model)")
    explain.set_defaults(handler=_explain)
