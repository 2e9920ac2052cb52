"""What-if triggers: a unit's calibrated risk if some indicators took other values.

The scenario runs through the very model that made the published list (the
:class:`~forecast.risk.LatestForecast` of :func:`~forecast.risk.fit_latest`): the unit's row of
the forecast year's feature matrix is changed and the whole matrix is predicted again, so the
baseline is the list's probability bit for bit and a scenario differs from it only through the
changed values. The other units keep their forecasts; the scenario's rank and tier are those
the unit would have on the published list.

A trigger's *event value* is what "the trigger fires" means for that indicator:

* 1 for indicators taking only the values -1, 0 and 1 (binaries such as a coup attempt, and
  on/off changes such as "killings became approved");
* otherwise the 90th percentile of its country-years up to the forecast year, on the side that
  goes with onsets: the 10th percentile when the indicator is lower, on average, in the
  training country-years followed by an onset than in the others (e.g. economic growth). For
  indicators that are exactly 0 in most country-years (battle deaths, year-on-year changes)
  the percentile is taken over the non-zero values, so that the event is a real one rather
  than the usual 0.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from forecast._errors import ForecastInputError, input_error
from forecast.choice import recommend_model
from forecast.experiment import ExperimentConfig
from forecast.outcomes import training_target
from forecast.panel import Panel
from forecast.risk._fit import LatestForecast, fit_latest, rank_units
from forecast.risk._names import resolve_unit
from forecast.risk._tiers import TierRule, tier_rule_from_config
from forecast.risk._words import indicator_info, label_of, unit_names, value_of

__all__ = ["Scenario", "WhatIf", "event_values", "to_model", "to_natural", "what_if"]

EVENT_QUANTILE = 0.9


@dataclass(frozen=True)
class Scenario:
    """A unit's forecast under one set of indicator values.

    Attributes
    ----------
    probability, lower, upper : float
        Calibrated probability and its interval (NaN when the model gives none).
    rank : int
        Rank on the published list with this probability (the other units unchanged).
    tier : str
    values : dict of str to float
        The indicators set for this scenario (empty for the baseline).
    """

    probability: float
    lower: float
    upper: float
    rank: int
    tier: str
    values: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class WhatIf:
    """Baseline and scenario of one unit, and the effect of each trigger alone.

    Attributes
    ----------
    unit : object
        The panel's key of the unit; ``name`` its readable name.
    name : str
    year : int
        Forecast (data) year of the list.
    model : str
        Model label.
    baseline, scenario : Scenario
    current : dict of str to float
        The unit's values in ``year`` of the indicators set in the scenario (NaN = missing,
        filled in by the model).
    triggers : DataFrame
        One row per trigger indicator, largest risk first: ``feature``, ``label`` (plain name),
        ``current``, ``event_value`` (model scale), ``event_natural`` (natural units),
        ``current_text``, ``event_text`` (as a reader sees them), ``why`` (the reason when
        the event lowers risk), ``event`` (how it was chosen), ``probability``,
        ``change`` (probability minus the baseline), ``rank``, ``tier``, ``already`` (True
        when the current value is at or beyond the event value, so the row is the baseline).
        An event moves the indicators derived from it too.
    moves : DataFrame
        What the scenario changed: ``feature``, ``label``, ``current`` and ``value`` (natural
        units: a count of deaths, not its log), ``current_text``, ``value_text`` and
        ``moved_with`` (the label of the set indicator a derived one moved with, ``''`` for
        those set).
    note : str
        One line when the scenario moves risk against what its changes suggest, and why.
    """

    unit: object
    name: str
    year: int
    model: str
    baseline: Scenario
    scenario: Scenario
    current: dict[str, float]
    triggers: pd.DataFrame = field(repr=False)
    moves: pd.DataFrame = field(default=None, repr=False)  # type: ignore[assignment]
    note: str = ""


_TO_MODEL = {
    "log2": lambda x: np.log2(x),
    "log2p1": lambda x: np.log2(x + 1.0),
    "sqrt": lambda x: np.sqrt(x),
}
_TO_NATURAL = {
    "log2": lambda v: 2.0**v,
    "log2p1": lambda v: 2.0**v - 1.0,
    "sqrt": lambda v: v * v,
}


def to_model(info: Mapping[str, object], feature: str, value: float) -> float:
    """A value in natural units (a count of deaths, people) on the model's scale, by the
    indicator's ``display`` (``log2p1 deaths``: ``log2(value + 1)``); as is otherwise."""
    scale = getattr(getattr(info.get(feature), "display", None), "scale", "")
    return float(_TO_MODEL[scale](value)) if scale in _TO_MODEL else float(value)


