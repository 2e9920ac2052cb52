"""The risk-list job: fit, tier, attribute, render, and track (and register) a risk list."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from forecast._errors import input_error
from forecast.choice import recommend_model
from forecast.experiment import ExperimentConfig
from forecast.ledger import LEDGER_ENV, ledger_dir, record_risklist
from forecast.panel import Panel
from forecast.risk import (
    LatestForecast,
    RiskRun,
    attribute,
    backtest_list_forecasts,
    build_risklist,
    driver_table,
    fit_latest,
    indicator_info,
    intro_context,
    list_footnotes,
    list_intro,
    list_metadata,
    log_risklist,
    method_note,
    state_codes,
    tier_meanings,
    tier_rule_from_config,
)
from forecast.run import check_output_dir, staged_output

__all__ = ["RisklistOutput", "run_risklist"]

RISKLIST_MARKERS = ("risk.parquet", "risklist.csv", "risklist.html")
"""Files that mark a folder as an earlier risk list (it may be replaced)."""


@dataclass
class RisklistOutput:
    """What :func:`run_risklist` made: the list, its drivers, tier meanings, files and run."""

    latest: LatestForecast
    risk: pd.DataFrame
    drivers: pd.DataFrame
    meanings: pd.DataFrame | None
    paths: dict[str, Path] = field(default_factory=dict)
    run: RiskRun | None = None


def run_risklist(
    experiment: Path | str | ExperimentConfig,
    *,
    out: Path,
    model_label: str | None = None,
    year: int | None = None,
    panel: Panel | None = None,
    register: bool = False,
    track: bool = True,
    tracking_uri: str | None = None,
    cache_dir: Path | None = None,
    n_jobs: int = 2,
    tiers_from_backtest: bool = True,
    pdf: bool = True,
    ledger: Path | str | None = None,
) -> RisklistOutput:
    """Fit, tier, attribute and render a risk list; optionally track and register it.

    Writes ``risklist.html``, ``risklist.csv`` (and ``risklist.pdf``) via
    :func:`forecast.reports.render_risklist`, plus ``risk.parquet`` (the list),
    ``drivers.parquet`` (every unit x feature contribution) and ``tiers.csv``. The model
    defaults to the recommended one (:func:`forecast.choice.recommend_model`); the CSV's
    ``model`` column names it (and ``model_note`` says so when it is another). Tier meanings
    come from a backtest of the model cached in ``cache_dir`` (None = no cache). The list is
    recorded as an edition (:mod:`forecast.ledger`) in ``ledger``, else, when tracked or
    ``$FORECAST_LEDGER_DIR`` is set, in :func:`forecast.ledger.ledger_dir` (beside the store).
    """
    from forecast.backtest import load_panel
    from forecast.experiment import load_experiment
    from forecast.metrics import track_record
    from forecast.reports import render_risklist, track_record_section, world_map

    config = experiment if isinstance(experiment, ExperimentConfig) else load_experiment(experiment)
    out = Path(out)
    if register and not track:
        raise input_error("registering a model needs tracking", fix="drop --no-track")
    tracker = None
    if track:
        from forecast.tracking import MlflowTracker

        tracker = MlflowTracker.for_job(tracking_uri, config.tracking_uri)
        tracker.check()  # before any work
    check_output_dir(out, markers=RISKLIST_MARKERS)  # before any work
    label = model_label or recommend_model(config).recommended
    panel = panel if panel is not None else load_panel(config)
    latest = fit_latest(config, model_label=label, panel=panel, year=year)
    rule = tier_rule_from_config(config)
    past = (
        backtest_list_forecasts(
            config,
            model_label=label,
            panel=panel,
            year=latest.year,
            cache_dir=cache_dir,
            n_jobs=n_jobs,
        )
        if tiers_from_backtest
        else None
    )  # one backtest: tier meanings and track record
    meanings = (
        tier_meanings(
            past, rule, horizon=config.horizon, known_by=latest.year, unit_noun=panel.unit_noun
        )
        if past is not None
        else None
    )
    sections = []
    if past is not None and len(past):
        onsets = panel.frame[[panel.unit, panel.year, config.outcome]].set_axis(
            ["unit", "year", "onset"], axis=1
        )
        record = track_record(
            past,
            horizon=config.horizon,
            data_end=latest.year,
            k=max(rule.top),
            tiers=rule.top,
            onsets=onsets,
        )
        sections.append(track_record_section(record, model=label, unit_noun=panel.unit_noun))
    cur = latest.current
    drivers = driver_table(
        cur.estimator,
        cur.X,
        cur.units,
        panel,
        reference=cur.train_median,
        indicators=indicator_info(config),
        year=latest.year,
    )
    attribution = attribute(cur.estimator, cur.X[:1], reference=cur.train_median).method
    risk = build_risklist(latest, meanings=meanings, rule=rule, drivers=drivers)
    shown = risk.drop(columns=[c for c in ("lower", "upper") if risk[c].isna().all()])
    note = recommend_model(config).note_for(label)
    shown = shown.assign(model=label, **({"model_note": note} if note else {}))
    y = latest.year
    codes = state_codes(panel, y)  # a world map when the units are states
    if codes.notna().any():
        located = risk.assign(unit=risk["unit"].map(codes)).dropna(subset=["unit"])
        world = world_map(
            located, year=y, title=f"Risk of a new mass killing, {y + 1}-{y + config.horizon}"
        )
        sections.insert(0, ("map", "World map", world.html))
    with staged_output(out, markers=RISKLIST_MARKERS) as stage:
        paths = render_risklist(
            shown,
            stage,
            title=f"Risk of a new mass killing, {y + 1}-{y + config.horizon}",
            method_note=method_note(latest, rule, attribution, meanings),
            meta=list_metadata(latest, attribution),
            pdf=pdf,
            sections=sections,
            footnotes=list_footnotes(latest, attribution),
            unit_noun=panel.unit_noun,
            intro=intro_context(list_intro(latest, past)),
        )
        paths["risk"] = stage / "risk.parquet"
        risk.to_parquet(paths["risk"], index=False)
        paths["drivers"] = stage / "drivers.parquet"
        drivers.to_parquet(paths["drivers"], index=False)
        if meanings is not None:
            paths["tiers"] = stage / "tiers.csv"
            meanings.to_csv(paths["tiers"], index=False)
    paths = {key: out / path.name for key, path in paths.items()}
    run = None
    if tracker is not None:
        run = log_risklist(latest, risk, list(paths.values()), register=register, tracker=tracker)
    if ledger is not None or tracker is not None or os.environ.get(LEDGER_ENV):
        record_risklist(ledger or ledger_dir(tracker.uri if tracker else None), latest, risk)
    return RisklistOutput(latest, risk, drivers, meanings, paths, run)
