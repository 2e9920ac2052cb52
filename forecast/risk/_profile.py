"""A country's risk profile: its forecasts over the last years, its onsets, and its drivers.

Three views of one unit, each from the engine that owns it:

* **History**: the forecast the list's model made from each of the last ``years`` data years,
  i.e. the backtest's forecasts for those origins (:func:`~forecast.risk.backtest_forecasts`,
  fits cached), with the interval of recalibrated models and the rank and tier the unit had on
  that year's list (all units of the origin ranked, as in :func:`~forecast.risk.tier_meanings`).
  The last point is the published list's probability (the backtest at origin ``Y`` is
  :func:`~forecast.risk.fit_latest`, bit for bit).
* **Drivers over time**: the log-odds contributions (:func:`~forecast.risk.attribute`) of the
  unit's indicators in each year under the *latest* model, so that the lines move only with the
  data. The indicators shown are those with the largest contribution in any of the years.
* **Change since last year**: :func:`~forecast.risk.decompose_change` of the list's change,
  into indicator contributions and the model update (they add up to the change in log-odds).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from forecast._errors import input_error
from forecast.choice import recommend_model
from forecast.experiment import ExperimentConfig
from forecast.panel import Panel
from forecast.risk._drivers import attribute, time_terms
from forecast.risk._explain import MODEL_UPDATE, decompose_change
from forecast.risk._fit import (
    LatestForecast,
    backtest_forecasts,
    fit_latest,
    forecast_years,
    rank_units,
)
from forecast.risk._names import resolve_unit
from forecast.risk._tiers import TierRule, tier_rule_from_config
from forecast.risk._words import indicator_info, label_of, unit_names, value_of

__all__ = ["CountryProfile", "country_profile"]


@dataclass(frozen=True)
class CountryProfile:
    """What :func:`country_profile` found for one unit.

    Attributes
    ----------
    unit : object
        The panel's key; ``name`` the readable name.
    name : str
    model : str
    year : int
        Latest data year (the published list's).
    horizon : int
    history : DataFrame
        One row per origin year: ``year``, ``probability``, ``lower``, ``upper`` (NaN without
        an interval), ``rank``, ``n_units``, ``tier``, ``onset`` (1 when an episode began in
        that year, per the experiment's outcome column) and ``outcome`` (onset within the
        horizon after it; NaN = not yet known).
    drivers : DataFrame
        Long table ``year``, ``feature``, ``kind``, ``label``, ``value``, ``contribution``
        (log-odds under the latest model) for the indicators shown.
    change : DataFrame
        The list's change since ``year - 1``, largest parts first: ``term``, ``kind``,
        ``label``, ``indicator`` (True for one indicator, False for a group of indicators or
        the model update), ``value_from``, ``value_to`` (NaN = missing), ``moved`` (what
        moved, in words: values from and to, the changed indicators of a group), ``log_odds``,
        ``points`` (percentage points, split in proportion to the log-odds); empty when the
        unit is new on the list.
    method : str
        Attribution method of the drivers.
    notes : tuple of str
        Plain-language caveats.
    indicators : dict of str to Indicator
        The feature-set entries of the indicators (:func:`~forecast.risk.indicator_info`): how
        each reads (label, display, description); empty without a feature set.
    """

    unit: object
    name: str
    model: str
    year: int
    horizon: int
    history: pd.DataFrame = field(repr=False)
    drivers: pd.DataFrame = field(repr=False)
    change: pd.DataFrame = field(repr=False)
    method: str = ""
    notes: tuple[str, ...] = ()
    indicators: Mapping[str, object] = field(default_factory=dict, repr=False)


def _history(
    forecasts: pd.DataFrame, unit: object, panel: Panel, outcome: str, rule: TierRule
) -> pd.DataFrame:
    rows = []
    for origin, block in forecasts.groupby("origin", sort=True):
        ranks = rank_units(block["unit"].to_numpy(), block["probability"].to_numpy())
        mine = np.flatnonzero(block["unit"].to_numpy() == unit)
        if not len(mine):
            continue
        i = int(mine[0])
        record = block.iloc[i]
        p = float(record["probability"])
        rows.append(
            {
                "year": int(origin),
                "probability": p,
                "lower": float(record.get("lower", np.nan)),
                "upper": float(record.get("upper", np.nan)),
                "rank": int(ranks[i]),
                "n_units": len(block),
                "tier": str(rule.assign(ranks[i : i + 1], np.array([p]))[0]),
                "outcome": float(record["outcome"]),
            }
        )
    history = pd.DataFrame(
        rows,
        columns=["year", "probability", "lower", "upper", "rank", "n_units", "tier", "outcome"],
    )
    frame = panel.frame[panel.frame[panel.unit] == unit].set_index(panel.year)
    history["onset"] = history["year"].map(frame[outcome]).astype(float)
    return history


def _drivers(
    latest: LatestForecast, unit: object, years: list[int], info: Mapping[str, object], top: int
) -> tuple[pd.DataFrame, str]:
    panel, cur = latest.panel, latest.current
    mask = (panel.frame[panel.unit] == unit) & panel.frame[panel.year].isin(years)
    rows = np.flatnonzero(mask.to_numpy())
    rows = rows[np.argsort(panel.frame[panel.year].to_numpy()[rows], kind="stable")]
    frame = panel.frame.iloc[rows]
    X = panel.design_matrix(rows)
    att = attribute(cur.estimator, X, reference=cur.train_median)
    contributions = att.contributions
    trend = time_terms(panel)
    size = np.abs(contributions).max(axis=0)
    size[[j for j, f in enumerate(panel.features) if f in trend]] = -1.0  # never drivers
    strongest = np.argsort(-size, kind="stable")[: min(top, len(size) - len(trend))]
    features = [panel.features[j] for j in strongest]
    out = pd.DataFrame(
        {
            "year": np.repeat(frame[panel.year].to_numpy(), len(features)),
            "feature": np.tile(features, len(frame)),
            "kind": np.tile([panel.kinds.get(f, "other") for f in features], len(frame)),
            "label": np.tile([label_of(info, f) for f in features], len(frame)),
            "value": X[:, strongest].ravel(),
            "contribution": contributions[:, strongest].ravel(),
        }
    )
    return out, att.method


def _change(
    latest: LatestForecast, unit: object, info: Mapping[str, object], top: int
) -> pd.DataFrame:
    columns = [
        "term",
        "kind",
        "label",
        "indicator",
        "value_from",
        "value_to",
        "moved",
        "log_odds",
        "points",
    ]
    prev, cur = latest.previous, latest.current
    if prev is None or unit not in set(prev.units):
        return pd.DataFrame(columns=columns)
    i, j = int(np.flatnonzero(prev.units == unit)[0]), int(np.flatnonzero(cur.units == unit)[0])
    features = latest.features
    terms, totals = decompose_change(
        prev, cur, prev.X[[i]], cur.X[[j]], features, latest.panel.kinds
    )
    d_eta = float(totals["eta_to"][0] - totals["eta_from"][0])
    d_p = float(cur.probability[j] - prev.probability[i])
    out = terms.drop(columns="row")
    out["label"] = out["term"].map(
        lambda t: "model update (new training years)" if t == MODEL_UPDATE else label_of(info, t)
    )
    out["indicator"] = out["term"].isin(features)  # False for feature groups, model update
    out["value_from"] = out["term"].map(dict(zip(features, prev.X[i]))).astype(float)
    out["value_to"] = out["term"].map(dict(zip(features, cur.X[j]))).astype(float)
    out["moved"] = [_moved(latest, info, t, prev.X[i], cur.X[j]) for t in out["term"]]
    out["points"] = 100 * d_p * out["log_odds"] / d_eta if d_eta else 0.0
    out = out.iloc[np.argsort(-out["log_odds"].abs().to_numpy(), kind="stable")]
    return out[columns].head(top).reset_index(drop=True)


def _moved(latest: LatestForecast, info: Mapping[str, object], term: str, before, after) -> str:
    """What moved in ``term``, in words: ``value -> value`` for an indicator, the indicators
    whose values changed for a group of them (``'<kind> indicators'``), and what the model
    update is."""
    features, kinds = latest.features, latest.panel.kinds
    if term == MODEL_UPDATE:
        return "the model retrained with one more year of outcomes"
    trend = time_terms(latest.panel)
    group = [f for f in features if f"{kinds.get(f, 'other')} indicators" == term]
    members = [term] if term in features else [f for f in group if f not in trend]
    parts = []
    for f in members:
        a, b = float(before[features.index(f)]), float(after[features.index(f)])
        if a == b or (np.isnan(a) and np.isnan(b)):
            continue
        moved = f"{value_of(info, f, a)} → {value_of(info, f, b)}"
        parts.append(moved if f == term else f"{label_of(info, f)}: {moved}")
    if term in trend or (term not in features and any(f in trend for f in group)):
        parts.append("time trend: the year moved on (the same for every unit)")
    if not parts:
        return "no input changed (the model reads them differently)"
    more = f"; and {len(parts) - 3} more" if len(parts) > 3 else ""
    return "; ".join(parts[:3]) + more


def country_profile(
    config: ExperimentConfig,
    *,
    unit: str | int,
    model_label: str | None = None,
    panel: Panel | None = None,
    years: int = 20,
    top: int = 6,
    latest: LatestForecast | None = None,
    cache_dir: Path | None = None,
    n_jobs: int = 1,
) -> CountryProfile:
    """Risk history, drivers and last change of ``unit`` (see the module docstring).

    Parameters
    ----------
    config : ExperimentConfig
    unit : str or int
        A name (case-insensitive; the panel's or the state system's) or a code.
    model_label : str, optional
        Default: the recommended one (:func:`forecast.choice.recommend_model`).
    panel : Panel, optional
        Default: :func:`forecast.backtest.load_panel`.
    years : int
        How many of the latest forecast years to show.
    top : int
        How many indicators to follow over time and parts of the change to list.
    latest : LatestForecast, optional
        The list's fit, if already made (else :func:`~forecast.risk.fit_latest`).
    cache_dir : Path, optional
        Backtest fit cache (None = no cache).
    n_jobs : int
        Backtest workers.
    """
    from forecast.backtest import load_panel

    if isinstance(years, bool) or not isinstance(years, int) or years < 1:
        raise input_error(
            f"country_profile: 'years' must be a positive integer, got {years!r}",
            fix="pass e.g. years=20",
        )
    label = model_label or recommend_model(config).recommended
    panel = panel if panel is not None else load_panel(config)
    latest = latest or fit_latest(config, model_label=label, panel=panel)
    key = resolve_unit(panel, unit, year=latest.year)
    rule = tier_rule_from_config(config)
    shown = [y for y in forecast_years(config, panel) if latest.year - years < y <= latest.year]
    forecasts = backtest_forecasts(config, label, panel, shown, cache_dir=cache_dir, n_jobs=n_jobs)
    history = _history(forecasts, key, panel, config.outcome, rule)
    info = indicator_info(config)
    drivers, method = _drivers(latest, key, shown, info, top)
    change = _change(latest, key, info, top)
    notes = list(latest.notes)
    name = unit_names(panel, latest.year).get(key, str(key))
    return CountryProfile(
        key,
        str(name),
        latest.spec.label,
        latest.year,
        config.horizon,
        history,
        drivers,
        change,
        method,
        tuple(notes),
        info,
    )
