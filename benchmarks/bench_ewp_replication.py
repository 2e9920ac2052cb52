"""EWP replication regime: every model of experiments/ewp-2025.yaml beside the published figures.

Prints (1) the wall time of the 31-origin elastic-net backtest alone (no cache, 2 workers),
(2) EWP pooled scoring per model (max risk / min rank over forecasts from Y-1 and Y-2, against
onset in Y, 1994-2024) and (3) annual scoring (forecast from t against onset within 2 years,
t <= 2022): AUC, Brier skill vs the training base rate, observed/expected, calibration slope.

Usage: FORECAST_DATA_DIR=../shared/data python benchmarks/bench_ewp_replication.py [--cache DIR]
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import pandas as pd

from forecast.backtest import run_backtest, summarize
from forecast.experiment import load_experiment

PUBLISHED = {
    "model": "published EWP elastic net (R, cv.glmnet)",
    "roc_auc": 0.825,
    "caught_top30": 27,
    "caught_top20": 21,
    "caught_top10": 12,
}
PUBLISHED_ANNUAL = {"roc_auc": 0.832, "brier_skill": 0.006, "observed_expected": 0.60}
SPEC = Path(__file__).resolve().parents[1] / "experiments" / "ewp-2025.yaml"


def _auc_intervals(result) -> pd.Series:
    """95% country-bootstrap interval of each model's pooled EWP AUC, as 'lo-hi'."""
    from forecast.metrics import bootstrap_metric, ewp_pooled_rows

    onsets = result.annual_onsets.rename(columns={"onset": "mk_onset"})
    rows = ewp_pooled_rows(result.forecasts, onsets)
    rows = rows[rows["year"].between(1994, 2024)]
    out = {}
    for model, part in rows.groupby("model"):
        ci = bootstrap_metric(
            (part["mk_onset"], part["max_probability"]),
            "roc_auc",
            clusters=part["unit"],
            n_boot=1000,
            seed=0,
        )
        out[model] = f"{ci.lower:.3f}-{ci.upper:.3f}"
    return pd.Series(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=None, help="task cache for the full run")
    parser.add_argument("--spec", type=Path, default=SPEC)
    args = parser.parse_args()
    config = load_experiment(args.spec)

    en_only = dataclasses.replace(
        config,
        models=tuple(m for m in config.models if m.label == "elastic_net"),
        history_recalibration={},
    )
    run_backtest(dataclasses.replace(en_only, origins=(2000,)), n_jobs=2)  # warm the worker pool
    start = time.perf_counter()
    run_backtest(en_only, n_jobs=2)
    print(
        f"elastic net, 31 origins, 2 workers, no cache: {time.perf_counter() - start:.2f} s "
        "(target < 9 s; R cv.glmnet 10-fold: ~43 s)"
    )

    start = time.perf_counter()
    result = run_backtest(config, n_jobs=2, cache_dir=args.cache)
    print(
        f"all models: {time.perf_counter() - start:.1f} s "
        f"({int(result.scores['cached'].sum())}/{len(result.scores)} tasks from cache)"
    )
    summary = summarize(result)
    ewp = summary.ewp.set_index("model")[
        ["n", "onsets", "roc_auc", "caught_top10", "caught_top20", "caught_top30"]
    ]
    ewp.loc[PUBLISHED["model"]] = [
        5032,
        39,
        PUBLISHED["roc_auc"],
        PUBLISHED["caught_top10"],
        PUBLISHED["caught_top20"],
        PUBLISHED["caught_top30"],
    ]
    ewp["auc_95ci"] = _auc_intervals(result)
    with pd.option_context("display.width", 160):
        print(
            "\nEWP pooled scoring, outcome years 1994-2024 (published: 5,032 rows, 39 onsets;"
            " auc_95ci: country cluster bootstrap, 1,000 draws):"
        )
        print(ewp.round(4).to_string())
        annual = summary.pooled.set_index("model")[
            [
                "n",
                "n_events",
                "roc_auc",
                "average_precision",
                "brier_skill",
                "observed_expected",
                "calibration_slope",
                "interval_coverage",
            ]
        ]
        annual.loc["published EWP elastic net"] = [
            None,
            None,
            PUBLISHED_ANNUAL["roc_auc"],
            None,
            PUBLISHED_ANNUAL["brier_skill"],
            PUBLISHED_ANNUAL["observed_expected"],
            None,
            None,
        ]
        print("\nAnnual scoring, forecasts from t <= 2022 against onset within 2 years:")
        print(annual.round(4).to_string())


if __name__ == "__main__":
    main()
