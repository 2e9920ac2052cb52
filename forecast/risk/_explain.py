"""Why risk changed between two years' forecasts, as indicator contributions that add up.

Notation: ``f_a`` is the model fitted for year ``a`` (trained on rows ``<= a - horizon``),
``x_a`` a unit's features in year ``a`` and ``eta = logit p``. The change from year ``a`` to
year ``b`` splits exactly into a data part and a model part::

    eta_b - eta_a = [f_b(x_b) - f_b(x_a)]  +  [f_b(x_a) - f_a(x_a)]
                     indicators (data)         model update (new training rows)

* Linear models (``ElasticNetLogit``, ``StatsmodelsLogit``): the data part is the sum over
  features of ``c_j(x_b) - c_j(x_a)`` under ``f_b`` (imputation, indicators and scaling are per
  feature), exact to floating point.
* Other models: exact Shapley values of the data part over the feature groups (structural,
  trigger, mitigating, history, other). With ``G`` groups present, ``v(S) = f_b(x)`` with the
  groups in ``S`` taken from ``x_b`` and the rest from ``x_a``;
  ``phi_g = sum_{S not containing g} |S|! (G - |S| - 1)! / G! [v(S + g) - v(S)]``, which needs
  ``2^G`` evaluations and sums to ``v(all) - v(none)``.

Probability-scale parts split the probability change in proportion to the log-odds parts
(``dp_j = dp * d_eta_j / d_eta``), so they too add up.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from forecast._errors import input_error
from forecast.experiment import ExperimentConfig
from forecast.panel import Panel
from forecast.risk._drivers import KIND_ORDER, attribute, log_odds
from forecast.risk._fit import OriginFit, _check_year, fit_origin, model_spec
from forecast.risk._words import indicator_info, label_of, unit_names

__all__ = ["MODEL_UPDATE", "decompose_change", "explain_change"]

MODEL_UPDATE = "(model update)"
MODEL_UPDATE_WORDS = "model update"


def term_words(term: str, indicators: Mapping[str, Any]) -> str:
    """A decomposition term as a reader says it: an indicator's label, "structural
    indicators", or the model update."""
    if term == MODEL_UPDATE:
        return MODEL_UPDATE_WORDS
    return label_of(indicators, term)


def _is_linear(estimator) -> bool:
    from forecast.models import ElasticNetLogit, StatsmodelsLogit

    return isinstance(estimator, (ElasticNetLogit, StatsmodelsLogit))


