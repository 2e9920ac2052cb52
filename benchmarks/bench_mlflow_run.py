"""Wall time of the default job, `mlflow run . --env-manager local`, cold and warm.

Cold: a fresh task cache and a fresh SQLite store (every fit runs, the store is created).
Warm: the same again with the cache filled (fits from cache; the rest of the job is what is
timed). Outputs, cache and store go to a temporary folder, never into the checkout.

    python benchmarks/bench_mlflow_run.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(tmp: Path, label: str) -> float:
    env = {
        **os.environ,
        "FORECAST_CACHE_DIR": str(tmp / "cache"),
        "MLFLOW_TRACKING_URI": f"sqlite:///{tmp / 'mlflow.db'}",
        "MPLBACKEND": "Agg",
    }
    mlflow = Path(sys.executable).with_name("mlflow")
    start = time.perf_counter()
    done = subprocess.run(
        [
            str(mlflow),
            "run",
            str(ROOT),
            "--env-manager",
            "local",
            "--experiment-name",
            "synthetic-default",
            "-P",
            f"out={tmp / 'out'}",
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{label} run failed:\n{done.stderr[-2000:]}")
    print(f"{label:<5} {seconds:6.1f} s")
    return seconds


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-mlflow-run-") as tmp:
        print(f"mlflow run . (synthetic-default, 2 workers) on {os.cpu_count()} cores")
        _run(Path(tmp), "cold")
        _run(Path(tmp), "warm")


if __name__ == "__main__":
    main()
