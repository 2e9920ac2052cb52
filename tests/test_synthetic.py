"""Tests of the ``synthetic-world`` generator (forecast.data.synthetic)."""

from __future__ import annotations

import hashlib
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from forecast._errors import ForecastInputError
from forecast.data.synthetic import (
    REGIMES,
    REGIONS,
    SYNTHETIC_DESCRIPTIONS,
    SYNTHETIC_FEATURES,
    generate_synthetic_world,
    oracle_window_probability,
    write_synthetic_world,
)

DATA_DIR = Path(
    os.environ.get(
        "FORECAST_DATA_DIR", Path(__file__).resolve().parents[1].parent / "shared" / "data"
    )
)
REAL_PANEL = DATA_DIR / "ewp-2025" / "prepared2024predictors-2025-09-03.csv"


@pytest.fixture(scope="module")
def world() -> pd.DataFrame:
    return generate_synthetic_world()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _window_outcome(world: pd.DataFrame, horizon: int) -> np.ndarray:
    """Independent route: 1 if any onset in t+1..t+h; NaN if the window passes the last year."""
    onset = {
        (u, y): o for u, y, o in zip(world["unit"], world["year"], world["mk_onset"], strict=True)
    }
    out = np.empty(len(world))
    for i, (unit, year) in enumerate(zip(world["unit"], world["year"], strict=True)):
        future = [onset.get((unit, year + j)) for j in range(1, horizon + 1)]
        out[i] = np.nan if any(v is None for v in future) else float(max(future))
    return out


# ----------------------------------------------------------------------------- determinism


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_same_seed_writes_identical_bytes(tmp_path: Path, suffix: str) -> None:
    first = write_synthetic_world(tmp_path / f"a{suffix}", seed=7)
    second = write_synthetic_world(tmp_path / f"b{suffix}", seed=7)
    other = write_synthetic_world(tmp_path / f"c{suffix}", seed=8)
    assert _sha256(first) == _sha256(second)
    assert _sha256(first) != _sha256(other)


def test_written_file_round_trips(tmp_path: Path, world: pd.DataFrame) -> None:
    path = write_synthetic_world(tmp_path / "world.parquet")
    back = pd.read_parquet(path)
    pd.testing.assert_frame_equal(back, world, check_dtype=False)
    assert back["year"].dtype == np.int64


def test_write_rejects_unknown_suffix(tmp_path: Path) -> None:
    with pytest.raises(ForecastInputError, match=r"unsupported file suffix '\.xlsx'"):
        write_synthetic_world(tmp_path / "world.xlsx")


def test_generation_does_not_touch_global_rng() -> None:
    np.random.seed(123)
    before = np.random.random()
    np.random.seed(123)
    generate_synthetic_world(3, n_countries=10)
    assert np.random.random() == before


# ----------------------------------------------------------------------------- shape and schema


def test_shape_keys_and_dtypes(world: pd.DataFrame) -> None:
    assert world["unit"].nunique() == 165
    assert world["year"].min() == 1960 and world["year"].max() == 2024
    assert not world.duplicated(["unit", "year"]).any()
    assert world.equals(world.sort_values(["unit", "year"], kind="stable").reset_index(drop=True))
    assert 8_500 <= len(world) <= 10_000  # the real EWP panel has 9,463 country-years
    assert world["year"].dtype == np.int64
    assert pd.api.types.is_string_dtype(world["unit"])
    assert set(world["region"]) == set(REGIONS)
    assert world["mk_onset"].dtype == np.int64 and set(world["mk_onset"]) == {0, 1}
    assert set(world["mk_ongoing"]) == {0, 1}
    for column in SYNTHETIC_FEATURES:
        assert pd.api.types.is_numeric_dtype(world[column]), column
    assert set(SYNTHETIC_FEATURES) == set(SYNTHETIC_DESCRIPTIONS)
    assert set(SYNTHETIC_FEATURES.values()) == {"structural", "trigger", "mitigating", "history"}
    expected = ["unit", "year", "region", *SYNTHETIC_FEATURES, "mk_onset", "true_probability"]
    assert list(world.columns) == expected


