"""History recalibration per test bed: base vs ``<model>_recal`` AUC, calibration and coverage.

For each test bed, the experiment's ``history_recalibration`` models are backtested (the
engine adds their ``_recal`` copies, docs/design/0008). The script prints the pooled AUC of
the base model and of its ``_recal`` copy (the EWP pooled AUC for EWP specs, the annual
pooled AUC otherwise), observed/expected onsets and the coverage of the 80 % intervals. For
comparison it also prints the previous rule, the plain pooled intercept
(``prior_sd=inf, year_sd=0``), applied to the same base forecasts. Synthetic beds also get
their attainable ceiling: the well-specified logit backtested on the same origins
(:func:`forecast.data.synthetic.attainable_ceiling`), next to the oracle.

Test beds: ``synthetic-default``, ``ewp-2025`` and ``ewp-2025-plus`` (their experiment
specs), and the regimes ``stationary``, ``nonlinear`` and ``small`` of the synthetic world
at one seed, run with the synthetic-default spec.

Usage: FORECAST_DATA_DIR=../shared/data python benchmarks/bench_recalibration.py
       [--beds synthetic-default ewp-2025 ...] [--seed 20251] [--burn-in 10] [--jobs 1]

``--burn-in N`` also backtests the N origins before the first one and uses them only as
history (``issue_from``), so that the correction already exists at the first scored origin.
That is what the engine would do if it ran burn-in origins. The columns marked
``burn-in`` show it.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd

from forecast.backtest import default_cache_dir, load_panel, run_backtest, summarize
from forecast.calibration import recalibrate_from_history
from forecast.data.synthetic import DEFAULT_SEED, attainable_ceiling
from forecast.experiment import ExperimentConfig, load_experiment

ROOT = Path(__file__).resolve().parents[1]
SPECS = {
    "synthetic-default": "synthetic-default",
    "ewp-2025": "ewp-2025",
    "ewp-2025-plus": "ewp-2025-plus",
}
REGIMES = ("stationary", "nonlinear", "small")
OLD_RULE = {"prior_sd": np.inf, "year_sd": 0.0}  # the pooled intercept of docs/design/0004


def bed_config(bed: str, seed: int) -> ExperimentConfig:
    """The experiment of a test bed, reduced to its history-recalibrated models."""
    if bed in SPECS:
        config = load_experiment(ROOT / "experiments" / f"{SPECS[bed]}.yaml")
    else:
        regime = bed.removeprefix("synthetic-")
        config = load_experiment(ROOT / "experiments" / "synthetic-default.yaml")
        config = dataclasses.replace(
            config, name=bed, dataset_options={"regime": regime, "seed": seed}
        )
    recal = config.history_recalibration.get("models", [])
    return dataclasses.replace(config, models=tuple(m for m in config.models if m.label in recal))


def _scores(result) -> pd.DataFrame:
    """Pooled AUC (EWP pooled for EWP specs), observed/expected and interval coverage."""
    summary = summarize(result)
    table = summary.pooled.set_index("model")
    out = pd.DataFrame({"auc": table["roc_auc"], "oe": table["observed_expected"]})
    if summary.ewp is not None:
        out["auc"] = summary.ewp.set_index("model")["roc_auc"]
    out["coverage"] = table.get("interval_coverage", np.nan)
    return out


def _with(result, extra: pd.DataFrame, keep_from: int | None = None):
    forecasts = pd.concat([result.forecasts, extra], ignore_index=True)
    if keep_from is not None:
        forecasts = forecasts[forecasts["origin"] >= keep_from]
    return dataclasses.replace(result, forecasts=forecasts.reset_index(drop=True))


def _first_origin(config: ExperimentConfig, panel) -> int:
    from forecast.backtest import RollingOrigin

    years = panel.frame[panel.year].to_numpy()
    return int(min(RollingOrigin.from_config(config).origin_years(years)))


def bed_table(bed: str, seed: int, burn_in: int, jobs: int) -> tuple[pd.DataFrame, dict]:
    config = bed_config(bed, seed)
    options = dict(config.history_recalibration)
    models = options.pop("models")
    cache = default_cache_dir()
    result = run_backtest(config, n_jobs=jobs, cache_dir=cache)
    suffix = options.get("suffix", "_recal")
    base = result.forecasts[~result.forecasts["model"].str.endswith(suffix)]
    old = recalibrate_from_history(
        base, horizon=config.horizon, models=models, **{**options, **OLD_RULE, "suffix": "_pooled"}
    )
    scores = _scores(_with(result, old))
    rows = []
    for model in models:
        recal = model + suffix
        row = {
            "bed": bed,
            "model": model,
            "auc_base": scores.loc[model, "auc"],
            "auc_recal": scores.loc[recal, "auc"],
            "oe_base": scores.loc[model, "oe"],
            "oe_recal": scores.loc[recal, "oe"],
            "coverage_recal": scores.loc[recal, "coverage"],
            "auc_old_rule": scores.loc[model + "_pooled", "auc"],
            "oe_old_rule": scores.loc[model + "_pooled", "oe"],
        }
        rows.append(row)
    table = pd.DataFrame(rows)
    table["d_auc"] = table["auc_recal"] - table["auc_base"]
    if burn_in:
        panel = load_panel(config)
        first = _first_origin(config, panel)
        early = dataclasses.replace(
            config,
            origins=None,
            first_origin=first - burn_in,
            last_origin=config.last_origin,
            history_recalibration={},
        )
        long = run_backtest(early, panel=panel, n_jobs=jobs, cache_dir=cache)
        recal = recalibrate_from_history(
            long.forecasts,
            horizon=config.horizon,
            models=models,
            **{**options, "issue_from": first},
        )
        burned = _scores(_with(long, recal, keep_from=first))
        table["auc_recal_burn_in"] = [burned.loc[m + suffix, "auc"] for m in models]
        table["oe_recal_burn_in"] = [burned.loc[m + suffix, "oe"] for m in models]
    limits = {}
    if config.feature_set is None and config.dataset == "synthetic-world":
        panel = load_panel(config)
        years = sorted(result.forecasts["origin"].unique())
        ceiling = attainable_ceiling(panel, config.horizon, years)
        limits = {
            "bed": bed,
            "attainable_auc": ceiling.auc,
            "oracle_auc": ceiling.oracle_auc,
            "attainable_oe": ceiling.observed_expected,
            "onsets": ceiling.n_events,
        }
    return table, limits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--beds", nargs="+", default=[*SPECS, *(f"synthetic-{r}" for r in REGIMES)])
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="seed of the regimes")
    parser.add_argument(
        "--burn-in",
        type=int,
        default=0,
        help="also score with N history-only origins before the first",
    )
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args()
    tables, limits = [], []
    for bed in args.beds:
        table, limit = bed_table(bed, args.seed, args.burn_in, args.jobs)
        tables.append(table)
        if limit:
            limits.append(limit)
        with pd.option_context("display.width", 200, "display.max_columns", 20):
            print(table.round(3).to_string(index=False), flush=True)
    table = pd.concat(tables, ignore_index=True)
    ok = (table["d_auc"] >= -0.005) & table["oe_recal"].between(0.85, 1.15)
    print("\nAll test beds (pooled AUC; EWP pooled AUC for EWP specs):")
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.assign(meets_targets=ok).round(3).to_string(index=False))
        if limits:
            print(
                "\nSynthetic beds: attainable ceiling (well-specified logit, same origins) "
                "and oracle"
            )
            print(pd.DataFrame(limits).round(3).to_string(index=False))


if __name__ == "__main__":
    main()
