"""A small random panel for fast backtests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecast.panel import Panel


def make_panel(seed: int = 0, n_units: int = 30, first: int = 1980, last: int = 2010) -> Panel:
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(n_units):
        start = first + (5 if u % 7 == 0 else 0)
        level = rng.normal(size=3)
        for year in range(start, last + 1):
            x = level + rng.normal(scale=0.5, size=3)
            p = 1 / (1 + np.exp(-(-3.2 + 1.2 * x[0] - 0.8 * x[1])))
            rows.append(
                {
                    "unit": f"U{u:02d}",
                    "year": year,
                    "x1": x[0],
                    "x2": x[1],
                    "x3": x[2] if rng.random() > 0.1 else np.nan,
                    "mk_onset": float(rng.random() < p),
                }
            )
    frame = pd.DataFrame(rows)
    return Panel.from_frame(
        frame,
        features=["x1", "x2", "x3"],
        outcomes=["mk_onset"],
        kinds={"x1": "structural", "x2": "trigger", "x3": "mitigating"},
        name="toy",
    )


@pytest.fixture(scope="session")
def toy_panel() -> Panel:
    return make_panel()
