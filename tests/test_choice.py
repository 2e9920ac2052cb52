"""The one rule that picks a run's recommended model (docs/design/0011)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from forecast._errors import ForecastInputError
from forecast.choice import ModelChoice, recommend_model, spec_cost_ratio
from forecast.experiment import experiment_from_dict, load_experiment

EXPERIMENTS = Path(__file__).resolve().parents[1] / "experiments"


def _spec(models, **extra):
    return experiment_from_dict({"name": "t", "models": models, **extra})


def test_first_meta_model_in_its_recalibrated_copy():
    config = _spec(
        ["elastic_net", "xgboost", {"name": "selected"}, {"name": "stacked"}],
        history_recalibration={"models": ["selected", "elastic_net"]},
    )
    choice = recommend_model(config)
    assert choice.recommended == "selected_recal"
    assert "first selected model" in choice.reason


def test_meta_model_without_recalibration_and_suffix():
    config = _spec(
        ["elastic_net", {"name": "stacked", "label": "meta"}],
        history_recalibration={"models": ["elastic_net"], "suffix": "_hc"},
    )
    assert recommend_model(config).recommended == "meta"
    config = _spec(
        ["elastic_net", {"name": "stacked", "label": "meta"}],
        history_recalibration={"models": ["meta"], "suffix": "_hc"},
    )
    assert recommend_model(config).recommended == "meta_hc"


def test_first_model_without_meta_model():
    choice = recommend_model(_spec(["xgboost", "elastic_net"]))
    assert choice.recommended == "xgboost"
    assert "first model" in choice.reason


def test_default_model_wins_and_is_checked():
    config = _spec(
        ["stacked", "elastic_net"],
        default_model="elastic_net_recal",
        history_recalibration={"models": ["elastic_net"]},
    )
    choice = recommend_model(config)
    assert choice.recommended == "elastic_net_recal"
    assert choice.reason == "the spec names it as default_model"
    with pytest.raises(ForecastInputError, match="default_model: not a model label"):
        _spec(["stacked", "elastic_net"], default_model="elastic_nett")


def test_shipped_specs_recommend_the_published_list():
    for name in ("ewp-2025", "ewp-2025-plus", "synthetic-default"):
        config = load_experiment(EXPERIMENTS / f"{name}.yaml")
        assert recommend_model(config).recommended == "stacked_recal", name


def test_hindsight_best_is_a_reference_and_value_below_nothing():
    config = _spec(["stacked", "elastic_net", "xgboost"], costs={"cost_ratios": [0.1, 0.05]})
    metrics = pd.DataFrame(
        {"model": ["stacked", "elastic_net", "xgboost", "oracle"], "roc_auc": [0.8, 0.8, 0.9, 1]}
    )
    costs = pd.DataFrame(
        {
            "model": ["stacked", "stacked", "stacked"],
            "policy": ["honest", "in_sample", "honest"],
            "cost_ratio": [0.1, 0.1, 0.05],
            "value_vs_nothing": [-0.013, 0.2, 0.1],
        }
    )
    choice = recommend_model(config, metrics=metrics, costs=costs)
    assert choice.recommended == "stacked"
    assert choice.hindsight_best == "xgboost"  # never the recommendation
    assert choice.cost_ratio == 0.1
    assert choice.below_nothing is True and choice.value == pytest.approx(-0.013)
    assert choice.warning().startswith("At the spec's cost ratio 1:10, acting on stacked's")
    assert recommend_model(config).below_nothing is None
    assert recommend_model(config).warning() == ""


def test_note_for_other_models_only():
    choice = ModelChoice("stacked_recal", "it is the first")
    assert choice.note_for("stacked_recal") == ""
    assert choice.note_for("xgboost") == (
        "model xgboost; the rule recommends stacked_recal because it is the first"
    )


def test_spec_cost_ratio_median():
    assert spec_cost_ratio([0.02, 0.1, 0.05]) == 0.05
    assert spec_cost_ratio([]) == 1 / 20


def test_a_recorded_spec_gives_the_same_choice_as_its_config():
    for name in ("ewp-2025-plus", "synthetic-grid"):
        config = load_experiment(EXPERIMENTS / f"{name}.yaml")
        assert recommend_model(config.raw) == recommend_model(config)
    raw = {"models": ["elastic_net", {"name": "stacked", "label": "s"}], "default_model": None}
    assert recommend_model(raw).recommended == "s"
    with pytest.raises(ValueError, match="no models"):
        recommend_model({})
