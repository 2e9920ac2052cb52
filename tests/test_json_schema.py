"""The spec JSON Schemas are generated from what the loaders check and cannot drift."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from forecast import ForecastInputError
from forecast._json_schema import experiment_json_schema, feature_set_json_schema
from forecast._shipped import experiment_dir
from forecast.experiment import SpecDocument, _config
from forecast.features import feature_set_dir, parse_feature_set
from forecast.features._spec import _IND, _TOP

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


# --- feature sets -------------------------------------------------------------------------
FEATURES_SHIPPED = feature_set_dir() / "feature-set.schema.json"
FEATURE_SETS = sorted(feature_set_dir().glob("*.yaml"))


def test_the_shipped_feature_set_schema_file_is_the_generated_one():
    # A fresh process: test modules register their own transforms in this one.
    done = subprocess.run(
        [sys.executable, "-m", "forecast", "schema", "feature-set"],
        capture_output=True,
        text=True,
        check=True,
    )
    generated = json.loads(done.stdout)
    assert json.loads(FEATURES_SHIPPED.read_text()) == generated, (
        "regenerate: forecast schema feature-set > forecast/_data/features/feature-set.schema.json"
    )
    jsonschema.Draft202012Validator.check_schema(generated)
    # Every key the loader accepts is described (the generator raises otherwise).
    indicator = generated["properties"]["indicators"]["items"]
    assert set(generated["properties"]) == _TOP and set(indicator["properties"]) == _IND


@pytest.mark.parametrize("path", FEATURE_SETS, ids=lambda p: p.name)
def test_shipped_feature_sets_reference_and_satisfy_the_schema(path: Path):
    text = path.read_text()
    assert text.splitlines()[0] == "# yaml-language-server: $schema=feature-set.schema.json"
    jsonschema.validate(yaml.safe_load(text), json.loads(FEATURES_SHIPPED.read_text()))
    assert parse_feature_set(path).name == path.stem  # the comment line changes nothing


_IND_OK = {"name": "a", "source": "mine.x", "kind": "structural"}
_FS = {
    "name": "toy",
    "skeleton": "mine",
    "datasets": {"mine": {"path": "x.csv", "unit": "country", "year": "year"}},
    "indicators": [_IND_OK],
}


def _ind(**change):
    return {**_FS, "indicators": [{**_IND_OK, **change}]}


# name -> (a spec that breaks one rule of the good toy spec, what the loader's message says)
BAD_FEATURE_SETS = {
    "unknown top key": ({**_FS, "skeletn": "mine"}, "unknown top-level key"),
    "no indicators": ({**_FS, "indicators": []}, "indicators must be a non-empty list"),
    "no skeleton": ({"name": "toy", "indicators": [_IND_OK]}, "missing 'skeleton'"),
    "unknown indicator key": (_ind(kinds="other"), "unknown indicator key"),
    "feature without kind": (
        {**_FS, "indicators": [{"name": "a", "source": "mine.x"}]},
        "needs a kind",
    ),
    "unknown kind": (_ind(kind="fancy"), "kind must be one of"),
    "unknown role": (_ind(role="target"), "role must be one of"),
    "risk factor 15": (_ind(risk_factor=15), "risk_factor must be"),
    "source without column": (_ind(source="mine"), "source must be"),
    "unknown transform": (_ind(transforms=["lagg"]), "unknown transform 'lagg'"),
    "transform without its parameter": (_ind(transforms=["rolling_sum"]), "needs the param"),
    "transform parameter type": (_ind(transforms=[{"lag": {"years": "one"}}]), "lag.years"),
    "unknown transform parameter": (_ind(transforms=[{"lag": {"yeers": 1}}]), "no parameter"),
    "missing policy": (_ind(missing="drop"), "missing must be one of"),
    "carry_forward 0": (_ind(missing={"carry_forward": 0}), "carry_forward must be"),
    "display scale": (_ind(display="logarithm"), "display scale must be one of"),
    "negative publication lag": (_ind(publication_lag=-1), "publication_lag must be"),
    "dataset without year": (
        {**_FS, "datasets": {"mine": {"path": "x.csv", "unit": "country"}}},
        "needs path, unit and year",
    ),
    "unknown registered dataset": (
        {**_FS, "datasets": {"mine": {"dataset": "nowhere"}}},
        "unknown registered dataset",
    ),
    "unknown dataset option": (
        {**_FS, "datasets": {"mine": {"dataset": "synthetic-world", "options": {"seeed": 1}}}},
        "unknown option",
    ),
    "unit_system": ({**_FS, "unit_system": "iso"}, "unit_system must be"),
    "unit_noun without singular": ({**_FS, "unit_noun": {"plural": "cells"}}, "unit_noun must"),
}


def test_a_good_toy_feature_set_passes_both(tmp_path: Path):
    """The broken specs below differ from this one by one key; it passes both checks."""
    (tmp_path / "x.csv").write_text("country,year,x\n2,2000,1\n")
    jsonschema.validate(_FS, feature_set_json_schema())
    (tmp_path / "toy.yaml").write_text(yaml.safe_dump(_FS))
    assert parse_feature_set(tmp_path / "toy.yaml").features == ["a"]


@pytest.mark.parametrize(("spec", "message"), BAD_FEATURE_SETS.values(), ids=list(BAD_FEATURE_SETS))
def test_feature_set_schema_and_loader_refuse_the_same_errors(spec, message, tmp_path: Path):
    """Oracle: each spec breaks one rule; the loader and the JSON Schema both refuse it."""
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(spec, feature_set_json_schema())
    (tmp_path / "x.csv").write_text("country,year,x\n2,2000,1\n")
    (tmp_path / "toy.yaml").write_text(yaml.safe_dump(spec))
    with pytest.raises(ForecastInputError, match=re.escape(message)):
        parse_feature_set(tmp_path / "toy.yaml")
