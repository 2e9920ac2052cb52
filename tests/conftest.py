"""Shared fixtures: the real-data location, a seeded RNG, a per-test MLflow store."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
os.environ.setdefault("FORECAST_DATA_DIR", str(SHARED_DATA))
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


@pytest.fixture
def data_root() -> Path:
    root = Path(os.environ["FORECAST_DATA_DIR"])
    if not (root / "ewp-2025").is_dir():
        raise RuntimeError(f"real data not found under {root}; set FORECAST_DATA_DIR")
    return root


@pytest.fixture
def tracking_uri(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'mlflow.db'}"

# Property tests explore the same examples on every machine, so CI is reproducible.
from hypothesis import settings as _hypothesis_settings

_hypothesis_settings.register_profile("forecast", derandomize=True, print_blob=True)
_hypothesis_settings.load_profile("forecast")
