"""Benchmark of the ``synthetic-world`` generator: speed, base rate, oracle and model AUCs.

Run from the repository root::

    .venv/bin/python benchmarks/bench_synthetic.py            # default seed, ~10 s
    .venv/bin/python benchmarks/bench_synthetic.py --seeds 20  # adds a spread over seeds 1..20
    .venv/bin/python benchmarks/bench_synthetic.py --regime nonlinear --ceiling

Outcome: onset within 2 years, ``y_t = max(mk_onset_{t+1}, mk_onset_{t+2})``, unknown (dropped)
when the window passes the unit's last year. Models see only the features of year ``t``:

* ``oracle``: ``1 - (1 - p_{t+1})(1 - p_{t+2})`` from the true hazards (an upper bound);
* ``logit main effects``: logistic regression on the features and year (median imputation
  with missing-indicators, standardised);
* ``logit well-specified``: the same plus the functional forms the true hazard uses
  (anocracy ``4A(1-A)``, major-war threshold, war x repression, discrimination x
  fractionalisation, recency, young state), i.e. all that is missing is the latent part;
* ``gradient boosting``: scikit-learn ``HistGradientBoostingClassifier`` (depth 3).

"in-sample" fits and scores all known rows; "out-of-sample" fits rows with t <= 1994 and
scores rows with t >= 1995. ``--ceiling`` adds the attainable ceiling: the well-specified
logit refitted at every origin 1995-2024 on the rows whose window closed by then, scored
pooled over origins like a backtest (:func:`forecast.data.synthetic.attainable_ceiling`).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from forecast.data.synthetic import (
    DEFAULT_SEED,
    REGIMES,
    SYNTHETIC_FEATURES,
    attainable_ceiling,
    generate_synthetic_world,
    oracle_window_probability,
    well_specified_features,
)

SPLIT_YEAR = 1994


def window_outcome(world: pd.DataFrame, horizon: int = 2) -> pd.Series:
    """1 if an onset happens in t+1..t+h, NaN when the window passes the unit's last year."""
    by_unit = world.groupby("unit")["mk_onset"]
    leads = pd.concat([by_unit.shift(-j) for j in range(1, horizon + 1)], axis=1)
    return leads.max(axis=1).where(leads.notna().all(axis=1))


def _logit() -> object:
    return make_pipeline(
        SimpleImputer(strategy="median", add_indicator=True),
        StandardScaler(),
        LogisticRegression(max_iter=5000),
    )


def evaluate(world: pd.DataFrame) -> dict[str, float]:
    """Base rates and AUCs (see the module docstring) of one generated world."""
    y = window_outcome(world)
    known = y.notna()
    rows = world[known]
    target = y[known].to_numpy()
    x = rows[[*SYNTHETIC_FEATURES, "year"]]
    train = (rows["year"] <= SPLIT_YEAR).to_numpy()
    test = (rows["year"] > SPLIT_YEAR).to_numpy()
    oracle = oracle_window_probability(world, 2)[known].to_numpy()
    stats = {
        "rows": float(len(world)),
        "units": float(world["unit"].nunique()),
        "onsets": float(world["mk_onset"].sum()),
        "onset_rate": world["mk_onset"].mean(),
        "mean_true_probability": world["true_probability"].mean(),
        "rate_1970_1999": world.loc[world["year"].between(1970, 1999), "mk_onset"].mean(),
        "rate_2005_2024": world.loc[world["year"].between(2005, 2024), "mk_onset"].mean(),
        "ongoing_share": world["mk_ongoing"].mean(),
        "window2_rate": target.mean(),
        "auc_oracle_in": roc_auc_score(target, oracle),
        "auc_oracle_out": roc_auc_score(target[test], oracle[test]),
    }
    for name, features in (("logit_main", x), ("logit_spec", well_specified_features(x))):
        model = _logit().fit(features, target)
        stats[f"auc_{name}_in"] = roc_auc_score(target, model.predict_proba(features)[:, 1])
        model = _logit().fit(features[train], target[train])
        stats[f"auc_{name}_out"] = roc_auc_score(
            target[test], model.predict_proba(features[test])[:, 1]
        )
    boost = HistGradientBoostingClassifier(
        max_iter=150, learning_rate=0.05, max_depth=3, min_samples_leaf=50, random_state=0
    )
    boost.fit(x[train], target[train])
    stats["auc_boosting_out"] = roc_auc_score(target[test], boost.predict_proba(x[test])[:, 1])
    return stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--seeds", type=int, default=0, help="also summarise seeds 1..N")
    parser.add_argument("--repeats", type=int, default=5, help="timing repeats")
    parser.add_argument("--regime", choices=REGIMES, default="drifting")
    parser.add_argument(
        "--ceiling",
        action="store_true",
        help="also the attainable ceiling (rolling origins 1995-2024, ~15 s)",
    )
    args = parser.parse_args()

    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        world = generate_synthetic_world(args.seed, regime=args.regime)
        times.append(time.perf_counter() - start)
    print(
        f"generate_synthetic_world(seed={args.seed}, regime={args.regime!r}): best "
        f"{min(times):.3f} s, median {np.median(times):.3f} s over {args.repeats} runs"
    )
    stats = evaluate(world)
    if args.ceiling:
        ceiling = attainable_ceiling(world, 2, range(1995, 2025))
        stats.update(
            {
                "auc_attainable_rolling": ceiling.auc,
                "auc_oracle_rolling": ceiling.oracle_auc,
                "oe_attainable_rolling": ceiling.observed_expected,
            }
        )
    for key, value in stats.items():
        print(f"  {key:24s} {value:.4f}" if value < 10 else f"  {key:24s} {value:.0f}")
    decade = world.groupby(world["year"] // 10 * 10)["mk_onset"].agg(["size", "sum", "mean"])
    print("onset rate by decade:")
    print(decade.rename(columns={"size": "rows", "sum": "onsets", "mean": "rate"}).round(4))
    missing = world[list(SYNTHETIC_FEATURES)].isna().mean()
    print("share missing:", missing[missing > 0].round(4).to_dict())

    if args.seeds:
        table = pd.DataFrame(
            [
                evaluate(generate_synthetic_world(s, regime=args.regime))
                for s in range(1, args.seeds + 1)
            ]
        )
        print(f"over seeds 1..{args.seeds} (mean, sd, min, max):")
        print(table.agg(["mean", "std", "min", "max"]).T.round(4).to_string())


if __name__ == "__main__":
    main()
