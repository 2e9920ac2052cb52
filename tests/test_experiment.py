from pathlib import Path

import pytest

from forecast import ForecastInputError
from forecast.experiment import experiment_from_dict, load_experiment

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("path", sorted((ROOT / "experiments").glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_experiments_load(path):
    config = load_experiment(path)
    assert config.models and config.horizon >= 1


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"models": ["nope"]}, r"unknown model 'nope'.*valid|unknown model 'nope'.*use one of"),
        ({"models": ["logit"], "dataset": "imaginary"}, r"unknown dataset 'imaginary'"),
        ({"models": ["logit"], "evaluation": {"metrics": ["auroc"]}}, r"unknown metric 'auroc'; valid names"),
        ({"models": ["logit"], "horizon": 0}, r"horizon must be an integer >= 1"),
        ({"models": ["logit"], "horizn": 2}, r"unknown key\(s\) \['horizn'\]"),
        ({"models": []}, r"no models listed"),
        ({"models": ["logit", "logit"]}, r"duplicate model label 'logit'"),
        ({"models": [{"name": "logit", "calibration": "magic"}]}, r"unknown calibration 'magic'"),
        ({"models": ["logit"], "costs": {"effectiveness": 1.5}}, r"effectiveness must be in \(0, 1\]"),
        ({"models": ["logit"], "costs": {"capacity": 0}}, r"capacity must be an integer >= 1"),
    ],
)
def test_bad_specs_fail_with_one_line(raw, message):
    with pytest.raises(ForecastInputError, match=message) as info:
        experiment_from_dict(raw, source="spec.yaml")
    assert "\n" not in str(info.value) and str(info.value).startswith("spec.yaml")


def test_invalid_yaml_names_the_file(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("models: [logit\n")
    with pytest.raises(ForecastInputError, match=r"bad.yaml: invalid YAML"):
        load_experiment(path)