def to_natural(info: Mapping[str, object], feature: str, value: float) -> float:
    """The inverse of :func:`to_model`."""
    scale = getattr(getattr(info.get(feature), "display", None), "scale", "")
    return float(_TO_NATURAL[scale](value)) if scale in _TO_NATURAL else float(value)


def _moves(
    latest: LatestForecast, info: Mapping[str, object], row: int, chosen: dict[str, float]
) -> dict[str, tuple[float, str]]:
    """Every feature the scenario changes (model scale) and why: ``'set'``, or the feature
    it moves with (:func:`~forecast.risk._derived.derived_moves`)."""
    from forecast.risk._derived import derived_moves

    features, X = latest.features, latest.current.X
    out: dict[str, tuple[float, str]] = {f: (v, "set") for f, v in chosen.items()}
    for f, v in chosen.items():
        old = float(X[row, features.index(f)])
        for g, how in derived_moves(info, features, f).items():
            if g in chosen:
                continue
            now = float(X[row, features.index(g)])
            if how == "max":
                new = v if not np.isfinite(now) else max(now, v)
            else:
                new = now + (v - old) if np.isfinite(now) and np.isfinite(old) else now
            if new != now:
                out[g] = (new, f)
    return out


def _why(kind: str, change: float, siblings: list[str]) -> str:
    """One line for a move against a risk factor's expected sign."""
    from forecast.risk._drivers import HISTORY_REASON, MODEL_REASON, SOURCE_REASON

    if kind == "history":
        return HISTORY_REASON
    if siblings:
        return SOURCE_REASON.format(others=", ".join(siblings))
    return MODEL_REASON


