"""Honest model choice: fixed models, the hindsight-best, `stacked` and `selected`, per test bed.

For every test bed (ewp-2025, ewp-2025-plus, synthetic-default, and synthetic worlds: the
regimes of `synthetic-world` when its loader has a `regime` option, else other seeds) the
experiment is backtested once (cached fits, 2 workers; no history recalibration) and every
model is scored on the same rows: EWP beds by pooled EWP scoring (max risk over forecasts from
Y-1 and Y-2 against onset in Y, outcome years 1994-2024; top 30 caught), synthetic beds on
every fully observed window (recall of window onsets in each year's top 30). `Δ best` and
`Δ elastic_net` are AUC differences with paired country-cluster bootstrap 95% intervals
(`forecast.metrics.paired_difference`, 1,000 draws). The hindsight-best is the fixed model
with the highest AUC on that bed: a reference no forecaster could have picked. Last, the
default-model rule of docs/design/0007 (fixed before these numbers) is applied.

Usage: FORECAST_DATA_DIR=../shared/data python benchmarks/bench_model_choice.py
       [--beds ewp-2025 synthetic-default ...] [--cache DIR] [--n-jobs 2] [--n-boot 1000]
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd

from forecast.backtest import default_cache_dir, run_backtest
from forecast.data import dataset_options
from forecast.experiment import ExperimentConfig, load_experiment
from forecast.metrics import ewp_pooled_rows, get_metric, paired_difference, recall_at_k
from forecast.models import META_MODELS
from forecast.outcomes import observed_windows

ROOT = Path(__file__).resolve().parents[1]
META = list(META_MODELS)
REGIMES = ("drifting", "stationary", "nonlinear", "small")
SEEDS = (11, 12)
EWP_YEARS = (1994, 2024)


def test_beds() -> dict[str, ExperimentConfig]:
    """Every test bed by name: the shipped specs and synthetic worlds."""
    specs = {
        name: load_experiment(ROOT / "experiments" / f"{name}.yaml")
        for name in ("ewp-2025", "ewp-2025-plus", "synthetic-default")
    }
    beds = dict(specs)
    synthetic = specs["synthetic-default"]
    options = dataset_options(synthetic.dataset)
    if "regime" in options:
        variants = [{"regime": regime, "seed": 1} for regime in REGIMES]
    elif "seed" in options:
        variants = [{"seed": seed} for seed in SEEDS]
    else:
        variants = []
    for variant in variants:
        name = "synthetic-" + "-".join(str(v) for v in variant.values())
        beds[name] = dataclasses.replace(synthetic, name=name, dataset_options=variant)
    return beds


def scored_rows(result) -> tuple[pd.DataFrame, str]:
    """One row per (model, unit, year) scored on the bed: ``y``, ``p``, ``rank``; the kind."""
    f = result.forecasts[result.forecasts["model"] != "oracle"]
    if result.config.ewp_pooled:
        onsets = result.annual_onsets.rename(columns={"onset": "mk_onset"})
        rows = ewp_pooled_rows(f, onsets)
        rows = rows[rows["year"].between(*EWP_YEARS)]
        return rows.rename(
            columns={"mk_onset": "y", "max_probability": "p", "min_rank": "rank"}
        ), "ewp"
    data_end = int(result.annual_onsets["year"].max())
    rows = observed_windows(f, horizon=result.config.horizon, data_end=data_end)
    return rows.rename(columns={"outcome": "y", "probability": "p"}), "annual"


def _aligned(rows: pd.DataFrame, a: str, b: str) -> pd.DataFrame:
    left = rows[rows["model"] == a].set_index(["unit", "year"])
    right = rows[rows["model"] == b].set_index(["unit", "year"])
    both = left.join(right[["p"]].rename(columns={"p": "p_b"}), how="inner")
    return both.reset_index()


def _difference(rows: pd.DataFrame, a: str, b: str, n_boot: int) -> tuple[float, float, float]:
    """AUC(a) - AUC(b) on the rows both scored, with its paired cluster-bootstrap interval."""
    if a == b:
        return (np.nan, np.nan, np.nan)
    both = _aligned(rows, a, b)
    d = paired_difference(
        both["y"],
        both["p"],
        both["p_b"],
        clusters=both["unit"],
        metric="roc_auc",
        n_boot=n_boot,
        seed=0,
    )
    return (d.estimate, d.lower, d.upper)


def score_bed(result, n_boot: int) -> pd.DataFrame:
    """One row per model (fixed models, then the meta models): AUC, top 30, log loss and the
    AUC differences against the hindsight-best (``attrs['best']``) and ``elastic_net``."""
    rows, kind = scored_rows(result)
    auc, loss = get_metric("roc_auc"), get_metric("log_loss")
    fixed = [m.label for m in result.config.models if m.name not in META]
    records = {}
    for model, part in rows.groupby("model", sort=False):
        y, p = part["y"].to_numpy(float), part["p"].to_numpy(float)
        top30 = (
            int(((part["rank"] <= 30) & (part["y"] == 1)).sum())
            if kind == "ewp"
            else recall_at_k(y, p, groups=part["year"].to_numpy(), k=30)
        )
        records[model] = {
            "auc": auc(y, p),
            "top30": top30,
            "log_loss": loss(y, p),
            "n": len(y),
            "onsets": int(y.sum()),
        }
    table = pd.DataFrame.from_dict(records, orient="index")
    order = [m for m in fixed if m in table.index] + [m for m in META if m in table.index]
    table = table.loc[order]
    best = table.loc[[m for m in fixed if m in table.index], "auc"].idxmax()
    for column, reference in (("best", best), ("en", "elastic_net")):
        values = [_difference(rows, m, reference, n_boot) for m in table.index]
        table[[f"d_{column}", f"d_{column}_lo", f"d_{column}_hi"]] = values
    table.attrs.update(best=best, kind=kind)
    return table


def _shown(table: pd.DataFrame) -> pd.DataFrame:
    def ci(column: str) -> list[str]:
        return [
            "—"
            if np.isnan(r[f"d_{column}"])
            else f"{r[f'd_{column}']:+.3f} [{r[f'd_{column}_lo']:+.3f}, {r[f'd_{column}_hi']:+.3f}]"
            for _, r in table.iterrows()
        ]

    out = table[["auc", "top30", "log_loss"]].copy()
    out["Δ AUC vs best [95% CI]"] = ci("best")
    out["Δ AUC vs elastic_net [95% CI]"] = ci("en")
    out.index = [f"{m} (hindsight-best)" if m == table.attrs["best"] else m for m in out.index]
    return out


def default_rule(tables: dict[str, pd.DataFrame]) -> str:
    """The default-model rule of docs/design/0007, applied to the beds' numbers."""
    lines = []
    for candidate in META:
        below = [bed for bed, t in tables.items() if t.loc[candidate, "d_en_hi"] < 0]
        at_least = sum(int(t.loc[candidate, "d_en"] >= 0) for t in tables.values())
        passes = not below and at_least >= len(tables) / 2
        lines.append(
            f"{candidate}: interval against elastic_net wholly below 0 on "
            f"{below or 'no bed'}; AUC >= elastic_net on {at_least} of {len(tables)} "
            f"beds -> {'passes' if passes else 'fails'}"
        )
        if passes:
            return "\n".join([*lines, f"Default model by the rule: {candidate}"])
    return "\n".join([*lines, "Default model by the rule: elastic_net (unchanged)"])


