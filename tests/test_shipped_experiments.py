"""Shipped experiment specs are found by name wherever a spec path is taken."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from forecast import ForecastInputError, load_experiment
from forecast._shipped import experiment_dir, experiment_names, resolve_experiment

REPO = Path(__file__).resolve().parents[1]


def test_the_checkout_folder_is_the_package_data():
    assert (REPO / "experiments").resolve() == experiment_dir().resolve()
    assert experiment_names() == sorted(p.stem for p in (REPO / "experiments").glob("*.yaml"))


def test_a_name_loads_the_same_spec_as_its_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no experiments/ folder here
    by_name = load_experiment("synthetic-default")
    by_path = load_experiment(REPO / "experiments" / "synthetic-default.yaml")
    assert by_name.name == by_path.name == "synthetic-default"
    assert by_name.models == by_path.models


def test_a_local_file_wins_over_a_shipped_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "synthetic-default").write_text(
        (REPO / "experiments" / "synthetic-default.yaml")
        .read_text()
        .replace("name: synthetic-default", "name: mine")
    )
    assert resolve_experiment("synthetic-default") == Path("synthetic-default")
    assert load_experiment("synthetic-default").name == "mine"


@pytest.mark.parametrize("spec", ["nope", "experiments/nope.yaml", "synthetic-default.yml"])
def test_unknown_spec_lists_the_shipped_names(spec, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ForecastInputError, match=r"not found.*fix: .*synthetic-default"):
        load_experiment(spec)


def _forecast(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "forecast", *args], cwd=cwd, capture_output=True, text=True
    )


def test_cli_lists_and_shows_the_shipped_specs(tmp_path):
    listed = _forecast("experiments", "list", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert [line.split()[0] for line in listed.stdout.splitlines()] == experiment_names()
    shown = _forecast("experiments", "show", "ewp-2025", cwd=tmp_path)
    assert shown.stdout == (experiment_dir() / "ewp-2025.yaml").read_text()
    missing = _forecast("experiments", "show", "nope", cwd=tmp_path)
    assert missing.returncode == 2
    assert len(missing.stderr.strip().splitlines()) == 1


def test_version_flag(tmp_path):
    from forecast import __version__

    done = _forecast("--version", cwd=tmp_path)
    assert done.returncode == 0 and done.stdout.strip() == f"forecast {__version__}"
