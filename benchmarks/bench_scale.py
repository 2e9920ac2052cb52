"""Cost per row from 10k to 1M (to 10M) rows: feature build, backtest, summary/report, costs.

The world is the grid flavour of the synthetic world (features/synthetic-grid.yaml: cells of
a lattice with spatial lags), resized through its `world` options to N cells x 30 years, or
with `--flavour country` the synthetic-world feature set over N simulated countries. For
each size every stage runs as its own `forecast` process, as a user would run it:

* build: `forecast features build --set <copy of synthetic-grid.yaml>` (the panel only);
* backtest: `forecast backtest` of 5 origins x 2 models (elastic_net, xgboost), 2 workers, no
  cache, no tracking, no report; it builds the panel itself, so the build time is in it too
  and `backtest - build` is shown apart. On loky, and with --dask on a local Dask cluster
  (`forecast cluster up --workers 2`: a scheduler and two worker processes);
* report: `forecast report --run-dir RUN` (HTML);
* costs: `forecast costs --run-dir RUN`.

Wall seconds and peak memory (the largest sum of resident memory of the stage's process tree,
plus the cluster's processes on dask, sampled every 50 ms), and seconds per 100k rows.

    python benchmarks/bench_scale.py                     # 10k, 100k, 1M rows; loky
    python benchmarks/bench_scale.py --dask              # and on a local Dask cluster
    python benchmarks/bench_scale.py --rows 10000000 --stages build   # a 10M-row build
    python benchmarks/bench_scale.py --flavour country --rows 942520 --stages backtest
"""

from __future__ import annotations

import argparse
import math
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from importlib.resources import files
from pathlib import Path

import psutil
import yaml

N_YEARS = 30
COUNTRY_ROWS = 942_520 / 16_500  # rows per simulated country (entries and exits)
FORECAST = str(Path(sys.executable).with_name("forecast"))
STAGES = ("build", "backtest", "report", "costs")


