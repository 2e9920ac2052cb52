"""Progress a person sees: plain lines with counts and time left when output is not a terminal."""

from __future__ import annotations

import logging
import subprocess
import sys

from forecast.backtest._progress import FitProgress, _span

SPEC = """\
name: progress-smoke
dataset: synthetic-world
outcome: mk_onset
horizon: 2
origins: {years: [2016, 2018, 2020]}
seed: 1
models: [logit]
"""


def test_lines_at_each_tenth_and_at_the_end(caplog):
    caplog.set_level(logging.INFO, logger="forecast.progress")
    with FitProgress("x: origins x models", 25) as progress:
        for _ in range(25):
            progress.advance()
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0] == "x: origins x models: 25 fits to run"
    counts = [int(line.split(": ")[2].split("/")[0]) for line in lines[1:]]
    assert counts == [2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 25]
    assert lines[-1].startswith("x: origins x models: 25/25 fits (100%), ")
    assert "left" in lines[1] and "left" not in lines[-1]


def test_nothing_when_disabled_or_logging_is_off(caplog):
    caplog.set_level(logging.WARNING, logger="forecast.progress")
    with FitProgress("x", 5) as progress:
        progress.advance()
    caplog.set_level(logging.INFO, logger="forecast.progress")
    with FitProgress("x", 5, enabled=False) as progress:
        progress.advance()
    with FitProgress("x", 0) as progress:
        pass
    assert caplog.records == []


def test_span():
    assert [_span(s) for s in (0.2, 8.4, 60, 75.2)] == ["0 s", "8 s", "1 min 0 s", "1 min 15 s"]


def _backtest(tmp_path, *flags):
    (tmp_path / "spec.yaml").write_text(SPEC)
    return subprocess.run(
        [sys.executable, "-m", "forecast", *flags, "backtest", "spec.yaml", "--out", "out",
         "--no-track", "--no-report", "--no-cache", "--n-jobs", "1"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_piped_backtest_prints_progress_lines_and_quiet_silences_them(tmp_path):
    loud = _backtest(tmp_path)
    assert loud.returncode == 0, loud.stderr
    progress = [line for line in loud.stderr.splitlines() if " fits" in line]
    assert progress[0] == "forecast: progress-smoke: origins x models: 3 fits to run"
    assert progress[-1].startswith("forecast: progress-smoke: origins x models: 3/3 fits (100%)")
    quiet = _backtest(tmp_path, "--quiet")
    assert quiet.returncode == 0, quiet.stderr
    assert " fits" not in quiet.stderr
