"""Shared fixtures: the real-data location, a seeded RNG, a per-test MLflow store."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

# Real data: $FORECAST_DATA_DIR, else ../shared/data beside the checkout (this workplace),
# else forecast's own cache, where `make data` fetches the pinned files. The resolved folder
# is exported so that every test module reads the same one.
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
if not os.environ.get("FORECAST_DATA_DIR") and SHARED_DATA.is_dir():
    os.environ["FORECAST_DATA_DIR"] = str(SHARED_DATA)
os.environ.setdefault("MPLBACKEND", "Agg")

from forecast.data import data_dir

os.environ["FORECAST_DATA_DIR"] = str(data_dir())


def _missing_real_data() -> str | None:
    """Why the ``realdata`` tests cannot run, or None when the pinned files are all there."""
    from forecast.data import load_manifest

    manifest = load_manifest("ewp-2025")
    missing = [e.path for e in manifest.files if not manifest.local_path(e.path).is_file()]
    if not missing:
        return None
    return (
        f"{len(missing)} pinned EWP file(s) missing under {data_dir() / manifest.name} "
        f"(e.g. {missing[0]}); fix: run `make data` (or `forecast data fetch ewp-2025`), "
        f"set FORECAST_DATA_DIR, or deselect with -m 'not realdata'"
    )


_REAL_DATA_KEY = pytest.StashKey[str | None]()


def pytest_runtest_setup(item: pytest.Item) -> None:
    """A ``realdata`` test without the data fails with one line saying how to get it."""
    if item.get_closest_marker("realdata") is None:
        if "data_root" in getattr(item, "fixturenames", ()):
            pytest.fail(
                "a test using the data_root fixture must be marked @pytest.mark.realdata",
                pytrace=False,
            )
        return
    if _REAL_DATA_KEY not in item.config.stash:
        item.config.stash[_REAL_DATA_KEY] = _missing_real_data()
    reason = item.config.stash[_REAL_DATA_KEY]
    if reason:
        pytest.fail(reason, pytrace=False)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


@pytest.fixture
def data_root() -> Path:
    """The folder holding ``ewp-2025/`` (tests using it are marked ``realdata``)."""
    return data_dir()


@pytest.fixture
def tracking_uri(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'mlflow.db'}"


# Property tests explore the same examples on every machine, so CI is reproducible.
from hypothesis import settings as _hypothesis_settings

_hypothesis_settings.register_profile("forecast", derandomize=True, print_blob=True)
_hypothesis_settings.load_profile("forecast")
