"""Fuzz the run folder: every corruption of a run's files, and every output path inside a run,
ends in exit 0 or one line on stderr (exit 2), never a traceback, and never changes a run."""

import hashlib
import json
import shutil

import numpy as np
import pandas as pd
import pytest

from forecast.cli import main
from forecast.run import RUN_FILES, RunArtifacts

_SEED = 20
_rng = np.random.default_rng(_SEED)


def _write_run(folder, seed=0):
    rng = np.random.default_rng(seed)
    units = [f"u{i:02d}" for i in range(30)]
    rows = []
    for year in range(1995, 2011):
        for unit in units:
            p = rng.uniform(0.01, 0.5)
            rows.append((unit, year, "m", p, float(rng.uniform() < p), year, 2))
    columns = ["unit", "year", "model", "probability", "outcome", "origin", "horizon"]
    forecasts = pd.DataFrame(rows, columns=columns)
    forecasts = pd.concat(
        [forecasts, forecasts.assign(model="n", probability=forecasts["probability"] ** 2)],
        ignore_index=True,
    )
    onsets = pd.DataFrame(
        [(u, y, float(rng.uniform() < 0.05)) for u in units for y in range(1995, 2013)],
        columns=["unit", "year", "onset"],
    )
    RunArtifacts(
        forecasts=forecasts,
        onsets=onsets,
        scores=pd.DataFrame({"origin": [1995], "model": ["m"], "status": ["ok"]}),
        spec_text="name: fz\nhorizon: 2\ncosts: {capacity: 5}\n",
        provenance={"experiment": "fz", "horizon": 2},
    ).write(folder)
    return folder


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    return _write_run(tmp_path_factory.mktemp("fuzz") / "run")


def _digest(folder):
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


# -- corruptions ----------------------------------------------------------------------------
def _truncate(path, rng):
    data = path.read_bytes()
    path.write_bytes(data[: int(rng.integers(0, max(len(data), 1)))])


def _garbage(path, rng):
    path.write_bytes(rng.integers(0, 256, int(rng.integers(1, 400)), dtype=np.uint8).tobytes())


def _json(value):
    return lambda path, rng: path.write_text(json.dumps(value))


def _text(value):
    return lambda path, rng: path.write_text(value)


def _horizon(path, rng):
    provenance = json.loads(path.read_text())
    provenance["horizon"] = int(rng.choice([0, 1, 3, 5, 9]))
    path.write_text(json.dumps(provenance))


def _table(change):
    def apply(path, rng):
        table = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
        table = change(table, rng)
        if path.suffix == ".parquet":
            table.to_parquet(path, index=False)
        else:
            table.to_csv(path, index=False)

    return apply


def _drop_column(table, rng):
    return table.drop(columns=str(rng.choice(list(table.columns))))


def _shuffle_values(table, rng):
    column = str(rng.choice(list(table.columns)))
    return table.assign(**{column: rng.permutation(table[column].astype(str).to_numpy())})


def _mixed_horizons(table, rng):
    return table.assign(horizon=np.where(rng.uniform(size=len(table)) < 0.1, 3, table["horizon"]))


_ANY = {
    "missing": lambda path, rng: path.unlink(),
    "empty": _text(""),
    "truncated": _truncate,
    "garbage": _garbage,
}
_BY_FILE = {
    "provenance.json": {
        "list": _json([1, 2]),
        "string": _json("run"),
        "null": _json(None),
        "horizon disagrees": _horizon,
        "horizon not a number": _json({"horizon": "two"}),
        "unit noun wrong": _json({"horizon": 2, "unit_noun": 7}),
    },
    "experiment.yaml": {
        "not yaml": _text("name: [fz\n"),
        "a list": _text("- 1\n- 2\n"),
        "a scalar": _text("fz\n"),
        "costs a list": _text("name: fz\ncosts: [1, 2]\n"),
        "capacity text": _text("name: fz\ncosts: {capacity: many}\n"),
        "cost ratios text": _text("name: fz\ncosts: {cost_ratios: [0.1, high]}\n"),
        "cost ratio scalar": _text("name: fz\ncosts: {cost_ratios: 0.1}\n"),
    },
    "forecasts.parquet": {
        "column dropped": _table(_drop_column),
        "values shuffled": _table(_shuffle_values),
        "mixed horizons": _table(_mixed_horizons),
    },
    "onsets.parquet": {"column dropped": _table(_drop_column)},
    "scores.csv": {"column dropped": _table(_drop_column)},
}
_CASES = [
    (name, kind)
    for name in sorted({"forecasts.parquet", "onsets.parquet", "scores.csv", *_BY_FILE})
    for kind in [*_ANY, *_BY_FILE.get(name, {})]
]


