"""Benchmark: build time of the shipped feature sets and the ewp-2025 agreement table.

Run: ``FORECAST_DATA_DIR=../shared/data python benchmarks/bench_features.py``
"""

from __future__ import annotations

import time

from forecast.features import agreement_table, build_panel, load_feature_set
from forecast.features._agreement import REFERENCE_FILE
from forecast.features._sources import data_root


def main() -> None:
    for name in ("ewp-2025", "ewp-2025-honest", "synthetic-world"):
        fs = load_feature_set(name)
        timings = []
        for _ in range(2):  # cold (parses raw files), then warm (per-process cache)
            start = time.perf_counter()
            panel = build_panel(fs)
            timings.append(time.perf_counter() - start)
        print(
            f"{name:<16} rows={len(panel.frame):>5} features={len(panel.features):>2} "
            f"cold={timings[0]:.2f}s warm={timings[1]:.2f}s"
        )
    for name in ("ewp-2025", "ewp-2025-honest"):
        table = agreement_table(build_panel(name), data_root() / REFERENCE_FILE)
        print(f"\nagreement of {name} with {REFERENCE_FILE}:")
        print(table.to_string(index=False))


if __name__ == "__main__":
    main()
