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


def test_a_negative_seed_and_zero_workers_fail_in_one_line(spec, run_dir, tmp_path, capsys):
    _fails_in_one_line(
        capsys,
        ["report", "--run-dir", str(run_dir), "--seed", "-1", "--out", str(tmp_path / "r.html")],
        "--seed must be an integer >= 0, got -1",
    )
    for argv in (
        ["backtest", str(spec), "--out", str(tmp_path / "o"), "--no-track", "--no-cache"],
        ["risklist", str(spec), "--out", str(tmp_path / "r"), "--no-track", "--no-cache"],
    ):
        _fails_in_one_line(capsys, [*argv, "--n-jobs", "0"], "--n-jobs must be an integer >= 1")
    assert not (tmp_path / "o").exists()


def test_more_workers_than_cpus_are_capped_with_a_note(spec, tmp_path, caplog, monkeypatch):
    import logging

    import joblib

    import forecast.commands.backtest as command

    seen = {}

    def run(args):
        seen["n_jobs"] = args.n_jobs
        return 0

    monkeypatch.setattr(command, "_run", run)  # bound as the handler when main builds the parser
    with caplog.at_level(logging.WARNING, logger="forecast.commands"):
        assert (
            main(["backtest", str(spec), "--out", str(tmp_path / "o"), "--n-jobs", "100000"]) == 0
        )
    assert seen["n_jobs"] == joblib.cpu_count()
    assert [r.getMessage() for r in caplog.records] == [
        f"--n-jobs 100000 capped at {joblib.cpu_count()}, the CPUs available"
    ]


def test_ctrl_c_prints_one_line_and_exits_130(spec, tmp_path, capsys, monkeypatch):
    import forecast.commands.backtest as command

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(command, "_run", interrupted)
    assert main(["backtest", str(spec), "--out", str(tmp_path / "o"), "--no-track"]) == 130
    assert capsys.readouterr().err == "forecast: interrupted\n"


def test_a_nan_learning_rate_fails_before_any_fit(tmp_path, capsys):
    path = tmp_path / "nan.yaml"
    path.write_text(
        "name: nan\norigins: [2016, 2020]\nmodels:\n  - name: xgboost\n"
        "    params: {n_estimators: 5, learning_rate: .nan}\n"
    )
    _fails_in_one_line(
        capsys,
        ["backtest", str(path), "--out", str(tmp_path / "o"), "--no-track", "--no-cache"],
        f"{path}:5: models[0].params.learning_rate: must be a finite number, got nan",
    )
