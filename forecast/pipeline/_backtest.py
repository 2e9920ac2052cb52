"""The backtest job: backtest, score, cost analysis, report, one run folder, tracking."""

from __future__ import annotations

import dataclasses
import datetime
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd

from forecast._errors import input_error
from forecast.backtest import ORACLE, BacktestResult, run_backtest
from forecast.experiment import load_experiment
from forecast.panel import COUNTRY
from forecast.run import RUN_MARKERS, RunArtifacts, check_output_dir, staged_output

__all__ = ["RUN_MARKERS", "print_summary", "run_artifacts", "run_experiment"]

_SHOWN = [
    "roc_auc",
    "average_precision",
    "brier",
    "brier_skill",
    "observed_expected",
    "calibration_slope",
    "recall_top10",
    "recall_top20",
    "recall_top30",
]


def print_summary(result: BacktestResult, summary: Any, file: Any = None) -> None:
    """Pooled metrics per model (and the EWP pooling when present) as console tables."""
    file = file or sys.stdout
    pooled = summary.pooled.set_index("model")
    shown = pooled[[c for c in _SHOWN if c in pooled.columns]]
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(
            f"\n{result.config.name}: {result.forecasts['origin'].nunique()} origins, "
            f"horizon {result.config.horizon}, dataset {result.panel_name}",
            file=file,
        )
        print(shown.round(4).to_string(), file=file)
        if summary.ewp is not None:
            ewp = summary.ewp.set_index("model")
            cols = [
                c
                for c in ewp.columns
                if c in ("n", "onsets", "roc_auc") or c.startswith("caught_top")
            ]
            print(
                "\nEWP pooled scoring (max risk / min rank over forecasts from Y-1, Y-2):",
                file=file,
            )
            print(ewp[cols].round(4).to_string(), file=file)


def _print_costs(analysis: Any) -> None:
    metrics = analysis.metrics_by_model()
    rows = {
        model: {
            key: values.get(key)
            for key in (
                "relative_value_1to10",
                "relative_value_1to20",
                "relative_value_1to50",
                "warnings_per_year_1to20",
                "false_alarms_per_hit_1to20",
            )
        }
        for model, values in metrics.items()
    }
    print(
        "\nValue of acting on warnings (honest thresholds chosen at each origin; 1 = perfect "
        "foresight, 0 = base rate alone):"
    )
    print(pd.DataFrame.from_dict(rows, orient="index").round(3).to_string())


def run_artifacts(result: BacktestResult, summary: Any, costs: pd.DataFrame | None) -> RunArtifacts:
    """The run folder's tables of a finished backtest (see :class:`forecast.run.RunArtifacts`)."""
    import yaml

    config = result.config
    provenance = {
        **({"note": summary.note} if summary.note else {}),
        "experiment": config.name,
        "spec": config.source,
        "dataset": result.panel_name,
        "dataset_sha256": result.dataset_digest,
        "code_version": result.forecasts.attrs.get("code_version", ""),
        "horizon": config.horizon,
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }
    if result.unit_noun != COUNTRY:  # the default is not written: older runs read the same
        provenance["unit_noun"] = result.unit_noun.as_dict()
    if result.execution is not None:  # where the fits ran and what was shipped to run them
        provenance["execution"] = dataclasses.asdict(result.execution)
    from forecast.models import compute_record

    if compute := compute_record(config.models):  # device and threads of the boosting models
        provenance["compute"] = compute
    return RunArtifacts(
        forecasts=result.forecasts,
        scores=result.scores,
        onsets=result.annual_onsets,
        metrics=summary.pooled,
        ewp_metrics=summary.ewp,
        costs=costs,
        spec_text=yaml.safe_dump(config.raw, sort_keys=False),
        provenance=provenance,
    )


