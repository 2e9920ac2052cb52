"""The risk list of a latest forecast: ranked, tiered, with drivers, changes and flags, and
the plain-language notes that go with it."""

from __future__ import annotations

import pandas as pd

from forecast.choice import recommend_model
from forecast.panel import COUNTRY, UnitNoun
from forecast.risk._drivers import common_flags, driver_table, driver_text, flag_texts, input_flags
from forecast.risk._explain import change_text
from forecast.risk._fit import LatestForecast
from forecast.risk._tiers import TierRule, tier_rule_from_config
from forecast.risk._words import indicator_info, unit_names

__all__ = ["RISKLIST_COLUMNS", "build_risklist", "list_footnotes", "list_metadata", "method_note"]

RISKLIST_COLUMNS = (
    "rank",
    "unit",
    "name",
    "probability",
    "lower",
    "upper",
    "tier",
    "tier_meaning",
    "previous_probability",
    "change",
    "drivers_up",
    "drivers_down",
    "flags",
)
"""Columns a risk list may carry; ``rank``, ``unit`` and ``probability`` are required.
``name`` is what readers see (the unit id when absent)."""


def _flags(latest: LatestForecast, info: dict) -> tuple[pd.Series, list[str]]:
    """Per-unit flag texts without the flags most units share, and those said once."""
    features = list(latest.panel.features)
    table = input_flags(latest.panel, latest.year, indicators=info)
    shared, sentences = common_flags(
        table, features, latest.year, info, unit_noun=latest.panel.unit_noun
    )
    own = flag_texts(table, features, latest.year, info, omit=shared)
    return pd.Series(own, index=table.index, name="flags"), sentences


def build_risklist(
    latest: LatestForecast,
    *,
    meanings: pd.DataFrame | None = None,
    rule: TierRule | None = None,
    drivers: pd.DataFrame | None = None,
    top_drivers: int = 4,
) -> pd.DataFrame:
    """The risk list of ``latest``: one row per unit, ranked.

    Columns: those of :data:`forecast.reports.RISKLIST_COLUMNS` (``name`` is the unit's name
    in the forecast year, :func:`~forecast.risk.unit_names`; ``tier_meaning`` only with
    ``meanings`` from :func:`~forecast.risk.backtest_tier_meanings`) plus ``year``,
    ``previous_rank`` and ``change_drivers`` (the two largest parts of the change since the
    previous list in probability points, see :func:`~forecast.risk.explain_change`).
    Drivers and flags are in words (indicator labels from the feature set); flags that hold
    for nearly every unit are left out of ``flags`` and said once in :func:`method_note`.
    """
    cur = latest.current
    info = indicator_info(latest.config)
    rule = rule or tier_rule_from_config(latest.config)
    risk = latest.table()
    names = unit_names(latest.panel, latest.year)
    risk["name"] = risk["unit"].map(names).fillna(risk["unit"].astype(str))
    risk["tier"] = rule.assign(risk["rank"].to_numpy(), risk["probability"].to_numpy())
    if meanings is not None:
        risk["tier_meaning"] = risk["tier"].map(dict(zip(meanings["tier"], meanings["meaning"])))
    if drivers is None:
        drivers = driver_table(
            cur.estimator,
            cur.X,
            cur.units,
            latest.panel,
            reference=cur.train_median,
            indicators=info,
            year=latest.year,
        )
    risk = risk.merge(driver_text(drivers, top=top_drivers), on="unit", how="left")
    flags, _ = _flags(latest, info)
    risk = risk.merge(flags, left_on="unit", right_index=True, how="left")
    if latest.previous is not None:
        changes = change_text(
            latest.previous, cur, latest.features, latest.panel.kinds, indicators=info
        )
        risk = risk.merge(changes, on="unit", how="left")
        risk["change_drivers"] = risk["change_drivers"].fillna("")
    else:
        risk["change_drivers"] = ""
    columns = [c for c in RISKLIST_COLUMNS if c in risk.columns]
    columns += ["year", "previous_rank", "change_drivers"]
    return risk[columns].sort_values("rank", kind="stable").reset_index(drop=True)


def _pct(p: float) -> str:
    return f"{100 * p:g}%"


def method_note(
    latest: LatestForecast, rule: TierRule, attribution: str, meanings: pd.DataFrame | None
) -> str:
    """How the list was made, in plain words (paragraphs separated by blank lines); the
    method's technical detail is in :func:`list_footnotes`."""
    cur, h = latest.current, latest.config.horizon
    y, noun = latest.year, latest.panel.unit_noun
    tops = " and ".join(f"top {k}" for k in rule.top)
    threshold = (
        f", then any {noun.singular} at or above {_pct(rule.threshold)}"
        if rule.threshold is not None
        else ""
    )
    _, shared = _flags(latest, indicator_info(latest.config))
    paragraphs = [
        (
            f"Risk is the model's probability that a new mass-killing episode begins in the "
            f"{noun.singular} within {h} year{'s' if h > 1 else ''} after {y} ({y + 1}-{y + h}). "
            "The model "
            f"({latest.spec.label}) was trained on the {cur.n_train} "
            f"{noun.years} {cur.train_start}-{cur.train_end} whose outcome was known by {y} "
            f"({cur.n_train_onsets} of them with an onset in their {h}-year window), exactly "
            f"as the backtest trains it for {y}, so "
            "these probabilities equal the backtest's forecasts for that year."
        ),
        f"Tiers follow the decision rule: the {tops} of the list{threshold}. "
        + (
            f"What a tier means is how often {noun.plural} the same model placed in it in the "
            f"backtest went on to have an onset, using only outcomes known by {y}."
            if meanings is not None
            else "No backtest was run for the tier meanings."
        ),
        (
            "Raising and lowering risk: the indicators that push this "
            f"{noun.singular}'s risk up or down the most compared with a typical "
            f"{noun.singular} in the training data, grouped as structural (slow-moving "
            "conditions), trigger (recent events), mitigating "
            "(protective factors) and history (past mass killing). Values are for "
            f"{y} unless a year is given. 'odds x1.5' means the indicator multiplies the odds of "
            "an onset by 1.5; 'odds x0.7' means it cuts them by 30%."
        ),
        (
            f"Change compares with the list the same rule gives from {y - 1} data (a model trained "
            f"on outcomes known by {y - 1}), in percentage points; 'why' names the largest parts "
            "of that change: indicators whose values moved, or 'model update' (the model "
            "retrained with one more year of outcomes); `forecast explain` gives all of them."
        )
        if latest.previous is not None
        else "",
        (
            f"Data flags: 'no data for {y} (filled in)' means the input is missing and the "
            "model fills it in; 'last updated 2013' means the value has not changed since 2013, "
            "usually because the source stopped and its last value is carried forward."
            + (
                f" Not repeated on every row, as it holds for nearly every {noun.singular}: "
                + "; ".join(shared)
                + "."
                if shared
                else ""
            )
        ),
        *latest.notes,
    ]
    return "\n\n".join(p for p in paragraphs if p)