def _one_line_or_success(capsys, argv):
    code = main(argv)
    err = capsys.readouterr().err.strip()
    assert code in (0, 2), err
    if code == 2:
        assert err.startswith("forecast: error: ") and "\n" not in err, err
    return code, err


@pytest.mark.parametrize(("name", "kind"), _CASES, ids=[f"{n}-{k}" for n, k in _CASES])
def test_a_corrupt_run_folder_is_read_or_refused_in_one_line(
    pristine, tmp_path, capsys, name, kind
):
    run = tmp_path / "run"
    shutil.copytree(pristine, run)
    change = {**_ANY, **_BY_FILE.get(name, {})}[kind]
    change(run / name, np.random.default_rng([_SEED, len(name), len(kind)]))
    before = _digest(run)
    _one_line_or_success(capsys, ["costs", "--run-dir", str(run)])
    out = tmp_path / "compare.html"
    _one_line_or_success(capsys, ["compare", str(pristine), str(run), "--out", str(out)])
    assert _digest(run) == before


@pytest.mark.parametrize(
    "content",
    ["[1, 2]", '"run"', json.dumps({"horizon": 5, "experiment": "fz"})],
    ids=["provenance-list", "provenance-string", "horizon-disagrees"],
)
def test_report_refuses_a_corrupt_provenance_in_one_line(pristine, tmp_path, capsys, content):
    run = tmp_path / "run"
    shutil.copytree(pristine, run)
    (run / RUN_FILES["provenance"]).write_text(content)
    code, err = _one_line_or_success(capsys, ["report", "--run-dir", str(run)])
    assert code == 2 and "provenance.json" in err
    assert not (run / "report.html").exists()


def test_report_refuses_a_spec_that_is_not_yaml_in_one_line(pristine, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(pristine, run)
    (run / RUN_FILES["spec_text"]).write_text("name: [fz\n")
    code, err = _one_line_or_success(capsys, ["report", "--run-dir", str(run)])
    assert code == 2 and "cannot read experiment.yaml" in err


# -- output paths inside runs ----------------------------------------------------------------
def _inside(run, other):
    return [
        ["costs", "--run-dir", run, "--out", run],
        ["costs", "--run-dir", run, "--out", other],
        ["costs", "--run-dir", run, "--out", f"{run}/costs"],
        ["costs", "--run-dir", run, "--out", f"{run}/.."],
        ["report", "--run-dir", run, "--out", f"{run}/forecasts.parquet"],
        ["report", "--run-dir", run, "--out", f"{run}/costs.csv"],
        ["report", "--run-dir", run, "--out", f"{other}/report.html"],
        ["report", "--run-dir", run, "--out", f"{run}/sub/report.html"],
        ["compare", run, other, "--out", f"{run}/forecasts.parquet"],
        ["compare", run, other, "--out", f"{other}/compare.html"],
        ["compare", run, other, "--out", f"{run}/provenance.json"],
        ["features", "build", "--set", "synthetic-world", "--out", f"{run}/forecasts.parquet"],
        ["features", "build", "--set", "synthetic-world", "--out", f"{other}/panel.parquet"],
    ]


_ARGVS = _inside("RUN", "OTHER")


@pytest.mark.parametrize("argv", _ARGVS, ids=[" ".join(a[:1] + a[-2:]) for a in _ARGVS])
def test_no_command_writes_inside_a_run_folder(pristine, tmp_path, capsys, argv):
    run, other = tmp_path / "runs" / "run", tmp_path / "runs" / "other"
    shutil.copytree(pristine, run)
    shutil.copytree(pristine, other)
    before = _digest(tmp_path)
    argv = [a.replace("RUN", str(run)).replace("OTHER", str(other)) for a in argv]
    code, err = _one_line_or_success(capsys, argv)
    assert code == 2 and "run folder" in err, err
    assert _digest(tmp_path) == before


def test_a_run_still_takes_its_own_outputs(pristine, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(pristine, run)
    before = _digest(run)
    assert main(["costs", "--run-dir", str(run), "--out", str(tmp_path / "costs")]) == 0
    assert main(["costs", "--run-dir", str(run), "--out", str(tmp_path / "costs")]) == 0
    assert _digest(run) == before
    assert {p.name for p in (tmp_path / "costs").iterdir()} == {
        "costs.csv",
        "value_curves.png",
        "decision_curves.png",
    }
