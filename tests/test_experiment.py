import re
from pathlib import Path

import pytest

from forecast import ForecastInputError
from forecast.cli import main
from forecast.experiment import CostSpec, ModelSpec, experiment_from_dict, load_experiment

ROOT = Path(__file__).resolve().parents[1]

#: ``<file>:<line>: <key.path>: <constraint>, got <value>; valid: <...>; fix: <...>``
ONE_LINE = re.compile(
    r"^forecast: error: (?P<file>[^:]+):(?P<line>\d+): (?P<path>\S+): "
    r"(?P<constraint>.+), got (?P<got>.+); valid: (?P<valid>.+); fix: (?P<fix>.+)$"
)

BASE = """\
name: tiny
dataset: synthetic-world
horizon: 2
origins: {first: 2015, last: 2024}
seed: 1
models: [logit]
evaluation:
  top_k: [10]
  baseline: logit
costs:
  cost_ratios: [0.1]
"""


@pytest.mark.parametrize(
    "path", sorted((ROOT / "experiments").glob("*.yaml")), ids=lambda p: p.name
)
def test_shipped_experiments_load(path):
    config = load_experiment(path)
    assert config.models and config.horizon >= 1


def test_a_valid_spec_gives_the_typed_values_it_always_gave():
    config = load_experiment(ROOT / "experiments" / "synthetic-default.yaml")
    assert (config.name, config.dataset, config.outcome, config.horizon) == (
        "synthetic-default",
        "synthetic-world",
        "mk_onset",
        2,
    )
    assert (config.origins, config.first_origin, config.last_origin) == (None, 1995, 2024)
    assert (config.window, config.min_train_years, config.max_train_years, config.seed) == (
        "expanding",
        10,
        None,
        7,
    )
    assert config.models[0] == ModelSpec("stacked", "stacked")  # the default (design 0007)
    assert config.models[3] == ModelSpec("random_forest", "random_forest", {"n_estimators": 120})
    assert config.models[5] == ModelSpec(
        "ensemble", "ensemble", {"members": ["elastic_net", "xgboost"], "method": "logit"}
    )
    assert (
        config.top_k == (10, 20, 30) and config.metrics == () and config.baseline == "elastic_net"
    )
    assert config.costs == CostSpec(0.5, 30, (0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005))
    assert config.history_recalibration == {"models": ["stacked", "elastic_net", "ensemble"]}
    assert config.dataset_options == {} and config.tracking_uri is None