_METHOD_WORDS = {
    "linear": "coefficient times the standardised value (linear model; exact)",
    "treeshap": "TreeSHAP (boosted trees; exact)",
    "occlusion": (
        "occlusion: the change in log-odds when the indicator is set to its training "
        "median (forests and other models; approximate)"
    ),
}


def _attribution_words(method: str, noun: UnitNoun = COUNTRY) -> str:
    """``logit-shifted: ensemble of linear+occlusion+treeshap`` in words."""
    words = []
    text = method
    if text.startswith("logit-shifted: "):
        text = text.removeprefix("logit-shifted: ")
        words.append(
            "the model's level shift (anchoring or recalibration) moves every "
            f"{noun.singular} alike and is not attributed"
        )
    if text.startswith("recalibrated base: "):
        text = text.removeprefix("recalibrated base: ")
        words.append(
            "the recalibration is not attributed; the base model's contributions are shown"
        )
    if text.startswith("ensemble of "):
        members = text.removeprefix("ensemble of ").split("+")
        words.insert(
            0,
            "the weighted mean of the ensemble members' contributions ("
            + "; ".join(_METHOD_WORDS.get(m, m) for m in members)
            + ")",
        )
    else:
        words.insert(0, _METHOD_WORDS.get(text, text))
    return "; ".join(words)


def list_footnotes(latest: LatestForecast, attribution: str) -> list[str]:
    """Technical notes for readers who want the method: how drivers are computed, the data
    version and the model's name in the code."""
    cfg = latest.config
    return [
        (
            "Drivers are contributions to the log-odds of risk: "
            f"{_attribution_words(attribution, latest.panel.unit_noun)}."
            f" Attribution method as recorded: {attribution}."
        ),
        (
            f"Model {latest.spec.label!r} ({latest.spec.name}) of experiment {cfg.name} "
            f"({cfg.source}); dataset {latest.panel.name}, sha256 {latest.dataset_digest}."
        ),
    ]


def training_onsets(latest: LatestForecast) -> tuple[int, int, int]:
    """Onset events the training windows hold: ``(events, first year, last year)``.

    An event is a unit-year whose annual outcome (the panel's ``config.outcome``) is 1; it is
    in the training data when a training row ``(u, y)`` (``train_start <= y <= train_end``)
    has it in its window ``y + 1 .. y + h``. One event in two windows counts once (the training
    rows with an onset in their window are ``n_train_onsets``, a count of windows)."""
    panel, cur, h = latest.panel, latest.current, latest.config.horizon
    frame = panel.frame
    years = frame[panel.year].to_numpy()
    units = frame[panel.unit].to_numpy()
    onset = frame[latest.config.outcome].to_numpy(dtype=float) == 1
    rows = (years >= cur.train_start) & (years <= cur.train_end)
    keys = set(zip(units[rows].tolist(), years[rows].tolist(), strict=True))
    events = [
        (u, t)
        for u, t in zip(units[onset].tolist(), years[onset].tolist(), strict=True)
        if any((u, t - lag) in keys for lag in range(1, h + 1))
    ]
    return len(events), cur.train_start + 1, cur.train_end + h


def list_metadata(latest: LatestForecast, attribution: str) -> dict[str, str]:
    """Key facts shown at the top of the list (in words; method names are in the notes)."""
    cur, cfg, y = latest.current, latest.config, latest.year
    noun = latest.panel.unit_noun
    note = recommend_model(cfg).note_for(latest.spec.label)
    return {
        "Forecast window": f"{y + 1}-{y + cfg.horizon}",
        "Data year": str(y),
        "Model": f"{latest.spec.label} ({latest.spec.name})"
        + (f". Not the recommended model: {note}" if note else ", the recommended model"),
        "Trained on": f"{cur.train_start}-{cur.train_end}, {cur.n_train} {noun.years}; their "
        "outcome windows hold {} onsets in {}-{}".format(*training_onsets(latest)),
        "Dataset": f"{latest.panel.name} (sha256 {latest.dataset_digest[:12]})",
        "Experiment": f"{cfg.name} ({cfg.source})",
        "Drivers": f"indicator contributions to each {noun.singular}'s odds, "
        + (
            "approximate"
            if "occlusion" in attribution or "recalibrated" in attribution
            else "exact"
        )
        + " (see the technical notes)",
    }
