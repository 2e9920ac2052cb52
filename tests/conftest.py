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
# Where a test needs what the machine may lack (the pinned EWP files, Chromium), it is skipped
# with one summary line saying how to get it; with FORECAST_TEST_STRICT=1 (CI sets it) it
# fails instead, so nothing is silently skipped there.
STRICT = "FORECAST_TEST_STRICT"
if not os.environ.get("FORECAST_DATA_DIR") and SHARED_DATA.is_dir():
    os.environ["FORECAST_DATA_DIR"] = str(SHARED_DATA)
os.environ.setdefault("MPLBACKEND", "Agg")
# Tests never read the user's FORECAST_* settings unless that is their subject (a test about
# the mirror sets it itself): only the data folder and the browser's location are machine
# facts that tests use.
for _name in [n for n in os.environ if n.startswith("FORECAST_")]:
    if _name not in {"FORECAST_DATA_DIR", "FORECAST_CHROMIUM", "FORECAST_CACHE_DIR", STRICT}:
        del os.environ[_name]

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
        f"(e.g. {missing[0]}); fix: run `make data` (or `forecast data fetch ewp-2025`; "
        f"FORECAST_DATA_MIRROR=<url or folder> fetches from a mirror), set FORECAST_DATA_DIR "
        f"to a folder holding them, or deselect with -m 'not realdata'"
    )


def _missing_browser() -> str | None:
    """Why the ``browser`` tests cannot run, or None when Chromium is there."""
    from forecast.reports._browser import chromium_path

    try:
        chromium_path()
    except FileNotFoundError as error:
        return f"{error} (or deselect with -m 'not browser')"
    return None


_MISSING = {"realdata": _missing_real_data, "browser": _missing_browser}
_WHY_KEY = pytest.StashKey[dict[str, str | None]]()
_SKIPPED_KEY = pytest.StashKey[dict[str, int]]()


def _strict() -> bool:
    return os.environ.get(STRICT, "") not in ("", "0")


def pytest_runtest_setup(item: pytest.Item) -> None:
    """A test needing what is missing is skipped (counted for the summary), or fails if strict."""
    if item.get_closest_marker("realdata") is None and "data_root" in getattr(
        item, "fixturenames", ()
    ):
        pytest.fail(
            "a test using the data_root fixture must be marked @pytest.mark.realdata",
            pytrace=False,
        )
    why = item.config.stash.setdefault(_WHY_KEY, {})
    for marker, probe in _MISSING.items():
        if item.get_closest_marker(marker) is None:
            continue
        if marker not in why:
            why[marker] = probe()
        if why[marker]:
            if _strict():
                pytest.fail(f"{STRICT}=1: {why[marker]}", pytrace=False)
            skipped = item.config.stash.setdefault(_SKIPPED_KEY, {})
            skipped[marker] = skipped.get(marker, 0) + 1
            pytest.skip(why[marker])


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # noqa: ARG001
    """One loud line per missing requirement: how many tests it skipped and how to get it."""
    reports = terminalreporter.stats.get("skipped", [])
    counts: dict[str, int] = {}
    reasons: dict[str, str] = {}
    for report in reports:
        for marker in _MISSING:
            if marker in getattr(report, "keywords", {}):
                counts[marker] = counts.get(marker, 0) + 1
                _, _, reason = (
                    report.longrepr if isinstance(report.longrepr, tuple) else ("", 0, "")
                )
                reasons.setdefault(marker, str(reason).removeprefix("Skipped: "))
    for marker, count in counts.items():
        terminalreporter.write_line(
            f"SKIPPED {count} '{marker}' test(s): {reasons[marker]}; "
            f"set {STRICT}=1 to make this a failure",
            yellow=True,
            bold=True,
        )


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
