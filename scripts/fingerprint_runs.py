"""Fingerprint the shipped runs: a content hash of every table a backtest and a risk list write.

A redesign that keeps behaviour must leave these hashes unchanged where it does not mean to
change a result. Run it before and after a change, on the same machine, and diff the output:

    python scripts/fingerprint_runs.py --work /tmp/fp > before.txt
    ...  # the change
    python scripts/fingerprint_runs.py --work /tmp/fp > after.txt
    diff before.txt after.txt

Each shipped experiment is backtested (no tracking, no report) and its risk list written with
the published model; tables are hashed by content (rows sorted, timing columns dropped), so
file-format metadata and fit times do not count. The work folder keeps a shared fit cache, so
a second run is fast.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENTS = ("synthetic-default", "ewp-2025", "ewp-2025-plus", "synthetic-grid")
VOLATILE = {"fit_seconds", "cached", "created", "seconds"}
TABLES = ("forecasts.parquet", "scores.csv", "metrics.csv", "ewp_metrics.csv", "costs.csv")


def table_digest(path: Path) -> str:
    """sha256 of a table's content: columns sorted, volatile columns dropped, rows sorted."""
    frame = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    frame = frame[sorted(c for c in frame.columns if c not in VOLATILE)]
    frame = frame.sort_values(list(frame.columns), kind="stable").reset_index(drop=True)
    hashed = pd.util.hash_pandas_object(frame.astype(str), index=False).to_numpy()
    return hashlib.sha256(hashed.tobytes() + ",".join(frame.columns).encode()).hexdigest()[:16]


def _forecast(*args: str, env: dict[str, str]) -> None:
    done = subprocess.run(
        [str(Path(sys.executable).with_name("forecast")), *args],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if done.returncode != 0:
        raise SystemExit(f"forecast {' '.join(args)} failed:\n{done.stderr[-3000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True, help="work folder (fit cache, runs)")
    parser.add_argument("--only", nargs="*", default=list(EXPERIMENTS))
    parser.add_argument("--risklist-model", default="stacked_recal")
    args = parser.parse_args()
    env = {
        **os.environ,
        "FORECAST_CACHE_DIR": str(args.work / "cache"),
        "MPLBACKEND": "Agg",
        "MLFLOW_DISABLE_TELEMETRY": "true",
    }
    for name in args.only:
        run = args.work / name
        spec = f"experiments/{name}.yaml"
        _forecast("backtest", spec, "--out", str(run), "--no-track", "--no-report", env=env)
        for table in TABLES:
            if (run / table).exists():
                print(f"{name}/{table} {table_digest(run / table)}")
        lists = args.work / f"{name}-risklist"
        _forecast(
            "risklist",
            spec,
            "--model",
            args.risklist_model,
            "--out",
            str(lists),
            "--no-track",
            "--no-pdf",
            env=env,
        )
        for table in ("risklist.csv", "risk.parquet"):
            if (lists / table).exists():
                print(f"{name}/{table} {table_digest(lists / table)}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
