"""Profiles and what-ifs of every kind of model: meta models and their recalibrated copies
are the backtest's forecasts bit for bit (one small backtest behind profile, tiers, list)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from forecast.backtest import run_backtest
from forecast.cli import main
from forecast.data import load_dataset
from forecast.experiment import experiment_from_dict
from forecast.risk import backtest_forecasts, country_profile, fit_latest, what_if

UNIT = "Norvania"


@pytest.fixture(scope="module")
def panel():
    return load_dataset("synthetic-world")


@pytest.fixture(scope="module")
def config():
    return experiment_from_dict(
        {
            "name": "meta-profile",
            "seed": 5,
            "horizon": 2,
            "origins": {"first": 2016, "last": 2024},
            "models": [
                {"name": "stacked"},
                {"name": "elastic_net", "params": {"n_alphas": 8}},
                {"name": "logit"},
            ],
            "history_recalibration": {"models": ["stacked", "logit"]},
        }
    )


@pytest.fixture(scope="module")
def full(config, panel, tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    return cache, run_backtest(config, panel=panel, cache_dir=cache).forecasts


@pytest.mark.parametrize("label", ["stacked", "stacked_recal", "logit_recal", "elastic_net"])
def test_the_small_backtest_is_the_full_one_bit_for_bit(config, panel, full, label):
    cache, forecasts = full
    origins = [2018, 2021, 2024]
    small = backtest_forecasts(config, label, panel, origins, cache_dir=cache)
    mine = forecasts[(forecasts["model"] == label) & forecasts["origin"].isin(origins)]
    assert len(small) == len(mine) > 0
    np.testing.assert_array_equal(small["probability"], mine["probability"])


@pytest.mark.parametrize("label", ["stacked", "stacked_recal"])
def test_profile_and_what_if_of_a_meta_model(config, panel, full, label, monkeypatch):
    cache, forecasts = full
    monkeypatch.setenv("FORECAST_CACHE_DIR", str(cache))
    latest = fit_latest(config, model_label=label, panel=panel)
    profile = country_profile(
        config, unit=UNIT, model_label=label, panel=panel, years=3, latest=latest, cache_dir=cache
    )
    assert profile.model == label and list(profile.history["year"]) == [2022, 2023, 2024]
    mine = forecasts[(forecasts["model"] == label) & (forecasts["unit"] == UNIT)]
    expected = mine.set_index("origin").loc[[2022, 2023, 2024], "probability"]
    np.testing.assert_array_equal(profile.history["probability"], expected)
    listed = latest.table().set_index("unit")
    assert profile.history["probability"].iloc[-1] == listed.loc[UNIT, "probability"]
    result = what_if(config, unit=UNIT, values={"coup_try_5yr": 1}, latest=latest)
    assert result.baseline.probability == listed.loc[UNIT, "probability"]


@pytest.mark.realdata
@pytest.mark.slow
def test_readme_profile_and_whatif_of_sudan_with_the_published_models(
    tmp_path, capsys, monkeypatch
):
    """Both published meta models through one cache: the recommended stacked_recal first (its
    history recalibration backtests stacked and the members at every origin), then stacked,
    which finds its forecasts there (a cache hit gives the fresh numbers: tests/backtest)."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("FORECAST_CACHE_DIR", str(cache))
    spec = "experiments/ewp-2025-plus.yaml"
    for label in ("stacked_recal", "stacked"):
        argv = ["profile", spec, "--unit", "Sudan", "--model", label, "--years", "3"]
        out_dir = tmp_path / f"pr-{label}"
        assert main([*argv, "--out", str(out_dir), "--cache-dir", str(cache)]) == 0
        out = capsys.readouterr().out
        if label != "stacked_recal":  # not the recommended model: said in one line first
            note, out = out.split("\n", 1)
            assert note.startswith(f"model {label}; the rule recommends stacked_recal because ")
        assert out.startswith(f"Sudan (model {label})") and re.search(r"^2023 ", out, re.M)
        assert (out_dir / "profile.html").is_file()
        argv = ["whatif", spec, "--unit", "Sudan", "--model", label, "--set", "coup.try.1yr=1"]
        assert main(argv) == 0
        listed = "published list" if label == "stacked_recal" else f"list of {label}"
        assert f"{listed}:" in capsys.readouterr().out
