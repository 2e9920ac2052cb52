"""The experiment spec's JSON Schema is generated from the loader's schema and cannot drift."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from forecast import ForecastInputError
from forecast._json_schema import experiment_json_schema
from forecast._shipped import experiment_dir
from forecast.experiment import SpecDocument, _config

SHIPPED = experiment_dir() / "experiment.schema.json"
SPECS = sorted(experiment_dir().glob("*.yaml"))


def test_the_shipped_schema_file_is_the_generated_one():
    done = subprocess.run(
        [sys.executable, "-m", "forecast", "schema", "experiment"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(done.stdout) == experiment_json_schema()
    assert json.loads(SHIPPED.read_text()) == experiment_json_schema(), (
        "regenerate: forecast schema experiment > forecast/_data/experiments/experiment.schema.json"
    )
    jsonschema.Draft202012Validator.check_schema(experiment_json_schema())


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.name)
def test_shipped_specs_reference_and_satisfy_the_schema(path: Path):
    text = path.read_text()
    assert text.splitlines()[0] == "# yaml-language-server: $schema=experiment.schema.json"
    jsonschema.validate(yaml.safe_load(text), experiment_json_schema())


BAD = {
    "unknown key": {"models": ["logit"], "horizn": 2},
    "horizon below 1": {"models": ["logit"], "horizon": 0},
    "unknown model": {"models": ["no_such_model"]},
    "no models": {"models": []},
    "window choice": {"models": ["logit"], "window": "rolling"},
    "seed type": {"models": ["logit"], "seed": "1"},
    "top_k item": {"models": ["logit"], "evaluation": {"top_k": [0]}},
    "model mapping key": {"models": [{"name": "logit", "lable": "x"}]},
}


@pytest.mark.parametrize("spec", BAD.values(), ids=list(BAD))
def test_schema_and_loader_refuse_the_same_single_key_errors(spec):
    """Oracle: each spec breaks one key's rule; the loader and the JSON Schema both refuse it."""
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(spec, experiment_json_schema())
    with pytest.raises(ForecastInputError):
        _config(SpecDocument.from_yaml(yaml.safe_dump(spec), source="spec.yaml"))
