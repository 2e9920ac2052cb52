"""fit_latest: the risk list equals the backtest's forecasts, ranks, previous list, errors."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from forecast._errors import ForecastInputError
from forecast.backtest import default_cache_dir, run_backtest
from forecast.data import load_dataset
from forecast.experiment import experiment_from_dict
from forecast.risk import fit_latest, forecast_years

MEMBERS = [
    {"name": "elastic_net", "params": {"n_alphas": 8}},
    {"name": "xgboost", "params": {"n_estimators": 30}},
]
LABELS = ["ensemble", "calibrated", "anchored"]  # the ensemble covers its members' construction
META = ["stacked", "selected"]
META_MEMBERS = ["elastic_net", "xgboost", "anchored"]  # labels of the spec


@pytest.fixture(scope="module")
def panel():
    return load_dataset("synthetic-world")


@pytest.fixture(scope="module")
def config():
    return experiment_from_dict(
        {
            "name": "x",
            "dataset": "synthetic-world",
            "horizon": 2,
            "seed": 3,
            "origins": {"first": 2015, "last": 2024},
            "models": [
                *MEMBERS,
                {"name": "ensemble", "params": {"members": MEMBERS, "method": "logit"}},
                {
                    "name": "elastic_net",
                    "label": "calibrated",
                    "params": {"n_alphas": 8},
                    "calibration": "platt",
                },
                {
                    "name": "ensemble",
                    "label": "anchored",
                    "anchor_years": 10,
                    "params": {"members": MEMBERS},
                },
                *({"name": name, "params": {"members": META_MEMBERS}} for name in META),
            ],
        }
    )


@pytest.fixture(scope="module")
def backtest(config, panel):
    small = dataclasses.replace(
        config, origins=(2023, 2024), models=tuple(s for s in config.models if s.label in LABELS)
    )
    return run_backtest(small, panel=panel).forecasts


@pytest.fixture(scope="module")
def latest(config, panel):
    return {label: fit_latest(config, model_label=label, panel=panel) for label in LABELS}


@pytest.mark.parametrize("label", LABELS)
def test_probabilities_equal_the_backtest_bit_for_bit(latest, backtest, label):
    lf = latest[label]
    assert lf.year == 2024
    for fit in (lf.current, lf.previous):
        own = backtest[(backtest["model"] == label) & (backtest["origin"] == fit.year)]
        own = own.set_index("unit").loc[fit.units]
        assert len(own) == len(fit.units) > 100
        assert np.array_equal(own["probability"].to_numpy(), fit.probability)
        # the fitted estimator (what a registered model serves) gives the same bits
        assert np.array_equal(fit.estimator.predict_proba(fit.X)[:, 1], fit.probability)
        if label == "calibrated":  # recalibrated models give the backtest's interval too
            assert np.array_equal(own["lower"].to_numpy(), fit.lower)
            assert np.array_equal(own["upper"].to_numpy(), fit.upper)
            assert np.all(fit.lower <= fit.upper)


@pytest.fixture(scope="module")
def meta_backtest(config, panel):
    """The whole backtest (2015-2024) of the members and the meta models: their history.

    In the task cache that risk lists use: the member fits of a risk list are refitted for
    its year, so the comparison below still checks refit against backtest bits."""
    small = dataclasses.replace(
        config, models=tuple(s for s in config.models if s.label in META_MEMBERS + META)
    )
    return run_backtest(small, panel=panel, cache_dir=default_cache_dir()).forecasts


@pytest.mark.parametrize("label", META)
def test_meta_models_equal_the_backtest_bit_for_bit(config, panel, meta_backtest, label):
    """Same weights from the same history: the list of stacked/selected is the backtest's."""
    lf = fit_latest(config, model_label=label, panel=panel)
    assert lf.year == 2024 and lf.spec.label == label
    for fit in (lf.current, lf.previous):
        f = meta_backtest
        own = f[(f["model"] == label) & (f["origin"] == fit.year)].set_index("unit").loc[fit.units]
        assert own["meta_choice"].iloc[0] != "equal"  # weights from the history, not the default
        assert np.array_equal(own["probability"].to_numpy(), fit.probability)
        assert np.array_equal(fit.estimator.predict_proba(fit.X)[:, 1], fit.probability)
        weights = [own[f"weight_{m}"].iloc[0] for m in META_MEMBERS]
        assert np.array_equal(fit.estimator.weights, weights)
        assert np.isnan(fit.lower).all()


