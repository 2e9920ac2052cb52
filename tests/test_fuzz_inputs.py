"""Fuzz ``forecast backtest`` with corrupted experiment specs and bring-your-own panels.

Inputs start valid and small (the synthetic world or a generated CSV/parquet panel, two
origins, cheap models) and are corrupted along :data:`forecast.experiment.EXPERIMENT_SCHEMA`
and the feature-set format: a key dropped, a wrong type or out-of-range value at any key
path, unknown keys and names, broken YAML text, broken CSV cells, rows and bytes. Every case
must end in one of these ways:

* exit 0 and ``--out`` a complete run folder;
* exit 2, exactly one ``forecast: error: ...`` line on stderr (a warning counts as a line)
  and ``--out`` byte-identical to the earlier run it held;
* exit 1, a complete run folder and every failed fit named on stderr with a clear error
  (:data:`FIT_FAILURES`: a model that does not converge on the data says so).

A traceback, a second line or a touched folder fails with the input that caused it. The CLI
runs in-process (:func:`forecast.cli.main`). The examples are derandomized (the same inputs
on every run): 150 specs and 200 panels, about 65 s on 2 cores. Inputs the fuzzer once
crashed on are kept as plain tests at the end.
"""

from __future__ import annotations

import copy
import hashlib
import io
import re
import shutil
import tempfile
import traceback
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, Phase, assume, event, given, settings
from hypothesis import strategies as st

from forecast._spec_schema import Either, ListOf, Mapping, Rule
from forecast.cli import main
from forecast.experiment import EXPERIMENT_SCHEMA, load_experiment
from forecast.run import FIGURES, RUN_FILES, RunArtifacts

pytestmark = pytest.mark.slow

SPEC_EXAMPLES = 150
BYO_EXAMPLES = 200

# No shrinking: a failure already prints its whole input, and shrinking replays CLI runs.
FUZZ = settings(
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)

FLAGS = ["--no-track", "--no-report", "--no-cache", "--n-jobs", "1"]
SYNTHETIC_YEARS = np.arange(1960, 2025)  # the years of the synthetic world, any seed
#: Exceptions a fit may end in on valid input (exit 1, the run folder written, the failed tasks
#: listed on stderr): a model that does not converge on the data says so. Anything else in a
#: task (a TypeError from a parameter, a KeyError) is a bug the fuzzer reports.
FIT_FAILURES = {"forecast._errors.ForecastInputError", "forecast.models._logit.ConvergenceFailure"}
MAX_FITS = 8  # origins x models of a valid case; more is slow, not more interesting

BASE_SPEC: dict[str, Any] = {
    "name": "fuzz",
    "dataset": "synthetic-world",
    "outcome": "mk_onset",
    "horizon": 2,
    "origins": [2018, 2020],
    "min_train_years": 10,
    "seed": 1,
    "models": [{"name": "logit"}, {"name": "elastic_net", "params": {"n_alphas": 4}}],
    "evaluation": {"top_k": [10, 20], "baseline": "logit"},
    "costs": {"effectiveness": 0.5, "capacity": 30, "cost_ratios": [0.1, 0.05]},
}

# A second start point that holds the keys the first one lacks.
RICH_SPEC: dict[str, Any] = {
    **BASE_SPEC,
    "description": "every section present",
    "dataset_options": {"seed": 20251},
    "origins": {"first": 2019, "last": 2020},
    "window": "sliding",
    "max_train_years": 15,
    "recency_half_life": 10,
    "models": [
        "logit",
        {
            "name": "elastic_net",
            "label": "enet",
            "params": {"n_alphas": 4},
            "calibration": "platt",
            "calibration_years": 3,
            "anchor_years": 5,
        },
    ],
    "evaluation": {
        "top_k": [10],
        "metrics": ["roc_auc", "brier"],
        "ewp_pooled": False,
        "baseline": "enet_recal",
    },
    "history_recalibration": {
        "models": ["enet"],
        "half_life": 5,
        "level": 0.8,
        "min_events": 2,
        "suffix": "_recal",
    },
    "tracking": {"uri": None, "experiment": "fuzz"},
}


# --- running a case -------------------------------------------------------------------------


