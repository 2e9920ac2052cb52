"""The run folder: one object writes it, reads it, and output folders change all or nothing."""

import os
import stat

import numpy as np
import pandas as pd
import pytest

from forecast import ForecastInputError
from forecast.run import RUN_FILES, RunArtifacts, check_output_dir, staged_output


def _artifacts():
    forecasts = pd.DataFrame(
        {
            "unit": ["a", "b"],
            "year": [2000, 2000],
            "model": "m",
            "probability": [0.1, 0.7],
            "outcome": [0.0, 1.0],
            "origin": 2000,
            "horizon": 2,
        }
    )
    return RunArtifacts(
        forecasts=forecasts,
        scores=pd.DataFrame({"origin": [2000], "model": ["m"], "status": ["ok"]}),
        onsets=pd.DataFrame({"unit": ["a", "b"], "year": [2001, 2002], "onset": [0.0, 1.0]}),
        costs=pd.DataFrame({"model": ["m"], "policy": ["honest"], "cost_ratio": [0.05]}),
        spec_text="name: toy\nhorizon: 2\ncosts: {capacity: 3}\n",
        provenance={"experiment": "toy", "horizon": 2},
    )


def test_write_then_read_round_trips_every_file(tmp_path):
    paths = _artifacts().write(tmp_path / "run")
    assert {p.name for p in paths.values()} == {RUN_FILES[k] for k in paths}
    back = RunArtifacts.read(tmp_path / "run")
    pd.testing.assert_frame_equal(back.forecasts, _artifacts().forecasts, check_dtype=False)
    pd.testing.assert_frame_equal(back.costs, _artifacts().costs)
    assert back.metrics is None and back.ewp_metrics is None
    assert back.spec["costs"] == {"capacity": 3}
    assert (back.name, back.horizon, back.data_end) == ("toy", 2, 2002)
    assert back.report_path == tmp_path / "run" / "report.html"


def test_read_errors_name_the_file(tmp_path):
    with pytest.raises(ForecastInputError, match="does not exist.*--run-dir"):
        RunArtifacts.read(tmp_path / "nope")
    tmp_path.joinpath("empty").mkdir()
    with pytest.raises(ForecastInputError, match=r"forecasts\.parquet not found"):
        RunArtifacts.read(tmp_path / "empty")
    _artifacts().write(tmp_path / "run")
    (tmp_path / "run" / "scores.csv").write_bytes(b"\x00\x01garbage")
    (tmp_path / "run" / "forecasts.parquet").write_bytes(b"not parquet")
    with pytest.raises(ForecastInputError, match=r"cannot read forecasts\.parquet") as info:
        RunArtifacts.read(tmp_path / "run")
    assert "\n" not in str(info.value)


def test_staged_output_swaps_in_only_complete_folders(tmp_path):
    out = tmp_path / "out"
    with staged_output(out, markers=("a.txt",)) as stage:
        (stage / "a.txt").write_text("first")
    assert (out / "a.txt").read_text() == "first"
    with (
        pytest.raises(
            ForecastInputError,
            match=r"boom \(nothing in .*out was changed; "
            r"partial results in .*staging",
        ),
        staged_output(out, markers=("a.txt",)) as stage,
    ):
        (stage / "a.txt").write_text("second")
        raise ForecastInputError("boom")
    assert (out / "a.txt").read_text() == "first"
    staging = [p for p in tmp_path.iterdir() if ".staging-" in p.name]
    assert len(staging) == 1 and (staging[0] / "ERROR.txt").is_file()
    with pytest.raises(ZeroDivisionError), staged_output(out, markers=("a.txt",)) as stage:
        (stage / "a.txt").write_text("third")
        1 / 0  # noqa: B018
    assert sorted(p.name for p in out.iterdir()) == ["a.txt"]
    assert (out / "a.txt").read_text() == "first"


def test_output_checks_before_any_work(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(ForecastInputError, match="--out .*file.* is a file, not a folder"):
        check_output_dir(tmp_path / "file")
    other = tmp_path / "mine"
    other.mkdir()
    (other / "thesis.tex").write_text("x")
    with pytest.raises(
        ForecastInputError, match="holds other files .*thesis.tex.*would be replaced"
    ):
        check_output_dir(other, markers=("forecasts.parquet",))
    assert (other / "thesis.tex").is_file()
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(stat.S_IRUSR | stat.S_IXUSR)
        with pytest.raises(ForecastInputError, match="not writable"):
            check_output_dir(locked / "out")


def test_files_respect_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        with staged_output(tmp_path / "out") as stage:
            _artifacts().write(stage)
    finally:
        os.umask(old)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in (tmp_path / "out").iterdir()}
    assert set(modes.values()) == {0o644}, modes
    assert np.isfinite(len(modes))
