"""The embedded default dataset ``synthetic-world``: a seeded country-year panel.

A data-generating process (DGP) that mimics the Early Warning Project panel:
about 165 countries over 1960-2024 that enter in decolonisation and post-1990
waves (a few exit), slow structural indicators, bursty triggers, mitigating
factors and mass-killing history, with a known onset hazard per country-year.
The dataset card ``datasets/synthetic-world.md`` documents every equation.

The simulation is vectorised over countries and loops over years. Row ``t``
holds the state at the end of year ``t`` plus ``true_probability``, the hazard
``P(mk_onset_t = 1 | state at the end of t-1)`` from which ``mk_onset_t`` was
drawn. All randomness comes from one ``numpy.random.default_rng(seed)``.

Named regimes (:data:`REGIMES`) change one thing of the default world (``drifting``) at a
time, so that a method can be tested on more than one world: ``stationary`` (no unobserved
drift of the hazard), ``nonlinear`` (interactions and thresholds dominate the hazard) and
``small`` (60 countries over 45 years). :func:`attainable_ceiling` scores the well-specified
model on the observed features in a rolling-origin backtest: the limit a forecaster can
reach, unlike the oracle, which knows the latent state and the future.

The ``grid`` flavour of the dataset (cells of a lattice with spatial contagion) lives in
:mod:`forecast.data.synthetic_grid`. Worlds go up to :data:`MAX_UNITS` units and
:data:`MAX_ROWS` unit-years; ``dtype='float32'`` halves their memory.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from forecast._errors import input_error

if TYPE_CHECKING:
    from forecast.panel import Panel

__all__ = [
    "DEFAULT_SEED",
    "MAX_ROWS",
    "MAX_UNITS",
    "REGIMES",
    "REGIONS",
    "SYNTHETIC_DESCRIPTIONS",
    "SYNTHETIC_FEATURES",
    "AttainableCeiling",
    "FeatureKind",
    "Regime",
    "attainable_ceiling",
    "check_world_options",
    "generate_synthetic_world",
    "oracle_window_probability",
    "synthetic_world_panel",
    "well_specified_features",
    "write_synthetic_world",
]

FeatureKind = Literal["structural", "trigger", "mitigating", "history"]
Regime = Literal["drifting", "stationary", "nonlinear", "small"]
REGIMES: tuple[Regime, ...] = ("drifting", "stationary", "nonlinear", "small")

DEFAULT_SEED = 20251
REGIONS: tuple[str, ...] = (
    "Africa",
    "Americas",
    "Asia-Pacific",
    "Europe",
    "Middle East",
    "South & Central Asia",
)

SYNTHETIC_FEATURES: dict[str, FeatureKind] = {
    "autocracy": "structural",
    "repression": "structural",
    "discrim_pop_share": "structural",
    "infant_mortality_sqrt": "structural",
    "population_log2": "structural",
    "gdppc_growth": "structural",
    "ethnic_fractionalization": "structural",
    "country_age_log2": "structural",
    "coup_attempt": "trigger",
    "coup_try_5yr": "trigger",
    "battle_deaths_log2": "trigger",
    "regional_contagion": "trigger",
    "upheaval": "trigger",
    "iccpr_ratified": "mitigating",
    "judicial_independence": "mitigating",
    "civil_society_freedom": "mitigating",
    "mk_ongoing": "history",
    "mk_ever": "history",
    "years_since_mk": "history",
}

SYNTHETIC_DESCRIPTIONS: dict[str, str] = {
    "autocracy": "regime autocracy score in [0, 1] (1 = closed autocracy), measured with noise",
    "repression": "state repression of civil liberties in [0, 1], measured with noise",
    "discrim_pop_share": "share of the population politically discriminated, in [0, 1]",
    "infant_mortality_sqrt": "square root of infant deaths per 1,000 live births",
    "population_log2": "log2 of population",
    "gdppc_growth": "GDP per capita growth, percent",
    "ethnic_fractionalization": "ethnic fractionalisation index in [0, 1], constant",
    "country_age_log2": "log2(year - independence year + 1)",
    "coup_attempt": "1 if a coup attempt (successful or not) happened in the year",
    "coup_try_5yr": "1 if a coup attempt happened in the year or the 4 years before",
    "battle_deaths_log2": "log2(battle-related deaths + 1); 0 when no armed conflict",
    "regional_contagion": "share of the other countries of the region with an ongoing episode",
    "upheaval": "1 if a mass uprising or irregular change of leader happened in the year",
    "iccpr_ratified": "1 once the ICCPR is ratified (absorbing)",
    "judicial_independence": "judicial independence in [0, 1], measured with noise",
    "civil_society_freedom": "freedom of civil society organisations in [0, 1], with noise",
    "mk_ongoing": "1 if a mass-killing episode is ongoing in the year (onset year included)",
    "mk_ever": "1 if the country has had an episode since independence (or 25 years before the "
    "first year), this year included",
    "years_since_mk": "years since the last year with an ongoing episode; 0 while ongoing; "
    "capped at 30 (30 also when never)",
}

_BURN_IN = 25  # years simulated before start_year so the processes start near equilibrium
_BINARY = {"coup_attempt", "coup_try_5yr", "upheaval", "iccpr_ratified", "mk_ongoing", "mk_ever"}
_YEARS_SINCE_CAP = 30.0
_OUTCOMES = ("mk_onset", "true_probability")

# Onset hazard: logit p_t = sum of terms in the state at the end of t-1 (see the card).
_HAZARD = {
    "intercept": -7.9,
    "autocracy": 0.5,
    "anocracy": 1.2,  # times 4 A (1 - A): partial autocracies are the most volatile
    "repression": 0.8,
    "discrim": 1.5,
    "discrim_x_ef": 3.0,
    "imr": 0.12,  # per unit of sqrt infant mortality above 6
    "pop": 0.25,  # per unit of log2 population above 23
    "battle": 0.03,  # per unit of log2 battle deaths
    "major_war": 0.9,  # log2 battle deaths >= 10 (about 1,000 deaths)
    "war_x_repression": 0.8,  # any armed conflict times repression
    "coup5": 0.55,
    "upheaval": 0.6,
    "contagion": 0.8,
    "iccpr": -0.3,
    "judicial": -0.4,
    "civil_society": -0.4,
    "ever": 0.7,
    "recent": 0.8,  # times exp(-years since / 6) for countries with a past episode
    "ongoing": -1.5,  # a country already in an episode has a lower odds of a NEW onset
    "young_state": 0.5,  # times exp(-country age / 4)
    "latent": 1.2,  # times the latent instability z (not a feature)
}
# Era shift of the logit (Cold War, early-1990s breakups, quieter 2000s), linear between knots.
_ERA_KNOTS = (
    (1960.0, 1968.0, 1985.0, 1991.0, 1997.0, 2002.0, 2007.0, 2013.0, 2018.0, 2024.0),
    (-0.3, 0.1, 0.35, 1.05, 0.95, -0.45, -0.35, 0.5, 0.1, -0.8),
)
_FRAILTY_SD = 1.1
_HAZARD_CAP_LOGIT = -0.5  # soft ceiling of the hazard near sigmoid(-0.5) = 0.38
# The 1960-2024 average of the era shift: the level of the stationary regime.
_STATIONARY_ERA = 0.18
# The nonlinear regime: the hazard's interactions and thresholds doubled or more, its linear
# main effects weakened, the intercept lowered so that the base rate stays near the default's.
_NONLINEAR_HAZARD = {
    **_HAZARD,
    "intercept": -9.1,
    "autocracy": 0.0,
    "anocracy": 3.0,
    "repression": 0.3,
    "discrim": 0.5,
    "discrim_x_ef": 6.0,
    "battle": 0.0,
    "major_war": 1.8,
    "war_x_repression": 2.0,
    "recent": 1.6,
    "young_state": 1.5,
}


@dataclass(frozen=True)
class _RegimeSpec:
    """What a named regime changes: hazard coefficients, the era shift, the default size."""

    hazard: dict[str, float] = field(default_factory=lambda: dict(_HAZARD))
    era: float | None = None  # a constant era shift; None = the drifting _ERA_KNOTS
    n_countries: int = 165
    n_years: int = 65  # the panel ends in 2024, so the default starts in 1960


_REGIME_SPECS: dict[str, _RegimeSpec] = {
    "drifting": _RegimeSpec(),
    "stationary": _RegimeSpec(era=_STATIONARY_ERA),
    "nonlinear": _RegimeSpec(hazard=_NONLINEAR_HAZARD),
    "small": _RegimeSpec(n_countries=60, n_years=45),
}
_END_YEAR = 2024

MAX_UNITS = 10_000_000
"""Most units (countries or grid cells) a simulated world may have."""
MAX_ROWS = 50_000_000
"""Most unit-years a simulated world may have. Memory sets the limit: measured at 10 million
rows, the peak is about 200 bytes a row to generate the grid flavour (float32), 380 to build
the ``synthetic-grid`` feature set over it, and 340 (float64) or 220 (float32) to generate
the country flavour, so the largest world generates in about 10-17 GB and builds within
24 GiB."""


@dataclass(frozen=True)
class _Countries:
    """Constant traits of the simulated countries (arrays of length n)."""

    names: np.ndarray
    region: np.ndarray
    independence: np.ndarray
    entry: np.ndarray
    exit: np.ndarray
    efindex: np.ndarray
    development: np.ndarray
    autocracy_mean: np.ndarray
    discriminating: np.ndarray
    discrim_level: np.ndarray
    pop0: np.ndarray
    pop_growth: np.ndarray
    imr0: np.ndarray
    imr_decline: np.ndarray
    frailty: np.ndarray


def generate_synthetic_world(
    seed: int = DEFAULT_SEED,
    *,
    regime: Regime = "drifting",
    n_countries: int | None = None,
    start_year: int | None = None,
    end_year: int = _END_YEAR,
    dtype: str = "float64",
) -> pd.DataFrame:
    """Generate the ``synthetic-world`` country-year panel.

    Parameters
    ----------
    seed : int, default 20251
        Seed of the single ``numpy.random.default_rng`` used; same seed, same frame.
    regime : {'drifting', 'stationary', 'nonlinear', 'small'}, default 'drifting'
        The world (see the dataset card): ``drifting`` is the default world, whose hazard
        has an unobserved era shift; ``stationary`` holds that shift at its 1960-2024 average;
        ``nonlinear`` doubles the hazard's interactions and thresholds and weakens its main
        effects; ``small`` is the drifting world with 60 countries over 1980-2024. The random
        draws are the same in every regime, so two regimes with one seed differ only in
        what the regime changes (and in what that changes downstream).
    n_countries : int, optional
        Number of units ever in the panel (states enter and a few exit over time); default
        the regime's (165; 60 for ``small``); at most :data:`MAX_UNITS`, and at most
        :data:`MAX_ROWS` unit-years.
    start_year : int, optional
        First calendar year of the panel; default ``end_year`` minus the regime's number of
        years plus one (1960; 1980 for ``small``).
    end_year : int, default 2024
        Last calendar year of the panel (inclusive).
    dtype : {'float64', 'float32'}, default 'float64'
        Storage of the features. ``float32`` halves their memory for large worlds: the
        same draws, values rounded to float32, every feature (``mk_ongoing`` too) float32,
        and ``unit`` and ``region`` categorical.

    Returns
    -------
    pandas.DataFrame
        One row per (unit, year) while the unit exists, sorted by unit then year:
        ``unit`` (str), ``year`` (int64), ``region`` (str), the float64 features of
        :data:`SYNTHETIC_FEATURES` (``mk_ongoing`` is int64), ``mk_onset`` (int64,
        a NEW episode starts in the year) and ``true_probability`` (float64, the
        hazard ``P(mk_onset_t = 1 | true state at the end of t-1)``).

    Raises
    ------
    ForecastInputError
        If ``regime`` or ``dtype`` is unknown, ``n_countries < 1``, ``end_year < start_year``,
        an argument is not an int or the world is too large (:data:`MAX_ROWS`).
    """
    spec = _regime_spec(regime)
    n_countries = spec.n_countries if n_countries is None else n_countries
    if start_year is None and isinstance(end_year, (int, np.integer)):
        start_year = end_year - spec.n_years + 1
    _validate(seed, n_countries, start_year, end_year)
    storage = _storage(dtype, source="generate_synthetic_world")
    rng = np.random.default_rng(seed)
    countries = _draw_countries(rng, n_countries, start_year, end_year)
    years = np.arange(start_year - _BURN_IN, end_year + 1)
    records = _simulate(rng, countries, years, spec, storage)
    _apply_missingness(rng, records, years)
    return _to_frame(countries, years, records, start_year, storage)


def oracle_window_probability(world: pd.DataFrame, horizon: int) -> pd.Series:
    """Oracle probability of an onset within the next ``horizon`` years.

    For the row of unit ``i`` in year ``t``:
    ``q_{i,t} = 1 - prod_{j=1..h} (1 - p_{i,t+j})`` where ``p`` is the column
    ``true_probability`` (the true hazard). It is NaN when a year ``t+1..t+h`` is
    not in the frame for the unit (past the last year, after the unit's exit, or a gap).

    This is an oracle, not a forecast: it uses the realised path of future
    hazards, which depend on states in years after ``t``. No model that sees only
    the features up to ``t`` can beat it on average; it is an upper bound.

    Parameters
    ----------
    world : pandas.DataFrame
        Frame with columns ``unit``, ``year`` and ``true_probability``, unique
        (unit, year), such as the output of :func:`generate_synthetic_world`.
    horizon : int
        Window length ``h >= 1`` in years.

    Returns
    -------
    pandas.Series
        Float64, aligned with ``world.index``, named ``oracle_onset_within_{h}y``.
    """
    if isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)) or horizon < 1:
        raise input_error(
            f"horizon must be an int >= 1, got {horizon!r}",
            fix="pass the window length in years, e.g. horizon=2",
        )
    missing = [c for c in ("unit", "year", "true_probability") if c not in world.columns]
    if missing:
        raise input_error(
            f"world lacks required columns {missing}",
            source="oracle_window_probability",
            fix="pass a frame from generate_synthetic_world",
        )
    duplicated = world.duplicated(["unit", "year"]).to_numpy()
    if duplicated.any():
        raise input_error(
            "(unit, year) must be unique",
            source="oracle_window_probability",
            rows=list(world.index[duplicated]),
            fix="drop duplicate country-years",
        )
    hazard = pd.Series(
        world["true_probability"].to_numpy(dtype=float),
        index=pd.MultiIndex.from_arrays([world["unit"], world["year"].astype("int64")]),
    )
    survival = np.ones(len(world))
    units = world["unit"].to_numpy()
    years = world["year"].to_numpy(dtype="int64")
    for step in range(1, int(horizon) + 1):
        future = pd.MultiIndex.from_arrays([units, years + step])
        survival *= 1.0 - hazard.reindex(future).to_numpy()
    return pd.Series(1.0 - survival, index=world.index, name=f"oracle_onset_within_{horizon}y")


def write_synthetic_world(
    path: str | os.PathLike[str],
    seed: int = DEFAULT_SEED,
    **kwargs: Any,
) -> Path:
    """Generate the world and write it to ``path`` byte-for-byte deterministically.

    Parameters
    ----------
    path : str or path-like
        Target file; ``.parquet`` writes Parquet with pyarrow (no write
        timestamps, so the bytes depend only on the data and the library
        versions), ``.csv`` writes CSV (floats with 17 significant digits).
    seed : int, default 20251
        Passed to :func:`generate_synthetic_world`.
    **kwargs
        ``regime``, ``n_countries``, ``start_year``, ``end_year``.

    Returns
    -------
    pathlib.Path
        The written path.
    """
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in (".parquet", ".csv"):
        raise input_error(
            f"unsupported file suffix {target.suffix!r}",
            source=str(target),
            fix="use a .parquet or .csv file name",
        )
    world = generate_synthetic_world(seed, **kwargs)
    if suffix == ".parquet":
        world.to_parquet(target, engine="pyarrow", index=False)
    else:
        world.to_csv(target, index=False, float_format="%.17g", lineterminator="\n")
    return target


def synthetic_world_panel(
    seed: int = DEFAULT_SEED,
    *,
    regime: str = "drifting",
    n_countries: int | None = None,
    n_years: int | None = None,
    flavour: str = "country",
    n_cells: int | None = None,
    dtype: str | None = None,
) -> Panel:
    """The dataset ``synthetic-world`` as a :class:`~forecast.panel.Panel`.

    Its keyword parameters are the ``dataset_options`` of an experiment spec (the spec is
    checked against this signature), e.g. ``dataset_options: {regime: stationary, seed: 3}``
    or ``{flavour: grid, n_cells: 65000, n_years: 30, seed: 1}``.

    Parameters
    ----------
    seed : int, default 20251
        Seed of the world (:func:`generate_synthetic_world`).
    regime : {'drifting', 'stationary', 'nonlinear', 'small'}, default 'drifting'
        The named world; see :func:`generate_synthetic_world` and the dataset card. The grid
        flavour has ``drifting`` and ``stationary``.
    n_countries : int, optional
        Units ever in the panel of the country flavour; default the regime's (165; 60 for
        ``small``).
    n_years : int, optional
        Years in the panel, which ends in 2024; default the regime's (65; 45 for ``small``),
        30 for the grid flavour.
    flavour : {'country', 'grid'}, default 'country'
        ``country``: the country-year world of :func:`generate_synthetic_world`. ``grid``:
        cells of a lattice with spatially correlated risk
        (:func:`forecast.data.synthetic_grid.generate_synthetic_grid`), extra columns ``row``
        and ``col`` that a feature set's ``spatial_lag`` reads as the cells' adjacency.
    n_cells : int, optional
        Cells of the grid flavour; default 2500 (a 50 x 50 lattice).
    dtype : {'float64', 'float32'}, optional
        Storage of the features; default ``float64`` for the country flavour (the panel of
        earlier versions, bit for bit) and ``float32`` for the grid. With ``float32`` every
        feature is float32 and the unit column is categorical (about half the memory).

    Size limits: at most :data:`MAX_UNITS` units and :data:`MAX_ROWS` unit-years (the limit
    keeps a world within memory; see :data:`MAX_ROWS`).

    Returns
    -------
    Panel
        Features :data:`SYNTHETIC_FEATURES` (grid:
        :data:`~forecast.data.synthetic_grid.GRID_FEATURES`); outcomes ``mk_onset`` and
        ``mk_onset_1or2`` (an onset in t+1 or t+2); extra columns ``region`` (grid: ``row``,
        ``col``) and ``true_probability``. Without options it is the same panel, bit for bit,
        as before regimes existed.
    """
    from forecast.outcomes import onset_within
    from forecast.panel import COUNTRY, Panel, UnitNoun

    size = check_world_options(
        seed,
        regime=regime,
        n_countries=n_countries,
        n_years=n_years,
        flavour=flavour,
        n_cells=n_cells,
        dtype=dtype,
    )
    if flavour == "grid":
        from forecast.data.synthetic_grid import (
            DEFAULT_YEARS,
            GRID_FEATURES,
            generate_synthetic_grid,
        )

        frame = generate_synthetic_grid(
            seed,
            regime=regime,
            n_years=DEFAULT_YEARS if n_years is None else int(n_years),
            dtype=dtype or "float32",
            **({} if size is None else {"n_cells": size}),
        )
        kinds: dict[str, str] = dict(GRID_FEATURES)
        noun = UnitNoun("cell", "cells")
    else:
        frame = generate_synthetic_world(
            seed,
            regime=regime,  # type: ignore[arg-type]  # checked there
            n_countries=size,
            start_year=None if n_years is None else _END_YEAR - int(n_years) + 1,
            dtype=dtype or "float64",
        )
        kinds = dict(SYNTHETIC_FEATURES)
        noun = COUNTRY
    frame["mk_onset_1or2"] = onset_within(frame, 2, onset="mk_onset")
    features = list(kinds)
    return Panel.from_frame(
        frame,
        features=features,
        outcomes=["mk_onset", "mk_onset_1or2"],
        kinds=kinds,
        name="synthetic-world",
        extra=[
            c
            for c in frame.columns
            if c not in {"unit", "year", *features, "mk_onset", "mk_onset_1or2"}
        ],
        unit_noun=noun,
        windows={"mk_onset_1or2": (1, 2)},
    )


def check_world_options(
    seed: object = DEFAULT_SEED,
    *,
    regime: object = "drifting",
    n_countries: object = None,
    n_years: object = None,
    flavour: object = "country",
    n_cells: object = None,
    dtype: object = None,
) -> int | None:
    """Check the options of :func:`synthetic_world_panel` without generating the world, the
    same checks with the same messages as generating it; return the unit count (None: the
    default)."""
    if n_years is not None and (
        isinstance(n_years, bool) or not isinstance(n_years, (int, np.integer)) or n_years < 1
    ):
        raise input_error(
            f"n_years must be an int >= 1, got {n_years!r}",
            source="synthetic-world",
            fix="e.g. n_years: 40 (the panel ends in 2024)",
        )
    size = _flavour_size(flavour, n_countries, n_cells)
    if dtype is not None:
        _storage(dtype, source="synthetic-world")
    if flavour == "grid":
        from forecast.data.synthetic_grid import DEFAULT_CELLS, DEFAULT_YEARS, check_grid_options

        years = DEFAULT_YEARS if n_years is None else n_years
        check_grid_options(seed, regime, DEFAULT_CELLS if size is None else size, years)
    else:
        spec = _regime_spec(regime)
        units = spec.n_countries if size is None else size
        start = _END_YEAR - int(spec.n_years if n_years is None else n_years) + 1  # type: ignore[call-overload]
        _validate(seed, units, start, _END_YEAR)
    return size


def _flavour_size(flavour: object, n_countries: object, n_cells: object) -> int | None:
    """The unit count of ``flavour`` (None: its default); the other flavour's count is refused."""
    if flavour not in ("country", "grid"):
        raise input_error(
            f"flavour must be 'country' or 'grid', got {flavour!r}",
            source="synthetic-world",
            fix="write flavour: grid for a lattice of cells, or omit it for countries",
        )
    own, other = ("n_cells", "n_countries") if flavour == "grid" else ("n_countries", "n_cells")
    values = {"n_countries": n_countries, "n_cells": n_cells}
    if values[other] is not None:
        raise input_error(
            f"{other} is not an option of the {flavour} flavour, got {other}: {values[other]!r}",
            source="synthetic-world",
            fix=f"write {own}: {values[other]!r} instead",
        )
    return values[own]  # type: ignore[return-value]  # its type is checked by the generator