def test_defaults_of_a_minimal_spec():
    config = experiment_from_dict({"models": ["logit"], "origins": [2010, 2020]})
    assert (config.name, config.origins, config.first_origin) == ("<dict>", (2010, 2020), None)
    assert config.costs == CostSpec() and config.top_k == (10, 20, 30) and config.seed == 0


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"models": ["nope"]}, r"models\[0\]: unknown model, got 'nope'; valid: \[.*'elastic_net'"),
        (
            {"models": [{"name": "elastic_nett"}]},
            r"models\[0\]\.name: unknown model, got 'elastic_nett'.*did you mean 'elastic_net'",
        ),
        (
            {"models": ["logit"], "dataset": "imaginary"},
            r"dataset: unknown dataset, got 'imaginary'",
        ),
        (
            {"models": ["logit"], "evaluation": {"metrics": ["auroc"]}},
            r"evaluation\.metrics\[0\]: unknown metric, got 'auroc'; valid: \[.*'roc_auc'",
        ),
        (
            {"models": ["logit"], "evaluation": {"metrics": ["recall_at_k"]}},
            r"unknown metric, got 'recall_at_k'",
        ),  # needs k: not a spec metric
        (
            {"models": ["logit"], "horizon": 0},
            r"horizon: out of range, got 0; valid: integers >= 1",
        ),
        ({"models": ["logit"], "horizon": True}, r"horizon: must be an integer, got True"),
        (
            {"models": ["logit"], "horizn": 2},
            r"horizn: unknown key, got 'horizn'; valid: \[.*'horizon'.*fix: did you mean 'horizon'",
        ),
        (
            {"models": ["logit"], "evaluation": {"topk": [10]}},
            r"evaluation\.topk: unknown key.*valid: \['baseline', 'ewp_pooled', 'metrics', 'top_k'\]",
        ),
        ({"models": [{"name": "logit", "lable": "x"}]}, r"models\[0\]\.lable: unknown key"),
        ({"models": []}, r"models: needs at least 1 item\(s\), got \[\]"),
        ({}, r"\(top level\): missing key 'models'"),
        (["logit"], r"\(top level\): must be a mapping, got \['logit'\]"),
        ({"models": ["logit", "logit"]}, r"models\[1\]: duplicate model label, got 'logit'"),
        (
            {"models": [{"name": "logit", "label": "oracle"}]},
            r"duplicate model label, got 'oracle'",
        ),
        (
            {"models": [{"name": "logit", "calibration": "magic"}]},
            r"models\[0\]\.calibration: unknown calibration, got 'magic'; valid: \['platt'",
        ),
        (
            {"models": [{"name": "elastic_net", "params": {"bogus": 1}}]},
            (
                r"models\[0\]\.params: model 'elastic_net' rejects its parameters \(.*'bogus'.*\), "
                r"got \{'bogus': 1\}"
            ),
        ),
        (
            {"models": [{"name": "ensemble", "params": {"members": ["nope"]}}]},
            r"models\[0\]\.params: model 'ensemble' rejects its parameters \(unknown model 'nope'",
        ),
        (
            {"models": ["logit"], "costs": {"effectiveness": 1.5}},
            r"costs\.effectiveness: out of range, got 1\.5; valid: numbers in \(0, 1\]",
        ),
        (
            {"models": ["logit"], "costs": {"capacity": 0}},
            r"costs\.capacity: out of range, got 0; valid: integers >= 1 or null",
        ),
        (
            {"models": ["logit"], "costs": {"cost_ratios": [0.1, 0.1]}},
            r"costs\.cost_ratios\[1\]: listed twice, got 0\.1",
        ),
        (
            {"models": ["logit"], "costs": {"cost_ratios": [float("nan")]}},
            r"costs\.cost_ratios\[0\]: out of range, got nan",
        ),
        (
            {"models": ["logit"], "window": "sliding"},
            r"window: a sliding window needs max_train_years, got 'sliding'",
        ),
        (
            {"models": ["logit"], "origins": {"years": [2010], "first": 2000}},
            r"origins: both years and first/last given",
        ),
        (
            {"models": ["logit"], "dataset_options": {"seed": "x"}},
            r"dataset_options\.seed: must be of type int, got 'x'; valid: int values like the default",
        ),
        (
            {"models": ["logit"], "feature_set": "nope"},
            r"feature_set: unknown feature set, got 'nope'",
        ),
        (
            {"models": ["logit"], "feature_set": "missing/spec.yaml"},
            r"feature_set: file not found, got 'missing/spec\.yaml'",
        ),
        (
            {"models": ["logit"], "history_recalibration": {"models": ["lgit"]}},
            (
                r"history_recalibration\.models\[0\]: not a model label of this spec, got 'lgit'; "
                r"valid: \['logit'\]; fix: did you mean 'logit'"
            ),
        ),
        (
            {"models": ["logit"], "history_recalibration": {"level": 0.8}},
            r"history_recalibration: missing key 'models'",
        ),
        (
            {
                "models": ["logit", {"name": "logit", "label": "logit_recal"}],
                "history_recalibration": {"models": ["logit"]},
            },
            r"its recalibrated copy 'logit_recal' clashes with a model label",
        ),
        ({"models": ["logit"], "seed": -1}, r"seed: out of range, got -1; valid: integers >= 0"),
        ({"models": ["logit"], "name": 2025}, r"name: must be a string, got 2025"),
    ],
)
def test_bad_specs_fail_with_one_line(raw, message):
    with pytest.raises(ForecastInputError, match=message) as info:
        experiment_from_dict(raw, source="spec.yaml")
    text = str(info.value)
    assert "\n" not in text and text.startswith("spec.yaml: ") and "; fix: " in text


def test_the_baseline_may_name_a_recalibrated_copy():
    config = experiment_from_dict(
        {
            "models": ["logit"],
            "history_recalibration": {"models": ["logit"]},
            "evaluation": {"baseline": "logit_recal"},
        }
    )
    assert config.baseline == "logit_recal"