def test_units_enter_in_waves_and_a_few_exit(world: pd.DataFrame) -> None:
    per_year = world.groupby("year")["unit"].nunique()
    assert 90 <= per_year[1960] <= 120
    assert per_year[1975] - per_year[1960] >= 15  # decolonisation
    assert per_year[1995] - per_year[1989] >= 10  # post-1990 breakups
    last = world.groupby("unit")["year"].max()
    assert 1 <= (last < 2024).sum() <= 10
    # every unit is observed in consecutive years
    span = world.groupby("unit")["year"].agg(lambda y: y.max() - y.min() + 1)
    assert (span == world.groupby("unit").size()).all()


def test_names_are_seed_independent() -> None:
    a = generate_synthetic_world(1, n_countries=30)["unit"].unique()
    b = generate_synthetic_world(2, n_countries=30)["unit"].unique()
    assert sorted(a) == sorted(b)
    assert "Aldoria" in set(a)


def test_feature_ranges(world: pd.DataFrame) -> None:
    unit_interval = (
        "autocracy",
        "repression",
        "judicial_independence",
        "civil_society_freedom",
        "discrim_pop_share",
        "ethnic_fractionalization",
        "regional_contagion",
    )
    for column in unit_interval:
        values = world[column].dropna()
        assert values.between(0, 1).all(), column
    for column in ("coup_attempt", "coup_try_5yr", "upheaval", "iccpr_ratified", "mk_ever"):
        assert set(world[column].unique()) <= {0.0, 1.0}, column
    # ICCPR ratification is absorbing, ethnic fractionalisation constant within unit
    g = world.groupby("unit")
    assert (g["iccpr_ratified"].diff().dropna() >= 0).all()
    assert (g["ethnic_fractionalization"].nunique() == 1).all()
    # coup_try_5yr recomputed from coup_attempt over t-4..t where that history is in the frame
    rolled = g["coup_attempt"].transform(lambda s: s.rolling(5, min_periods=1).max())
    late = world["year"] - g["year"].transform("min") >= 4
    assert (world.loc[late, "coup_try_5yr"] == rolled[late]).all()


def test_missingness_is_realistic(world: pd.DataFrame) -> None:
    missing = world[list(SYNTHETIC_FEATURES)].isna().mean()
    assert missing.max() < 0.10
    assert missing["gdppc_growth"] > 0.01
    for column in ("mk_ongoing", "mk_ever", "battle_deaths_log2", "coup_try_5yr"):
        assert missing[column] == 0
    early = world["year"] < 1970
    assert (
        world.loc[early, "gdppc_growth"].isna().mean()
        > world.loc[~early, "gdppc_growth"].isna().mean()
    )


# ----------------------------------------------------------------------------- outcome and hazard


def test_base_rate_close_to_real_panel(world: pd.DataFrame) -> None:
    assert 0.010 <= world["mk_onset"].mean() <= 0.016


def test_base_rate_drifts_down_like_the_real_panel(world: pd.DataFrame) -> None:
    cold_war = world.loc[world["year"].between(1970, 1999), "mk_onset"].mean()
    recent = world.loc[world["year"].between(2005, 2024), "mk_onset"].mean()
    assert cold_war > recent


@pytest.mark.realdata
def test_real_panel_has_the_mimicked_drift() -> None:
    real = pd.read_csv(REAL_PANEL, usecols=["year", "mk_onset"])
    assert 0.010 <= real["mk_onset"].mean() <= 0.016
    cold_war = real.loc[real["year"].between(1970, 1999), "mk_onset"].mean()
    recent = real.loc[real["year"].between(2005, 2024), "mk_onset"].mean()
    assert cold_war > recent


def test_true_probability_in_open_unit_interval(world: pd.DataFrame) -> None:
    p = world["true_probability"]
    assert p.notna().all()
    assert ((p > 0) & (p < 1)).all()


def test_true_probability_is_calibrated(world: pd.DataFrame) -> None:
    p = world["true_probability"].to_numpy()
    y = world["mk_onset"].to_numpy()
    se = math.sqrt(np.sum(p * (1 - p))) / len(p)
    assert abs(y.mean() - p.mean()) < 3 * se
    # also within halves of the hazard distribution
    high = p > np.median(p)
    for part in (high, ~high):
        se_part = math.sqrt(np.sum(p[part] * (1 - p[part]))) / part.sum()
        assert abs(y[part].mean() - p[part].mean()) < 3.5 * se_part