def test_interval_note_when_the_model_has_no_interval(latest):
    assert np.isnan(latest["ensemble"].current.lower).all()
    assert any("no interval" in note for note in latest["ensemble"].notes)
    assert not any("no interval" in note for note in latest["calibrated"].notes)


def test_training_rows_are_exactly_the_known_outcomes(latest, panel):
    frame = panel.frame
    for fit in (latest["ensemble"].current, latest["ensemble"].previous):
        # independent route: the dataset's own censored window column
        known = (frame["year"] <= fit.year - 2) & frame["mk_onset_1or2"].notna()
        assert fit.train_end == fit.year - 2
        assert fit.n_train == int(known.sum())
        assert fit.n_train_onsets == int(frame.loc[known, "mk_onset_1or2"].sum())
        assert set(fit.units) == set(frame.loc[frame["year"] == fit.year, "unit"])


def test_table_ranks_and_changes(latest):
    table = latest["ensemble"].table()
    assert table["rank"].tolist() == list(range(1, len(table) + 1))
    assert np.all(np.diff(table["probability"].to_numpy()) <= 0)
    previous = latest["ensemble"].previous
    before = dict(zip(previous.units, previous.probability))
    expected = table["probability"] - table["unit"].map(before)
    np.testing.assert_array_equal(table["change"].to_numpy(), expected.to_numpy())
    ranked_before = sorted(before, key=lambda u: (-before[u], u))
    first = table.loc[table["unit"] == ranked_before[0], "previous_rank"]
    assert first.item() == 1


def test_ties_are_ranked_by_unit_name():
    from forecast.risk._fit import rank_units

    ranks = rank_units(np.array(["b", "a", "c", "d"]), np.array([0.2, 0.2, 0.5, 0.1]))
    assert ranks.tolist() == [3, 2, 1, 4]


def test_unknown_model_label_lists_the_labels(config, panel):
    with pytest.raises(ForecastInputError, match=r"unknown model label 'nope'.*elastic_net"):
        fit_latest(config, model_label="nope", panel=panel)


@pytest.mark.parametrize("year", [1965, 2030, 2024.0])
def test_bad_year_lists_the_valid_span(config, panel, year):
    valid = forecast_years(config, panel)
    with pytest.raises(
        ForecastInputError, match=rf"not a forecast year.*use a year in {valid[0]}\.\.{valid[-1]}"
    ):
        fit_latest(config, model_label="elastic_net", panel=panel, year=year)


def test_a_float32_panel_lists_the_backtest_bits():
    """The grid world keeps float32 features: the list is fitted on the backtest's array."""
    grid = load_dataset("synthetic-world", flavour="grid", n_cells=225, n_years=20, seed=2)
    assert all(grid.frame[f].dtype == np.float32 for f in grid.features)
    config = experiment_from_dict(
        {
            "name": "grid",
            "dataset": "synthetic-world",
            "horizon": 2,
            "seed": 1,
            "origins": {"first": 2023, "last": 2024},
            "models": [{"name": "elastic_net", "params": {"n_alphas": 6}}, "logit"],
        }
    )
    forecasts = run_backtest(config, panel=grid).forecasts
    for label in ("elastic_net", "logit"):
        fit = fit_latest(config, model_label=label, panel=grid).current
        own = forecasts[(forecasts["model"] == label) & (forecasts["origin"] == fit.year)]
        own = own.set_index("unit").loc[fit.units]
        assert np.array_equal(own["probability"].to_numpy(), fit.probability)