def well_specified_features(x: pd.DataFrame) -> pd.DataFrame:
    """The observed features plus the hazard's nonlinear terms, computed from observed values.

    Adds ``anocracy`` :math:`4A(1-A)`, ``major_war`` :math:`[BD \\ge 10]`,
    ``war_x_repression`` :math:`[BD > 0]\\,R`, ``discrim_x_ef`` :math:`D \\cdot EF`, ``recent``
    :math:`\\text{ever}\\,(1-\\text{ongoing})\\,e^{-\\text{years since}/6}` and ``young_state``
    :math:`e^{-\\text{age}/4}` to the columns of ``x`` (which must hold
    :data:`SYNTHETIC_FEATURES`). A logit on these has the true hazard's functional form in
    every regime; all it lacks is the latent part (instability, frailty, the era shift) and
    the future.
    """
    a, r = x["autocracy"], x["repression"]
    age = np.exp2(x["country_age_log2"]) - 1.0
    extra = pd.DataFrame(
        {
            "anocracy": 4 * a * (1 - a),
            "major_war": (x["battle_deaths_log2"] >= 10).astype(float),
            "war_x_repression": (x["battle_deaths_log2"] > 0) * r,
            "discrim_x_ef": x["discrim_pop_share"] * x["ethnic_fractionalization"],
            "recent": x["mk_ever"] * (1 - x["mk_ongoing"]) * np.exp(-x["years_since_mk"] / 6),
            "young_state": np.exp(-age / 4),
        },
        index=x.index,
    )
    return pd.concat([x, extra], axis=1)


