"""Anchored models in the backtest: same fits, each origin's level set by its own past."""

import numpy as np
import pandas as pd
import pytest

from forecast._errors import ForecastInputError
from forecast.backtest import run_backtest
from forecast.calibration._anchor import anchored
from forecast.experiment import experiment_from_dict
from forecast.outcomes import onset_within


def _config(models):
    return experiment_from_dict(
        {
            "name": "toy",
            "horizon": 2,
            "origins": {"first": 1995, "last": 2010},
            "min_train_years": 5,
            "models": models,
        }
    )


def test_backtest_anchors_each_origin_to_its_own_training_rate(toy_panel, tmp_path):
    xgb = {"name": "xgboost", "params": {"n_estimators": 20}}
    config = _config([xgb, {**xgb, "label": "xgb_anchored", "anchor_years": 6}])
    result = run_backtest(config, panel=toy_panel, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("*.npz"))) == 16  # anchoring reuses the plain fit
    f = result.forecasts
    frame = toy_panel.frame
    target = onset_within(frame, 2).to_numpy()
    for origin, block in f[f.model == "xgb_anchored"].groupby("origin"):
        train = (frame.year <= origin - 2).to_numpy() & ~np.isnan(target)
        recent = train & (frame.year > origin - 2 - 6).to_numpy()
        rate = (target[recent].sum() + 0.5) / (recent.sum() + 1)
        assert block["probability"].mean() == pytest.approx(rate, rel=1e-9)
        plain = f[(f.model == "xgboost") & (f.origin == origin)].set_index("unit")["probability"]
        got = block.set_index("unit")["probability"]
        expected = anchored(plain.loc[got.index].to_numpy(), block["anchor_offset"].iloc[0])
        np.testing.assert_array_equal(got.to_numpy(), expected)
        assert pd.Series(got).rank().equals(pd.Series(plain.loc[got.index]).rank())


def test_experiment_rejects_a_bad_anchor():
    with pytest.raises(ForecastInputError, match=r"anchor_years: must be an integer, got 'x'"):
        _config([{"name": "xgboost", "anchor_years": "x"}])
    with pytest.raises(
        ForecastInputError, match=r"anchor_years: out of range, got 0; valid: integers >= 1"
    ):
        _config([{"name": "xgboost", "anchor_years": 0}])
