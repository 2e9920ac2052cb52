"""What a run folder is, and the writer rule: no command replaces a run, or writes inside
one, except with its own output; a run's horizon is one answer; leftovers are cleaned up."""

import errno
import json
import os

import pandas as pd
import pytest

from forecast import ForecastInputError
from forecast.decision import cost_analysis
from forecast.experiment import CostSpec
from forecast.metrics import track_record
from forecast.run import (
    RUN_MARKERS,
    RunArtifacts,
    check_horizon,
    check_output_dir,
    check_writable_file,
    enclosing_run,
    is_run_folder,
    recover_leftovers,
    staged_output,
)


def _run(folder, *, horizon=2, provenance_horizon=2):
    forecasts = pd.DataFrame(
        {
            "unit": ["a", "b", "a", "b"],
            "year": [2000, 2000, 2001, 2001],
            "model": "m",
            "probability": [0.1, 0.7, 0.2, 0.6],
            "outcome": [0.0, 1.0, 0.0, 1.0],
            "origin": [2000, 2000, 2001, 2001],
            "horizon": horizon,
        }
    )
    RunArtifacts(
        forecasts=forecasts,
        spec_text="name: toy\nhorizon: 2\n",
        provenance={"experiment": "toy", "horizon": provenance_horizon},
    ).write(folder)
    return folder


# -- one horizon ------------------------------------------------------------------------------
def test_a_provenance_that_disagrees_with_its_forecasts_is_refused_in_one_line(tmp_path):
    _run(tmp_path / "run", provenance_horizon=5)
    with pytest.raises(
        ForecastInputError,
        match=r"forecasts\.parquet: column 'horizon': provenance\.json horizon 5 disagrees "
        r"with the forecasts' horizon \[2\].* at rows \[0, 1, 2, 3\]",
    ) as info:
        RunArtifacts.read(tmp_path / "run")
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("stated", ["two", 2.5, -1, True])
def test_a_recorded_horizon_must_be_a_whole_number(tmp_path, stated):
    folder = _run(tmp_path / "run")
    (folder / "provenance.json").write_text(json.dumps({"horizon": stated}))
    with pytest.raises(ForecastInputError, match="horizon must be a whole number >= 0"):
        RunArtifacts.read(folder)


def test_the_horizon_is_the_provenance_checked_against_every_row():
    table = pd.DataFrame({"horizon": [2, 2, 3]})
    assert check_horizon(table.iloc[:2], 2, caller="t") == 2
    assert check_horizon(table.iloc[:2], None, caller="t") == 2
    assert check_horizon(table.drop(columns="horizon"), None, caller="t") is None
    with pytest.raises(ForecastInputError, match=r"horizon 2 disagrees.*at rows \[2\]"):
        check_horizon(table, 2, caller="t")
    with pytest.raises(ForecastInputError, match=r"one horizon is needed.*\[2, 3\]"):
        check_horizon(table, None, caller="t")


def test_every_reader_of_a_horizon_refuses_a_stated_horizon_the_rows_contradict(tmp_path):
    forecasts = RunArtifacts.read(_run(tmp_path / "run")).forecasts
    with pytest.raises(ForecastInputError, match=r"horizon 1 disagrees.*horizon \[2\]"):
        track_record(forecasts, horizon=1, data_end=2005)
    with pytest.raises(ForecastInputError, match=r"horizon 1 disagrees.*horizon \[2\]"):
        cost_analysis(forecasts, CostSpec(), horizon=1, data_end=2005)


def test_the_outcome_is_the_provenance_checked_against_the_spec(tmp_path):
    folder = _run(tmp_path / "run")
    assert RunArtifacts.read(folder).outcome is None  # neither records one
    (folder / "experiment.yaml").write_text("name: toy\nhorizon: 2\noutcome: mk_onset\n")
    assert RunArtifacts.read(folder).outcome == "mk_onset"  # an older run: the spec's
    (folder / "provenance.json").write_text(json.dumps({"horizon": 2, "outcome": "mk_onset"}))
    assert RunArtifacts.read(folder).outcome == "mk_onset"
    (folder / "provenance.json").write_text(json.dumps({"horizon": 2, "outcome": "sl_onset"}))
    with pytest.raises(ForecastInputError, match=r"outcome 'sl_onset'.*says 'mk_onset'") as info:
        RunArtifacts.read(folder)
    assert "\n" not in str(info.value) and "provenance.json" in str(info.value)


def test_a_backtest_records_its_outcome_in_the_provenance(tmp_path):
    import forecast

    spec = {
        "name": "tiny",
        "dataset": "synthetic-world",
        "outcome": "mk_onset",
        "horizon": 2,
        "origins": {"first": 2022, "last": 2023},
        "models": ["logit"],
    }
    result = forecast.backtest(spec)
    assert result.artifacts.provenance["outcome"] == "mk_onset"
    assert result.artifacts.outcome == "mk_onset"


