"""The end-to-end backtest job used by the CLI and the MLflow entry points."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd

from forecast.backtest._engine import BacktestResult, run_backtest
from forecast.backtest._summary import summarize
from forecast.experiment import load_experiment

__all__ = ["print_summary", "run_experiment"]

_SHOWN = ["roc_auc", "average_precision", "brier", "brier_skill", "observed_expected",
          "calibration_slope", "recall_top10", "recall_top20", "recall_top30"]


def print_summary(result: BacktestResult, summary, file=sys.stdout) -> None:
    pooled = summary.pooled.set_index("model")
    shown = pooled[[c for c in _SHOWN if c in pooled.columns]]
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(f"\n{result.config.name}: {result.forecasts['origin'].nunique()} origins, "
              f"horizon {result.config.horizon}, dataset {result.panel_name}", file=file)
        print(shown.round(4).to_string(), file=file)
        if summary.ewp is not None:
            ewp = summary.ewp.set_index("model")
            cols = [c for c in ewp.columns if c in ("n", "onsets", "roc_auc") or c.startswith("caught_top")]
            print("\nEWP pooled scoring (max risk / min rank over forecasts from Y-1, Y-2):", file=file)
            print(ewp[cols].round(4).to_string(), file=file)


def _print_costs(analysis) -> None:
    metrics = analysis.metrics_by_model()
    rows = {model: {key: values.get(key) for key in (
        "relative_value_1to10", "relative_value_1to20", "relative_value_1to50",
        "warnings_per_year_1to20", "false_alarms_per_hit_1to20")} for model, values in metrics.items()}
    print("\nValue of acting on warnings (honest thresholds chosen at each origin; 1 = perfect "
          "foresight, 0 = base rate alone):")
    print(pd.DataFrame.from_dict(rows, orient="index").round(3).to_string())


def run_experiment(experiment: Path | str, *, out: Path, n_jobs: int = 2, backend: str = "loky",
                   scheduler: str | None = None, cache_dir: Path | None = None, track: bool = True,
                   tracking_uri: str | None = None, progress: bool = False,
                   report: bool = True) -> int:
    """Backtest, write outputs (forecasts, scores, metrics, cost analysis, HTML report), print
    a summary and track in MLflow; 1 if any task failed, else 0."""
    import os

    config = load_experiment(experiment)
    tracker = None
    if track:
        from forecast.tracking import MlflowTracker

        if os.environ.get("MLFLOW_RUN_ID"):  # launched by `mlflow run`: log into its run and store
            tracking_uri = os.environ.get("MLFLOW_TRACKING_URI", tracking_uri)
        tracker = MlflowTracker(tracking_uri or config.tracking_uri)
        tracker.check()  # before any work
    start = time.perf_counter()
    result = run_backtest(config, n_jobs=n_jobs, backend=backend, scheduler=scheduler,
                          cache_dir=cache_dir, progress=progress)
    seconds = time.perf_counter() - start
    out = Path(out)
    result.write(out)
    summary = summarize(result)
    summary.pooled.to_csv(out / "metrics.csv", index=False)
    if summary.ewp is not None:
        summary.ewp.to_csv(out / "ewp_metrics.csv", index=False)
    print_summary(result, summary)
    cached = int(result.scores["cached"].sum())
    print(f"\n{len(result.scores)} tasks ({cached} from cache) in {seconds:.1f} s; "
          f"outputs in {out}")
    from forecast.decision import cost_analysis, log_cost_analysis

    analysis = cost_analysis(result.forecasts, config.costs, horizon=config.horizon,
                             data_end=int(result.annual_onsets["year"].max()))
    analysis.table().to_csv(out / "costs.csv", index=False)
    figures = analysis.figures(out)
    _print_costs(analysis)
    if report:
        from forecast.reports import build_report

        path = build_report(out, baseline=config.baseline, effectiveness=config.costs.effectiveness)
        print(f"report: {path}")
    if tracker is not None:
        run_id = tracker.log_backtest(result, summary, out, artifacts=[out / "metrics.csv", *figures])
        log_cost_analysis(analysis, run_id, tracker.uri, files=[out / "costs.csv", *figures])
        print(f"MLflow run {run_id} at {tracker.uri}")
    if len(result.failed):
        print(f"{len(result.failed)} task(s) failed:", file=sys.stderr)
        for row in result.failed.head(10).itertuples():
            print(f"  {row.model} at origin {row.origin}: {row.error}", file=sys.stderr)
        return 1
    return 0
