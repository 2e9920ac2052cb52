"""What a risk list's number is (definition, window, interval level, expected count, scope,
past lists), drivers a reader can follow (no time trend, reasons for unexpected signs) and
what-if values in natural units with derived indicators moving with their source."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from forecast.backtest._task import make_estimator
from forecast.data import dataset_info, load_dataset
from forecast.experiment import ModelSpec, experiment_from_dict, load_experiment
from forecast.features import Display, load_feature_set
from forecast.models import fit_estimator
from forecast.panel import Panel
from forecast.risk import driver_table, driver_text, fit_latest, list_intro, outcome_definition
from forecast.risk._derived import derived_moves
from forecast.risk._drivers import HISTORY_REASON, log_odds, time_terms
from forecast.risk._intro import _past, interval_level
from forecast.risk._whatif import to_model, to_natural, what_if

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def config():
    return experiment_from_dict(
        {
            "name": "x",
            "dataset": "synthetic-world",
            "seed": 5,
            "horizon": 2,
            "origins": {"first": 2015, "last": 2024},
            "models": [{"name": "elastic_net", "params": {"n_alphas": 8}}],
        }
    )


@pytest.fixture(scope="module")
def panel():
    return load_dataset("synthetic-world")


@pytest.fixture(scope="module")
def latest(config, panel):
    return fit_latest(config, model_label="elastic_net", panel=panel)


@pytest.mark.parametrize(
    ("experiment", "dataset"),
    [("synthetic-default", "synthetic-world"), ("ewp-2025-plus", "ewp-2025")],
)
def test_outcome_definition_is_the_datasets_own_and_on_its_card(experiment, dataset):
    definition = outcome_definition(load_experiment(experiment))
    assert definition and definition == dataset_info(dataset).outcome_definition
    card = (REPO / dataset_info(dataset).card).read_text(encoding="utf-8")
    assert " ".join(definition.split()) in " ".join(card.split())  # the card states it too
    if dataset == "ewp-2025":
        assert "at least 1,000 non-combatant civilians deliberately killed" in definition


def test_intro_states_window_expected_count_and_scope(latest, panel):
    intro = list_intro(latest)
    assert (intro.first_year, intro.last_year) == (2025, 2026)
    table = latest.table()  # oracle: the list's own probabilities
    assert intro.expected == pytest.approx(table["probability"].sum(), rel=1e-12)
    assert intro.n_units == len(table)
    assert intro.interval_kind == "none" and intro.level is None  # elastic net: no interval
    assert intro.no_forecast == [] and intro.past is None
    # a unit whose last row is a year early has no forecast, and the page says why
    dropped = latest.current.units[0]
    fake = SimpleNamespace(
        panel=panel,
        year=latest.year,
        config=latest.config,
        spec=latest.spec,
        current=SimpleNamespace(
            units=latest.current.units[1:],
            lower=latest.current.lower[1:],
            probability=latest.current.probability[1:],
        ),
    )
    (reason, names), *_ = list_intro(fake).no_forecast
    assert reason == "in the dataset, but no data for 2024" and names == [
        f"{dropped} (last data 2023)"
    ]


def test_interval_level_is_the_one_the_code_used():
    lower = np.array([0.1])
    config = SimpleNamespace(history_recalibration={"models": ["m"], "level": 0.9})
    fake = SimpleNamespace(
        config=config, spec=SimpleNamespace(label="m_recal"), current=SimpleNamespace(lower=lower)
    )
    assert interval_level(fake) == ("level", 0.9)
    config.history_recalibration = {"models": ["m"]}  # the function's default level
    assert interval_level(fake) == ("level", 0.8)
    from forecast.calibration import RecalibratedClassifier

    fake.spec.label = "m"
    fake.current.estimator = RecalibratedClassifier(None, level=0.7)
    assert interval_level(fake) == ("level", 0.7)
    fake.current.lower = np.array([np.nan])
    assert interval_level(fake) == ("none", None)


def test_past_lists_at_a_level_counted_by_hand():
    rng = np.random.default_rng(3)
    past = pd.DataFrame(
        {
            "unit": np.arange(400) % 40,
            "origin": 2000 + np.arange(400) // 40,
            "probability": rng.beta(1, 8, 400),
            "outcome": np.where(rng.random(400) < 0.1, 1.0, 0.0),
        }
    )
    past.loc[::7, "outcome"] = np.nan  # unknown outcomes are not counted
    got = _past(past, 0.10, 2)
    n = events = 0
    total = 0.0
    for p, y in zip(past["probability"], past["outcome"], strict=True):
        if y == y and p >= 0.10:
            n, events, total = n + 1, events + int(y == 1), total + p
    assert (got["n"], got["events"]) == (n, events)
    assert got["mean_forecast"] == pytest.approx(total / n)


def test_no_driver_is_a_time_trend_and_unexpected_signs_have_a_reason():
    rng = np.random.default_rng(0)
    years = np.repeat(np.arange(1990, 2020), 30)
    units = np.tile(np.arange(30), 30)
    risk_factor = rng.normal(size=len(years))
    # an episode under way goes with the risk factor (so with onsets in the raw data), but
    # given the factor it lowers the odds of a new onset
    history = (risk_factor + rng.normal(scale=0.5, size=len(years)) > 0.5).astype(float)
    eta = -2 - 0.3 * (years - 1990) + 2.0 * risk_factor - 1.5 * history
    y = (rng.random(len(years)) < 1 / (1 + np.exp(-eta))).astype(float)
    frame = pd.DataFrame(
        {
            "unit": units,
            "year": years,
            "trend": years.astype(float),
            "factor": risk_factor,
            "ongoing": history,
            "y": y,
        }
    )
    features = ["trend", "factor", "ongoing"]
    panel = Panel.from_frame(
        frame,
        features=features,
        outcomes=["y"],
        kinds={"trend": "other", "factor": "structural", "ongoing": "history"},
    )
    assert time_terms(panel) == {"trend"}
    X = frame[features].to_numpy(float)
    model = fit_estimator(make_estimator(ModelSpec("logit", "l", {}), 0), X, y, years=years)
    last = frame["year"] == 2019
    table = driver_table(
        model,
        X[last],
        units[last],
        panel,
        reference=np.median(X, axis=0),
    )
    assert not table.loc[table["feature"] == "trend", "unit_fact"].any()
    assert table.loc[table["feature"] != "trend", "unit_fact"].all()
    trend_size = table.loc[table["feature"] == "trend", "contribution"].abs().max()
    assert trend_size > table.loc[table["feature"] != "trend", "contribution"].abs().max()
    text = driver_text(table, top=4)
    words = " ".join(text["drivers_up"]) + " " + " ".join(text["drivers_down"])
    assert "trend" not in words and "factor" in words  # the largest term is never shown
    # a risk factor above its median that lowers risk says why; so does an ongoing episode
    raw = {  # oracle: the raw association of each indicator with onsets, by hand
        f: np.sign(frame.loc[frame["y"] == 1, f].mean() - frame.loc[frame["y"] == 0, f].mean())
        for f in features
    }
    assert raw["ongoing"] > 0  # more onsets where an episode is under way, in the raw data
    x0 = X[last][:1]
    for j, f in enumerate(features):  # the model's direction: nudge the indicator up
        x1 = x0.copy()
        x1[0, j] += 1.0
        slope = np.sign(log_odds(model, x1)[0] - log_odds(model, x0)[0])
        against = f != "trend" and slope * raw[f] < 0
        assert (table.loc[table["feature"] == f, "reason"] != "").tolist() == [against] * last.sum()
    ongoing = table[(table["feature"] == "ongoing") & (table["reason"] != "")]
    assert len(ongoing) and (ongoing["reason"] == HISTORY_REASON).all()
    assert re.search(
        r"ongoing: 1, lowers risk \(odds x0\.\d+\) \(why: an episode already under way", words
    )
    cells = [*text["drivers_up"], *text["drivers_down"]]
    items = [item for cell in cells for item in re.split(r" \| |; ", cell)]
    assert [i for i in items if "factor:" in i]  # shown, and as expected: no reason
    assert not [i for i in items if "factor:" in i and "(why" in i]


def test_derived_indicators_are_read_from_the_transform_chains():
    info = {i.name: i for i in load_feature_set("ewp-2025-plus").indicators}
    features = [i.name for i in load_feature_set("ewp-2025-plus").by_role("feature")]
    assert derived_moves(info, features, "battledeaths.log2") == {
        "battledeaths.max5yr.log2": "max",
        "battledeaths.change": "shift",
    }
    assert derived_moves(info, features, "coup.try.1yr") == {"coup.try.5yr": "max"}
    assert derived_moves(info, features, "battledeaths.max5yr.log2") == {}  # not the reverse


@pytest.mark.parametrize("deaths", [0.0, 1.0, 16000.0])
def test_natural_units_invert_the_display(deaths):
    info = {"bd": SimpleNamespace(display=Display("log2p1", "deaths"))}
    assert to_model(info, "bd", deaths) == pytest.approx(np.log2(deaths + 1))  # oracle
    assert to_natural(info, "bd", to_model(info, "bd", deaths)) == pytest.approx(deaths)
    assert to_model({}, "bd", 3.0) == 3.0  # no display: the model's own scale


def test_what_if_takes_natural_units_and_moves_derived_indicators(config, latest, monkeypatch):
    from forecast.features._spec import SourceRef, TransformStep

    result = what_if(
        config, unit="Norvania", values={"battle deaths this year": 16000}, latest=latest
    )
    assert result.scenario.values["battle_deaths_log2"] == pytest.approx(np.log2(16001))
    move = result.moves.set_index("feature").loc["battle_deaths_log2"]
    assert move["value"] == 16000 and "deaths" in move["value_text"]
    row = list(latest.current.units).index("Norvania")
    x = latest.current.X[row, latest.features.index("battle_deaths_log2")]
    assert move["current"] == pytest.approx(2**x - 1)
    assert not [t for t in result.triggers["event_text"] if re.fullmatch(r"\d+\.\d{3,}", t)]
    # a feature set that builds the five-year coup indicator from this year's coups
    from dataclasses import replace

    import forecast.risk._whatif as whatif_module
    from forecast.risk import indicator_info

    info = dict(indicator_info(config))
    info["coup_attempt"] = replace(
        info["coup_attempt"], source=SourceRef("s", "coups"), transforms=()
    )
    info["coup_try_5yr"] = replace(
        info["coup_try_5yr"],
        source=SourceRef("s", "coups"),
        transforms=(TransformStep("rolling_max", {"window": 5}, 0),),
    )
    monkeypatch.setattr(whatif_module, "indicator_info", lambda _config: info)
    X, features = latest.current.X, latest.features
    j1, j5 = features.index("coup_attempt"), features.index("coup_try_5yr")
    row = int(np.flatnonzero(X[:, j5] == 0)[0])
    fired = what_if(
        config, unit=latest.current.units[row], values={"coup_attempt": 1}, latest=latest
    )
    assert fired.scenario.values == {"coup_attempt": 1.0, "coup_try_5yr": 1.0}
    moved = fired.moves.set_index("feature")
    assert moved.loc["coup_try_5yr", "moved_with"] == "coup attempt this year"
    x = X.copy()
    x[row, [j1, j5]] = 1.0  # oracle: both set by hand
    assert fired.scenario.probability == latest.current.estimator.predict_proba(x)[row, 1]


def test_the_list_shows_reliability_on_fixed_bins_including_10_to_30_percent(latest):
    from forecast.risk._intro import _reliability

    rng = np.random.default_rng(11)
    past = pd.DataFrame(
        {"probability": rng.beta(1, 6, 600), "outcome": (rng.random(600) < 0.08).astype(float)}
    )
    past.loc[::9, "outcome"] = np.nan  # windows not yet closed are not counted
    table = _reliability(past)
    assert list(table["bin"]) == ["<1%", "1-3%", "3-10%", "10-30%", ">=30%"]
    known = past.dropna()
    middle = known[(known["probability"] >= 0.10) & (known["probability"] < 0.30)]
    row = table.set_index("bin").loc["10-30%"]
    assert (row["n"], row["events"]) == (len(middle), int(middle["outcome"].sum()))
    intro = list_intro(latest, past.assign(unit=0, origin=2000))
    assert intro.reliability is not None and "10-30%" in list(intro.reliability["bin"])