def run_experiment(
    experiment: Path | str,
    *,
    out: Path | str,
    n_jobs: int = 2,
    backend: str = "loky",
    scheduler: str | None = None,
    cache_dir: Path | None = None,
    track: bool = True,
    tracking_uri: str | None = None,
    progress: bool = False,
    report: bool = True,
    tracker: Any = None,
) -> int:
    """Backtest an experiment spec and write its run folder as one transaction.

    Everything that can be checked is checked before the first fit (the spec, ``out``, the
    tracking store). The forecasts, scores, metrics, cost analysis (``costs.csv`` and its
    figures) and the HTML report are written into a staging folder that replaces ``out``
    only when complete; then the run is tracked (``tracker``, default an
    :class:`forecast.tracking.MlflowTracker` at ``tracking_uri``) unless ``track`` is False.
    The cost figures (:data:`forecast.run.FIGURES`) are drawn only for the report or the
    tracker: with neither (``report=False, track=False``) the folder holds the tables alone,
    from which ``forecast report --run-dir`` and ``forecast costs --out`` draw them later.

    Returns
    -------
    int
        1 if any task failed, else 0.
    """
    from forecast.backtest import summarize
    from forecast.decision import cost_analysis

    config = load_experiment(experiment)
    out = check_output_dir(out, markers=RUN_MARKERS)
    if track and tracker is None:
        from forecast.tracking import MlflowTracker

        tracker = MlflowTracker.for_job(tracking_uri, config.tracking_uri)
    if not track:
        tracker = None
    if tracker is not None:
        tracker.check()  # before any work
    start = time.perf_counter()
    result = run_backtest(
        config,
        n_jobs=n_jobs,
        backend=backend,
        scheduler=scheduler,
        cache_dir=cache_dir,
        progress=progress,
    )
    seconds = time.perf_counter() - start
    if not (result.forecasts["model"] != ORACLE).any():
        first = result.failed.iloc[0] if len(result.failed) else None
        raise input_error(
            "every task failed"
            + (
                f" (first: {first['model']} at origin {first['origin']}: {first['error']})"
                if first is not None
                else ""
            ),
            source=str(experiment),
            fix="fix the model or data named in the error (a training "
            "window without onsets cannot be fitted); nothing in --out was changed",
        )
    summary = summarize(result)
    analysis = None
    if summary.note is None:  # nothing scorable is a result: NaN metrics and the reason
        analysis = cost_analysis(
            result.forecasts,
            config.costs,
            horizon=config.horizon,
            data_end=int(result.annual_onsets["year"].max()),
        )
    artifacts = run_artifacts(result, summary, None if analysis is None else analysis.table())
    with staged_output(out, markers=RUN_MARKERS) as stage:
        artifacts.write(stage)
        if analysis is not None and (report or tracker is not None):
            # the PNGs go with the report and into MLflow; a run folder without them
            # still renders a full report later (`forecast report` draws its own)
            analysis.figures(stage)
        if report:
            from forecast.reports import build_report

            build_report(artifacts, stage / "report.html", baseline=config.baseline)
    artifacts.run_dir = out
    print_summary(result, summary)
    cached = int(result.scores["cached"].sum())
    print(
        f"\n{len(result.scores)} tasks ({cached} from cache) in {seconds:.1f} s; outputs in {out}"
    )
    if analysis is not None:
        _print_costs(analysis)
    else:
        print(f"\nnothing scored: {summary.note}")
    if report:
        print(f"report: {out / 'report.html'}")
    if tracker is not None:
        from forecast.tracking import TrackingError, log_run

        try:
            run_id = log_run(tracker, result, summary, artifacts, analysis)
            print(f"tracked: run {run_id} at {tracker.uri}")
        except TrackingError as error:  # the run folder is written: one line, exit 0
            print(f"forecast: warning: {error}", file=sys.stderr)
    if len(result.failed):
        print(f"{len(result.failed)} task(s) failed:", file=sys.stderr)
        for row in result.failed.head(10).itertuples():
            print(f"  {row.model} at origin {row.origin}: {row.error}", file=sys.stderr)
        return 1
    return 0