def test_new_onsets_possible_while_ongoing(world: pd.DataFrame) -> None:
    previous = world.groupby("unit")["mk_ongoing"].shift(1)
    during = (previous == 1) & (world["mk_onset"] == 1)
    assert during.sum() >= 1
    # an onset year is an ongoing year; mk_ever accumulates
    assert (world.loc[world["mk_onset"] == 1, "mk_ongoing"] == 1).all()
    assert (world.loc[world["mk_ongoing"] == 1, "years_since_mk"] == 0).all()
    assert (world.groupby("unit")["mk_ever"].diff().dropna() >= 0).all()


def test_regional_contagion_recomputed(world: pd.DataFrame) -> None:
    """Share of the OTHER units of the region with an ongoing episode in the same year."""
    group = world.groupby(["region", "year"])["mk_ongoing"]
    total, count = group.transform("sum"), group.transform("size")
    others = count - 1
    expected = np.where(others > 0, (total - world["mk_ongoing"]) / others.clip(lower=1), 0.0)
    np.testing.assert_allclose(world["regional_contagion"], expected, atol=1e-12)


# ----------------------------------------------------------------------------- oracle


def test_oracle_window_matches_hand_loop(world: pd.DataFrame) -> None:
    sample = world[world["unit"].isin(world["unit"].unique()[:12])].reset_index(drop=True)
    got = oracle_window_probability(sample, 3)
    hazard = {
        (u, y): p
        for u, y, p in zip(sample["unit"], sample["year"], sample["true_probability"], strict=True)
    }
    for i, (unit, year) in enumerate(zip(sample["unit"], sample["year"], strict=True)):
        future = [hazard.get((unit, year + j)) for j in (1, 2, 3)]
        if any(v is None for v in future):
            assert np.isnan(got[i])
        else:
            assert got[i] == pytest.approx(1 - np.prod([1 - v for v in future]), rel=1e-12)


def test_oracle_window_nan_at_the_end_and_after_exit(world: pd.DataFrame) -> None:
    q = oracle_window_probability(world, 2)
    assert q.name == "oracle_onset_within_2y"
    assert q.index.equals(world.index)
    last = world.groupby("unit")["year"].transform("max")
    assert q[world["year"] > last - 2].isna().all()
    assert q[world["year"] <= last - 2].notna().all()
    assert q[world["year"] == 2022].notna().all() and q[world["year"] == 2023].isna().all()
    one = oracle_window_probability(world, 1)
    assert np.allclose(one.dropna(), world.groupby("unit")["true_probability"].shift(-1).dropna())


def test_oracle_auc_two_year_window_in_target_range(world: pd.DataFrame) -> None:
    y = _window_outcome(world, 2)
    q = oracle_window_probability(world, 2).to_numpy()
    known = ~np.isnan(y)
    assert np.array_equal(known, ~np.isnan(q))
    auc = roc_auc_score(y[known], q[known])
    assert 0.88 <= auc <= 0.93


def test_oracle_beats_a_logit_on_the_observed_features(world: pd.DataFrame) -> None:
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    y = _window_outcome(world, 2)
    known = ~np.isnan(y)
    x = world.loc[known, [*SYNTHETIC_FEATURES, "year"]]
    model = make_pipeline(
        SimpleImputer(strategy="median", add_indicator=True),
        StandardScaler(),
        LogisticRegression(max_iter=2000),
    )
    model.fit(x, y[known])  # in-sample: an optimistic logit
    logit_auc = roc_auc_score(y[known], model.predict_proba(x)[:, 1])
    oracle_auc = roc_auc_score(y[known], oracle_window_probability(world, 2)[known])
    assert oracle_auc - logit_auc >= 0.02