def _digest(folder: Path) -> dict[str, str]:
    """sha256 of every file below ``folder``, by relative path."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _check_complete(out: Path, stdout: str, what: str) -> None:
    """``out`` holds every file of a run (the cost analysis only when something was scored;
    no cost figures, which are drawn only for the report or tracking, both off here)."""
    expected = {name for key, name in RUN_FILES.items() if key not in ("ewp_metrics", "costs")}
    if "nothing scored:" not in stdout:
        expected.add(RUN_FILES["costs"])
    drawn = sorted(set(FIGURES) & {p.name for p in out.iterdir()})
    assert not drawn, f"--no-report --no-track drew {drawn}\n{what}"
    missing = sorted(expected - {p.name for p in out.iterdir()})
    assert not missing, f"exit 0 but the run folder lacks {missing}\n{what}\n{stdout}"
    RunArtifacts.read(out)  # the forecasts follow the schema, every file reads


def _run(
    argv: list[str], out: Path, previous: Path, capsys: pytest.CaptureFixture[str], what: str
) -> tuple[int, str]:
    """Run the CLI on ``argv`` with ``out`` holding a copy of ``previous``; check the outcome
    and return the exit code and stderr."""
    shutil.copytree(previous, out)
    before = _digest(out)
    capsys.readouterr()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.filterwarnings("error", category=FutureWarning)
        try:
            code = main(argv)
        except SystemExit as exit_:  # argparse: not expected, the arguments are fixed
            code = exit_.code
        except Exception:  # a traceback: the bug the fuzzer is after
            pytest.fail(f"traceback on input:\n{what}\n{traceback.format_exc()}", pytrace=False)
    captured = capsys.readouterr()
    err = captured.err
    lines = err.splitlines() + [f"{w.category.__name__}: {w.message}" for w in caught]
    if code == 2:
        assert len(lines) == 1 and lines[0].startswith("forecast: error: "), (
            f"exit 2 needs one 'forecast: error:' line on stderr, got {lines}\n{what}"
        )
        assert _digest(out) == before, f"a failed run changed --out\n{err}\n{what}"
        return code, err
    assert code in (0, 1), f"exit {code} (0, 1 or 2 expected); stderr: {err}\n{what}"
    _check_complete(out, captured.out, what)
    if code == 1:  # some fits failed on the data (e.g. separation): each must say why
        failures = [line.split(": ", 2)[1] for line in err.splitlines()[1:]]
        assert failures and set(failures) <= FIT_FAILURES, (
            f"exit 1 with a failure that is not a clear fit failure: {err}\n{what}"
        )
    return code, err


@pytest.fixture(scope="module")
def previous_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The run folder of a successful backtest: each case's ``--out`` starts as a copy."""
    root = tmp_path_factory.mktemp("previous")
    spec = root / "spec.yaml"
    spec.write_text(yaml.safe_dump(BASE_SPEC, sort_keys=False))
    assert main(["backtest", str(spec), "--out", str(root / "run"), *FLAGS]) == 0
    return root / "run"


# --- corrupting an experiment spec ----------------------------------------------------------

NAN, INF = float("nan"), float("inf")
ANY_WRONG = st.sampled_from(
    [
        None,
        True,
        False,
        "text",
        "",
        "10",
        [],
        {},
        [1, 2],
        {"a": 1},
        0,
        -1,
        1.5,
        NAN,
        INF,
        -INF,
        10**20,
        "2020-01-01",
        [None],
    ]
)


def _declared(rule: Rule, path: tuple = ()) -> list[tuple]:
    """Every key path the schema declares (list items as index 0 and 1)."""
    out: list[tuple] = []
    if isinstance(rule, Either):
        for _, option in rule.options:
            out += _declared(option, path)
    elif isinstance(rule, Mapping):
        for key, child in rule.fields.items():
            out += [(*path, key), *_declared(child, (*path, key))]
    elif isinstance(rule, ListOf):
        for index in (0, 1):
            out += [(*path, index), *_declared(rule.item, (*path, index))]
    return out


DECLARED = sorted(set(_declared(EXPERIMENT_SCHEMA)), key=str)

MODEL_NAMES = ["logit", "elastic_net", "no_such_model", "Logit", "elastic-net", "oracle"]
LABELS = ["logit", "elastic_net", "enet", "enet_recal", "logit_recal", "oracle", "nope"]
YEAR = st.integers(1940, 2040)
HUGE = st.sampled_from([10**9, 10**30, -(10**12)])
RATIO = st.sampled_from([0, 1, -1, 0.5, 1e-9, 0.999999, NAN, INF, 2])
METRIC = st.sampled_from(["roc_auc", "brier", "log_loss", "ece", "recall_at_k", "bogus"])
MODEL_ITEM = st.one_of(
    st.sampled_from(MODEL_NAMES),
    st.fixed_dictionaries(
        {"name": st.sampled_from(MODEL_NAMES)},
        optional={"label": st.sampled_from(LABELS), "params": st.just({"n_alphas": 3})},
    ),
)

