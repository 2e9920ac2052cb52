"""Words for readers: unit names instead of codes, indicator labels instead of column names.

* :func:`unit_names` -- each unit's display name in a year: for COW-coded panels
  (``Panel.unit_system == 'cow'``) the year-aware state-system name
  (:meth:`forecast.statesystem.StateSystem.names`, e.g. COW 345 is "Serbia" in 2024), else
  the panel's label column (``Panel.unit_label``, a feature set's ``unit_label:``), else the
  unit id itself.
* :func:`indicator_info` -- the feature-set entries (``label``, ``display``, ``description``)
  behind an experiment's panel, so drivers and flags can say "share of population politically
  discriminated: 42%" rather than "discrimpop".
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import pandas as pd

from forecast._errors import input_error
from forecast.panel import Panel

if TYPE_CHECKING:
    from forecast.features import Indicator

__all__ = ["indicator_info", "unit_names"]


@lru_cache(maxsize=1)
def _states():
    from forecast.statesystem import StateSystem

    return StateSystem.load()


def unit_names(panel: Panel, year: int | None = None) -> pd.Series:
    """Display name of every unit present in ``year`` (default: the panel's last year).

    Parameters
    ----------
    panel : Panel
    year : int, optional

    Returns
    -------
    Series of str
        Indexed by unit id (in panel order), named ``name``. For COW-coded panels the name the
        state had in ``year`` (with today's common names where the COW list's is outdated,
        :data:`forecast.statesystem.COMMON_NAMES`); codes the state system does not list that
        year (EWP keeps a few, e.g. West Germany as 255) fall back to the panel's label
        column, then to the id as text.

    Examples
    --------
    >>> names = unit_names(panel, 2024)                      # doctest: +SKIP
    >>> names.loc[625], names.loc[775]                       # doctest: +SKIP
    ('Sudan', 'Myanmar')
    """
    year = panel.years[1] if year is None else int(year)
    rows = panel.frame.loc[panel.frame[panel.year] == year]
    if rows.empty:
        first, last = panel.years
        raise input_error(
            f"no rows in {year}",
            source=panel.name,
            column=panel.year,
            fix=f"use a year in {first}-{last}",
        )
    units = rows[panel.unit].reset_index(drop=True)
    names = pd.Series([None] * len(units), dtype=object)
    if panel.unit_system in ("cow", "gw"):
        names = _states().names(panel.unit_system, units, year)
    if panel.unit_label is not None and panel.unit_label in rows.columns:
        labels = rows[panel.unit_label].reset_index(drop=True)
        usable = labels.notna() & (labels.astype(str).str.strip() != "")
        names = names.where(names.notna() | ~usable, labels.astype(str))
    names = names.where(names.notna(), units.astype(str))
    return pd.Series(
        names.astype(str).to_numpy(), index=pd.Index(units.to_numpy(), name=panel.unit), name="name"
    )


def indicator_info(config: Any) -> dict[str, Indicator]:
    """Feature-set entries (:class:`forecast.features.Indicator`) of an experiment's panel,
    by column name.

    From ``config.feature_set``; a named dataset with a shipped feature set of the same name
    (``synthetic-world``, ``ewp-2025``) borrows its labels. Empty when there is none: readers
    then see column names.
    """
    from forecast.features import feature_set_names, load_feature_set

    name = getattr(config, "feature_set", None)
    if not name:
        dataset = getattr(config, "dataset", None)
        name = dataset if dataset in feature_set_names() else None
    if not name:
        return {}
    return {i.name: i for i in load_feature_set(name).indicators}


def label_of(info: Mapping[str, Any], feature: str) -> str:
    """The reader's name of ``feature``: its spec ``label``, else the column name."""
    entry = info.get(feature)
    return getattr(entry, "text", None) or feature


def value_of(info: Mapping[str, Any], feature: str, value: float) -> str:
    """``value`` of ``feature`` as a reader sees it (``''`` when it is not shown)."""
    from forecast.features import format_value

    entry = info.get(feature)
    return format_value(value, getattr(entry, "display", None))