def test_oracle_rejects_bad_input(world: pd.DataFrame) -> None:
    with pytest.raises(ForecastInputError, match="horizon must be an int >= 1"):
        oracle_window_probability(world, 0)
    with pytest.raises(ForecastInputError, match="horizon must be an int >= 1"):
        oracle_window_probability(world, 1.5)  # type: ignore[arg-type]
    with pytest.raises(ForecastInputError, match=r"lacks required columns \['true_probability'\]"):
        oracle_window_probability(world.drop(columns="true_probability"), 2)
    doubled = pd.concat([world.head(3), world.head(1)], ignore_index=True)
    with pytest.raises(ForecastInputError, match=r"\(unit, year\) must be unique at rows \[3\]"):
        oracle_window_probability(doubled, 2)


# ----------------------------------------------------------------------------- arguments


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_countries": 0}, r"n_countries must be >= 1, got 0"),
        ({"n_countries": -3}, r"n_countries must be >= 1, got -3"),
        (
            {"n_countries": 10_000_001},
            r"n_countries must be at most 10_000_000, got 10_000_001; fix: pass n_countries",
        ),
        (
            {"n_countries": 1_000_000},
            r"n_countries x years must be at most 50_000_000 rows, got 1_000_000 x 65 = "
            r"65_000_000; fix: pass n_countries <= 769_230 for 65 years, or fewer years",
        ),
        ({"dtype": "float16"}, r"dtype must be 'float64' or 'float32', got 'float16'"),
        (
            {"start_year": 2000, "end_year": 1999},
            r"end_year \(1999\) must be >= start_year \(2000\)",
        ),
        ({"n_countries": 10.0}, "n_countries must be an int"),
        ({"seed": -1}, "seed must be >= 0"),
        ({"seed": True}, "seed must be an int"),
    ],
)
def test_bad_arguments(kwargs: dict, message: str) -> None:
    with pytest.raises(ForecastInputError, match=message):
        generate_synthetic_world(**kwargs)


def test_small_worlds() -> None:
    one = generate_synthetic_world(5, n_countries=1, start_year=2000, end_year=2000)
    assert len(one) == 1 and one["regional_contagion"].iloc[0] == 0.0
    assert oracle_window_probability(one, 1).isna().all()
    many = generate_synthetic_world(5, n_countries=300, start_year=1990, end_year=1999)
    assert many["unit"].nunique() == 300 and not many.duplicated(["unit", "year"]).any()


# ----------------------------------------------------------------------------- regimes


def test_default_world_is_the_drifting_regime_and_unchanged(world: pd.DataFrame) -> None:
    """Regimes were added without moving the default world (figures of the dataset card)."""
    pd.testing.assert_frame_equal(generate_synthetic_world(regime="drifting"), world)
    assert len(world) == 9_378 and world["mk_onset"].sum() == 106
    assert world["true_probability"].sum() == pytest.approx(116.355164, abs=1e-6)


@pytest.mark.parametrize("regime", REGIMES)
def test_every_regime_is_a_plausible_calibrated_world(regime: str) -> None:
    world = generate_synthetic_world(regime=regime)
    small = regime == "small"
    assert world["unit"].nunique() == (60 if small else 165)
    assert world["year"].min() == (1980 if small else 1960) and world["year"].max() == 2024
    rate = world["mk_onset"].mean()
    assert 0.005 <= rate <= 0.025
    p = world["true_probability"]
    se = math.sqrt((p * (1 - p)).sum()) / len(world)
    assert abs(p.mean() - rate) <= 3 * se


def test_regimes_change_only_what_they_name() -> None:
    from forecast.data.synthetic import _REGIME_SPECS, _era

    drifting, stationary = _REGIME_SPECS["drifting"], _REGIME_SPECS["stationary"]
    assert {_era(y, stationary) for y in range(1935, 2025)} == {0.18}
    assert len({_era(y, drifting) for y in range(1960, 2025)}) > 30
    assert stationary.hazard == drifting.hazard
    nonlinear = _REGIME_SPECS["nonlinear"].hazard
    changed = {k for k in nonlinear if nonlinear[k] != drifting.hazard[k]}
    assert {"anocracy", "major_war", "war_x_repression", "discrim_x_ef"} <= changed
    a = generate_synthetic_world(3, regime="drifting", n_countries=40)
    b = generate_synthetic_world(3, regime="stationary", n_countries=40)
    assert a["unit"].equals(b["unit"]) and a["ethnic_fractionalization"].equals(
        b["ethnic_fractionalization"]
    )  # same countries, other hazards