# Values the schema may accept, by the last key of the path (list items: by the list's
# key): they reach the code behind the schema (origins outside the data, long horizons).
PLAUSIBLE: dict[str, st.SearchStrategy] = {
    "horizon": st.one_of(st.integers(0, 60), HUGE),
    "first": st.one_of(YEAR, HUGE),
    "last": st.one_of(YEAR, HUGE),
    "years": st.lists(YEAR, max_size=3),
    "origins": st.one_of(
        st.lists(YEAR, max_size=3), st.fixed_dictionaries({"first": YEAR, "last": YEAR})
    ),
    "min_train_years": st.one_of(st.integers(-1, 70), HUGE),
    "max_train_years": st.one_of(st.integers(-1, 70), HUGE),
    "calibration_years": st.integers(-1, 30),
    "anchor_years": st.integers(-1, 70),
    "recency_half_life": st.sampled_from([0, -1, 0.001, 5, 1e9, NAN, INF]),
    "half_life": st.sampled_from([0, -1, 0.001, 5, NAN, INF, None]),
    "level": st.sampled_from([0, 1, 0.5, 0.999, 1.5, -0.2, NAN]),
    "min_events": st.integers(-2, 10_000),
    "top_k": st.lists(st.integers(-3, 20_000), max_size=3),
    "cost_ratios": st.lists(RATIO, max_size=3),
    "effectiveness": RATIO,
    "capacity": st.integers(-2, 100_000),
    "seed": st.sampled_from([0, -1, 7, 2**32, 2**63, 10**30]),
    "name": st.sampled_from(MODEL_NAMES + ["", "x" * 300, "spaces in name", "ünïcode"]),
    "label": st.sampled_from(LABELS),
    "baseline": st.sampled_from(LABELS),
    "window": st.sampled_from(["expanding", "sliding", "Sliding", ""]),
    "dataset": st.sampled_from(["synthetic-world", "synthetic", "ewp-2025x"]),
    "outcome": st.sampled_from(
        ["mk_onset", "mk_onset_1or2", "true_probability", "unit", "autocracy", "nope"]
    ),
    "calibration": st.sampled_from(["platt", "isotonic", "venn_abers", "intercept", "bogus"]),
    "metrics": st.lists(METRIC, max_size=3),
    "ewp_pooled": st.booleans(),
    "feature_set": st.sampled_from(["synthetic-world", "nope", "missing.yaml", ""]),
    # Wrong types, unknown names, and values outside a model's declared constraints
    # (elastic_net n_alphas: 0 or alpha: -1, logit max_iter: -1, NaN): spec errors.
    "params": st.dictionaries(
        st.sampled_from(["n_alphas", "l1_ratio", "alpha", "max_iter", "validation_years", "bogus"]),
        st.sampled_from([1, 3, 0.5, "x", None, True, [1], {}, 0, -1, NAN, INF, 10**20]),
        max_size=2,
    ),
    "dataset_options": st.dictionaries(
        st.sampled_from(
            ["seed", "regime", "n_countries", "n_years", "flavour", "n_cells", "dtype", "root"]
            + ["bogus", "Seed"]
        ),
        st.sampled_from(
            [
                0,
                1,
                2,
                3,
                -1,
                250,  # a legal size that stays small (n_countries 20251 is a 1.2M-row world)
                120,
                10**8,
                1.5,
                "1",
                None,
                True,
                [1],
                NAN,
                "small",
                "stationary",
                "grid",
                "float32",
                "float16",
                "bogus",
            ]
        ),
        max_size=2,
    ),
    "models": st.lists(MODEL_ITEM, max_size=3),
}
PLAUSIBLE_ITEM: dict[str, st.SearchStrategy] = {
    "years": YEAR,
    "origins": YEAR,
    "top_k": st.integers(-3, 20_000),
    "cost_ratios": RATIO,
    "metrics": METRIC,
    "models": MODEL_ITEM,
}


@st.composite
def _value(draw: st.DrawFn, path: tuple) -> Any:
    """A value for ``path``: mostly one the schema may accept, else any wrong one."""
    key = path[-1]
    if isinstance(key, int):
        plausible = (
            st.sampled_from(LABELS)
            if path[0] == "history_recalibration"
            else PLAUSIBLE_ITEM.get(path[-2])
        )
    else:
        plausible = PLAUSIBLE.get(key)
    if plausible is None or draw(st.integers(0, 4)) == 0:
        return draw(ANY_WRONG)
    return draw(plausible)


def _existing(tree: Any, path: tuple = ()) -> list[tuple]:
    """Key paths present in ``tree``."""
    out = []
    items = (
        tree.items()
        if isinstance(tree, dict)
        else enumerate(tree)
        if isinstance(tree, list)
        else ()
    )
    for key, value in items:
        out.append((*path, key))
        out += _existing(value, (*path, key))
    return out


def _set(tree: dict, path: tuple, value: Any) -> None:
    """Set ``path`` in ``tree``, making each container on the way a list (for an index) or a
    mapping (for a key), with the missing items as null."""
    node: Any = tree
    for key, following in zip(path[:-1], path[1:]):
        if isinstance(node, list):
            node.extend([None] * (key + 1 - len(node)))
        kind = list if isinstance(following, int) else dict
        if not isinstance(node[key] if isinstance(node, list) else node.get(key), kind):
            node[key] = kind()
        node = node[key]
    if isinstance(node, list):
        node.extend([None] * (path[-1] + 1 - len(node)))
    node[path[-1]] = value


def _delete(tree: dict, path: tuple) -> None:
    node: Any = tree
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]


