"""The built wheel works on its own: feature sets and manifests ship as package data.

The wheel is built offline (no build isolation) from a copy of the sources, installed with
``pip install --target`` and run from a folder outside the checkout, so that neither the
editable install nor files beside the checkout can stand in for what the wheel lacks.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from forecast.features import feature_set_dir

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
SOURCES = ("pyproject.toml", "README.md", "MANIFEST.in", "LICENSE", "forecast")

SPEC = """\
name: wheel-smoke
feature_set: synthetic-world
outcome: mk_onset
horizon: 2
origins: {years: [2016, 2018, 2020]}
seed: 1
models:
  - name: logit
"""


def _run(
    args: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 120
) -> str:
    done = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _outside(site: Path, tmp_path: Path) -> dict[str, str]:
    """The environment of a user with the wheel installed at ``site`` and nothing else: no
    checkout on the path, no data, a fresh cache."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("FORECAST_", "MLFLOW_", "PYTHON"))
    }
    return {
        **env,
        "PYTHONPATH": str(site),
        "MPLBACKEND": "Agg",
        "FORECAST_DATA_DIR": str(tmp_path / "no-data"),
        "FORECAST_CACHE_DIR": str(tmp_path / "cache"),
    }


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(wheel, site folder it is installed into): built once per test run, whichever xdist
    worker asks first (the others wait on a lock in the run's shared temporary folder)."""
    base = tmp_path_factory.getbasetemp()
    # under xdist each worker's folder sits in the run's folder, which all workers share
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    tmp = shared / "wheel"
    with open(shared / "wheel.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (tmp / "site").is_dir():
            _build_and_install(tmp)
    (wheel,) = (tmp / "dist").glob("*.whl")
    return wheel, tmp / "site"


def _build_and_install(tmp: Path) -> None:
    src = tmp / "src"
    src.mkdir(parents=True)
    for name in SOURCES:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(path, src / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    _run(
        [
            *pip,
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(tmp / "dist"),
            str(src),
        ],
        cwd=tmp,
    )
    (wheel,) = (tmp / "dist").glob("*.whl")
    site = tmp / "site-partial"
    _run([*pip, "install", "-q", "--no-deps", "--target", str(site), str(wheel)], cwd=tmp)
    site.rename(tmp / "site")  # complete, or absent


def test_wheel_ships_feature_sets_and_manifests(installed):
    wheel, _ = installed
    names = zipfile.ZipFile(wheel).namelist()
    data = {n for n in names if n.startswith("forecast/_data/")}
    shipped = {f"forecast/_data/features/{p.name}" for p in feature_set_dir().glob("*.yaml")}
    assert len(shipped) >= 5 and shipped <= data
    assert "forecast/_data/manifests/ewp-2025.yaml" in data
    assert "forecast/_data/state_system.csv" in data
    assert "forecast/_data/experiments/synthetic-default.yaml" in data
    # the JSON Schemas the shipped specs' first line points editors at
    assert "forecast/_data/experiments/experiment.schema.json" in data
    assert "forecast/_data/features/feature-set.schema.json" in data
    assert "forecast/py.typed" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names), names
    # Only the forecast package: no top-level `features` or `datasets` package.
    assert {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")} == {
        "forecast"
    }


def test_installed_wheel_lists_feature_sets_and_backtests_outside_the_checkout(installed, tmp_path):
    _, site = installed
    env = _outside(site, tmp_path)
    python = [sys.executable, "-m"]

    probe = (
        "import forecast, forecast.data as d; "
        "print(forecast.__file__); print(len(d.load_manifest('ewp-2025').files))"
    )
    where = _run([sys.executable, "-c", probe], cwd=tmp_path, env=env).split()
    assert Path(where[0]).is_relative_to(site), where  # not the checkout's editable install
    assert where[1] == "19"

    listing = _run([*python, "forecast.cli", "features", "list"], cwd=tmp_path, env=env)
    for name in ("synthetic-world", "ewp-2025", "ewp-2025-honest", "ewp-2025-plus", "byo-example"):
        assert name in listing

    (tmp_path / "spec.yaml").write_text(SPEC)
    _run(
        [
            *python,
            "forecast.cli",
            "backtest",
            "spec.yaml",
            "--out",
            "out",
            "--no-track",
            "--no-report",
            "--no-cache",
            "--n-jobs",
            "1",
        ],
        cwd=tmp_path,
        env=env,
    )
    assert (tmp_path / "out" / "forecasts.parquet").stat().st_size > 0
    assert not (tmp_path / "mlflow.db").exists()


def test_installed_wheel_runs_a_shipped_experiment_by_name(installed, tmp_path):
    """A pip user without the checkout: --version, the shipped specs, a backtest by name."""
    _, site = installed
    env = _outside(site, tmp_path)
    forecast = [sys.executable, "-m", "forecast"]
    assert _run([*forecast, "--version"], cwd=tmp_path, env=env).startswith("forecast 0.")
    listing = _run([*forecast, "experiments", "list"], cwd=tmp_path, env=env)
    assert {line.split()[0] for line in listing.splitlines()} >= {
        "synthetic-default",
        "ewp-2025",
        "ewp-2025-plus",
    }
    shown = _run([*forecast, "experiments", "show", "synthetic-default"], cwd=tmp_path, env=env)
    assert "name: synthetic-default" in shown
    _run(
        [*forecast, "backtest", "synthetic-default", "--out", "x", "--no-track", "--no-report"],
        cwd=tmp_path,
        env=env,
        timeout=900,  # every model of the shipped spec, 30 origins, nothing cached
    )
    assert (tmp_path / "x" / "forecasts.parquet").stat().st_size > 0
