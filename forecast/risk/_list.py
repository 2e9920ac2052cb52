"""The risk list of a latest forecast: ranked, tiered, with drivers, changes and flags, and
the plain-language notes that go with it."""

from __future__ import annotations

import pandas as pd

from forecast.risk._drivers import driver_table, driver_text, input_flags
from forecast.risk._explain import change_text
from forecast.risk._fit import LatestForecast
from forecast.risk._tiers import TierRule, tier_rule_from_config

__all__ = ["build_risklist", "list_metadata", "method_note"]

_COLUMNS = ("rank", "unit", "probability", "lower", "upper", "tier", "tier_meaning",
            "previous_probability", "change", "drivers_up", "drivers_down", "flags")


def build_risklist(latest: LatestForecast, *, meanings: pd.DataFrame | None = None,
                   rule: TierRule | None = None, drivers: pd.DataFrame | None = None,
                   top_drivers: int = 4) -> pd.DataFrame:
    """The risk list of ``latest``: one row per unit, ranked.

    Columns: those of :data:`forecast.reports.RISKLIST_COLUMNS` (``tier_meaning`` only with
    ``meanings`` from :func:`~forecast.risk.backtest_tier_meanings`) plus ``year``,
    ``previous_rank`` and ``change_drivers`` (the two largest parts of the change since the
    previous list, see :func:`~forecast.risk.explain_change`).
    """
    cur = latest.current
    rule = rule or tier_rule_from_config(latest.config)
    risk = latest.table()
    risk["tier"] = rule.assign(risk["rank"].to_numpy(), risk["probability"].to_numpy())
    if meanings is not None:
        risk["tier_meaning"] = risk["tier"].map(dict(zip(meanings["tier"], meanings["meaning"])))
    if drivers is None:
        drivers = driver_table(cur.estimator, cur.X, cur.units, latest.panel,
                               reference=cur.train_median)
    risk = risk.merge(driver_text(drivers, top=top_drivers), on="unit", how="left")
    flags = input_flags(latest.panel, latest.year)["flags"].rename("flags")
    risk = risk.merge(flags, left_on="unit", right_index=True, how="left")
    if latest.previous is not None:
        changes = change_text(latest.previous, cur, latest.features, latest.panel.kinds)
        risk = risk.merge(changes, on="unit", how="left")
        risk["change_drivers"] = risk["change_drivers"].fillna("")
    else:
        risk["change_drivers"] = ""
    columns = [c for c in _COLUMNS if c in risk.columns]
    columns += ["year", "previous_rank", "change_drivers"]
    return risk[columns].sort_values("rank", kind="stable").reset_index(drop=True)


def _pct(p: float) -> str:
    return f"{100 * p:g}%"


def method_note(latest: LatestForecast, rule: TierRule, attribution: str,
                 meanings: pd.DataFrame | None) -> str:
    cur, h = latest.current, latest.config.horizon
    y = latest.year
    tops = " and ".join(f"top {k}" for k in rule.top)
    threshold = (f", then any country at or above {_pct(rule.threshold)}"
                 if rule.threshold is not None else "")
    paragraphs = [
        (f"Risk is the model's probability that a new mass-killing episode begins in the "
         f"country within {h} year{'s' if h > 1 else ''} after {y} ({y + 1}-{y + h}). The model "
         f"({latest.spec.label}: {latest.spec.name}) was trained on the {cur.n_train} "
         f"country-years {cur.train_start}-{cur.train_end} whose outcome was known by {y} "
         f"({cur.n_train_onsets} with an onset), exactly as the backtest trains it for {y}, so "
         "these probabilities equal the backtest's forecasts for that year."),
        f"Tiers follow the decision rule: the {tops} of the list{threshold}. "
        + ("What a tier means is how often countries the same model placed in it in the "
           f"backtest went on to have an onset, using only outcomes known by {y}."
           if meanings is not None else "No backtest was run for the tier meanings."),
        ("Raising and lowering risk: the indicators that move this country's log-odds up or "
         "down the most relative to the training data, grouped as structural, trigger, "
         "mitigating and history. 'odds x1.5' means the indicator multiplies the odds of an "
         f"onset by 1.5. Attribution method: {attribution}."),
        (f"Change compares with the list the same rule gives from {y - 1} data (a model trained "
         f"on outcomes known by {y - 1}); `forecast explain` splits a change into indicator "
         "contributions and a model-update term.") if latest.previous is not None else "",
        ("Data flags: 'imputed' inputs were missing and filled in by the model; 'stale' inputs "
         "have not changed for three or more years (often carried forward)."),
        *latest.notes,
    ]
    return "\n\n".join(p for p in paragraphs if p)


def list_metadata(latest: LatestForecast, attribution: str) -> dict[str, str]:
    cur, cfg, y = latest.current, latest.config, latest.year
    return {
        "Forecast window": f"{y + 1}-{y + cfg.horizon}", "Data year": str(y),
        "Model": f"{latest.spec.label} ({latest.spec.name})",
        "Trained on": f"{cur.train_start}-{cur.train_end}, {cur.n_train} country-years, "
                      f"{cur.n_train_onsets} onsets",
        "Dataset": f"{latest.panel.name} (sha256 {latest.dataset_digest[:12]})",
        "Experiment": f"{cfg.name} ({cfg.source})", "Drivers": attribution,
    }
