"""Benchmark: cost_analysis on a finished backtest output directory.

Run: ``python benchmarks/bench_costs.py [DIR]`` (default ``outputs/synthetic-default``, written by
``forecast backtest experiments/synthetic-default.yaml --out outputs/synthetic-default``).
Prints the decision table at 1:10, 1:20 and 1:50 and the time of each step (best of 3).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

from forecast.decision import cost_analysis
from forecast.experiment import CostSpec

SHOWN = [
    "threshold",
    "warnings_per_year",
    "hits_per_year",
    "false_alarms_per_hit",
    "cost_per_year",
    "relative_value",
    "value_vs_nothing",
    "oracle_value_share",
]


def _best_of(n: int, func):
    times, result = [], None
    for _ in range(n):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return result, min(times)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", type=Path, default=Path("outputs/synthetic-default"))
    args = parser.parse_args(argv)
    forecasts = pd.read_parquet(args.out / "forecasts.parquet")
    spec_path = args.out / "experiment.yaml"
    spec = yaml.safe_load(spec_path.read_text()) if spec_path.is_file() else {}
    raw = spec.get("costs") or {}
    costs = CostSpec(
        float(raw.get("effectiveness", 0.5)),
        raw.get("capacity", 30),
        tuple(float(r) for r in raw.get("cost_ratios", ())),
    )
    horizon = int(spec.get("horizon", forecasts["horizon"].iloc[0]))
    onsets = args.out / "onsets.parquet"
    data_end = int(pd.read_parquet(onsets)["year"].max()) if onsets.is_file() else None

    analysis, seconds = _best_of(
        3, lambda: cost_analysis(forecasts, costs, horizon=horizon, data_end=data_end)
    )
    _, metric_seconds = _best_of(3, analysis.metrics_by_model)
    _, curve_seconds = _best_of(3, analysis.curves_by_model)
    with tempfile.TemporaryDirectory() as tmp:
        _, figure_seconds = _best_of(1, lambda: analysis.figures(tmp))
    per_model = forecasts.groupby("model").size()
    print(
        f"{args.out}: {per_model.size} models x {per_model.max()} rows x "
        f"{forecasts['origin'].nunique()} origins, horizon {horizon}, "
        f"scored through {analysis.data_end}; effectiveness {analysis.effectiveness:g}, "
        f"capacity {analysis.capacity}"
    )
    table = analysis.results
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        for r in (1 / 10, 1 / 20, 1 / 50):
            rows = table[(table["policy"] == "honest") & ((table["cost_ratio"] - r).abs() < 1e-12)]
            print(f"\nhonest thresholds, C/(eL) = 1:{1 / r:g}")
            print(rows.set_index("model")[SHOWN].round(3).to_string())
    n_metrics = len(next(iter(analysis.metrics_by_model().values())))
    print(
        f"\ncost_analysis {seconds:.3f} s ({table['cost_ratio'].nunique()} cost ratios, "
        f"{len(table)} table rows); metrics_by_model {metric_seconds:.3f} s "
        f"({n_metrics} metrics per model); curves_by_model {curve_seconds:.3f} s; "
        f"figures {figure_seconds:.2f} s"
    )


if __name__ == "__main__":
    main()
