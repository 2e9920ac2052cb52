"""Calibrated risk lists for policy teams.

Fit a model on every outcome known by the latest data year and forecast that year
(:func:`fit_latest`), tier the list by a decision rule with each tier's backtest meaning
(:class:`TierRule`, :func:`backtest_tier_meanings`), name the indicators behind each risk
(:func:`driver_table`) and behind each change (:func:`explain_change`) in words and with unit
names (:func:`unit_names`, :func:`indicator_info`), and track and register
the model in MLflow so a list can be reproduced (:func:`log_risklist`,
:func:`reproduce_registered`).
"""

from forecast.risk._drivers import Attribution, attribute, driver_table, driver_text, input_flags
from forecast.risk._explain import decompose_change, explain_change
from forecast.risk._fit import (
    LatestForecast,
    OriginFit,
    backtest_forecasts,
    fit_latest,
    fit_origin,
    forecast_years,
)
from forecast.risk._intro import (
    ListIntro,
    interval_level,
    intro_context,
    list_intro,
    outcome_definition,
)
from forecast.risk._list import (
    RISKLIST_COLUMNS,
    build_risklist,
    list_footnotes,
    list_metadata,
    method_note,
)
from forecast.risk._names import resolve_unit, state_codes
from forecast.risk._profile import CountryProfile, country_profile
from forecast.risk._registry import (
    ALIAS,
    RiskRun,
    load_registered,
    log_risklist,
    registered_name,
    reproduce_registered,
)
from forecast.risk._tiers import (
    TierRule,
    backtest_list_forecasts,
    backtest_tier_meanings,
    tier_meanings,
    tier_rule_from_config,
)
from forecast.risk._whatif import Scenario, WhatIf, event_values, what_if
from forecast.risk._words import indicator_info, unit_names

__all__ = [
    "RISKLIST_COLUMNS",
    "ALIAS",
    "Attribution",
    "LatestForecast",
    "ListIntro",
    "interval_level",
    "intro_context",
    "list_intro",
    "outcome_definition",
    "OriginFit",
    "RiskRun",
    "TierRule",
    "attribute",
    "backtest_forecasts",
    "backtest_list_forecasts",
    "backtest_tier_meanings",
    "build_risklist",
    "decompose_change",
    "driver_table",
    "driver_text",
    "explain_change",
    "fit_latest",
    "fit_origin",
    "forecast_years",
    "indicator_info",
    "input_flags",
    "list_footnotes",
    "list_metadata",
    "load_registered",
    "log_risklist",
    "method_note",
    "registered_name",
    "reproduce_registered",
    "resolve_unit",
    "tier_meanings",
    "tier_rule_from_config",
    "unit_names",
    "CountryProfile",
    "Scenario",
    "WhatIf",
    "country_profile",
    "event_values",
    "state_codes",
    "what_if",
]