@st.composite
def _corrupted_tree(draw: st.DrawFn, start: dict) -> tuple[Any, list[str]]:
    """A deep copy of ``start`` with one to three corruptions, and what they were."""
    tree = copy.deepcopy(start)
    done: list[str] = []
    for _ in range(draw(st.sampled_from([1, 1, 1, 2, 3]))):
        if not isinstance(tree, dict):
            break
        kind = draw(st.sampled_from(["set"] * 5 + ["drop", "unknown", "label", "string", "whole"]))
        present = _existing(tree)
        if kind == "set":
            path = draw(st.sampled_from(DECLARED))
            value = draw(_value(path))
            _set(tree, path, value)
            done.append(f"set {path} = {value!r}")
        elif kind == "drop" and present:
            path = draw(st.sampled_from(present))
            _delete(tree, path)
            done.append(f"drop {path}")
        elif kind == "unknown":
            mappings = [()] + [p for p in present if isinstance(_get(tree, p), dict)]
            path = draw(st.sampled_from(mappings))
            key = draw(st.sampled_from(["orgins", "horizons", "extra", "model", "1", "top-k"]))
            _set(tree, (*path, key), draw(ANY_WRONG))
            done.append(f"unknown key {(*path, key)}")
        elif kind == "label" and isinstance(tree.get("models"), list) and tree["models"]:
            label = draw(st.sampled_from(LABELS))
            index = draw(st.integers(0, len(tree["models"]) - 1))
            item = tree["models"][index]
            tree["models"][index] = (
                {**item, "label": label}
                if isinstance(item, dict)
                else {"name": str(item), "label": label}
            )
            done.append(f"models[{index}].label = {label!r}")
        elif kind == "string":
            lists = [p for p in present if isinstance(_get(tree, p), list)]
            if lists:
                path = draw(st.sampled_from(lists))
                text = draw(
                    st.sampled_from([", ".join(map(str, _get(tree, path))), str(_get(tree, path))])
                )
                _set(tree, path, text)
                done.append(f"string for list at {path}: {text!r}")
        elif kind == "whole":
            tree = draw(st.sampled_from([None, [], "models: [logit]", 3, [BASE_SPEC]]))
            done.append(f"whole spec = {tree!r}")
    return tree, done


def _get(tree: Any, path: tuple) -> Any:
    for key in path:
        tree = tree[key]
    return tree


@st.composite
def _yaml_text(draw: st.DrawFn, tree: Any) -> tuple[str | bytes, str]:
    """``tree`` as YAML, sometimes with its text broken."""
    text = yaml.safe_dump(tree, sort_keys=False)
    kind = draw(st.sampled_from(["none"] * 12 + ["truncate", "insert", "duplicate", "bytes"]))
    if kind == "none" or not text:
        return text, ""
    at = draw(st.integers(0, len(text)))
    if kind == "truncate":
        return text[:at], f"truncated at {at}"
    if kind == "insert":
        piece = draw(
            st.sampled_from(
                [
                    "\t",
                    ":",
                    ": ",
                    "\n\t",
                    "{",
                    "[",
                    "'",
                    '"',
                    "- ",
                    "&a",
                    "*a",
                    "!!python/object:os.system",
                    "%",
                    "\x00",
                    "@",
                ]
            )
        )
        return text[:at] + piece + text[at:], f"inserted {piece!r} at {at}"
    if kind == "duplicate":
        lines = text.splitlines(keepends=True)
        index = draw(st.integers(0, len(lines) - 1))
        return "".join(lines[: index + 1] + lines[index:]), f"line {index + 1} twice"
    garbage = draw(st.sampled_from([b"\xff\xfe\x00", b"\xe9t\xe9", b"\xef\xbb\xbf"]))
    data = text.encode()
    return data[:at] + garbage + data[at:], f"bytes {garbage!r} at {at}"


def _write(path: Path, content: str | bytes) -> None:
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")


def _affordable(spec: Path) -> bool:
    """False for a valid spec that would fit more than :data:`MAX_FITS` models (slow, and
    no more interesting than a small one)."""
    from forecast.backtest import RollingOrigin

    try:
        config = load_experiment(spec)
        origins = RollingOrigin.from_config(config).origin_years(SYNTHETIC_YEARS)
    except Exception:  # invalid: the CLI must say so in one line
        return True
    calibrated = any(m.calibration for m in config.models)
    return len(origins) * len(config.models) * (2 if calibrated else 1) <= MAX_FITS


