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
from forecast.risk._words import indicator_info, label_of, unit_names

__all__ = ["Scenario", "WhatIf", "event_values", "what_if"]

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
        ``current``, ``event_value``, ``event`` (how it was chosen), ``probability``,
        ``change`` (probability minus the baseline), ``rank``, ``tier``, ``already`` (True
        when the current value is at or beyond the event value, so the row is the baseline).
    """

    unit: object
    name: str
    year: int
    model: str
    baseline: Scenario
    scenario: Scenario
    current: dict[str, float]
    triggers: pd.DataFrame = field(repr=False)


def _norm(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", str(name).casefold()).strip("_")


def _feature(features: list[str], name: str) -> str:
    """The feature called ``name``, matching '.', '_' and '-' alike and ignoring case."""
    if name in features:
        return name
    hits = [f for f in features if _norm(f) == _norm(name)]
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
        Indicator -> value for the scenario ('.', '_' and case are matched loosely); may be
        empty (then only the trigger table is of interest).
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
    chosen = {_feature(features, name): float(v) for name, v in values.items()}
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
    p, lower, upper = _predict(latest, row, chosen) if chosen else (base_p, base.lower, base.upper)
    scenario = Scenario(p, lower, upper, *_placed(latest, rule, row, p), values=chosen)
    current = {f: float(cur.X[row, features.index(f)]) for f in chosen}
    triggers = [f for f in features if panel.kinds.get(f) == "trigger"]
    events = event_values(latest, triggers).set_index("feature")
    info = indicator_info(latest.config)
    records = []
    for feature in triggers:
        now = float(cur.X[row, features.index(feature)])
        event, how = events.loc[feature, "event_value"], events.loc[feature, "event"]
        sign = events.loc[feature, "direction"]
        already = bool(np.isfinite(now) and sign * now >= sign * event) or not np.isfinite(event)
        if already:
            q, rank, tier = base_p, base.rank, base.tier
        else:
            q = _predict(latest, row, {feature: event})[0]
            rank, tier = _placed(latest, rule, row, q)
        records.append(
            {
                "feature": feature,
                "label": label_of(info, feature),
                "current": now,
                "event_value": event,
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
    )
