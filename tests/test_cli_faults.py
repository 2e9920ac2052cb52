"""Bad paths and options fail before any work, in one line, and change nothing."""

import time

import pytest
import yaml

from forecast.cli import main

UNWRITABLE = "/proc/forecast-cannot-write-here"


@pytest.fixture(scope="module")
def spec(tmp_path_factory):
    path = tmp_path_factory.mktemp("spec") / "tiny.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "name": "tiny",
                "dataset": "synthetic-world",
                "horizon": 2,
                "origins": {"years": [2016, 2020]},
                "models": [{"name": "logit"}],
            }
        )
    )
    return path


@pytest.fixture(scope="module")
def run_dir(spec, tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "out"
    assert main(["backtest", str(spec), "--out", str(out), "--no-track", "--no-cache"]) == 0
    return out


def _fails_in_one_line(capsys, argv, match, *, seconds=5.0):
    start = time.monotonic()
    code = main(argv)
    took = time.monotonic() - start
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert err.startswith("forecast: error: ") and "\n" not in err, err
    assert match in err, err
    assert took < seconds, f"{took:.1f} s: the check ran after the work"
    return err


def test_backtest_out_paths(spec, tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    _fails_in_one_line(
        capsys,
        ["backtest", str(spec), "--out", str(tmp_path / "file"), "--no-track"],
        "is a file, not a folder",
    )
    _fails_in_one_line(
        capsys, ["backtest", str(spec), "--out", UNWRITABLE, "--no-track"], "not writable"
    )


def test_report_costs_risklist_features_out_paths(spec, run_dir, tmp_path, capsys):
    _fails_in_one_line(
        capsys,
        ["report", "--run-dir", str(run_dir), "--out", str(tmp_path)],
        "is a folder, not a file",
    )
    _fails_in_one_line(
        capsys, ["costs", "--run-dir", str(run_dir), "--out", UNWRITABLE], "not writable"
    )
    _fails_in_one_line(
        capsys, ["risklist", str(spec), "--out", UNWRITABLE, "--no-track"], "not writable"
    )
    _fails_in_one_line(
        capsys,
        ["features", "build", "--set", "synthetic-world", "--out", f"{UNWRITABLE}/panel.parquet"],
        "not writable",
    )


def test_costs_refuses_another_horizon_and_names_a_corrupt_file(run_dir, tmp_path, capsys):
    _fails_in_one_line(
        capsys,
        ["costs", "--run-dir", str(run_dir), "--horizon", "0"],
        "--horizon 0 differs from the run's horizon 2",
    )
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "forecasts.parquet").write_bytes(b"PAR1 not really")
    _fails_in_one_line(capsys, ["costs", "--run-dir", str(broken)], "cannot read forecasts.parquet")
    _fails_in_one_line(
        capsys, ["report", "--run-dir", str(broken)], "cannot read forecasts.parquet"
    )


def test_deprecated_spellings_still_work_with_one_warning(spec, run_dir, tmp_path, capsys):
    assert main(["costs", "--out", str(run_dir), "--save", str(tmp_path / "c")]) == 0
    err = capsys.readouterr().err
    assert "--save DIR is deprecated" in err and "--out DIR as the run to read" in err
    assert (tmp_path / "c" / "costs.csv").is_file()
    assert (
        main(
            ["report", "--out", str(run_dir), "--html", str(tmp_path / "r.html"), "--n-boot", "10"]
        )
        == 0
    )
    assert "--html PATH is deprecated" in capsys.readouterr().err
    assert (tmp_path / "r.html").is_file()