@settings(FUZZ, max_examples=SPEC_EXAMPLES)
@given(data=st.data())
def test_corrupted_experiment_specs(
    data: st.DataObject, previous_run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    start = data.draw(st.sampled_from([BASE_SPEC, RICH_SPEC]), label="start")
    tree, done = data.draw(_corrupted_tree(start), label="corruptions")
    text, broken = data.draw(_yaml_text(tree), label="text")
    with tempfile.TemporaryDirectory() as folder:
        spec = Path(folder) / "spec.yaml"
        _write(spec, text)
        assume(_affordable(spec))
        what = (
            f"corruptions: {done} {broken}\n--- {spec.name}\n"
            f"{text if isinstance(text, str) else text!r}"
        )
        code, _ = _run(
            ["backtest", str(spec), "--out", str(Path(folder) / "out"), *FLAGS],
            Path(folder) / "out",
            previous_run,
            capsys,
            what,
        )
    event(f"exit {code}")


# --- bring your own panel -------------------------------------------------------------------

BYO_YEARS = np.arange(1990, 2010)
FEATURE_SET: dict[str, Any] = {
    "name": "byo-fuzz",
    "skeleton": "mine",
    "unit": "country",
    "year": "year",
    "datasets": {"mine": {"path": "panel.csv", "unit": "country", "year": "year"}},
    "indicators": [
        {"name": "onset", "role": "outcome", "source": "mine.onset"},
        {
            "name": "onset_1or2",
            "role": "outcome",
            "source": {"indicator": "onset"},
            "transforms": [{"onset_within": {"horizon": 2}}],
            "window": [1, 2],
        },
        {"name": "repression", "source": "mine.repression", "kind": "structural"},
        {
            "name": "deaths_log2",
            "source": "mine.deaths",
            "kind": "trigger",
            "transforms": [{"fill": {"value": 0}}, {"log2": {"offset": 1}}],
        },
        {
            "name": "coup_3yr",
            "source": "mine.coup",
            "kind": "trigger",
            "publication_lag": 1,
            "transforms": [{"rolling_max": {"window": 3}}],
        },
    ],
}
BYO_EXPERIMENT: dict[str, Any] = {
    "name": "byo-fuzz",
    "outcome": "onset",
    "horizon": 1,  # feature_set: its path, per case
    "origins": [2007, 2008],
    "min_train_years": 5,
    "models": [{"name": "elastic_net", "params": {"n_alphas": 3}}],
    "evaluation": {"top_k": [2, 4]},
    "costs": {"capacity": 3},
}

CELL = st.sampled_from(
    [
        "x",
        "",
        "yes",
        "1,5",
        "NaN",
        "inf",
        "-inf",
        "1e400",
        "2",
        "-1",
        "0.5",
        "1990.5",
        "99999",
        " 3 ",
        "None",
        "TRUE",
        '"',
    ]
)
COLUMNS = ["country", "year", "onset", "repression", "deaths", "coup"]
TRANSFORM_VALUE = st.sampled_from(
    [
        0,
        1,
        -1,
        2.5,
        100,
        "x",
        None,
        [1],
        ["U1"],
        {"U1": 1},
        {"U1": "x"},
        "onset",
        "repression",
        ">",
        "nope",
    ]
)


@st.composite
def _panel(draw: st.DrawFn) -> list[list[Any]]:
    """A small valid panel (header first): units x years, an onset column, three features."""
    rng = np.random.default_rng(draw(st.integers(0, 2**16), label="panel seed"))
    units = [f"U{i}" for i in range(draw(st.integers(4, 8), label="units"))]
    rows = [
        [
            unit,
            int(year),
            int(rng.random() < 0.15),
            round(float(rng.random()), 3),
            int(rng.integers(0, 500)),
            int(rng.random() < 0.1),
        ]
        for unit in units
        for year in BYO_YEARS
    ]
    return [list(COLUMNS), *rows]


@st.composite
def _broken_panel(draw: st.DrawFn) -> tuple[str | bytes, list[str]]:
    """The CSV text of a generated panel with zero to two corruptions, and what they were."""
    table = draw(_panel())
    done: list[str] = []
    for _ in range(draw(st.sampled_from([0, 1, 1, 1, 2]))):
        kind = draw(
            st.sampled_from(
                [
                    "drop_column",
                    "cell",
                    "cells",
                    "duplicate_row",
                    "onset",
                    "year",
                    "all_nan",
                    "constant",
                    "unit_missing",
                    "few_years",
                    "all_onsets",
                    "header_only",
                    "empty",
                    "shuffle",
                ]
            )
        )
        header, rows = table[0], table[1:]
        if kind == "drop_column" and len(header) > 1:
            col = draw(st.integers(0, len(header) - 1))
            table = [[v for i, v in enumerate(row) if i != col] for row in table]
        elif kind in ("cell", "cells") and rows:
            col = draw(st.integers(0, len(header) - 1))
            count = 1 if kind == "cell" else draw(st.integers(2, len(rows)))
            for index in draw(st.lists(st.integers(0, len(rows) - 1), min_size=1, max_size=count)):
                rows[index][col] = draw(CELL)
        elif kind == "duplicate_row" and rows:
            rows.insert(0, list(rows[draw(st.integers(0, len(rows) - 1))]))
        elif kind in ("onset", "year", "all_nan", "constant", "all_onsets") and rows:
            column = {"onset": "onset", "year": "year", "all_onsets": "onset"}.get(
                kind, draw(st.sampled_from(["repression", "deaths", "coup"]))
            )
            if column not in header:
                continue
            col = header.index(column)
            value = {
                "onset": st.sampled_from([2, -1, "yes", 0.5, ""]),
                "year": st.sampled_from(["", "NaN", 1990.5, "1990a", -5, 10**6, 2**40]),
                "all_nan": st.just(""),
                "constant": st.just(1),
                "all_onsets": st.sampled_from([0, 1, ""]),
            }[kind]
            every = kind in ("all_nan", "constant", "all_onsets")
            chosen = range(len(rows)) if every else [draw(st.integers(0, len(rows) - 1))]
            fill = draw(value)
            for index in chosen:
                rows[index][col] = fill
        elif kind == "unit_missing" and rows and "country" in header:
            rows[draw(st.integers(0, len(rows) - 1))][header.index("country")] = ""
        elif kind == "few_years" and "year" in header:
            keep = draw(st.integers(1, 6))
            col = header.index("year")
            rows = [r for r in rows if str(r[col]) in {str(y) for y in BYO_YEARS[:keep]}]
        elif kind == "header_only":
            rows = []
        elif kind == "empty":
            return "", ["empty file"]
        elif kind == "shuffle":
            rows = draw(st.permutations(rows))
        table = [header, *rows]
        done.append(kind)
    text = "".join(",".join(str(v) for v in row) + "\n" for row in table)
    broken = draw(st.sampled_from(["none"] * 8 + ["truncate", "ragged", "semicolons", "bytes"]))
    if broken == "truncate":
        at = draw(st.integers(0, len(text)))
        text = text[:at]
    elif broken == "ragged":
        lines = text.splitlines(keepends=True)
        index = draw(st.integers(0, len(lines) - 1))
        lines[index] = lines[index].rstrip("\n") + ",extra\n"
        text = "".join(lines)
    elif broken == "semicolons":
        text = text.replace(",", ";")
    elif broken == "bytes":
        at = draw(st.integers(0, len(text)))
        return text[:at].encode() + b"\xff\xfe" + text[at:].encode(), [*done, "bytes"]
    return text, [*done, broken]


BYO_PATHS: list[tuple] = [
    ("name",),
    ("skeleton",),
    ("unit",),
    ("year",),
    ("first_year",),
    ("last_year",),
    ("unit_system",),
    ("replication",),
    ("extends",),
    ("datasets",),
    ("datasets", "mine"),
    ("datasets", "mine", "path"),
    ("datasets", "mine", "unit"),
    ("datasets", "mine", "year"),
    ("indicators",),
    *(
        ("indicators", i, key)
        for i in range(5)
        for key in (
            "name",
            "source",
            "kind",
            "role",
            "risk_factor",
            "publication_lag",
            "missing",
            "transforms",
            "description",
        )
    ),
    *(("indicators", i, "transforms", 0) for i in range(5)),
]
BYO_PLAUSIBLE: dict[str, st.SearchStrategy] = {
    "skeleton": st.sampled_from(["mine", "synthetic", "nope", "grid"]),
    "unit": st.sampled_from(["country", "unit", "year", "onset", ""]),
    "year": st.sampled_from(["year", "country", "when"]),
    "first_year": st.integers(1980, 2015),
    "last_year": st.integers(1980, 2015),
    "unit_system": st.sampled_from(["cow", "gw", None]),
    "replication": st.booleans(),
    "extends": st.sampled_from(["features.yaml", "missing.yaml", "synthetic-world"]),
    "path": st.sampled_from(["panel.csv", "missing.csv", "panel.parquet", ".", "features.yaml"]),
    "name": st.sampled_from(
        ["onset", "repression", "coup_3yr", "new", "", "unit", "country", "year"]
    ),
    "source": st.sampled_from(
        [
            "mine.onset",
            "mine.nope",
            "nope.onset",
            ".onset",
            "mine.",
            "mine.country",
            "mine.year",
            {"indicator": "onset"},
            {"indicator": "nope"},
            {"dataset": "mine", "column": "coup"},
            {"dataset": "mine"},
            "grid.unit_value",
        ]
    ),
    "kind": st.sampled_from(["structural", "trigger", "mitigating", "history", "other", "x"]),
    "role": st.sampled_from(["feature", "outcome", "helper", "label", "x"]),
    "risk_factor": st.integers(-1, 15),
    "publication_lag": st.integers(-1, 30),
    "missing": st.sampled_from(
        [
            "leave",
            "impute_in_model",
            {"carry_forward": 2},
            {"carry_forward": 0},
            "carry_forward",
            "bogus",
        ]
    ),
}


@st.composite
def _transform(draw: st.DrawFn) -> Any:
    """A transform step: any registered name (or none), with random parameters."""
    from forecast.features import get_transform, transform_names

    name = draw(st.sampled_from([*transform_names(), "nope"]))
    known = list(get_transform(name).params) if name != "nope" else []
    params = draw(
        st.dictionaries(
            st.sampled_from([*known, "bogus"]) if known else st.just("bogus"),
            TRANSFORM_VALUE,
            max_size=3,
        )
    )
    return draw(st.sampled_from([{name: params}, name, {name: params, "x": 1}]))


@st.composite
def _broken_feature_set(draw: st.DrawFn) -> tuple[Any, list[str]]:
    tree: Any = copy.deepcopy(FEATURE_SET)
    done: list[str] = []
    for _ in range(draw(st.sampled_from([0, 0, 1, 1, 2]))):
        path = draw(st.sampled_from(BYO_PATHS))
        kind = draw(st.sampled_from(["set", "set", "drop"]))
        if kind == "drop":
            if path in _existing(tree):
                _delete(tree, path)
                done.append(f"drop {path}")
            continue
        key = path[-1]
        if key == "transforms" or (isinstance(key, int) and path[-2] == "transforms"):
            value = draw(
                st.lists(_transform(), max_size=2) if key == "transforms" else _transform()
            )
        elif key in BYO_PLAUSIBLE and draw(st.integers(0, 2)):
            value = draw(BYO_PLAUSIBLE[key])
        else:
            value = draw(ANY_WRONG)
        _set(tree, path, value)
        done.append(f"set {path} = {value!r}")
    return tree, done


def _write_panel(path: Path, csv: str | bytes) -> None:
    """``csv`` into ``path``; a parquet file holds the table pandas reads from it (its raw
    bytes, an unreadable parquet file, where pandas cannot read it)."""
    if path.suffix == ".csv":
        return _write(path, csv)
    try:
        data = csv.encode() if isinstance(csv, str) else csv
        pd.read_csv(io.BytesIO(data)).to_parquet(path)
    except Exception:
        _write(path, csv)


@settings(FUZZ, max_examples=BYO_EXAMPLES)
@given(data=st.data())
def test_corrupted_byo_panels(
    data: st.DataObject, previous_run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv, panel_done = data.draw(_broken_panel(), label="panel")
    features, spec_done = data.draw(_broken_feature_set(), label="feature set")
    panel_file = data.draw(st.sampled_from(["panel.csv"] * 3 + ["panel.parquet"]), label="file")
    if (
        panel_file == "panel.parquet"
        and ("datasets", "mine", "path") in _existing(features)
        and _get(features, ("datasets", "mine", "path")) == "panel.csv"
    ):
        _set(features, ("datasets", "mine", "path"), panel_file)
    features_text, broken = data.draw(_yaml_text(features), label="feature set text")
    experiment = copy.deepcopy(BYO_EXPERIMENT)
    for key, value in data.draw(
        st.dictionaries(
            st.sampled_from(["outcome", "horizon", "origins", "min_train_years"]),
            st.sampled_from(
                [
                    "onset_1or2",
                    "repression",
                    "nope",
                    2,
                    3,
                    [2009],
                    [1990, 2008],
                    {"first": 2000, "last": 2030},
                    1,
                    15,
                ]
            ),
            max_size=1,
        ),
        label="experiment changes",
    ).items():
        experiment[key] = value
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        _write_panel(folder / panel_file, csv)
        _write(folder / "features.yaml", features_text)
        experiment["feature_set"] = str(folder / "features.yaml")  # relative: to the cwd
        (folder / "experiment.yaml").write_text(yaml.safe_dump(experiment, sort_keys=False))
        what = (
            f"panel: {panel_done}; feature set: {spec_done} {broken}; experiment: "
            f"{experiment}\n--- {panel_file}\n{csv!r}\n--- features.yaml\n{features_text!r}"
        )
        code, _ = _run(
            ["backtest", str(folder / "experiment.yaml"), "--out", str(folder / "out"), *FLAGS],
            folder / "out",
            previous_run,
            capsys,
            what,
        )
    event(f"exit {code}")


# --- inputs the fuzzer found ----------------------------------------------------------------


def _spec_with(**changes: Any) -> str:
    return yaml.safe_dump({**BASE_SPEC, **changes}, sort_keys=False)


# Each once ended in a traceback, a hang or a silent wrong result; now one line says why.
FOUND_SPECS: dict[str, tuple[str | bytes, str]] = {
    "NUL character": (
        "name: x\x00\nmodels: [logit]\n",
        r"spec.yaml:1:8: invalid YAML: character '\\x00' is not allowed",
    ),
    "not UTF-8": (b"name: caf\xe9\nmodels: [logit]\n", r"spec.yaml:1: not UTF-8 text"),
    "recursive alias": ("models: &m [*m]\n", r"alias refers to a node that contains it"),
    "impossible date": (
        "name: 2020-02-30\nmodels: [logit]\n",
        r"spec.yaml:1:7: invalid YAML value '2020-02-30'",
    ),
    "horizon of a billion years": (_spec_with(horizon=10**9), r"no trainable origin"),
    "origins a trillion years on": (
        _spec_with(origins={"first": 10**12, "last": 10**13}),
        r"no trainable origin among 1000000000000\.\.",
    ),
    "origin after the data": (
        _spec_with(origins=[2018, 2030]),
        r"origins \[2030\] are outside the years of the data",
    ),
    "outcome not 0/1": (
        _spec_with(outcome="true_probability"),
        r"'true_probability': an annual onset indicator holds 0, 1 or missing",
    ),
    "parameter of the wrong type": (
        _spec_with(models=["logit", {"name": "elastic_net", "params": {"l1_ratio": None}}]),
        r"models\[1\]\.params\.l1_ratio: not an accepted value, got None",
    ),
    "alias bomb": (
        "".join(
            [f"a0: &a0 [{', '.join(['x'] * 9)}]\n"]
            + [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 9)]
        )
        + "models: [logit]\n",
        r"spec.yaml:6:5: invalid YAML: aliases \(\*name\) expand this node to",
    ),
    "a class that runs a command": (
        _spec_with(
            models=[{"name": "sklearn", "params": {"class": "os.system", "command": "true"}}]
        ),
        r"models\[0\]\.params\.class: not in an allowed module",
    ),
    "xgboost without trees": (
        _spec_with(models=[{"name": "xgboost", "params": {"n_estimators": -1}}]),
        r"models\[0\]\.params\.n_estimators: out of range, got -1",
    ),
    "xgboost NaN learning rate": (
        _spec_with(models=[{"name": "xgboost", "params": {"learning_rate": NAN}}]),
        r"models\[0\]\.params\.learning_rate: must be a finite number, got nan",
    ),
    "elastic net without penalties": (
        _spec_with(models=[{"name": "elastic_net", "params": {"n_alphas": 0}}]),
        r"models\[0\]\.params\.n_alphas: out of range, got 0",
    ),
    "a world of 10**8 countries": (
        _spec_with(dataset_options={"n_countries": 10**8}),
        r"spec.yaml:\d+: dataset_options\.n_countries: n_countries must be at most",
    ),
    "a grid of no cells": (
        _spec_with(dataset_options={"flavour": "grid", "n_cells": 0}),
        r"dataset_options\.n_cells: n_cells must be an int >= 1, got 0",
    ),
    "float16 storage": (
        _spec_with(dataset_options={"dtype": "float16"}),
        r"dataset_options\.dtype: dtype must be 'float64' or 'float32'",
    ),
    "a feature set that is a device": (
        _spec_with(feature_set="/dev/zero"),
        r"feature_set: the path is not a regular file",
    ),
}


@pytest.mark.parametrize("case", list(FOUND_SPECS))
def test_specs_the_fuzzer_found(
    case: str, tmp_path: Path, previous_run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text, message = FOUND_SPECS[case]
    spec = tmp_path / "spec.yaml"
    _write(spec, text)
    code, err = _run(
        ["backtest", str(spec), "--out", str(tmp_path / "out"), *FLAGS],
        tmp_path / "out",
        previous_run,
        capsys,
        case,
    )
    assert code == 2 and re.search(message, err), err


def _byo_files(
    features: Any = None, cells: dict[tuple[int, str], Any] | None = None
) -> tuple[Any, str]:
    """The feature set (default :data:`FEATURE_SET`) and a valid panel's CSV text with
    ``cells`` ((row, column) -> value) replaced."""
    rng = np.random.default_rng(1)
    table = [
        [
            f"U{u}",
            int(y),
            int(rng.random() < 0.2),
            round(float(rng.random()), 3),
            int(rng.integers(0, 500)),
            int(rng.random() < 0.1),
        ]
        for u in range(6)
        for y in BYO_YEARS
    ]
    for (row, column), value in (cells or {}).items():
        table[row][COLUMNS.index(column)] = value
    csv = "".join(",".join(map(str, row)) + "\n" for row in [COLUMNS, *table])
    return (FEATURE_SET if features is None else features), csv


def _indicators(index: int, **changes: Any) -> dict[str, Any]:
    """:data:`FEATURE_SET` with indicator ``index`` changed."""
    tree = copy.deepcopy(FEATURE_SET)
    tree["indicators"][index].update(changes)
    return tree


FOUND_PANELS: dict[str, tuple[tuple[Any, str], str]] = {
    "indicator named like a key column": (
        _byo_files(_indicators(4, name="year")),
        r"features.yaml:\d+: indicator 'year' has the name of a key column",
    ),
    "publication lag on text": (
        _byo_files(cells={(3, "coup"): "yes"}),
        r"indicator 'coup_3yr': source values are not numeric",
    ),
    "infinite year": (
        _byo_files(cells={(3, "year"): "inf"}),
        r"column 'year': years must be whole numbers in 1\.\.9999, got inf",
    ),
    "year 2**40": (_byo_files(cells={(3, "year"): 2**40}), r"years must be whole numbers"),
    "infinite feature": (
        _byo_files(cells={(3, "repression"): "inf"}),
        r"column 'repression': feature values must be finite",
    ),
    "transform without its parameter": (
        _byo_files(_indicators(2, transforms=[{"interaction": {}}])),
        r"transform 'interaction' needs the parameter\(s\) \['with'\]",
    ),
    "fill_units with text": (
        _byo_files(_indicators(2, transforms=[{"fill_units": {"values": {"U1": "x"}}}])),
        r"transform 'fill_units': fill_units values must be numbers",
    ),
    "transform parameters a list": (
        _byo_files(_indicators(2, transforms=[{"lag": [1]}])),
        r"a transform is a name or a one-key mapping",
    ),
    "risk factor a list": (
        _byo_files(_indicators(2, risk_factor=[1])),
        r"risk_factor must be a UN Framework risk factor",
    ),
    "keys of two types": (
        _byo_files({**FEATURE_SET, 1: "x", "bogus": "y"}),
        r"unknown top-level key\(s\) \[1, 'bogus'\]",
    ),
    "no feature": (
        _byo_files({**FEATURE_SET, "indicators": FEATURE_SET["indicators"][:2]}),
        r"the panel has no feature columns",
    ),
    "unit and year one column": (
        _byo_files(
            {
                **FEATURE_SET,
                "datasets": {"mine": {"path": "panel.csv", "unit": "year", "year": "year"}},
            }
        ),
        r"dataset 'mine': unit and year name the same column 'year'",
    ),
    "list as a key": (
        ("name: x\n? [1]\n: 2\n", _byo_files()[1]),
        r"features.yaml:2: a mapping key must be a name, not a list",
    ),
    "semicolons": (
        (FEATURE_SET, _byo_files()[1].replace(",", ";")),
        r"separate the columns with commas, not ';'",
    ),
}


@pytest.mark.parametrize("case", list(FOUND_PANELS))
def test_panels_the_fuzzer_found(
    case: str, tmp_path: Path, previous_run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (features, csv), message = FOUND_PANELS[case]
    _write(tmp_path / "panel.csv", csv)
    _write(
        tmp_path / "features.yaml",
        features if isinstance(features, str) else yaml.safe_dump(features, sort_keys=False),
    )
    experiment = {**BYO_EXPERIMENT, "feature_set": str(tmp_path / "features.yaml")}
    (tmp_path / "experiment.yaml").write_text(yaml.safe_dump(experiment, sort_keys=False))
    code, err = _run(
        ["backtest", str(tmp_path / "experiment.yaml"), "--out", str(tmp_path / "out"), *FLAGS],
        tmp_path / "out",
        previous_run,
        capsys,
        case,
    )
    assert code == 2 and re.search(message, err), err
