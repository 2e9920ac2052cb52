"""The ``grid`` flavour of ``synthetic-world``: cells of a lattice with spatial contagion.

``n_cells`` cells lie row-major on a rectangular lattice of ``ceil(sqrt(n_cells))``
columns (the last row may be partly filled), all present every year. Cell ``i`` has
``row = i // n_columns`` and ``col = i % n_columns`` and the id ``cell_RRRRR_CCCCC``;
two cells are neighbours when they touch by an edge or a corner (queen adjacency, at
most 8 neighbours). Risk is spatially correlated in three ways, so that spatial lags of
the features carry signal beyond a cell's own values:

- smooth constant traits: development, ethnic diversity, ruggedness and an unobserved
  frailty are Gaussian-smoothed white noise (correlation over a few cells);
- a latent instability ``z`` that diffuses: ``z_t = 0.6 z_{t-1} + 0.3 mean_N(z_{t-1}) + e``
  where ``mean_N`` is the mean over the queen neighbours;
- contagion: the onset hazard of year ``t`` and the start of armed conflict rise with the
  share of neighbours with an ongoing episode (or armed conflict) at the end of ``t-1``.

Row ``t`` holds the state at the end of ``t`` and ``true_probability``, the hazard
``P(mk_onset_t = 1 | state at the end of t-1)`` from which ``mk_onset_t`` was drawn. The
simulation is vectorised over cells and loops over years (a burn-in of 20 years first);
all randomness comes from one ``numpy.random.default_rng(seed)``. The card
``datasets/synthetic-world.md`` gives the equations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import ndimage

from forecast._errors import input_error
from forecast.data.synthetic import (
    DEFAULT_SEED,
    FeatureKind,
    _check_world_size,
    _era,
    _regime_spec,
    _RegimeSpec,
    _sigmoid,
    _storage,
)

__all__ = ["GRID_DESCRIPTIONS", "GRID_FEATURES", "generate_synthetic_grid"]

GRID_FEATURES: dict[str, FeatureKind] = {
    "development": "structural",
    "population_log2": "structural",
    "ethnic_fractionalization": "structural",
    "ruggedness": "structural",
    "repression": "structural",
    "battle_deaths_log2": "trigger",
    "protest": "trigger",
    "mk_ongoing": "history",
    "mk_ever": "history",
    "years_since_mk": "history",
}

GRID_DESCRIPTIONS: dict[str, str] = {
    "development": "development index of the cell (standardised, spatially smooth), constant",
    "population_log2": "log2 of the cell's population",
    "ethnic_fractionalization": "ethnic fractionalisation of the cell in [0, 1], constant",
    "ruggedness": "terrain ruggedness index (>= 0, spatially smooth), constant",
    "repression": "state repression in the cell in [0, 1], measured with noise",
    "battle_deaths_log2": "log2(battle-related deaths + 1); 0 when no armed conflict",
    "protest": "1 if a mass protest happened in the cell in the year",
    "mk_ongoing": "1 if a mass-killing episode is ongoing in the cell in the year",
    "mk_ever": "1 if the cell has had an episode (burn-in years included), this year included",
    "years_since_mk": "years since the last year with an ongoing episode; 0 while ongoing; "
    "capped at 30 (30 also when never)",
}

DEFAULT_CELLS = 2_500
DEFAULT_YEARS = 30
_END_YEAR = 2024
_BURN_IN = 20
_YEARS_SINCE_CAP = 30.0
_HAZARD_CAP_LOGIT = -0.5

# Onset hazard: logit p_t = sum of terms in the state at the end of t-1 (see the card).
_HAZARD = {
    "intercept": -7.3,
    "repression": 1.2,
    "conflict": 0.7,
    "battle": 0.05,
    "protest": 0.5,
    "ethnic": 1.0,
    "development": -0.35,
    "neighbour_ongoing": 2.2,  # share of the queen neighbours in an episode at t-1
    "neighbour_conflict": 0.8,  # share of the queen neighbours in armed conflict at t-1
    "recent": 0.8,  # times exp(-years since / 6) for cells with a past episode
    "ongoing": -1.5,
    "latent": 0.9,  # times the latent instability z (not a feature)
    "frailty": 0.7,  # times the smooth frailty field (not a feature)
}


@dataclass(frozen=True)
class _Lattice:
    """Cells on an ``n_rows x n_cols`` lattice, row-major; the slots past ``n`` are empty."""

    n: int
    n_rows: int
    n_cols: int

    @classmethod
    def of(cls, n: int) -> _Lattice:
        n_cols = int(np.ceil(np.sqrt(n)))
        return cls(n, -(-n // n_cols), n_cols)

    @property
    def slots(self) -> int:
        return self.n_rows * self.n_cols

    def neighbour_sum(self, values: np.ndarray) -> np.ndarray:
        """Sum over each cell's queen neighbours (empty slots must hold 0)."""
        grid = values.reshape(self.n_rows, self.n_cols)
        padded = np.pad(grid, 1)
        total = np.zeros_like(grid)
        for dr in (0, 1, 2):
            for dc in (0, 1, 2):
                if (dr, dc) != (1, 1):
                    total += padded[dr : dr + self.n_rows, dc : dc + self.n_cols]
        return total.ravel()