# -- corrupt files, in one line -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("experiment.yaml", "a: [1\n", r"cannot read experiment\.yaml \(ParserError"),
        ("experiment.yaml", "- 1\n- 2\n", r"experiment\.yaml.*a mapping of keys is needed"),
        ("provenance.json", "[1, 2]", r"provenance\.json must hold a JSON object, got a list"),
        ("provenance.json", '"text"', r"provenance\.json must hold a JSON object, got a str"),
    ],
)
def test_a_corrupt_spec_or_provenance_is_refused_in_one_line(tmp_path, name, content, match):
    folder = _run(tmp_path / "run")
    (folder / name).write_text(content)
    with pytest.raises(ForecastInputError, match=match) as info:
        RunArtifacts.read(folder)
    assert "\n" not in str(info.value) and str(folder / name) in str(info.value)


# -- the writer rule ----------------------------------------------------------------------------
def test_what_a_run_folder_is(tmp_path):
    run = _run(tmp_path / "run")
    (run / "sub").mkdir()
    assert is_run_folder(run) and not is_run_folder(tmp_path)
    assert enclosing_run(run / "sub" / "x.html") == run.absolute()
    assert enclosing_run(tmp_path / "elsewhere") is None
    costs_only = tmp_path / "costs"
    costs_only.mkdir()
    (costs_only / "costs.csv").write_text("x")  # in every run, but also a cost output
    assert not is_run_folder(costs_only)


def test_only_a_run_replaces_a_run_folder(tmp_path):
    run = _run(tmp_path / "run")
    before = sorted(p.name for p in run.iterdir())
    with pytest.raises(ForecastInputError, match=r"--out .*run' is a run folder"):
        check_output_dir(run, markers=("costs.csv",))
    with pytest.raises(ForecastInputError, match=r"lies inside run folder"):
        check_output_dir(run / "costs", markers=("costs.csv",))
    with pytest.raises(ForecastInputError, match=r"lies inside run folder"):
        check_output_dir(run / "sub", markers=RUN_MARKERS)
    with pytest.raises(ForecastInputError, match=r"holds run folder\(s\) run"):
        check_output_dir(tmp_path, markers=("costs.csv",))
    assert check_output_dir(run, markers=RUN_MARKERS) == run  # a backtest re-run
    assert sorted(p.name for p in run.iterdir()) == before


def test_a_file_inside_a_run_is_only_the_reading_commands_own_output(tmp_path):
    run, other = _run(tmp_path / "run"), _run(tmp_path / "other")
    own = {"own": ("report.html",), "reading": run}
    assert check_writable_file(run / "report.html", flag="--out", **own)
    for path in (run / "forecasts.parquet", run / "x" / "report.html", other / "report.html"):
        with pytest.raises(ForecastInputError, match=r"lies inside run folder"):
            check_writable_file(path, flag="--out", **own)
    with pytest.raises(ForecastInputError, match=r"would replace its forecasts\.parquet"):
        check_writable_file(run / "forecasts.parquet", flag="--out")
    assert check_writable_file(tmp_path / "compare.html", flag="--out")


# -- leftovers and a full disk ------------------------------------------------------------------
def _dead_pid() -> int:
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return pid


def test_the_next_write_restores_an_interrupted_swap_and_removes_leftovers(tmp_path):
    out, dead = tmp_path / "out", _dead_pid()
    old = tmp_path / f".out.old-{dead}"
    old.mkdir()
    (old / "a.txt").write_text("previous")
    stale = tmp_path / f".out.staging-{dead}"
    stale.mkdir()
    alive = tmp_path / f".out.staging-{os.getppid()}"  # a live writer's: not touched
    alive.mkdir()
    check_output_dir(out, markers=("a.txt",))
    assert (out / "a.txt").read_text() == "previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["out", alive.name])
    recover_leftovers(out)  # nothing left to do
    assert (out / "a.txt").read_text() == "previous"


def test_a_finished_swap_leaves_nothing_beside_the_folder(tmp_path):
    out = tmp_path / "out"
    for text in ("first", "second"):
        with staged_output(out, markers=("a.txt",)) as stage:
            (stage / "a.txt").write_text(text)
        assert (out / "a.txt").read_text() == text
        assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_a_full_disk_names_the_file_and_removes_the_staging_folder(tmp_path):
    out = tmp_path / "out"
    with staged_output(out, markers=("a.txt",)) as stage:
        (stage / "a.txt").write_text("first")
    with (
        pytest.raises(
            ForecastInputError,
            match=r"disk full while writing .*b\.parquet \(staging folder .*\.out\.staging-\d+, "
            r"now removed; nothing in .*out was changed\)",
        ) as info,
        staged_output(out, markers=("a.txt",)) as stage,
    ):
        (stage / "a.txt").write_text("second")
        raise OSError(errno.ENOSPC, "No space left on device", str(stage / "b.parquet"))
    assert "\n" not in str(info.value)
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
    assert (out / "a.txt").read_text() == "first"
