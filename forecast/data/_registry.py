"""Registry of named datasets: how to load each into a :class:`~forecast.panel.Panel`."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from forecast._errors import input_error
from forecast.data.synthetic import check_world_options, synthetic_world_panel
from forecast.panel import Panel

__all__ = [
    "DatasetInfo",
    "check_dataset_options",
    "dataset_info",
    "dataset_names",
    "dataset_options",
    "load_dataset",
]


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    description: str
    embedded: bool
    card: str
    outcome_definition: str = ""
    """What counts as an event (an onset) in this dataset, in the source's words: risk lists
    open with it (:func:`forecast.risk.outcome_definition`)."""


def _load_ewp(root: Path | None = None) -> Panel:
    from forecast.data._ewp import load_ewp_2025

    return load_ewp_2025(root)


_DATASETS: dict[str, tuple[DatasetInfo, Callable[..., Panel]]] = {
    "synthetic-world": (
        DatasetInfo(
            "synthetic-world",
            "Seeded simulated world with known true onset probabilities: countries, or "
            "grid cells with flavour: grid (embedded default; no download).",
            True,
            "datasets/synthetic-world.md",
            "the start of a new episode of simulated mass killing, drawn each year from the "
            "simulated world's known hazard (synthetic data: nothing in it is real)",
        ),
        synthetic_world_panel,  # its keywords (seed, regime, ...) are the dataset_options
    ),
    "ewp-2025": (
        DatasetInfo(
            "ewp-2025",
            "USHMM Early Warning Project 2025 modelling panel, 1960-2024, "
            "173 countries (download with `forecast data fetch ewp-2025`).",
            False,
            "datasets/ewp-2025.md",
            "the start of a mass killing, that is, at least 1,000 non-combatant civilians "
            "deliberately killed by an armed group, state or non-state, as members of a group, "
            "within a year or less (Early Warning Project codebook)",
        ),
        _load_ewp,
    ),
}


def dataset_names() -> list[str]:
    return sorted(_DATASETS)


def dataset_info(name: str) -> DatasetInfo:
    if name not in _DATASETS:
        raise input_error(f"unknown dataset {name!r}", fix=f"use one of {dataset_names()}")
    return _DATASETS[name][0]


def dataset_options(name: str) -> dict[str, inspect.Parameter]:
    """The keyword options of dataset ``name``'s loader (``dataset_options`` of a spec)."""
    dataset_info(name)
    return dict(inspect.signature(_DATASETS[name][1]).parameters)


#: Checks of a dataset's options that build nothing (the loader runs them too).
_OPTION_CHECKS: dict[str, Callable[..., object]] = {"synthetic-world": check_world_options}


def check_dataset_options(name: str, options: dict[str, object]) -> None:
    """Check ``options`` of dataset ``name`` as its loader would, without loading it.

    Raises
    ------
    ForecastInputError
        The loader's one-line error for the first bad option.
    """
    dataset_info(name)
    check = _OPTION_CHECKS.get(name)
    if check is not None:
        check(**options)


@lru_cache(maxsize=8)
def _cached(name: str, items: tuple[tuple[str, object], ...]) -> Panel:
    return _DATASETS[name][1](**dict(items))


def load_dataset(name: str, **options: object) -> Panel:
    """Load a named dataset as a validated :class:`~forecast.panel.Panel`.

    Results are memoised per process (panels are treated as read-only).
    """
    info = dataset_info(name)
    if not info.embedded and "root" not in options:
        from forecast.data._store import data_dir

        options["root"] = data_dir()
    return _cached(name, tuple(sorted(options.items())))