def check_grid_options(seed: object, regime: object, n_cells: object, n_years: object):
    """The regime of a grid world, after checking its options (none is generated)."""
    spec = _regime_spec(regime)
    if regime not in ("drifting", "stationary"):
        raise input_error(
            f"regime must be 'drifting' or 'stationary' for the grid flavour, got {regime!r}",
            source="synthetic-world",
            fix="use regime: drifting or stationary with flavour: grid",
        )
    for name, value, least in (("seed", seed, 0), ("n_cells", n_cells, 1), ("n_years", n_years, 1)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < least:
            raise input_error(
                f"{name} must be an int >= {least}, got {value!r}",
                source="synthetic-world",
                fix=f"e.g. {name}: {dict(seed=1, n_cells=DEFAULT_CELLS, n_years=30)[name]}",
            )
    _check_world_size("n_cells", int(n_cells), int(n_years))  # type: ignore[call-overload]
    return spec


def generate_synthetic_grid(
    seed: int = DEFAULT_SEED,
    *,
    regime: str = "drifting",
    n_cells: int = DEFAULT_CELLS,
    n_years: int = DEFAULT_YEARS,
    dtype: str = "float32",
) -> pd.DataFrame:
    """Generate the grid flavour of ``synthetic-world``: a cell-year panel on a lattice.

    Parameters
    ----------
    seed : int, default 20251
        Seed of the single ``numpy.random.default_rng`` used; same seed, same frame.
    regime : {'drifting', 'stationary'}, default 'drifting'
        ``drifting`` adds the country world's unobserved era shift to the hazard;
        ``stationary`` holds it at its 1960-2024 average.
    n_cells : int, default 2500
        Cells of the lattice, at most :data:`~forecast.data.synthetic.MAX_UNITS`.
    n_years : int, default 30
        Years of the panel, which ends in 2024; ``n_cells * n_years`` is at most
        :data:`~forecast.data.synthetic.MAX_ROWS`.
    dtype : {'float32', 'float64'}, default 'float32'
        Storage of the features.

    Returns
    -------
    pandas.DataFrame
        One row per (cell, year), sorted by unit then year: ``unit`` (categorical
        ``cell_RRRRR_CCCCC``), ``year`` (int64), ``row`` and ``col`` (int32), the features of
        :data:`GRID_FEATURES` (``dtype``), ``mk_onset`` (float64, a NEW episode starts in the
        year) and ``true_probability`` (float64).
    """
    spec = check_grid_options(seed, regime, n_cells, n_years)
    storage = _storage(dtype, source="synthetic-world")
    rng = np.random.default_rng(seed)
    lattice = _Lattice.of(int(n_cells))
    years = np.arange(_END_YEAR - int(n_years) + 1, _END_YEAR + 1)
    traits = _traits(rng, lattice)
    out = _simulate(rng, lattice, traits, years, spec, storage)
    return _to_frame(lattice, years, out)


def _smooth(rng: np.random.Generator, lattice: _Lattice, sigma: float) -> np.ndarray:
    """Standardised Gaussian-smoothed white noise over the lattice slots."""
    noise = rng.standard_normal((lattice.n_rows, lattice.n_cols))
    field = ndimage.gaussian_filter(noise, sigma=sigma, mode="reflect").ravel()
    real = field[: lattice.n]
    sd = real.std()
    return (field - real.mean()) / (sd if sd > 0 else 1.0)


def _traits(rng: np.random.Generator, lattice: _Lattice) -> dict[str, np.ndarray]:
    """Constant cell traits (length ``lattice.slots``; empty slots are never present)."""
    development = _smooth(rng, lattice, 4.0)
    ethnic = _sigmoid(0.9 * _smooth(rng, lattice, 3.0) - 0.4)
    rugged = np.exp(0.6 * _smooth(rng, lattice, 2.0)) - 0.5
    frailty = _smooth(rng, lattice, 3.0)
    pop = 14.0 + 0.8 * development + 1.5 * rng.standard_normal(lattice.slots)
    real = np.arange(lattice.slots) < lattice.n
    return {
        "real": real,
        "degree": lattice.neighbour_sum(real.astype(float)),
        "development": development,
        "ethnic": ethnic,
        "rugged": np.maximum(rugged, 0.0),
        "frailty": frailty,
        "pop": pop,
    }


def _simulate(
    rng: np.random.Generator,
    lattice: _Lattice,
    c: dict[str, np.ndarray],
    years: np.ndarray,
    spec: _RegimeSpec,
    storage: type[np.floating],
) -> dict[str, np.ndarray]:
    """Run the DGP year by year; return (n_years, n_cells) arrays of the recorded values."""
    m, n = lattice.slots, lattice.n
    shape = (len(years), n)
    binary = {"protest", "mk_ongoing", "mk_ever"}  # never missing: bool until the frame
    out = {k: np.zeros(shape, dtype=bool if k in binary else storage) for k in GRID_FEATURES}
    out["mk_onset"] = np.zeros(shape, dtype=bool)
    out["true_probability"] = np.zeros(shape)
    real, degree = c["real"], np.maximum(c["degree"], 1.0)

    def share(flag: np.ndarray) -> np.ndarray:  # share of the queen neighbours with the flag
        return lattice.neighbour_sum((flag & real).astype(float)) / degree

    z = rng.normal(0, 1.0, m) * real
    r = 0.8 - 0.6 * c["development"] + rng.normal(0, 0.5, m)
    conflict = np.zeros(m, dtype=bool)
    battle = np.zeros(m)
    protest = np.zeros(m, dtype=bool)
    episode_end = np.full(m, -np.inf)
    last_ongoing = np.full(m, -np.inf)
    ever = np.zeros(m, dtype=bool)
    h = _HAZARD
    for year in range(int(years[0]) - _BURN_IN, int(years[-1]) + 1):
        # 1. onset in `year`, drawn from the state at the end of year-1
        was_ongoing = episode_end >= year - 1
        near_ongoing, near_conflict = share(was_ongoing), share(conflict)
        since = np.minimum(year - 1 - last_ongoing, _YEARS_SINCE_CAP)
        eta = (
            h["intercept"] + _era(year, spec)
            + h["repression"] * _sigmoid(r) + h["conflict"] * conflict
            + h["battle"] * battle + h["protest"] * protest + h["ethnic"] * c["ethnic"]
            + h["development"] * c["development"]
            + h["neighbour_ongoing"] * near_ongoing + h["neighbour_conflict"] * near_conflict
            + h["recent"] * (ever & ~was_ongoing) * np.exp(-since / 6.0)
            + h["ongoing"] * was_ongoing + h["latent"] * z + h["frailty"] * c["frailty"]
        )  # fmt: skip
        p = _sigmoid(_HAZARD_CAP_LOGIT - np.logaddexp(0.0, _HAZARD_CAP_LOGIT - eta)) * real
        onset = rng.random(m) < p
        duration = np.ceil(np.exp(rng.normal(1.8, 0.8, m)))  # lognormal, median 6 years
        episode_end = np.where(onset, np.maximum(episode_end, year + duration - 1), episode_end)
        ongoing = real & (episode_end >= year)
        last_ongoing = np.where(ongoing, year, last_ongoing)
        ever |= ongoing

        # 2. latent instability diffuses between neighbours
        z = 0.6 * z + 0.3 * lattice.neighbour_sum(z * real) / degree + rng.normal(0, 0.6, m)
        z *= real
        # 3. armed conflict (contagious), protest, repression
        start = _sigmoid(
            -5.0 + 0.8 * z + 0.6 * c["rugged"] + 0.8 * c["ethnic"] + 1.8 * near_conflict
            + 0.6 * onset
        )  # fmt: skip
        stay = _sigmoid(1.2 + 0.5 * z + 0.4 * ongoing)
        conflict = real & (rng.random(m) < np.where(conflict, stay, start))
        intensity = 6.0 + 0.8 * z + 0.3 * (c["pop"] - 14.0) + 0.8 * ongoing
        battle = np.where(conflict, np.clip(intensity + rng.normal(0, 2.0, m), 1.0, 16.0), 0.0)
        protest = real & (rng.random(m) < _sigmoid(-3.4 + 0.7 * z + 0.8 * _sigmoid(r)))
        r = (
            0.85 * r + 0.15 * (0.8 - 0.6 * c["development"]) + 0.3 * conflict
            + 0.2 * ongoing + rng.normal(0, 0.2, m)
        )  # fmt: skip
        if year < years[0]:
            continue
        k = year - int(years[0])
        out["mk_onset"][k] = onset[:n]
        out["true_probability"][k] = p[:n]
        out["development"][k] = c["development"][:n]
        out["population_log2"][k] = (c["pop"] + 0.015 * (year - 2000))[:n]
        out["ethnic_fractionalization"][k] = np.round(c["ethnic"][:n], 3)
        out["ruggedness"][k] = c["rugged"][:n]
        out["repression"][k] = np.clip(_sigmoid(r[:n]) + rng.normal(0, 0.05, n), 0, 1)
        out["battle_deaths_log2"][k] = battle[:n]
        out["protest"][k] = protest[:n]
        out["mk_ongoing"][k] = ongoing[:n]
        out["mk_ever"][k] = ever[:n]
        out["years_since_mk"][k] = np.minimum(year - last_ongoing[:n], _YEARS_SINCE_CAP)
        # missing at random given observed values: repression in conflict, some populations
        blank = rng.random(n) < _sigmoid(-4.0 + 1.5 * conflict[:n])
        out["repression"][k][blank] = np.nan
        out["population_log2"][k][rng.random(n) < 0.01] = np.nan
    return out


def _to_frame(lattice: _Lattice, years: np.ndarray, out: dict[str, np.ndarray]) -> pd.DataFrame:
    """Cell-major frame (sorted by unit then year): each (n_years, n) array, transposed."""
    n, n_years = lattice.n, len(years)
    index = np.arange(n)
    rows, cols = index // lattice.n_cols, index % lattice.n_cols
    width = max(5, len(str(max(lattice.n_rows, lattice.n_cols))))
    names = np.strings.add(
        np.strings.add("cell_", np.strings.zfill(rows.astype(str), width)),
        np.strings.add("_", np.strings.zfill(cols.astype(str), width)),
    )
    unit = pd.Categorical.from_codes(
        np.repeat(index.astype(np.int32), n_years), categories=pd.Index(names, dtype="str")
    )
    frame: dict[str, object] = {
        "unit": unit,
        "year": np.tile(years.astype(np.int64), n),
        "row": np.repeat(rows.astype(np.int32), n_years),
        "col": np.repeat(cols.astype(np.int32), n_years),
    }
    storage = out["development"].dtype
    for column in GRID_FEATURES:
        frame[column] = out.pop(column).T.ravel().astype(storage, copy=False)
    frame["mk_onset"] = out.pop("mk_onset").T.ravel().astype(np.float64)
    frame["true_probability"] = out.pop("true_probability").T.ravel()
    return pd.DataFrame(frame, copy=False)