def test_nonlinear_regime_rewards_the_well_specified_terms() -> None:
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from forecast.data.synthetic import well_specified_features

    gains = {}
    for regime in ("drifting", "nonlinear"):
        world = generate_synthetic_world(regime=regime)
        y = _window_outcome(world, 2)
        known = ~np.isnan(y)
        x = world.loc[known, [*SYNTHETIC_FEATURES, "year"]]
        auc = {}
        for name, features in (("main", x), ("spec", well_specified_features(x))):
            model = make_pipeline(
                SimpleImputer(strategy="median", add_indicator=True),
                StandardScaler(),
                LogisticRegression(max_iter=2000),
            )
            model.fit(features, y[known])
            auc[name] = roc_auc_score(y[known], model.predict_proba(features)[:, 1])
        gains[regime] = auc["spec"] - auc["main"]
    assert gains["nonlinear"] >= 0.01 and gains["nonlinear"] > gains["drifting"]


def test_unknown_regime_is_named() -> None:
    valid = r"\['drifting', 'stationary', 'nonlinear', 'small'\]"
    with pytest.raises(ForecastInputError, match=rf"regime must be one of {valid}, got 'wavy'"):
        generate_synthetic_world(regime="wavy")  # type: ignore[arg-type]


def test_dataset_options_reach_the_world() -> None:
    from forecast.data import dataset_options, load_dataset
    from forecast.data.synthetic import synthetic_world_panel
    from forecast.experiment import experiment_from_dict

    assert list(dataset_options("synthetic-world")) == [
        "seed",
        "regime",
        "n_countries",
        "n_years",
        "flavour",
        "n_cells",
        "dtype",
    ]
    panel = load_dataset("synthetic-world", regime="small", seed=4, n_years=30)
    assert panel.frame["unit"].nunique() == 60 and panel.frame["year"].min() == 1995
    default = synthetic_world_panel()
    pd.testing.assert_frame_equal(
        default.frame.drop(columns="mk_onset_1or2"), generate_synthetic_world(), check_dtype=False
    )
    assert default.outcomes == ["mk_onset", "mk_onset_1or2"]
    assert default.extra == ["region", "true_probability"]
    config = experiment_from_dict(
        {
            "name": "x",
            "models": ["logit"],
            "dataset_options": {"regime": "nonlinear", "seed": 3, "n_countries": 50},
        }
    )
    assert config.dataset_options["regime"] == "nonlinear"
    with pytest.raises(ForecastInputError, match=r"dataset_options\.regime: must be of type str"):
        experiment_from_dict({"name": "x", "models": ["logit"], "dataset_options": {"regime": 2}})
    with pytest.raises(ForecastInputError, match=r"n_years must be an int >= 1, got 0"):
        synthetic_world_panel(n_years=0)


# ----------------------------------------------------------------------------- attainable ceiling


def test_attainable_ceiling_is_an_honest_rolling_origin_forecast() -> None:
    from forecast.data.synthetic import attainable_ceiling

    world = generate_synthetic_world(2, regime="small")
    origins = [2000, 2008, 2016]
    ceiling = attainable_ceiling(world, 2, origins)
    assert sorted(ceiling.forecasts["year"].unique()) == origins
    assert 0.5 < ceiling.auc < 1 and 0.5 < ceiling.oracle_auc <= 1
    assert ceiling.n == len(ceiling.forecasts) and ceiling.n_events > 0
    # leakage: rows after 2008 (and the outcomes they decide) cannot change 2008's forecasts
    altered = world.copy()
    later = altered["year"] > 2008
    altered.loc[later, "mk_onset"] = 1 - altered.loc[later, "mk_onset"]
    altered.loc[later, "autocracy"] = 0.5
    again = attainable_ceiling(altered, 2, [2008]).forecasts
    before = ceiling.forecasts[ceiling.forecasts["year"] == 2008].reset_index(drop=True)
    pd.testing.assert_series_equal(again["probability"], before["probability"], check_exact=True)
    with pytest.raises(ForecastInputError, match="no origin has both training onsets"):
        attainable_ceiling(world, 2, [1980])