def _write(tmp_path: Path, text: str, name: str = "spec.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _backtest(capsys, spec: Path, out: Path) -> tuple[int, str]:
    code = main(["backtest", str(spec), "--out", str(out), "--no-track", "--no-cache"])
    captured = capsys.readouterr()
    return code, captured.err


# One row per case of the issue "Faults and bad input": the edit to BASE, the line and key
# path it must name, and what the message must say.
CASES = {
    "seed-not-a-number": (
        ("seed: 1", 'seed: "abc"'),
        5,
        "seed",
        r"must be an integer, got 'abc'; valid: integers >= 0",
    ),
    "origin-not-a-number": (
        ("first: 2015", 'first: "abc"'),
        4,
        "origins.first",
        r"must be an integer, got 'abc'",
    ),
    "cost-ratio-not-a-number": (
        ("cost_ratios: [0.1]", 'cost_ratios: ["abc"]'),
        11,
        "costs.cost_ratios[0]",
        r"must be a number, got 'abc'; valid: numbers in \(0, 1\)",
    ),
    "models-a-string": (
        ("models: [logit]", "models: elastic_net"),
        6,
        "models",
        r"must be a list, got 'elastic_net'; valid: a list of model names",
    ),
    "unknown-dataset-option": (
        (
            "dataset: synthetic-world",
            ("dataset: synthetic-world\ndataset_options: {n_planets: 500}"),
        ),
        3,
        "dataset_options.n_planets",
        (
            r"unknown option of dataset 'synthetic-world', got 'n_planets'; "
            r"valid: \['seed', 'regime', 'n_countries', 'n_years', 'flavour', 'n_cells', 'dtype'\]"
        ),
    ),
    "top-k-below-one": (
        ("top_k: [10]", "top_k: [0, -5]"),
        8,
        "evaluation.top_k[0]",
        r"out of range, got 0; valid: integers >= 1",
    ),
    "baseline-not-a-model": (
        ("baseline: logit", "baseline: nomodel"),
        9,
        "evaluation.baseline",
        (
            r"not a model label of this spec, got 'nomodel'; valid: \['logit'\]; "
            r"fix: set evaluation\.baseline"
        ),
    ),
    "cost-ratio-zero": (
        ("cost_ratios: [0.1]", "cost_ratios: [0]"),
        11,
        "costs.cost_ratios[0]",
        r"out of range, got 0; valid: numbers in \(0, 1\)",
    ),
    "origins-first-after-last": (
        ("{first: 2015, last: 2024}", "{first: 2024, last: 2015}"),
        4,
        "origins.first",
        (
            r"the first origin \(2024\) is after the last \(2015\).*"
            r"valid: first <= last; fix: swap them"
        ),
    ),
    "unknown-nested-key": (
        ("  baseline: logit", "  baseline: logit\n  top_kk: [5]"),
        10,
        "evaluation.top_kk",
        r"unknown key, got 'top_kk'.*did you mean 'top_k'",
    ),
    "duplicate-key": (("seed: 1", "seed: 1\nseed: 2"), 6, "seed", r"duplicate key, got 'seed'"),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_cli_rejects_a_bad_spec_in_one_line_before_any_work(tmp_path, capsys, case):
    (old, new), line, key_path, message = CASES[case]
    assert old in BASE
    spec = _write(tmp_path, BASE.replace(old, new, 1))
    out = tmp_path / "out"
    code, err = _backtest(capsys, spec, out)
    assert code == 2 and "Traceback" not in err
    assert len(err.splitlines()) == 1, err
    match = ONE_LINE.match(err.strip())
    assert match, err
    assert (match["file"], int(match["line"]), match["path"]) == (str(spec), line, key_path), err
    assert re.search(message, err), err
    assert "--" not in match["fix"], err  # the fix names the YAML key, not a CLI flag
    assert not out.exists()


def test_cli_reports_malformed_yaml_with_line_and_column(tmp_path, capsys):
    spec = _write(tmp_path, BASE.replace("models: [logit]", "models: [logit"), "bad.yaml")
    out = tmp_path / "out"
    code, err = _backtest(capsys, spec, out)
    assert code == 2 and "Traceback" not in err and len(err.splitlines()) == 1, err
    assert re.match(
        rf"forecast: error: {re.escape(str(spec))}:7:11: invalid YAML: expected ',' "
        r"or '\]', but got ':' \(while parsing a flow sequence\); fix: ",
        err,
    ), err
    assert not out.exists()


def test_lines_point_into_nested_lists(tmp_path):
    text = (
        "models:\n  - name: logit\n  - name: xgboost\n    params: {n_estimators: 5}\n"
        "  - name: nope\n"
    )
    with pytest.raises(ForecastInputError, match=r"spec\.yaml:5: models\[2\]\.name: unknown model"):
        load_experiment(_write(tmp_path, text))


def test_empty_and_missing_files(tmp_path):
    with pytest.raises(
        ForecastInputError,
        match=r"empty\.yaml:1: \(top level\): must be a mapping, "
        r"got None",
    ):
        load_experiment(_write(tmp_path, "", "empty.yaml"))
    with pytest.raises(ForecastInputError, match=r"nowhere\.yaml: experiment spec not found"):
        load_experiment(tmp_path / "nowhere.yaml")


def test_a_relative_feature_set_path_is_read_beside_the_spec(tmp_path, monkeypatch):
    from importlib.resources import files

    folder = tmp_path / "project"
    folder.mkdir()
    shipped = files("forecast") / "_data" / "features" / "synthetic-world.yaml"
    (folder / "my-features.yaml").write_text(shipped.read_text())
    spec = folder / "spec.yaml"
    spec.write_text(
        "name: beside\nfeature_set: my-features.yaml\norigins: {first: 2000, last: 2001}\n"
        "models: [elastic_net]\n"
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    config = load_experiment(spec)
    assert config.feature_set == str(folder / "my-features.yaml")
    assert config.raw["feature_set"] == "my-features.yaml"  # the spec as written

    spec.write_text(spec.read_text().replace("my-features.yaml", "missing.yaml"))
    with pytest.raises(ForecastInputError, match=r"file not found.*relative to .*project or "):
        load_experiment(spec)


def _bomb(levels: int, width: int = 9) -> str:
    """YAML of ``levels`` anchored lists, each of ``width`` aliases of the one before."""
    lines = ["a0: &a0 [" + ", ".join(["x"] * width) + "]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]" for i in range(1, levels)]
    return "\n".join(lines) + "\nmodels: [logit]\n"


@pytest.mark.parametrize("levels", [7, 9])
def test_an_alias_bomb_is_refused_in_one_line_within_a_second(tmp_path, levels):
    import time

    spec = _write(tmp_path, _bomb(levels))
    start = time.perf_counter()
    with pytest.raises(ForecastInputError, match=r"spec\.yaml:6:5: invalid YAML: aliases") as info:
        load_experiment(spec)
    assert time.perf_counter() - start < 1.0
    assert "\n" not in str(info.value) and "more than the 100_000 allowed" in str(info.value)


def test_a_few_aliases_still_load(tmp_path):
    text = BASE.replace("models: [logit]", "models: &m [logit]\nevaluation_copy: *m")
    with pytest.raises(ForecastInputError, match=r"evaluation_copy: unknown key"):
        load_experiment(_write(tmp_path, text))  # parsed; refused as an unknown key only


EVIL = {
    "name": "sklearn",
    "params": {"class": "subprocess.run", "args": "touch {marker}", "shell": True},
}


@pytest.mark.parametrize("command", ["backtest", "explain"])
def test_a_spec_cannot_run_code_while_it_is_validated(tmp_path, capsys, command):
    import yaml

    marker = tmp_path / "ran"
    evil = {**EVIL, "params": {**EVIL["params"], "args": f"touch {marker}"}}
    spec = _write(tmp_path, yaml.safe_dump({"name": "evil", "models": [evil]}))
    argv = {
        "backtest": ["backtest", str(spec), "--out", str(tmp_path / "out"), "--no-track"],
        "explain": ["explain", str(spec), "--unit", "X", "--from", "1", "--to", "2"],
    }[command]
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2 and len(err.splitlines()) == 1, err
    assert "spec.yaml:5: models[0].params.class: not in an allowed module" in err, err
    assert not marker.exists()


def test_only_estimator_classes_of_allowed_modules_are_imported(monkeypatch):
    def spec(path):
        return {"models": [{"name": "sklearn", "params": {"class": path}}]}

    with pytest.raises(ForecastInputError, match=r"class: not a scikit-learn estimator class"):
        experiment_from_dict(spec("sklearn.utils.Bunch"), source="spec.yaml")
    with pytest.raises(ForecastInputError, match=r"class: not in an allowed module"):
        experiment_from_dict(spec("glum.GeneralizedLinearRegressor"), source="spec.yaml")
    monkeypatch.setenv("FORECAST_ALLOWED_MODULES", "somewhere.else, glum")
    with pytest.raises(ForecastInputError, match=r"has no predict_proba"):  # imported: a regressor
        experiment_from_dict(spec("glum.GeneralizedLinearRegressor"), source="spec.yaml")


MODEL_PARAMS = {
    "xgboost n_estimators -1": (
        "{name: xgboost, params: {n_estimators: -1}}",
        r"models\[0\]\.params\.n_estimators: out of range, got -1; valid: an int in the range "
        r"\[1, inf\)",
    ),
    "xgboost learning_rate nan": (
        "{name: xgboost, params: {learning_rate: .nan}}",
        r"models\[0\]\.params\.learning_rate: must be a finite number, got nan",
    ),
    "elastic_net n_alphas 0": (
        "{name: elastic_net, params: {n_alphas: 0}}",
        r"models\[0\]\.params\.n_alphas: out of range, got 0",
    ),
    "random_forest by sklearn's constraints": (
        "{name: random_forest, params: {max_features: 0.0}}",
        r"models\[0\]\.params\.max_features: out of range, got 0\.0; valid: .*\(0\.0, 1\.0\]",
    ),
    "sklearn class by its constraints": (
        "{name: sklearn, params: {class: sklearn.linear_model.LogisticRegression, C: -1}}",
        r"models\[0\]\.params\.C: out of range, got -1",
    ),
}


@pytest.mark.parametrize("case", list(MODEL_PARAMS))
def test_model_params_out_of_range_name_the_spec_line(tmp_path, case):
    item, message = MODEL_PARAMS[case]
    spec = _write(tmp_path, BASE.replace("models: [logit]", f"models:\n  - {item}"))
    with pytest.raises(ForecastInputError, match=rf"spec\.yaml:7: {message}"):
        load_experiment(spec)


@pytest.mark.parametrize(
    "options, message",
    [
        ("{n_countries: 100000000}", r"dataset_options\.n_countries: n_countries must be at most"),
        ("{flavour: grid, n_cells: 0}", r"dataset_options\.n_cells: n_cells must be an int >= 1"),
        ("{dtype: float16}", r"dataset_options\.dtype: dtype must be 'float64' or 'float32'"),
        ("{n_countries: 1e8}", r"dataset_options\.n_countries: n_countries must be an int"),
    ],
)
def test_dataset_options_out_of_range_name_the_spec_line(tmp_path, options, message):
    text = BASE.replace("seed: 1\n", f"seed: 1\ndataset_options: {options}\n")
    with pytest.raises(ForecastInputError, match=rf"spec\.yaml:6: {message}"):
        load_experiment(_write(tmp_path, text))


def test_a_feature_set_that_is_no_file_says_what_it_is(tmp_path):
    (tmp_path / "folder.yaml").mkdir()
    (tmp_path / "loop.yaml").symlink_to(tmp_path / "loop2.yaml")
    (tmp_path / "loop2.yaml").symlink_to(tmp_path / "loop.yaml")
    for name, problem in [
        ("folder.yaml", "a folder, not a file"),
        ("/dev/zero", r"not a regular file \(a device, pipe or socket\)"),
        ("loop.yaml", "a symlink loop"),
    ]:
        spec = _write(tmp_path, BASE.replace("seed: 1\n", f"seed: 1\nfeature_set: {name}\n"))
        with pytest.raises(
            ForecastInputError, match=rf"spec\.yaml:6: feature_set: the path is {problem}"
        ):
            load_experiment(spec)
    with pytest.raises(ForecastInputError, match=r"zero: the spec is not a regular file"):
        load_experiment("/dev/zero")