def _norm(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", str(name).casefold()).strip("_")


def _feature(features: list[str], name: str, info: Mapping[str, object] | None = None) -> str:
    """The feature called ``name`` (its column name or its label), matching '.', '_' and '-'
    alike and ignoring case."""
    if name in features:
        return name
    hits = [f for f in features if _norm(f) == _norm(name)]
    hits = hits or [f for f in features if _norm(label_of(info or {}, f)) == _norm(name)]
    if len(hits) == 1:
        return hits[0]
    import difflib

    close = difflib.get_close_matches(name, features, n=5, cutoff=0.4)
    raise input_error(
        f"unknown indicator {name!r}",
        fix=f"use one of {close or features[:10]} (the model's features)",
    )


def event_values(latest: LatestForecast, features: list[str]) -> pd.DataFrame:
    """Event value of each feature (see the module notes): ``feature``, ``event_value``,
    ``direction`` (+1 when the event is a high value, -1 a low one) and ``event`` (how it was
    chosen, in words), from country-years up to the forecast year."""
    panel = latest.panel
    years = panel.frame[panel.year].to_numpy()
    rows = years <= latest.year
    target = training_target(panel, latest.config)
    known = rows & np.isfinite(target) & (years <= latest.current.train_end)
    records = []
    for feature in features:
        column = panel.frame[feature].to_numpy(dtype=float)
        values = column[rows & np.isfinite(column)]
        if values.size == 0:
            records.append((feature, float("nan"), 1, "no data"))
            continue
        if np.isin(values, (-1.0, 0.0, 1.0)).all():
            records.append((feature, 1.0, 1, "1 (the event happens)"))
            continue
        use = known & np.isfinite(column)
        onset = target[use] == 1
        lower = bool(
            onset.any()
            and (~onset).any()
            and column[use][onset].mean() < column[use][~onset].mean()
        )
        sparse = np.mean(values == 0) >= 0.5 and np.any(values != 0)
        pool = values[values != 0] if sparse else values
        q = 1 - EVENT_QUANTILE if lower else EVENT_QUANTILE
        words = f"{round(100 * q)}th percentile" + (" of non-zero values" if sparse else "")
        records.append((feature, float(np.quantile(pool, q)), -1 if lower else 1, words))
    return pd.DataFrame(records, columns=["feature", "event_value", "direction", "event"])


def _predict(
    latest: LatestForecast, row: int, values: Mapping[str, float]
) -> tuple[float, float, float]:
    """Probability and interval of ``row`` with ``values`` set, predicting the whole matrix
    under the fit's one-thread BLAS limit (as the list was made)."""
    from threadpoolctl import threadpool_limits

    cur = latest.current
    features = latest.features
    X = cur.X.copy()
    for feature, value in values.items():
        X[row, features.index(feature)] = value
    estimator = cur.estimator
    with threadpool_limits(1):
        p = float(np.asarray(estimator.predict_proba(X))[row, 1])
        lower = upper = float("nan")
        if hasattr(estimator, "predict_interval") and not np.isnan(cur.lower).all():
            try:
                lo, hi = estimator.predict_interval(X)
                lower, upper = float(np.asarray(lo)[row]), float(np.asarray(hi)[row])
            except ForecastInputError:
                pass
    return p, lower, upper


def _placed(latest: LatestForecast, rule: TierRule, row: int, p: float) -> tuple[int, str]:
    probability = latest.current.probability.copy()
    probability[row] = p
    rank = int(rank_units(latest.current.units, probability)[row])
    return rank, str(rule.assign(np.array([rank]), np.array([p]))[0])


def what_if(
    config: ExperimentConfig,
    *,
    unit: str | int,
    values: Mapping[str, float],
    model_label: str | None = None,
    panel: Panel | None = None,
    year: int | None = None,
    latest: LatestForecast | None = None,
    rule: TierRule | None = None,
) -> WhatIf:
    """``unit``'s risk on the published list, and if the indicators in ``values`` changed.

    Parameters
    ----------
    config : ExperimentConfig
    unit : str or int
        Name or code (see :func:`~forecast.risk.resolve_unit`); must be on the list.
    values : mapping of str to float
        Indicator (column name or label; '.', '_' and case are matched loosely) -> value in
        natural units (:func:`to_model`: a count of battle deaths, not its log2); may be
        empty (then only the trigger table is of interest). Indicators derived from a set
        one move with it (:func:`forecast.risk._derived.derived_moves`).
    model_label : str, optional
        Default: the recommended one (:func:`forecast.choice.recommend_model`).
    panel : Panel, optional
        Default: :func:`forecast.backtest.load_panel`.
    year : int, optional
        Data year of the list (default: the last).
    latest : LatestForecast, optional
        The list's fit, if already made (else :func:`~forecast.risk.fit_latest`, after the
        unit and the indicators are checked).
    rule : TierRule, optional
        Default: the experiment's (:func:`~forecast.risk.tier_rule_from_config`).

    Returns
    -------
    WhatIf
    """
    from forecast.backtest import load_panel

    if latest is not None:
        panel, year = latest.panel, latest.year
    panel = panel if panel is not None else load_panel(config)
    key = resolve_unit(panel, unit, year=year)  # before the fit: fail fast on a typo
    features = list(panel.features)
    info = indicator_info(config)
    natural = {_feature(features, name, info): float(v) for name, v in values.items()}
    chosen = {f: to_model(info, f, v) for f, v in natural.items()}
    latest = latest or fit_latest(
        config,
        model_label=model_label or recommend_model(config).recommended,
        panel=panel,
        year=year,
    )
    rule = rule or tier_rule_from_config(config)
    cur = latest.current
    row = int(np.flatnonzero(cur.units == key)[0])
    names = unit_names(panel, latest.year)
    base_p = float(cur.probability[row])
    base = Scenario(
        base_p, float(cur.lower[row]), float(cur.upper[row]), *_placed(latest, rule, row, base_p)
    )
    moved = _moves(latest, info, row, chosen)
    setting = {f: v for f, (v, _) in moved.items()}
    p, lower, upper = (
        _predict(latest, row, setting) if setting else (base_p, base.lower, base.upper)
    )
    scenario = Scenario(p, lower, upper, *_placed(latest, rule, row, p), values=setting)
    current = {f: float(cur.X[row, features.index(f)]) for f in setting}
    moves = pd.DataFrame(
        [
            {
                "feature": f,
                "label": label_of(info, f),
                "current": to_natural(info, f, current[f]),
                "value": natural.get(f, to_natural(info, f, v)),
                "current_text": value_of(info, f, current[f]),
                "value_text": value_of(info, f, v),
                "moved_with": "" if how == "set" else label_of(info, how),
            }
            for f, (v, how) in moved.items()
        ],
        columns=[
            "feature",
            "label",
            "current",
            "value",
            "current_text",
            "value_text",
            "moved_with",
        ],
    )
    note = _scenario_note(latest, info, moved, current, p - base_p)
    triggers = [f for f in features if panel.kinds.get(f) == "trigger"]
    events = event_values(latest, triggers).set_index("feature")
    records = []
    for feature in triggers:
        now = float(cur.X[row, features.index(feature)])
        event, how = events.loc[feature, "event_value"], events.loc[feature, "event"]
        sign = events.loc[feature, "direction"]
        already = bool(np.isfinite(now) and sign * now >= sign * event) or not np.isfinite(event)
        if already:
            q, rank, tier = base_p, base.rank, base.tier
        else:
            fired = _moves(latest, info, row, {feature: event})
            q = _predict(latest, row, {f: v for f, (v, _) in fired.items()})[0]
            rank, tier = _placed(latest, rule, row, q)
        records.append(
            {
                "feature": feature,
                "label": label_of(info, feature),
                "current": now,
                "event_value": event,
                "event_natural": to_natural(info, feature, event),
                "current_text": value_of(info, feature, now),
                "event_text": value_of(info, feature, event),
                "why": _why("trigger", q - base_p, _siblings(info, features, feature))
                if q < base_p and not already
                else "",
                "event": how,
                "probability": q,
                "change": q - base_p,
                "rank": rank,
                "tier": tier,
                "already": already,
            }
        )
    table = pd.DataFrame(
        records,
        columns=[
            "feature",
            "label",
            "current",
            "event_value",
            "event_natural",
            "current_text",
            "event_text",
            "why",
            "event",
            "probability",
            "change",
            "rank",
            "tier",
            "already",
        ],
    )
    table = table.sort_values("probability", ascending=False, kind="stable").reset_index(drop=True)
    return WhatIf(
        key,
        str(names.get(key, key)),
        latest.year,
        latest.spec.label,
        base,
        scenario,
        current,
        table,
        moves,
        note,
    )


def _siblings(info: Mapping[str, object], features: list[str], feature: str) -> list[str]:
    from forecast.risk._derived import same_source

    return [label_of(info, g) for g in same_source(info, features).get(feature, [])]


def _scenario_note(
    latest: LatestForecast,
    info: Mapping[str, object],
    moved: Mapping[str, tuple[float, str]],
    current: Mapping[str, float],
    change: float,
) -> str:
    """One line when the scenario moves risk against what its changes suggest: every changed
    risk factor went up (or mitigating factor down) and the risk fell, or the reverse."""
    kinds = latest.panel.kinds
    signs = set()
    for f, (v, _) in moved.items():
        old = current[f]
        if not (np.isfinite(v) and np.isfinite(old)) or v == old or kinds.get(f) == "other":
            continue
        signs.add(np.sign(v - old) * (-1 if kinds.get(f) == "mitigating" else 1))
    if len(signs) != 1 or abs(change) < 5e-4 or np.sign(change) == next(iter(signs)):
        return ""
    direction = "lowers" if change < 0 else "raises"
    features = latest.features
    parts = [f for f in moved if kinds.get(f) == "history"] or list(moved)
    reason = _why(
        kinds.get(parts[0], "other"),
        change,
        [label_of(info, g) for g in moved if g != parts[0]] or _siblings(info, features, parts[0]),
    )
    return f"Why this {direction} risk: {reason}."