def last_choices(results: dict) -> pd.DataFrame:
    """Each meta model's choice at the last origin of each bed (largest weights first)."""
    out = []
    for name, result in results.items():
        f = result.forecasts
        meta = f[f["model"].isin(META)]
        for model, part in meta.groupby("model"):
            last = part[part["origin"] == part["origin"].max()].iloc[0]
            weights = last.filter(like="weight_").dropna().astype(float)
            top = weights.sort_values(ascending=False).head(3)
            out.append(
                {
                    "bed": name,
                    "model": model,
                    "origin": int(last["origin"]),
                    "onsets in history": int(last["meta_events"]),
                    "choice": last["meta_choice"],
                    "largest weights": ", ".join(
                        f"{k.removeprefix('weight_')} {v:.2f}" for k, v in top.items()
                    ),
                }
            )
    return pd.DataFrame(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--beds", nargs="*", default=None, help="names (default: all)")
    parser.add_argument("--cache", type=Path, default=default_cache_dir())
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--n-boot", type=int, default=1000)
    args = parser.parse_args()
    beds = test_beds()
    tables, results = {}, {}
    for name in args.beds or list(beds):
        config = dataclasses.replace(beds[name], history_recalibration={})
        results[name] = result = run_backtest(config, n_jobs=args.n_jobs, cache_dir=args.cache)
        tables[name] = table = score_bed(result, args.n_boot)
        what = (
            "pooled EWP scoring, outcome years 1994-2024; top30 = onsets caught"
            if table.attrs["kind"] == "ewp"
            else "all fully observed windows; top30 = recall of window onsets in each year's top 30"
        )
        print(
            f"\n## {name} ({what}; {int(table['n'].iloc[0])} rows, "
            f"{int(table['onsets'].iloc[0])} onsets)",
            flush=True,
        )
        with pd.option_context("display.width", 200):
            print(_shown(table).to_string(float_format=lambda v: f"{v:.3f}"), flush=True)
    summary = pd.DataFrame(
        {
            name: {
                "elastic_net": t.loc["elastic_net", "auc"],
                "hindsight-best": t.loc[t.attrs["best"], "auc"],
                "best fixed model": t.attrs["best"],
                "stacked": t.loc["stacked", "auc"],
                "selected": t.loc["selected", "auc"],
            }
            for name, t in tables.items()
        }
    ).T
    print("\n## AUC by bed")
    print(summary.to_string(float_format=lambda v: f"{v:.3f}"))
    print("\n## Last origin's choice")
    print(last_choices(results).to_string(index=False))
    print("\n## Default-model rule (docs/design/0007)")
    print(default_rule(tables))


if __name__ == "__main__":
    main()