@dataclass(frozen=True)
class AttainableCeiling:
    """Result of :func:`attainable_ceiling`.

    Attributes
    ----------
    auc : float
        ROC AUC of the well-specified logit's rolling-origin forecasts, pooled over origins
        (NaN when the scored rows hold only one class).
    oracle_auc : float
        ROC AUC of the oracle window probability on the same rows (the unattainable bound).
    observed_expected : float
        Observed over expected onsets of the well-specified logit's forecasts.
    n, n_events : int
        Scored rows and onsets.
    forecasts : DataFrame
        ``unit``, ``year`` (= origin), ``probability``, ``oracle``, ``outcome``.
    """

    auc: float
    oracle_auc: float
    observed_expected: float
    n: int
    n_events: int
    forecasts: pd.DataFrame = field(repr=False)


def attainable_ceiling(
    world: pd.DataFrame | Panel,
    horizon: int = 2,
    origins: list[int] | range | None = None,
    *,
    min_train_years: int = 10,
) -> AttainableCeiling:
    """The attainable ceiling of a synthetic world: the well-specified logit, backtested.

    For each origin :math:`T` a logistic regression (median imputation with missing
    indicators, standardised, L2 with :math:`C = 1`) on :func:`well_specified_features`
    plus ``year`` is fitted on the rows with :math:`t \\le T - h` whose window is observed
    and forecasts the rows of year :math:`T`; the forecasts whose window is observed are
    scored together (pooled over origins, as a backtest's pooled AUC). This is the model a
    forecaster would build who knew the hazard's functional form but not its latent part:
    the limit to compare a model against. The oracle (true future hazards) is not attainable.

    Parameters
    ----------
    world : DataFrame or Panel
        A synthetic world (:func:`generate_synthetic_world` or the dataset's panel).
    horizon : int, default 2
        Outcome window ``h``: an onset in ``t+1 .. t+h``.
    origins : sequence of int, optional
        Origin years; default every year from ``first year + min_train_years + h - 1`` to
        the last year.
    min_train_years : int, default 10
        Training years needed before the first default origin.

    Returns
    -------
    AttainableCeiling
    """
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from forecast.outcomes import onset_within

    frame = world if isinstance(world, pd.DataFrame) else world.frame
    outcome = onset_within(frame, horizon, onset="mk_onset").to_numpy()
    oracle = oracle_window_probability(frame, horizon).to_numpy()
    years = frame["year"].to_numpy()
    x = well_specified_features(frame[list(SYNTHETIC_FEATURES)]).assign(year=years.astype(float))
    if origins is None:
        origins = range(int(years.min()) + min_train_years + horizon - 1, int(years.max()) + 1)
    parts = []
    for origin in origins:
        train = (years <= origin - horizon) & ~np.isnan(outcome)
        test = (years == origin) & ~np.isnan(outcome)
        if not test.any() or len(np.unique(outcome[train])) < 2:
            continue
        model = make_pipeline(
            SimpleImputer(strategy="median", add_indicator=True),
            StandardScaler(),
            LogisticRegression(max_iter=5000),
        ).fit(x[train], outcome[train])
        parts.append(
            pd.DataFrame(
                {
                    "unit": frame["unit"].to_numpy()[test],
                    "year": years[test],
                    "probability": model.predict_proba(x[test])[:, 1],
                    "oracle": oracle[test],
                    "outcome": outcome[test],
                }
            )
        )
    if not parts:
        raise input_error(
            "no origin has both training onsets and scorable forecasts",
            source="attainable_ceiling",
            fix="pass later origins or a longer world",
        )
    table = pd.concat(parts, ignore_index=True)
    scored = table.dropna(subset=["oracle"])
    y = table["outcome"].to_numpy()

    def auc(outcome: pd.Series | np.ndarray, score: pd.Series) -> float:
        both = len(np.unique(outcome)) == 2  # NaN, not a warning, without both classes
        return float(roc_auc_score(outcome, score)) if both else float("nan")

    return AttainableCeiling(
        auc=auc(y, table["probability"]),
        oracle_auc=auc(scored["outcome"], scored["oracle"]),
        observed_expected=float(y.sum() / table["probability"].sum()),
        n=len(table),
        n_events=int(y.sum()),
        forecasts=table,
    )


