"""What a risk list's number is: the facts a list opens with.

:func:`list_intro` gathers them from the fit, the panel and the list's backtest (it renders
nothing): the outcome definition (the dataset's, :func:`outcome_definition`), the forecast
window, the level of the plausible range the model gives (:func:`interval_level`), who has no
forecast and why, the expected number of new onsets (the sum of the probabilities) and how
often units rated at or above a level in past lists had an onset.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from forecast.risk._fit import LatestForecast, history_base_label
from forecast.risk._words import unit_names

__all__ = ["ListIntro", "interval_level", "intro_context", "list_intro", "outcome_definition"]

_SOURCE_DATASETS = {"synthetic": "synthetic-world"}
"""Built-in feature sources with no files, by the registered dataset they read."""


@dataclass(frozen=True)
class ListIntro:
    """The facts a risk list opens with (see :func:`list_intro`).

    Attributes
    ----------
    definition : str
        What counts as an onset (the dataset's words; the outcome's description otherwise).
    first_year, last_year : int
        The forecast window.
    level : float or None
        Level of the plausible range (0.8 = 80%); None when the model gives none or its
        interval has no stated level (Venn-Abers).
    interval_kind : str
        ``'none'``, ``'level'`` or ``'venn_abers'``.
    expected : float
        Sum of the listed probabilities: the expected number of units with a new onset.
    n_units : int
    no_forecast : list of (str, list of str)
        Reasons and the units (names) they concern.
    past : dict or None
        Past lists at ``past_level``: ``level``, ``n`` (unit-lists at or above it with a
        known outcome), ``events``, ``mean_forecast``, ``first``, ``last`` (list years).
    reliability : DataFrame or None
        Past lists' reliability on fixed probability bins, when available.
    """

    definition: str
    first_year: int
    last_year: int
    level: float | None
    interval_kind: str
    expected: float
    n_units: int
    no_forecast: list[tuple[str, list[str]]] = field(default_factory=list)
    past: dict[str, Any] | None = None
    reliability: pd.DataFrame | None = None


def outcome_definition(config: Any) -> str:
    """The definition of an onset for ``config``'s data: the registered dataset's
    ``outcome_definition`` (:func:`forecast.data.dataset_info`), found from the experiment's
    ``dataset`` or, for a feature set, from the source its outcome is built from; else the
    outcome indicator's description; else ``''``."""
    from forecast.data import dataset_info, dataset_names

    name = getattr(config, "dataset", None)
    entry = None
    if getattr(config, "feature_set", None):  # its own sources, whatever ``dataset`` says
        name = None
        from forecast.features import load_feature_set
        from forecast.features._sources import BUILTIN
        from forecast.risk._derived import root_entry

        fs = load_feature_set(config.feature_set)
        by_name = {i.name: i for i in fs.indicators}
        entry = by_name.get(str(config.outcome))
        root, _ = root_entry(by_name, str(config.outcome))
        found = root.source.dataset if root is not None else None
        source = BUILTIN.get(found) if found is not None else None
        if source is not None:
            name = _SOURCE_DATASETS.get(source.name) or (
                source.files[0].split("/")[0] if source.files else None
            )
    if name in dataset_names() and dataset_info(name).outcome_definition:
        return dataset_info(name).outcome_definition
    return getattr(entry, "description", "") or ""


def interval_level(latest: LatestForecast) -> tuple[str, float | None]:
    """``('none', None)`` without an interval, ``('venn_abers', None)`` for a Venn-Abers
    interval (no stated level), else ``('level', level)``: the level the model's interval was
    computed at (a history recalibration's ``level`` option or its default; a recalibrated
    model's ``level``)."""
    if np.isnan(np.asarray(latest.current.lower, dtype=float)).all():
        return "none", None
    config = latest.config
    if history_base_label(config, latest.spec.label) is not None:
        from forecast.calibration import recalibrate_from_history

        default = inspect.signature(recalibrate_from_history).parameters["level"].default
        return "level", float((config.history_recalibration or {}).get("level", default))
    stack = [latest.current.estimator]
    while stack:
        est = stack.pop()
        if getattr(est, "method", None) == "venn_abers":
            return "venn_abers", None
        if hasattr(est, "predict_interval") and isinstance(getattr(est, "level", None), float):
            return "level", float(est.level)
        stack += [getattr(est, "estimator_", None)] if hasattr(est, "estimator_") else []
        stack += [e for _, e in getattr(est, "estimators_", []) or []]
    return "none", None


