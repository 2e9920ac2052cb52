"""Anchoring (`anchor_years`) on and off, model by model, on the same fits.

For every learned model of an experiment (plus the all-family ensemble) the backtest is run
plain and anchored to the onset share of the last N training years; prints the pooled EWP AUC
and top-30 recall (EWP specs) or the annual AUC (others), with observed/expected onsets.

Usage: FORECAST_DATA_DIR=../shared/data python benchmarks/bench_anchoring.py
       [--spec experiments/ewp-2025.yaml] [--years 20] [--cache DIR]
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import pandas as pd

from forecast.backtest import run_backtest, summarize
from forecast.experiment import ModelSpec, load_experiment

ROOT = Path(__file__).resolve().parents[1]
FAMILIES = ["elastic_net", "random_forest", "xgboost", "hist_gradient_boosting"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", type=Path, default=ROOT / "experiments" / "ewp-2025.yaml")
    parser.add_argument("--years", type=int, default=20)
    parser.add_argument("--cache", type=Path, default=None)
    args = parser.parse_args()
    config = load_experiment(args.spec)
    base = [ModelSpec(name, name) for name in FAMILIES]
    base.append(ModelSpec("ensemble", "ensemble_all", {"members": FAMILIES}))
    models = base + [
        dataclasses.replace(m, label=m.label + "_anchored", anchor_years=args.years) for m in base
    ]
    config = dataclasses.replace(config, models=tuple(models), history_recalibration={})
    summary = summarize(run_backtest(config, n_jobs=2, cache_dir=args.cache))
    annual = summary.pooled.set_index("model")[["roc_auc", "observed_expected"]]
    table = annual.rename(columns={"roc_auc": "annual_auc"})
    if summary.ewp is not None:
        ewp = summary.ewp.set_index("model")[["roc_auc", "caught_top30"]]
        table = ewp.rename(columns={"roc_auc": "ewp_auc"}).join(table)
    rows = []
    for spec in base:
        plain, anchored = table.loc[spec.label], table.loc[spec.label + "_anchored"]
        rows.append(
            {"model": spec.label, **plain.to_dict(), **anchored.add_suffix("_anchored").to_dict()}
        )
    with pd.option_context("display.width", 200):
        print(
            f"{config.name}: plain vs anchored to the last {args.years} training years (same fits)"
        )
        print(pd.DataFrame(rows).set_index("model").round(4).to_string())


if __name__ == "__main__":
    main()