# --------------------------------------------------------------------------- helpers


def _check_world_size(option: str, n_units: int, n_years: int) -> None:
    """Refuse worlds beyond :data:`MAX_UNITS` units or :data:`MAX_ROWS` unit-years."""
    if n_units > MAX_UNITS:
        raise input_error(
            f"{option} must be at most {MAX_UNITS:_}, got {n_units:_}",
            source="synthetic-world",
            fix=f"pass {option} <= {MAX_UNITS:_} (the limit keeps a world in memory)",
        )
    if n_units * n_years > MAX_ROWS:
        raise input_error(
            f"{option} x years must be at most {MAX_ROWS:_} rows, got {n_units:_} x "
            f"{n_years} = {n_units * n_years:_}",
            source="synthetic-world",
            fix=f"pass {option} <= {MAX_ROWS // n_years:_} for {n_years} years, or fewer years",
        )


def _regime_spec(regime: object) -> _RegimeSpec:
    if not isinstance(regime, str) or regime not in _REGIME_SPECS:
        raise input_error(
            f"regime must be one of {list(REGIMES)}, got {regime!r}",
            source="generate_synthetic_world",
            fix="e.g. regime: stationary (the card datasets/synthetic-world.md describes each)",
        )
    return _REGIME_SPECS[regime]


