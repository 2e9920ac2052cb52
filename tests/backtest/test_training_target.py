"""The training target: an annual event windowed once; a window column is never re-windowed.

Leakage property: a forecast made at origin ``T`` learns from outcomes known by ``T``, so
flipping every onset after ``T`` leaves it unchanged.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forecast._errors import ForecastInputError
from forecast.backtest import run_backtest
from forecast.experiment import experiment_from_dict
from forecast.features import build_panel, feature_set_dir, load_feature_set
from forecast.outcomes import onset_within, training_target
from forecast.panel import Panel


def _config(outcome: str, origin: int, model: str = "logit"):
    return experiment_from_dict(
        {
            "name": "leak",
            "outcome": outcome,
            "horizon": 2,
            "origins": [origin],
            "min_train_years": 5,
            "models": [{"name": model}],
        },
        source="leak.yaml",
    )


def _with_onsets(panel: Panel, onsets: np.ndarray) -> Panel:
    frame = panel.frame.assign(mk_onset=onsets)
    frame["mk_onset_1or2"] = onset_within(frame, 2)
    return Panel.from_frame(
        frame,
        features=panel.features,
        outcomes=["mk_onset", "mk_onset_1or2"],
        name="toy",
        windows={"mk_onset_1or2": (1, 2)},
    )


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(origin=st.integers(1995, 2007))
def test_flipping_onsets_after_the_origin_leaves_its_forecasts_unchanged(toy_panel, origin):
    panel = toy_panel
    base = panel.frame["mk_onset"].to_numpy()
    later = panel.frame["year"].to_numpy() > origin
    flipped = base.copy()
    flipped[later] = 1 - flipped[later]
    config = _config("mk_onset", origin)
    runs = [
        run_backtest(config, panel=_with_onsets(panel, onsets)).forecasts
        for onsets in (base, flipped)
    ]
    assert len(runs[0]) > 0
    np.testing.assert_array_equal(runs[0]["probability"], runs[1]["probability"])


def test_a_window_outcome_is_refused_by_the_backtest(toy_panel):
    panel = _with_onsets(toy_panel, toy_panel.frame["mk_onset"].to_numpy())
    with pytest.raises(
        ForecastInputError,
        match=r"leak\.yaml: outcome 'mk_onset_1or2' is already a window \(an onset in "
        r"t\+1\.\.t\+2\).*fix: write outcome: mk_onset \(the annual event\) and horizon: 2",
    ):
        run_backtest(_config("mk_onset_1or2", 2005), panel=panel)


def test_the_target_is_the_annual_event_windowed_once(toy_panel):
    panel = _with_onsets(toy_panel, toy_panel.frame["mk_onset"].to_numpy())
    target = training_target(panel, _config("mk_onset", 2005))
    np.testing.assert_array_equal(target, panel.frame["mk_onset_1or2"].to_numpy())


def _byo_panel(tmp_path: Path) -> Panel:
    rng = np.random.default_rng(5)
    rows = [
        (
            c,
            y,
            rng.random(),
            int(rng.integers(0, 500)),
            int(rng.random() < 0.1),
            1 * (rng.random() < 0.15),
        )
        for c in [f"C{i:02d}" for i in range(25)]
        for y in range(1990, 2016)
    ]
    pd.DataFrame(
        rows, columns=["country", "year", "repression", "conflict_deaths", "coup", "onset"]
    ).to_csv(tmp_path / "my_panel.csv", index=False)
    spec = tmp_path / "byo.yaml"
    spec.write_text((feature_set_dir() / "byo-example.yaml").read_text())
    return build_panel(load_feature_set(spec))


def test_the_byo_example_declares_its_window_and_the_backtest_refuses_it(tmp_path):
    panel = _byo_panel(tmp_path)
    assert panel.windows == {"onset_1or2": (1, 2)}
    with pytest.raises(ForecastInputError, match="outcome 'onset_1or2' is already a window"):
        run_backtest(_config("onset_1or2", 2012), panel=panel)
    forecasts = run_backtest(_config("onset", 2012), panel=panel).forecasts
    assert forecasts["origin"].unique().tolist() == [2012]


def test_ewp_window_outcomes_are_declared():
    from forecast.data._ewp import EWP_OUTCOMES, EWP_WINDOWS

    assert set(EWP_OUTCOMES) - set(EWP_WINDOWS) == {"mk_onset"}


@pytest.mark.realdata
def test_ewp_window_outcome_is_refused_before_any_fit(monkeypatch):
    from forecast.experiment import load_experiment

    config = load_experiment("experiments/ewp-2025.yaml")
    leaky = experiment_from_dict(
        {
            "name": "leak",
            "dataset": "ewp-2025",
            "outcome": "mk_onset_1or2",
            "horizon": 2,
            "origins": [2012],
            "models": [{"name": "logit"}],
        },
        source="leak.yaml",
    )
    assert config.outcome == "mk_onset"
    import forecast.backtest._engine as engine

    monkeypatch.setattr(engine, "_run_fits", lambda *a, **k: pytest.fail("fitted"))
    with pytest.raises(ForecastInputError, match="outcome 'mk_onset_1or2' is already a window"):
        run_backtest(leaky)