def _no_forecast(latest: LatestForecast) -> list[tuple[str, list[str]]]:
    """Units with no forecast and why: panel units with no row in the data year; states of
    the state system (COW-coded panels) the dataset does not cover."""
    panel, y = latest.panel, latest.year
    frame = panel.frame
    listed = set(latest.current.units.tolist())
    out: list[tuple[str, list[str]]] = []
    recent = frame[(frame[panel.year] < y) & (frame[panel.year] >= y - 5)]
    gone = sorted(set(recent[panel.unit]) - listed, key=str)
    if gone:
        last = recent.groupby(panel.unit)[panel.year].max()
        names = []
        for unit in gone:  # named as in its last year (it has a row then)
            year = int(last[unit])
            names.append(f"{unit_names(panel, year).get(unit, unit)} (last data {year})")
        out.append((f"in the dataset, but no data for {y}", names))
    system = getattr(panel, "unit_system", None)
    if system == "cow" or system == "gw":
        from forecast.statesystem import StateSystem

        members = StateSystem.load().members(system, y)
        missing = members[~members["code"].astype(int).isin(listed | set(gone))]
        if len(missing):
            out.append(
                (
                    f"states in {y} outside the dataset's selection (e.g. small populations)",
                    sorted(missing["name"].astype(str).tolist()),
                )
            )
    return out


def _past(past: pd.DataFrame | None, level: float, horizon: int) -> dict[str, Any] | None:
    if past is None or not len(past):
        return None
    known = past[past["outcome"].notna()]
    rated = known[known["probability"] >= level]
    events = int((rated["outcome"] == 1).sum())
    return {
        "level": level,
        "n": len(rated),
        "events": events,
        "mean_forecast": float(rated["probability"].mean()) if len(rated) else float("nan"),
        "first": int(known["origin"].min()) if len(known) else None,
        "last": int(known["origin"].max()) if len(known) else None,
        "horizon": horizon,
    }


def _reliability(past: pd.DataFrame | None) -> pd.DataFrame | None:
    """Fixed-bin reliability of the past lists (see forecast.calibration.fixed_bin_reliability)."""
    if past is None or not len(past):
        return None
    from forecast.calibration import fixed_bin_reliability

    known = past[past["outcome"].notna()]
    return fixed_bin_reliability(known["outcome"].to_numpy(float), known["probability"].to_numpy())


def list_intro(
    latest: LatestForecast,
    past: pd.DataFrame | None = None,
    *,
    past_level: float = 0.10,
) -> ListIntro:
    """The facts a risk list opens with (see the module docstring).

    Parameters
    ----------
    latest : LatestForecast
    past : DataFrame, optional
        The list's backtest forecasts (:func:`~forecast.risk.backtest_list_forecasts`:
        ``unit``, ``origin``, ``probability``, ``outcome``; only origins whose outcome window
        closed by the data year). Without it there is no track record.
    past_level : float
        The level whose past lists are summarised ("rated 10% or more").
    """
    kind, level = interval_level(latest)
    y, h = latest.year, latest.config.horizon
    return ListIntro(
        definition=outcome_definition(latest.config),
        first_year=y + 1,
        last_year=y + h,
        level=level,
        interval_kind=kind,
        expected=float(np.sum(latest.current.probability)),
        n_units=len(latest.current.units),
        no_forecast=_no_forecast(latest),
        past=_past(past, past_level, h),
        reliability=_reliability(past),
    )


def intro_context(intro: ListIntro | None) -> Mapping[str, Any] | None:
    """``intro`` as plain values for the page template (None passes through)."""
    if intro is None:
        return None
    past = dict(intro.past) if intro.past else None
    if past and past["events"]:
        past["one_in"] = past["n"] / past["events"]
    reliability = None
    if intro.reliability is not None and len(intro.reliability):
        reliability = intro.reliability.to_dict("records")
    return {**intro.__dict__, "past": past, "reliability": reliability}