def _validate(seed: object, n_countries: object, start_year: object, end_year: object) -> None:
    for name, value in (
        ("seed", seed),
        ("n_countries", n_countries),
        ("start_year", start_year),
        ("end_year", end_year),
    ):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise input_error(
                f"{name} must be an int, got {value!r}",
                source="generate_synthetic_world",
                fix=f"pass an integer {name}",
            )
    if seed < 0:  # type: ignore[operator]
        raise input_error(
            f"seed must be >= 0, got {seed}",
            source="generate_synthetic_world",
            fix="pass a non-negative seed",
        )
    if n_countries < 1:  # type: ignore[operator]
        raise input_error(
            f"n_countries must be >= 1, got {n_countries}",
            source="generate_synthetic_world",
            fix="pass n_countries=165 or another positive count",
        )
    if start_year < 1:  # type: ignore[operator]
        raise input_error(
            f"start_year must be >= 1 (a calendar year), got {start_year}",
            source="generate_synthetic_world",
            fix="pass a later start_year (or fewer n_years)",
        )
    if end_year < start_year:  # type: ignore[operator]
        raise input_error(
            f"end_year ({end_year}) must be >= start_year ({start_year})",
            source="generate_synthetic_world",
            fix="swap or correct the years",
        )
    _check_world_size("n_countries", n_countries, end_year - start_year + 1)  # type: ignore[arg-type,operator]


_PREFIXES = (
    "Al", "Bel", "Cor", "Dra", "Es", "Fen", "Gal", "Har", "Ist", "Jor", "Kal", "Lur", "Mar",
    "Nor", "Ost", "Pel", "Quen", "Rav", "Sel", "Tor", "Ul", "Val", "Wes", "Xan", "Yar", "Zel",
)  # fmt: skip
_SUFFIXES = ("doria", "vania", "mark", "istan", "land", "ovia", "esia", "ador", "enia", "uria")


