"""Tests that need what a machine may lack are skipped with one summary line, or fail if strict.

Runs pytest in a subprocess on one ``realdata`` test with an empty data folder, as a fresh
clone without ``../shared`` would, then again with ``FORECAST_TEST_STRICT=1`` as CI does.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _pytest(tmp_path: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FORECAST_", "PYTEST_"))}
    env.update(FORECAST_DATA_DIR=str(tmp_path / "empty"), **extra)
    (tmp_path / "empty").mkdir(exist_ok=True)
    test = "tests/test_statesystem.py"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "realdata", test],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_missing_real_data_is_skipped_with_one_summary_line(tmp_path):
    done = _pytest(tmp_path)
    assert done.returncode == 0, done.stdout[-2000:]
    summary = [line for line in done.stdout.splitlines() if " test(s): " in line]
    assert len(summary) == 1, done.stdout[-2000:]
    assert "'realdata'" in summary[0] and "make data" in summary[0]
    assert "FORECAST_DATA_MIRROR" in summary[0]
    assert "FORECAST_TEST_STRICT=1" in summary[0]


def test_strict_mode_makes_missing_real_data_a_failure(tmp_path):
    done = _pytest(tmp_path, FORECAST_TEST_STRICT="1")
    assert done.returncode == 1, done.stdout[-2000:]
    assert "FORECAST_TEST_STRICT=1: " in done.stdout and "make data" in done.stdout


def test_user_mirror_setting_does_not_reach_the_tests():
    assert "FORECAST_DATA_MIRROR" not in os.environ