def _group_shapley(
    estimator, X_from: np.ndarray, X_to: np.ndarray, groups: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Shapley values (n x G) of ``v(S)`` on the path ``X_from -> X_to``, and ``v(none)``."""
    n_groups, n = len(groups), len(X_from)
    subsets = list(itertools.product((0, 1), repeat=n_groups))
    hybrid = np.repeat(X_from[None, :, :], len(subsets), axis=0)
    for s, subset in enumerate(subsets):
        for g, take in enumerate(subset):
            if take:
                hybrid[s][:, groups[g]] = X_to[:, groups[g]]
    values = log_odds(estimator, hybrid.reshape(-1, X_from.shape[1])).reshape(len(subsets), n)
    index = {subset: s for s, subset in enumerate(subsets)}
    phi = np.zeros((n, n_groups))
    for subset, s in index.items():
        size = sum(subset)
        for g in range(n_groups):
            if subset[g]:
                continue
            weight = (
                math.factorial(size)
                * math.factorial(n_groups - size - 1)
                / math.factorial(n_groups)
            )
            with_g = subset[:g] + (1,) + subset[g + 1 :]
            phi[:, g] += weight * (values[index[with_g]] - values[s])
    return phi, values[index[(0,) * n_groups]]


def decompose_change(
    fit_from: OriginFit,
    fit_to: OriginFit,
    X_from: np.ndarray,
    X_to: np.ndarray,
    features: list[str],
    kinds: dict[str, str],
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Decompose ``eta_to - eta_from`` for aligned rows (see the module docstring).

    Returns
    -------
    (terms, totals)
        ``terms``: long table with ``row`` (position in ``X_from``), ``term``, ``kind``,
        ``log_odds``; ``totals``: ``eta_from``, ``eta_to`` and ``method`` per row set.
    """
    model_to, model_from = fit_to.estimator, fit_from.estimator
    X_from, X_to = np.asarray(X_from, dtype=float), np.asarray(X_to, dtype=float)
    n = len(X_from)
    eta_from = log_odds(model_from, X_from)
    if _is_linear(model_to):
        reference = fit_to.train_median
        c_to = attribute(model_to, X_to, reference=reference).contributions
        c_from = attribute(model_to, X_from, reference=reference).contributions
        parts = c_to - c_from
        names = list(features)
        term_kinds = [kinds.get(f, "other") for f in features]
        eta_to_on_from = log_odds(model_to, X_from)
        method = "linear (exact)"
    else:
        present = [k for k in KIND_ORDER if any(kinds.get(f, "other") == k for f in features)]
        groups = [
            np.array([j for j, f in enumerate(features) if kinds.get(f, "other") == k])
            for k in present
        ]
        parts, eta_to_on_from = _group_shapley(model_to, X_from, X_to, groups)
        names = [f"{k} indicators" for k in present]
        term_kinds = present
        method = f"Shapley over {len(present)} feature groups (exact)"
    update = eta_to_on_from - eta_from
    eta_to = log_odds(model_to, X_to)  # computed apart: the parts must add up to it
    terms = pd.DataFrame(
        {
            "row": np.repeat(np.arange(n), len(names) + 1),
            "term": np.tile([*names, MODEL_UPDATE], n),
            "kind": np.tile([*term_kinds, "model"], n),
            "log_odds": np.column_stack([parts, update]).ravel(),
        }
    )
    return terms, {"eta_from": eta_from, "eta_to": eta_to, "method": np.array(method)}


def _expit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _row(fit: OriginFit, unit: object) -> int:
    hits = np.flatnonzero(fit.units == unit)
    return int(hits[0])


def explain_change(
    config: ExperimentConfig,
    *,
    model_label: str,
    unit: object,
    year_from: int,
    year_to: int,
    panel: Panel | None = None,
) -> pd.DataFrame:
    """Decompose the change of ``unit``'s forecast from ``year_from`` to ``year_to``.

    Each year's forecast comes from the model fitted for that year (as in the risk list and
    the backtest). The parts (one per indicator for linear models, one per feature group
    otherwise, plus the ``(model update)`` term) add up to the total change in log-odds and,
    by a proportional split, in probability.

    Returns
    -------
    DataFrame
        One row per part, largest first: ``term``, ``label`` (what a reader is shown: the
        indicator's label, e.g. "battle deaths this year"), ``kind``, ``value_from``,
        ``value_to`` (NaN for groups and the model update), ``log_odds``, ``probability``.
        ``attrs`` hold
        ``unit``, ``year_from``, ``year_to``, ``model``, ``method``, ``probability_from``,
        ``probability_to``, ``log_odds_from``, ``log_odds_to``.
    """
    from forecast.backtest import load_panel

    spec = model_spec(config, model_label)
    panel = panel if panel is not None else load_panel(config)
    frame = panel.frame
    for year in (year_from, year_to):
        _check_year(config, panel, year)
    for year in (year_from, year_to):
        present = sorted(set(frame.loc[frame[panel.year] == year, panel.unit]))
        if unit not in present:
            names = unit_names(panel, year)  # readers know the names, not the codes
            listed = [names.get(u, str(u)) for u in present[:12]]
            shown = ", ".join(listed) + (
                f" (+{len(present) - 12} more)" if len(present) > 12 else ""
            )
            raise input_error(
                f"unit {unit!r} is not in the panel in {year}",
                source=panel.name,
                column=panel.unit,
                fix=f"use one of {shown}",
            )
    fit_from = fit_origin(config, spec, panel, year_from)
    fit_to = fit_origin(config, spec, panel, year_to)
    i_from, i_to = _row(fit_from, unit), _row(fit_to, unit)
    x_from, x_to = fit_from.X[[i_from]], fit_to.X[[i_to]]
    terms, totals = decompose_change(
        fit_from, fit_to, x_from, x_to, list(panel.features), panel.kinds
    )
    eta_from, eta_to = float(totals["eta_from"][0]), float(totals["eta_to"][0])
    p_from, p_to = float(fit_from.probability[i_from]), float(fit_to.probability[i_to])
    d_eta = eta_to - eta_from
    out = terms.drop(columns="row")
    values_from = dict(zip(panel.features, x_from[0]))
    values_to = dict(zip(panel.features, x_to[0]))
    out["value_from"] = out["term"].map(values_from).astype(float)
    out["value_to"] = out["term"].map(values_to).astype(float)
    out["probability"] = (
        (p_to - p_from) * out["log_odds"] / d_eta if d_eta != 0 else 0.0 * out["log_odds"]
    )
    info = indicator_info(config)
    out["label"] = [term_words(t, info) for t in out["term"]]
    out = out[["term", "label", "kind", "value_from", "value_to", "log_odds", "probability"]]
    out = out.iloc[np.argsort(-out["log_odds"].abs().to_numpy(), kind="stable")]
    out = out.reset_index(drop=True)
    out.attrs.update(
        {
            "unit": unit,
            "year_from": int(year_from),
            "year_to": int(year_to),
            "model": spec.label,
            "method": str(totals["method"]),
            "probability_from": p_from,
            "probability_to": p_to,
            "log_odds_from": eta_from,
            "log_odds_to": eta_to,
        }
    )
    return out


def change_text(
    fit_from: OriginFit,
    fit_to: OriginFit,
    features: list[str],
    kinds: dict[str, str],
    *,
    top: int = 2,
    indicators: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Per unit present in both years, the ``top`` largest parts of its change in words:
    ``unit``, ``change_drivers``, e.g. ``battle deaths this year +2.1 pts; model update
    -0.3 pts`` (the model update: retrained with one more year of outcomes).

    Points are the probability change split in proportion to the log-odds parts (as in
    :func:`explain_change`), so they add up to the list's change; parts under 0.01 in
    log-odds are left out.
    """
    common = [u for u in fit_to.units if u in set(fit_from.units)]
    if not common:
        return pd.DataFrame(columns=["unit", "change_drivers"])
    info = indicators or {}
    pos_from = {u: i for i, u in enumerate(fit_from.units)}
    pos_to = {u: i for i, u in enumerate(fit_to.units)}
    X_from = fit_from.X[[pos_from[u] for u in common]]
    X_to = fit_to.X[[pos_to[u] for u in common]]
    terms, totals = decompose_change(fit_from, fit_to, X_from, X_to, features, kinds)
    d_eta = totals["eta_to"] - totals["eta_from"]
    d_p = _expit(totals["eta_to"]) - _expit(totals["eta_from"])
    texts = []
    for row, block in terms.groupby("row", sort=True):
        block = block.iloc[np.argsort(-block["log_odds"].abs().to_numpy(), kind="stable")]
        block = block[block["log_odds"].abs() >= 0.01].head(top)
        share = d_p[row] / d_eta[row] if d_eta[row] != 0 else 0.0
        texts.append(
            "; ".join(
                f"{term_words(r.term, info)} {100 * share * r.log_odds:+.1f} pts"
                for r in block.itertuples()
            )
        )
    return pd.DataFrame({"unit": common, "change_drivers": texts})