def _unit_names(n: int) -> np.ndarray:
    """Deterministic, seed-independent unit names: ``Aldoria``-style, then ``Country 261``."""
    named = min(n, len(_PREFIXES) * len(_SUFFIXES))
    names = []
    for i in range(named):  # at most 260 names; the numbered rest is vectorised
        a = i % len(_PREFIXES)
        b = (i // len(_PREFIXES) + 3 * a) % len(_SUFFIXES)
        names.append(_PREFIXES[a] + _SUFFIXES[b])
    numbered = np.strings.add("Country ", np.arange(named + 1, n + 1).astype(str))
    return np.concatenate([np.array(names, dtype=object), numbered.astype(object)])


def _labels(
    names: np.ndarray, codes: np.ndarray, categorical: bool
) -> pd.api.extensions.ExtensionArray:
    """``names[codes]`` as text, or as a categorical with sorted categories (lean worlds)."""
    if not categorical:
        return pd.array(names, dtype="str").take(codes)
    order = np.argsort(names, kind="stable")
    rank = np.empty(len(names), dtype=np.int64)
    rank[order] = np.arange(len(names))
    categories = pd.Index(names[order], dtype="str")
    used = np.zeros(len(names), dtype=bool)
    used[codes] = True  # only the names that appear, as pandas would infer them
    keep = used[order]
    remap = np.cumsum(keep) - 1
    return pd.Categorical.from_codes(remap[rank[codes]], categories=categories[keep])


def _storage(dtype: object, *, source: str) -> type[np.floating]:
    """The float type named by a ``dtype`` option ('float64' or 'float32')."""
    if dtype not in ("float64", "float32"):
        raise input_error(
            f"dtype must be 'float64' or 'float32', got {dtype!r}",
            source=source,
            fix="write dtype: float32 for lean large worlds, or omit it",
        )
    return np.float32 if dtype == "float32" else np.float64


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


# Region mixes of the three entry waves (order of REGIONS).
_WAVE_P = np.array([0.615, 0.235, 0.15])  # before 1960, decolonisation, breakups
_WAVE_REGION_P = np.array(
    [
        [0.08, 0.30, 0.14, 0.26, 0.12, 0.10],  # independent before 1960
        [0.62, 0.10, 0.14, 0.02, 0.10, 0.02],  # decolonisation 1960-1989
        [0.08, 0.00, 0.04, 0.55, 0.03, 0.30],  # post-1990 breakups and later
    ]
)
_REGION_DEVELOPMENT = np.array([-0.9, 0.2, 0.1, 1.0, 0.2, -0.4])
_REGION_AUTOCRACY = np.array([0.9, -0.3, 0.5, -0.6, 1.3, 0.6])
_REGION_EF = np.array([0.65, 0.45, 0.40, 0.25, 0.40, 0.50])


def _stratified(rng: np.random.Generator, n: int, p: np.ndarray) -> np.ndarray:
    """Category codes in shuffled order with counts ``n * p`` (largest remainder rounding)."""
    exact = n * np.asarray(p, dtype=float)
    counts = np.floor(exact).astype(np.int64)
    remainder = exact - counts
    counts[np.argsort(-remainder, kind="stable")[: n - counts.sum()]] += 1
    return rng.permutation(np.repeat(np.arange(len(counts)), counts))


def _standardised(x: np.ndarray) -> np.ndarray:
    """Centre and scale draws to mean 0, sd 1 (fewer between-seed swings of the base rate)."""
    if len(x) < 2:
        return np.zeros_like(x)
    return (x - x.mean()) / x.std()


def _independence_years(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Draw independence years and entry waves (0 old, 1 decolonisation, 2 breakup)."""
    wave = _stratified(rng, n, _WAVE_P)
    old = np.where(rng.random(n) < 0.45, rng.integers(1800, 1900, n), rng.integers(1900, 1960, n))
    decol = np.where(
        rng.random(n) < 0.8, 1960 + rng.geometric(0.22, n) - 1, rng.integers(1966, 1990, n)
    )
    breakup = np.where(
        rng.random(n) < 0.75, rng.integers(1990, 1994, n), rng.integers(1994, 2020, n)
    )
    independence = np.select([wave == 0, wave == 1], [old, np.minimum(decol, 1989)], breakup)
    return independence.astype(np.int64), wave


def _draw_countries(rng: np.random.Generator, n: int, start_year: int, end_year: int) -> _Countries:
    independence, wave = _independence_years(rng, n)
    late = independence > end_year  # keep n units: squeeze late entrants into the window
    independence[late] = rng.integers(start_year, end_year + 1, late.sum())
    entry = np.maximum(independence, start_year)
    exit_ = np.full(n, end_year, dtype=np.int64)
    candidates = np.flatnonzero((wave == 0) & (entry < 1989))
    n_exit = min(len(candidates), round(0.03 * n))
    leaving = rng.choice(candidates, size=n_exit, replace=False) if n_exit else candidates[:0]
    exit_years = np.where(rng.random(n_exit) < 0.25, 1975, rng.integers(1989, 1993, n_exit))
    keep_exit = (exit_years > entry[leaving]) & (exit_years < end_year)
    exit_[leaving[keep_exit]] = exit_years[keep_exit]

    region = np.zeros(n, dtype=np.int64)
    for w in range(len(_WAVE_P)):
        members = np.flatnonzero(wave == w)
        region[members] = _stratified(rng, len(members), _WAVE_REGION_P[w])
    noise = np.column_stack([_standardised(rng.normal(0, 1, n)) for _ in range(4)])
    development = _REGION_DEVELOPMENT[region] - 0.3 * (wave == 1) + 0.7 * noise[:, 0]
    ef_mean = _REGION_EF[region]
    efindex = np.clip(rng.beta(ef_mean * 4.0, (1 - ef_mean) * 4.0), 0.0, 0.95)
    discriminating = rng.random(n) < 0.15 + 0.35 * efindex
    autocracy_mean = _REGION_AUTOCRACY[region] - 0.6 * development + 0.8 * noise[:, 1]
    pop0 = np.clip(22.6 + 2.0 * noise[:, 2] - 0.6 * (wave == 2), 17.6, 29.5)
    traits = np.column_stack([development, autocracy_mean, pop0, discriminating, efindex])
    return _Countries(
        names=_unit_names(n),
        region=region,
        independence=independence,
        entry=entry,
        exit=exit_,
        efindex=efindex,
        development=development,
        autocracy_mean=autocracy_mean,
        discriminating=discriminating,
        discrim_level=rng.normal(-2.0, 1.0, n),
        pop0=pop0,
        pop_growth=np.clip(0.034 - 0.010 * development + rng.normal(0, 0.006, n), 0.0, 0.06),
        imr0=np.clip(9.5 - 2.6 * development + 1.0 * noise[:, 3], 3.0, 16.0),
        imr_decline=np.clip(rng.normal(0.02, 0.006, n), 0.004, 0.04),
        frailty=_orthogonal(rng.normal(0, 1, n), traits) * _FRAILTY_SD,
    )


def _orthogonal(x: np.ndarray, traits: np.ndarray) -> np.ndarray:
    """Residual of ``x`` on the observed traits, standardised: the frailty is independent of them.

    Fewer between-seed swings of the base rate; with too few countries, only standardise.
    """
    design = np.column_stack([np.ones(len(x)), traits])
    if len(x) <= 2 * design.shape[1]:
        return _standardised(x)
    coef, *_ = np.linalg.lstsq(design, x, rcond=None)
    return _standardised(x - design @ coef)


def _democratisation_trend(year: int) -> float:
    """Common shift of the autocracy logit: third wave from 1975, slight backsliding later."""
    return float(np.interp(year, [1960, 1975, 1995, 2010, 2024], [0.3, 0.3, -0.9, -1.0, -0.8]))


def _era(year: int, spec: _RegimeSpec) -> float:
    return float(np.interp(year, *_ERA_KNOTS)) if spec.era is None else spec.era


@dataclass
class _State:
    """Mutable true state of all countries at the end of the current year."""

    a: np.ndarray  # autocracy logit
    r: np.ndarray  # repression logit
    j: np.ndarray  # judicial independence logit
    cs: np.ndarray  # civil-society freedom logit
    discrim: np.ndarray  # discriminated share
    z: np.ndarray  # latent instability (not observed)
    conflict: np.ndarray  # armed conflict state (bool)
    battle: np.ndarray  # log2 battle deaths
    gdp: np.ndarray  # growth, percent
    coup_years: np.ndarray  # years since last coup attempt (large = none)
    upheaval: np.ndarray  # bool
    iccpr: np.ndarray  # bool
    episode_end: np.ndarray  # last year of the current episode (-inf if none)
    last_ongoing: np.ndarray  # last year with an ongoing episode (-inf if none)
    ever: np.ndarray  # bool
    contagion: np.ndarray  # share of other regional countries ongoing


def _initial_state(rng: np.random.Generator, c: _Countries, year: int) -> _State:
    n = len(c.names)
    a = c.autocracy_mean + _democratisation_trend(year) + rng.normal(0, 0.5, n)
    return _State(
        a=a,
        r=0.9 * a - 0.8 + rng.normal(0, 0.5, n),
        j=-1.0 * a + 0.3 * c.development + rng.normal(0, 0.5, n),
        cs=-1.0 * a + rng.normal(0, 0.5, n),
        discrim=np.where(c.discriminating, _sigmoid(c.discrim_level), 0.0),
        z=rng.normal(0, 0.8, n),
        conflict=np.zeros(n, dtype=bool),
        battle=np.zeros(n),
        gdp=np.zeros(n),
        coup_years=np.full(n, 99.0),
        upheaval=np.zeros(n, dtype=bool),
        iccpr=np.zeros(n, dtype=bool),
        episode_end=np.full(n, -np.inf),
        last_ongoing=np.full(n, -np.inf),
        ever=np.zeros(n, dtype=bool),
        contagion=np.zeros(n),
    )


def _hazard_terms(
    s: _State, c: _Countries, year: int, pop: np.ndarray, imr: np.ndarray, spec: _RegimeSpec
) -> dict[str, np.ndarray | float]:
    """Additive terms of logit P(onset in ``year``) given the state ``s`` at the end of year-1."""
    h = spec.hazard
    autoc = _sigmoid(s.a)
    repr_ = _sigmoid(s.r)
    ongoing = s.episode_end >= year - 1
    since = np.minimum(year - 1 - s.last_ongoing, _YEARS_SINCE_CAP)
    age = np.maximum(year - 1 - c.independence, 0)
    return {
        "intercept": h["intercept"],
        "era": _era(year, spec),
        "autocracy": h["autocracy"] * autoc,
        "anocracy": h["anocracy"] * 4.0 * autoc * (1.0 - autoc),
        "repression": h["repression"] * repr_,
        "discrim": h["discrim"] * s.discrim,
        "discrim_x_ef": h["discrim_x_ef"] * s.discrim * c.efindex,
        "imr": h["imr"] * (imr - 6.0),
        "pop": h["pop"] * (pop - 23.0),
        "battle": h["battle"] * s.battle,
        "major_war": h["major_war"] * (s.battle >= 10.0),
        "war_x_repression": h["war_x_repression"] * s.conflict * repr_,
        "coup5": h["coup5"] * (s.coup_years <= 4),
        "upheaval": h["upheaval"] * s.upheaval,
        "contagion": h["contagion"] * s.contagion,
        "iccpr": h["iccpr"] * s.iccpr,
        "judicial": h["judicial"] * _sigmoid(s.j),
        "civil_society": h["civil_society"] * _sigmoid(s.cs),
        "ever": h["ever"] * s.ever,
        "recent": h["recent"] * (s.ever & ~ongoing) * np.exp(-since / 6.0),
        "ongoing": h["ongoing"] * ongoing,
        "young_state": h["young_state"] * np.exp(-age / 4.0),
        "latent": h["latent"] * s.z,
        "frailty": c.frailty,
    }


def _hazard_logit(
    s: _State, c: _Countries, year: int, pop: np.ndarray, imr: np.ndarray, spec: _RegimeSpec
) -> np.ndarray:
    """Logit of P(onset in ``year``): the sum of :func:`_hazard_terms`, softly capped.

    The cap ``eta -> cap - log(1 + exp(cap - eta))`` (a smooth minimum of ``eta``
    and ``cap``) keeps the worst country-years below ``sigmoid(cap)``.
    """
    eta = sum(_hazard_terms(s, c, year, pop, imr, spec).values()) * np.ones(len(c.names))
    cap = _HAZARD_CAP_LOGIT
    return cap - np.logaddexp(0.0, cap - eta)


def _simulate(
    rng: np.random.Generator,
    c: _Countries,
    years: np.ndarray,
    spec: _RegimeSpec,
    storage: type[np.floating] = np.float64,
) -> dict[str, np.ndarray]:
    """Run the DGP year by year; return (n_years, n) arrays of the recorded values."""
    n = len(c.names)
    shape = (len(years), n)
    out = {
        k: np.zeros(shape, dtype=bool if k in _BINARY else storage) for k in SYNTHETIC_FEATURES
    }  # 0/1 features never missing: stored as bool (1 byte), cast when the frame is made
    out["true_probability"] = np.zeros(shape)
    out["mk_onset"] = np.zeros(shape, dtype=bool)
    out["present"] = np.zeros(shape, dtype=bool)
    s = _initial_state(rng, c, int(years[0]))
    region_shock = np.zeros(len(REGIONS))
    for k, year in enumerate(int(y) for y in years):
        present = (c.independence <= year) & (year <= c.exit)
        pop = c.pop0 + c.pop_growth * (year - 1960) * (1.0 - 0.004 * max(year - 1960, 0))
        imr = c.imr0 * np.exp(-c.imr_decline * (year - 1960))

        # 1. onset in `year`, drawn from the state at the end of year-1
        p = _sigmoid(_hazard_logit(s, c, year, pop, imr, spec)) * present
        onset = rng.random(n) < p
        duration = np.ceil(np.exp(rng.normal(2.0, 0.9, n)))  # lognormal, median 7.4 years
        s.episode_end = np.where(
            onset, np.maximum(s.episode_end, year + duration - 1), s.episode_end
        )
        ongoing = present & (s.episode_end >= year)
        s.last_ongoing = np.where(ongoing, year, s.last_ongoing)
        s.ever |= ongoing

        # 2. latent instability: AR(1) with regional shocks, a jolt at independence
        region_shock = 0.5 * region_shock + rng.normal(0, 0.1, len(REGIONS))
        s.z = 0.75 * s.z + region_shock[c.region] + rng.normal(0, 0.55, n)
        s.z += 1.0 * (c.independence == year)

        coup = _step_triggers(rng, s, c, year, pop, imr, present, onset, ongoing)
        _step_structure(rng, s, c, year, present, coup, ongoing)
        s.contagion = _regional_share(ongoing, present, c.region)
        out["present"][k] = present
        out["true_probability"][k] = p
        out["mk_onset"][k] = onset
        _record(rng, out, k, s, c, year, pop, imr, coup, ongoing)
    return out


def _step_triggers(
    rng: np.random.Generator,
    s: _State,
    c: _Countries,
    year: int,
    pop: np.ndarray,
    imr: np.ndarray,
    present: np.ndarray,
    onset: np.ndarray,
    ongoing: np.ndarray,
) -> np.ndarray:
    """Draw the bursty triggers of ``year`` (coups, armed conflict, growth, upheaval)."""
    n = len(c.names)
    anocracy = 4.0 * _sigmoid(s.a) * (1.0 - _sigmoid(s.a))
    coup_logit = (
        -4.8 + 0.55 * s.z - 0.45 * c.development + 0.9 * anocracy + 0.8 * (year < 1990)
        + 1.1 * (s.coup_years <= 3)
    )  # fmt: skip
    coup = present & (rng.random(n) < _sigmoid(coup_logit))
    s.coup_years = np.where(coup, 0.0, s.coup_years + 1.0)
    start = _sigmoid(
        -4.6 + 0.6 * s.z + 0.12 * (pop - 23.0) + 0.2 * (imr - 6.0) + 1.2 * s.discrim
        + 0.8 * c.efindex + 0.5 * onset + 0.5 * s.contagion
    )  # fmt: skip
    stay = _sigmoid(1.4 + 0.5 * s.z + 0.3 * ongoing)
    s.conflict = present & (rng.random(n) < np.where(s.conflict, stay, start))
    intensity = 7.5 + 0.7 * s.z + 0.3 * (pop - 23.0) + 0.8 * ongoing + rng.normal(0, 2.0, n)
    s.battle = np.where(s.conflict, np.clip(0.5 * s.battle + 0.5 * intensity + 2.0, 1.0, 17.5), 0.0)
    s.gdp = (
        0.35 * s.gdp + 0.65 * (1.8 + 0.4 * c.development) + 3.5 * rng.standard_t(4, n)
        - 2.5 * s.conflict - 1.5 * coup + 0.8 * rng.normal(0, 1, n)
    )  # fmt: skip
    upheaval_logit = -3.6 + 0.8 * s.z - 0.08 * np.minimum(s.gdp, 5.0) + 0.6 * coup
    s.upheaval = present & (rng.random(n) < _sigmoid(upheaval_logit))
    return coup


def _step_structure(
    rng: np.random.Generator,
    s: _State,
    c: _Countries,
    year: int,
    present: np.ndarray,
    coup: np.ndarray,
    ongoing: np.ndarray,
) -> None:
    """Move the slow structural and mitigating processes one year, nudged by the triggers."""
    n = len(c.names)
    coup_success = coup & (rng.random(n) < 0.5)
    a_target = c.autocracy_mean + _democratisation_trend(year)
    s.a = (
        a_target + 0.93 * (s.a - a_target) + rng.normal(0, 0.18, n) + 1.0 * coup_success
        + s.upheaval * rng.normal(-0.4, 0.8, n)
    )  # fmt: skip
    s.r = (
        0.8 * s.r + 0.2 * (0.9 * s.a - 0.8) + 0.2 * ongoing + 0.1 * s.conflict
        + rng.normal(0, 0.15, n)
    )  # fmt: skip
    s.j = 0.85 * s.j + 0.15 * (-1.0 * s.a + 0.3 * c.development) + rng.normal(0, 0.12, n)
    s.cs = 0.8 * s.cs + 0.2 * (-1.1 * s.r) + rng.normal(0, 0.12, n)
    discrim_target = _sigmoid(c.discrim_level + 0.8 * (s.a - 1.0))
    drifted = np.clip(0.9 * s.discrim + 0.1 * discrim_target + rng.normal(0, 0.01, n), 0, 1)
    s.discrim = np.where(c.discriminating, drifted, 0.0)
    treaty_era = 0.6 * (1976 <= year <= 1995)
    ratify_p = _sigmoid(-3.2 - 0.9 * s.a + treaty_era + 0.3 * c.development)
    s.iccpr |= present & (year >= 1966) & (rng.random(n) < ratify_p)


def _regional_share(ongoing: np.ndarray, present: np.ndarray, region: np.ndarray) -> np.ndarray:
    """Share of the OTHER present countries of each country's region with an ongoing episode."""
    onehot = np.eye(len(REGIONS))[region]
    count = ongoing.astype(float) @ onehot
    others = (present.astype(float) @ onehot)[region] - present
    return np.where(others > 0, (count[region] - ongoing) / np.maximum(others, 1), 0.0)


def _record(
    rng: np.random.Generator,
    out: dict[str, np.ndarray],
    k: int,
    s: _State,
    c: _Countries,
    year: int,
    pop: np.ndarray,
    imr: np.ndarray,
    coup: np.ndarray,
    ongoing: np.ndarray,
) -> None:
    """Write the observed features at the end of ``year`` (noisy measures of the true state)."""
    n = len(c.names)

    def measured(true: np.ndarray) -> np.ndarray:
        return np.clip(true + rng.normal(0, 0.05, n), 0, 1)

    out["mk_ongoing"][k] = ongoing
    out["mk_ever"][k] = s.ever
    out["years_since_mk"][k] = np.minimum(year - s.last_ongoing, _YEARS_SINCE_CAP)
    out["autocracy"][k] = measured(_sigmoid(s.a))
    out["repression"][k] = measured(_sigmoid(s.r))
    out["judicial_independence"][k] = measured(_sigmoid(s.j))
    out["civil_society_freedom"][k] = measured(_sigmoid(s.cs))
    out["discrim_pop_share"][k] = np.round(s.discrim, 3)
    out["infant_mortality_sqrt"][k] = np.clip(imr + rng.normal(0, 0.15, n), 1.0, 17.0)
    out["population_log2"][k] = pop
    out["gdppc_growth"][k] = s.gdp
    out["ethnic_fractionalization"][k] = np.round(c.efindex, 3)
    out["country_age_log2"][k] = np.log2(np.maximum(year - c.independence, 0) + 1.0)
    out["coup_attempt"][k] = coup
    out["coup_try_5yr"][k] = s.coup_years <= 4
    out["battle_deaths_log2"][k] = s.battle
    out["regional_contagion"][k] = s.contagion
    out["upheaval"][k] = s.upheaval
    out["iccpr_ratified"][k] = s.iccpr


def _apply_missingness(
    rng: np.random.Generator, out: dict[str, np.ndarray], years: np.ndarray
) -> None:
    """Blank observed values at random given observed ones (MAR): early years, small/new states."""
    early = (years[:, None] < 1970).astype(float)
    small = (out["population_log2"] < 20.0).astype(float)
    new = (out["country_age_log2"] < 2.0).astype(float)
    autoc = out["autocracy"]

    def blank(column: str, logit: np.ndarray) -> None:
        mask = rng.random(logit.shape) < _sigmoid(logit)
        out[column][mask] = np.nan

    blank("gdppc_growth", -4.6 + 1.8 * early + 1.2 * small + 1.5 * new + 1.5 * autoc)
    blank("infant_mortality_sqrt", -5.5 + 2.0 * early + 1.0 * small + 1.5 * new)
    blank("population_log2", -6.5 + 2.5 * new)
    blank("discrim_pop_share", -6.0 + 5.0 * (out["population_log2"] < 19.0) + 0.5 * early)
    for column in ("judicial_independence", "civil_society_freedom"):
        blank(column, -6.0 + 4.5 * (out["population_log2"] < 19.3) + 1.5 * new)
    blank("autocracy", -7.0 + 3.0 * new)
    blank("repression", -7.0 + 3.0 * new)


def _to_frame(
    c: _Countries,
    years: np.ndarray,
    out: dict[str, np.ndarray],
    start_year: int,
    storage: type[np.floating] = np.float64,
) -> pd.DataFrame:
    present = out.pop("present") & (years[:, None] >= start_year)
    by_name = np.argsort(c.names, kind="stable")  # names are unique: (name, year) order
    position, year_idx = np.nonzero(present.T[by_name])  # row-major: by name, then year
    unit_idx = by_name[position]
    flat = year_idx * len(c.names) + unit_idx  # into the (years, units) arrays of ``out``
    lean = storage is np.float32
    frame = {
        "unit": _labels(c.names, unit_idx, lean),
        "year": years[year_idx].astype(np.int64),
        "region": _labels(np.array(REGIONS, dtype=object), c.region[unit_idx], lean),
    }
    for column in SYNTHETIC_FEATURES:
        values = out.pop(column).ravel()[flat]  # pop: each array is freed once read
        frame[column] = (
            values.astype(np.int64)
            if column == "mk_ongoing" and not lean
            else values.astype(storage, copy=False)
        )
    frame["mk_onset"] = out.pop("mk_onset").ravel()[flat].astype(np.int64)
    frame["true_probability"] = out.pop("true_probability").ravel()[flat].astype(np.float64)
    return pd.DataFrame(frame, copy=False)