class Peak:
    """Peak summed RSS of some process trees, sampled in a thread."""

    def __init__(self, roots: list[int]):
        self.roots, self.peak, self._stop = roots, 0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.05):
            total = 0
            for root in self.roots:
                try:
                    tree = psutil.Process(root)
                    procs = [tree, *tree.children(recursive=True)]
                except psutil.NoSuchProcess:
                    continue
                for proc in procs:
                    try:
                        total += proc.memory_info().rss
                    except psutil.NoSuchProcess:
                        pass
            self.peak = max(self.peak, total)

    def __enter__(self) -> Peak:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def run_stage(command: list[str], env: dict[str, str], cluster: int | None) -> tuple[float, int]:
    """Wall seconds and peak bytes of one `forecast` process (plus the cluster's)."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    roots = [proc.pid] + ([cluster] if cluster else [])
    with Peak(roots) as peak:
        out, err = proc.communicate()
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{err.decode()[-3000:]}")
    return seconds, peak.peak


@contextmanager
def local_cluster(env: dict[str, str]):
    """`forecast cluster up --workers 2`; yields (address, pid)."""
    proc = subprocess.Popen(
        [FORECAST, "cluster", "up", "--workers", "2", "--threads-per-worker", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        address = None
        deadline = time.monotonic() + 60
        while address is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            found = re.search(r"tcp://[\w.\-]+:\d+", line)
            address = found.group(0) if found else None
        if address is None:
            raise SystemExit("forecast cluster up printed no scheduler address")
        yield address, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def _grid_features(size: int) -> dict:
    features = yaml.safe_load(
        (files("forecast") / "_data/features/synthetic-grid.yaml").read_text()
    )
    features["datasets"]["world"]["options"].update(n_cells=size, n_years=N_YEARS)
    return features


def _country_features(size: int) -> dict:
    """The synthetic-world feature set over a resized world of ``size`` countries."""
    text = (files("forecast") / "_data/features/synthetic-world.yaml").read_text()
    text = re.sub(r"source: synthetic\.", "source: world.", text)
    features = yaml.safe_load(text)
    features["skeleton"] = "world"
    features["datasets"] = {
        "world": {"dataset": "synthetic-world", "options": {"n_countries": size}}
    }
    return features


def write_inputs(folder: Path, flavour: str, size: int) -> tuple[Path, Path]:
    """The feature set of the resized world, and a 5-origin, 2-model experiment over it."""
    features = _grid_features(size) if flavour == "grid" else _country_features(size)
    feature_path = folder / f"{flavour}-{size}.yaml"
    feature_path.write_text(yaml.safe_dump(features, sort_keys=False))
    spec = yaml.safe_load(
        (Path(__file__).parents[1] / "experiments/synthetic-grid.yaml").read_text()
    )
    spec.update(name=f"scale-{flavour}-{size}", feature_set=str(feature_path))
    if flavour == "country":
        spec.update(origins={"first": 2016, "last": 2020}, evaluation={"top_k": [10, 20, 30]})
    spec["models"] = [{"name": "elastic_net"}, {"name": "xgboost"}]
    spec_path = folder / f"scale-{flavour}-{size}.yaml"
    spec_path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return feature_path, spec_path


def _rows(feature_path: Path) -> int:
    """Rows of the panel a feature set builds (the country world's size is drawn)."""
    from forecast.features import build_panel, load_feature_set

    return len(build_panel(load_feature_set(feature_path)).frame)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--stages", nargs="+", choices=STAGES, default=list(STAGES))
    parser.add_argument("--dask", action="store_true", help="also backtest on a local cluster")
    parser.add_argument(
        "--flavour",
        choices=["grid", "country"],
        default="grid",
        help="grid cells x 30 years, or countries (~57 rows each; 942,520 rows = 16,500 "
        "countries, the issue's world)",
    )
    args = parser.parse_args()
    env = {**os.environ, "MPLBACKEND": "Agg"}
    print(f"{os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB")
    print(f"{'rows':>10} {'stage':<16} {'wall s':>8} {'peak GiB':>9} {'s/100k rows':>12}")
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        for rows in args.rows:
            per_unit = N_YEARS if args.flavour == "grid" else COUNTRY_ROWS
            size = math.ceil(rows / per_unit)
            folder = Path(tmp) / str(size)
            folder.mkdir()
            feature_path, spec_path = write_inputs(folder, args.flavour, size)
            n_rows = size * N_YEARS if args.flavour == "grid" else _rows(feature_path)
            results: dict[str, tuple[float, int]] = {}

            def show(stage: str, seconds: float, peak: int, n_rows: int = n_rows) -> None:
                print(
                    f"{n_rows:>10,} {stage:<16} {seconds:8.1f} {peak / 2**30:9.2f} "
                    f"{seconds / n_rows * 1e5:12.2f}",
                    flush=True,
                )

            if "build" in args.stages:
                results["build"] = run_stage(
                    [
                        FORECAST,
                        "features",
                        "build",
                        "--set",
                        str(feature_path),
                        "--out",
                        str(folder / "panel.parquet"),
                    ],
                    env,
                    None,
                )
                show("build", *results["build"])
            run = folder / "run"
            backtest = [
                FORECAST,
                "backtest",
                str(spec_path),
                "--n-jobs",
                "2",
                "--no-cache",
                "--no-track",
                "--no-report",
            ]
            if "backtest" in args.stages or {"report", "costs"} & set(args.stages):
                results["backtest"] = run_stage([*backtest, "--out", str(run)], env, None)
                show("backtest loky", *results["backtest"])
                if "build" in results:
                    show("  minus build", results["backtest"][0] - results["build"][0], 0)
            if args.dask and "backtest" in args.stages:
                with local_cluster(env) as (address, pid):
                    seconds, peak = run_stage(
                        [
                            *backtest,
                            "--backend",
                            "dask",
                            "--scheduler",
                            address,
                            "--out",
                            str(folder / "run-dask"),
                        ],
                        env,
                        pid,
                    )
                show("backtest dask", seconds, peak)
            if "report" in args.stages:
                show(
                    "report",
                    *run_stage(
                        [
                            FORECAST,
                            "report",
                            "--run-dir",
                            str(run),
                            "--out",
                            str(folder / "r.html"),
                        ],
                        env,
                        None,
                    ),
                )
            if "costs" in args.stages:
                show(
                    "costs",
                    *run_stage(
                        [FORECAST, "costs", "--run-dir", str(run), "--out", str(folder / "costs")],
                        env,
                        None,
                    ),
                )


if __name__ == "__main__":
    main()
