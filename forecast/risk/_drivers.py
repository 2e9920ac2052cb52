"""Drivers of each unit's risk on the log-odds scale, and flags for imputed or stale inputs.

Attribution by model type (all on the log-odds scale, ``eta = logit p``):

* ``ElasticNetLogit`` / ``StatsmodelsLogit`` (exact): ``c_j = b_j z_j`` with ``z_j`` the
  imputed, standardised value, i.e. the contribution relative to the training mean; a
  feature's missing-value indicator is added to its own contribution. ``eta = b_0 + sum_j c_j``.
* ``XGBClassifier`` (exact): TreeSHAP (``pred_contribs=True``); ``eta = bias + sum_j c_j``.
* ``AveragingEnsemble``: the weighted mean of the members' contributions. Exact for
  ``method='logit'`` (the ensemble's log-odds are the weighted mean of the members'), an
  approximation for ``method='mean'``.
* ``RecalibratedClassifier``: the base model's contributions. The calibration map is monotone
  so directions hold; its shift of the log-odds is not attributed to features.
* Anything else (random forest, plug-ins): occlusion, ``c_j = eta(x) - eta(x with x_j
  replaced by its training median)``; not additive.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from forecast.panel import COUNTRY, Panel, UnitNoun
from forecast.risk._words import label_of, value_of

__all__ = [
    "Attribution",
    "attribute",
    "common_flags",
    "driver_item",
    "driver_table",
    "driver_text",
    "flag_texts",
    "input_flags",
    "log_odds",
    "time_terms",
]

KIND_ORDER = ("structural", "trigger", "mitigating", "history", "other")
_FLOOR = 1e-4


@dataclass(frozen=True)
class Attribution:
    """Per-row, per-feature log-odds contributions.

    Attributes
    ----------
    contributions : ndarray of shape (n, n_features)
    base : ndarray of shape (n,)
        Reference log-odds (NaN for occlusion); with ``additive``,
        ``base + contributions.sum(1)`` equals the model's log-odds.
    method : str
        ``linear``, ``treeshap``, ``ensemble``, ``occlusion``, or ``recalibrated base: ...``.
    additive : bool
    """

    contributions: np.ndarray
    base: np.ndarray
    method: str
    additive: bool


def log_odds(estimator, X: np.ndarray) -> np.ndarray:
    """The model's log-odds: ``decision_function`` of the linear models, else
    ``logit(clip(p, 1e-4, 1 - 1e-4))``.

    The floor keeps a forest's probabilities of exactly 0 (no positive training row in any
    leaf) from turning into log-odds of -28 that would swamp every attribution; 0.01% is far
    below any risk a list acts on.
    """
    from forecast.models import ElasticNetLogit, StatsmodelsLogit

    if isinstance(estimator, (ElasticNetLogit, StatsmodelsLogit)):
        return np.asarray(estimator.decision_function(X), dtype=float)
    p = np.clip(np.asarray(estimator.predict_proba(X))[:, 1].astype(float), _FLOOR, 1 - _FLOOR)
    return np.log(p) - np.log1p(-p)


def _input_columns(preprocessor: Pipeline, n_in: int) -> np.ndarray:
    """Input feature of each preprocessor output: the imputed columns, then the indicators."""
    imputer = preprocessor.named_steps["impute"]
    indicator = getattr(imputer, "indicator_", None)
    extra = np.asarray(indicator.features_ if indicator is not None else [], dtype=int)
    return np.r_[np.arange(n_in), extra].astype(int)


def _fold(values: np.ndarray, source: np.ndarray, n_in: int) -> np.ndarray:
    out = np.zeros((values.shape[0], n_in))
    for column, feature in enumerate(source):
        out[:, feature] += values[:, column]
    return out


def _linear(estimator, X: np.ndarray) -> Attribution:
    from forecast.models import ElasticNetLogit

    n_in = X.shape[1]
    Z = estimator.preprocessor_.transform(X)
    source = _input_columns(estimator.preprocessor_, n_in)
    if isinstance(estimator, ElasticNetLogit):
        values, intercept = Z * estimator.coef_, estimator.intercept_
    else:  # StatsmodelsLogit keeps the columns with variance
        keep = estimator.keep_
        values, intercept = Z[:, keep] * estimator.params_[1:], estimator.params_[0]
        source = source[keep]
    return Attribution(
        _fold(values, source, n_in), np.full(len(X), float(intercept)), "linear", True
    )


def _treeshap(estimator, X: np.ndarray) -> Attribution:
    from xgboost import DMatrix

    contribs = estimator.get_booster().predict(DMatrix(X, missing=np.nan), pred_contribs=True)
    contribs = np.asarray(contribs, dtype=float)
    return Attribution(contribs[:, :-1], contribs[:, -1], "treeshap", True)


def _occlusion(estimator, X: np.ndarray, reference: np.ndarray) -> Attribution:
    n, p = X.shape
    stacked = np.repeat(X[None, :, :], p, axis=0)  # (p, n, p): feature j replaced in block j
    for j in range(p):
        stacked[j, :, j] = reference[j]
    eta = log_odds(estimator, X)
    occluded = log_odds(estimator, stacked.reshape(p * n, p)).reshape(p, n)
    return Attribution((eta[None, :] - occluded).T, np.full(n, np.nan), "occlusion", False)


def attribute(estimator, X: np.ndarray, *, reference: np.ndarray) -> Attribution:
    """Log-odds contributions of each feature for the rows ``X`` (see the module docstring).

    Parameters
    ----------
    estimator : fitted estimator
    X : ndarray of shape (n, n_features)
        Raw features (NaN where missing).
    reference : ndarray of shape (n_features,)
        Training medians, the occlusion reference.
    """
    from xgboost import XGBClassifier

    from forecast.calibration import HistoryShiftedClassifier, RecalibratedClassifier
    from forecast.models import AveragingEnsemble, ElasticNetLogit, StatsmodelsLogit

    X = np.asarray(X, dtype=float)
    if isinstance(estimator, (ElasticNetLogit, StatsmodelsLogit)):
        return _linear(estimator, X)
    if isinstance(estimator, XGBClassifier):
        return _treeshap(estimator, X)
    if isinstance(estimator, HistoryShiftedClassifier) and estimator.b == 1.0:  # recal or anchor
        inner = attribute(estimator.estimator_, X, reference=reference)  # a shift: exact
        return Attribution(
            inner.contributions, inner.base, f"logit-shifted: {inner.method}", inner.additive
        )
    if isinstance(estimator, (RecalibratedClassifier, HistoryShiftedClassifier)):
        inner = attribute(estimator.estimator_, X, reference=reference)
        return Attribution(
            inner.contributions, inner.base, f"recalibrated base: {inner.method}", False
        )
    if isinstance(estimator, AveragingEnsemble):
        weights = (
            np.ones(len(estimator.estimators_))
            if estimator.weights is None
            else np.asarray(estimator.weights, dtype=float)
        )
        weights = weights / weights.sum()
        parts = [attribute(est, X, reference=reference) for _, est in estimator.estimators_]
        contributions = sum(w * a.contributions for w, a in zip(weights, parts))
        base = sum(w * a.base for w, a in zip(weights, parts))
        methods = "+".join(sorted({a.method for a in parts}))
        additive = estimator.method == "logit" and all(a.additive for a in parts)
        return Attribution(
            np.asarray(contributions), np.asarray(base), f"ensemble of {methods}", additive
        )
    return _occlusion(estimator, X, reference)


def input_flags(
    panel: Panel,
    year: int,
    *,
    stale_years: int = 3,
    min_change_share: float = 0.5,
    indicators: Mapping[str, object] | None = None,
) -> pd.DataFrame:
    """Imputed and stale inputs of each unit in ``year``.

    * imputed: the feature is missing in ``year`` (the model fills it in: median imputation
      for the linear models and forests, the learned default branch for xgboost).
    * stale: the value is identical in the ``stale_years`` consecutive years ending in
      ``year`` (e.g. carried forward), for features that usually move: features whose
      within-unit year-to-year values differ in at least ``min_change_share`` of consecutive
      pairs up to ``year``. Binary or constant indicators are never stale. ``since`` is the
      first year of the unchanged run ("last updated").

    Parameters
    ----------
    indicators : mapping, optional
        Feature-set entries by name (:func:`~forecast.risk.indicator_info`); their labels
        name the inputs in ``flags`` (column names otherwise).

    Returns
    -------
    DataFrame
        Index ``unit``; boolean columns ``imputed:<feature>`` and ``stale:<feature>``,
        ``since:<feature>`` (year, NaN unless stale) and a text column ``flags``, e.g.
        ``ethnic diversity (fractionalization index): last updated 2013``.
    """
    frame = panel.frame[panel.frame[panel.year] <= year]
    features = list(panel.features)
    grouped = frame.groupby(panel.unit, sort=False)
    values = frame[features].to_numpy(dtype=float)
    years = frame[panel.year].to_numpy()
    prev = grouped[features].shift(1).to_numpy(dtype=float)
    prev_year = grouped[panel.year].shift(1).to_numpy(dtype=float)
    consecutive = (years - prev_year == 1)[:, None] & ~np.isnan(values) & ~np.isnan(prev)
    with np.errstate(invalid="ignore"):
        share = (consecutive & (values != prev)).sum(0) / np.maximum(consecutive.sum(0), 1)
    moving = share >= min_change_share
    unchanged = np.ones(values.shape, dtype=bool)
    for lag in range(1, stale_years):
        lagged = grouped[features].shift(lag).to_numpy(dtype=float)
        lag_year = grouped[panel.year].shift(lag).to_numpy(dtype=float)
        unchanged &= (values == lagged) & (years - lag_year == lag)[:, None]
    now = years == year
    units = frame[panel.unit].to_numpy()[now]
    imputed = np.isnan(values[now])
    stale = unchanged[now] & moving[None, :]
    since = _run_start(years, consecutive & (values == prev))[now]
    columns: dict[str, np.ndarray] = {}
    for j, name in enumerate(features):
        columns[f"imputed:{name}"] = imputed[:, j]
        columns[f"stale:{name}"] = stale[:, j]
        columns[f"since:{name}"] = np.where(stale[:, j], since[:, j], np.nan)
    out = pd.DataFrame(columns, index=pd.Index(units, name="unit"))
    out["flags"] = flag_texts(out, features, year, indicators or {})
    return out


def _run_start(years: np.ndarray, same_as_prev: np.ndarray) -> np.ndarray:
    """Per row and column, the year the current run of identical values began."""
    start = np.where(same_as_prev, np.nan, years[:, None].astype(float))
    return pd.DataFrame(start).ffill().to_numpy()  # runs never cross units: a unit's first
    # row has no previous value, so it starts a run


def flag_texts(
    flags: pd.DataFrame,
    features: list[str],
    year: int,
    indicators: Mapping[str, object],
    *,
    omit: Iterable[str] = (),
) -> list[str]:
    """One text per row of an :func:`input_flags` table, features in ``omit`` left out.

    ``<label>: no data for <year> (filled in)`` and ``<label>: last updated <since>``,
    separated by `` | ``.
    """
    skip = set(omit)
    texts = []
    for _, row in flags.iterrows():
        parts = []
        for name in features:
            if name in skip:
                continue
            if row.get(f"imputed:{name}", False):
                parts.append(f"{label_of(indicators, name)}: no data for {year} (filled in)")
            elif row.get(f"stale:{name}", False):
                parts.append(
                    f"{label_of(indicators, name)}: last updated {int(row[f'since:{name}'])}"
                )
        texts.append(" | ".join(parts))
    return texts


def common_flags(
    flags: pd.DataFrame,
    features: list[str],
    year: int,
    indicators: Mapping[str, object],
    *,
    share: float = 0.9,
    unit_noun: UnitNoun = COUNTRY,
) -> tuple[list[str], list[str]]:
    """Flags that hold for at least ``share`` of the units: better said once than on every row.

    ``unit_noun`` names the units in the sentences (``Panel.unit_noun``).

    Returns
    -------
    (features, sentences)
        The features concerned, and one sentence each, e.g. "ethnic diversity
        (fractionalization index): last updated 2013 for 165 of 168 countries".
    """
    n = len(flags)
    names, sentences = [], []
    for name in features:
        stale = flags.get(f"stale:{name}", pd.Series(False, index=flags.index)).astype(bool)
        imputed = flags.get(f"imputed:{name}", pd.Series(False, index=flags.index)).astype(bool)
        label = label_of(indicators, name)
        if n and imputed.mean() >= share:
            names.append(name)
            sentences.append(
                f"{label}: no data for {year} for {int(imputed.sum())} of {n} "
                f"{unit_noun.plural} (filled in by the model)"
            )
        elif n and (stale | imputed).mean() >= share:
            names.append(name)
            since = flags.loc[stale, f"since:{name}"].astype(int)
            typical = int(since.mode().iloc[0])
            others = int((since != typical).sum())
            sentences.append(
                f"{label}: last updated {typical} for {int((since == typical).sum())}"
                f" of {n} {unit_noun.plural}" + (f" (earlier for {others})" if others else "")
            )
    return names, sentences


def time_terms(panel: Panel) -> set[str]:
    """Features that are not facts about a unit: the same for every unit within each year
    (a time trend, year terms). They shift every unit alike and are never shown as drivers."""
    frame = panel.frame
    features = [f for f in panel.features if f in frame.columns]
    spread = frame.groupby(panel.year)[features].nunique(dropna=False).max()
    return {f for f in features if spread[f] <= 1 and frame[f].nunique() > 1}


HISTORY_REASON = "an episode already under way is not a NEW onset, which the list forecasts"
SOURCE_REASON = "it overlaps with {others} (same data): read them together"
MODEL_REASON = "an association in the model, not a cause"


def marginal_signs(panel: Panel, year: int | None = None) -> np.ndarray:
    """Per feature, the direction of its raw association with an onset in the data up to
    ``year``: +1 when it is higher, on average, in unit-years with an onset (the panel's first
    outcome) than in the others, -1 when lower, 0 without onsets or values."""
    frame = panel.frame if year is None else panel.frame[panel.frame[panel.year] <= year]
    features = list(panel.features)
    if not panel.outcomes or panel.outcomes[0] not in frame:
        return np.zeros(len(features))
    values = frame.reindex(columns=features).to_numpy(dtype=float)
    onset = frame[panel.outcomes[0]].to_numpy(dtype=float)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a feature with no values
        gap = np.nanmean(values[onset == 1], axis=0) - np.nanmean(values[onset == 0], axis=0)
    return np.nan_to_num(np.sign(gap))


def model_signs(values: np.ndarray, contributions: np.ndarray) -> np.ndarray:
    """Per feature, the direction the model reads it in: the sign of the covariance, across
    the rows, between its values and its contributions (a linear model's coefficient sign);
    0 with fewer than two distinct values."""
    out = np.zeros(values.shape[1])
    for j in range(values.shape[1]):
        x, c = values[:, j], contributions[:, j]
        keep = np.isfinite(x) & np.isfinite(c)
        if keep.sum() > 1 and np.ptp(x[keep]) > 0:
            out[j] = np.sign(np.cov(x[keep], c[keep])[0, 1])
    return out


def _reasons(
    kinds: list[str],
    values: np.ndarray,
    contributions: np.ndarray,
    siblings: list[str],
    expected: np.ndarray,
) -> np.ndarray:
    """A reason for every indicator the model reads against its raw association with onsets
    in the data (``expected``, :func:`marginal_signs`; the model's direction is
    :func:`model_signs`): a reader expects what goes with onsets to raise risk. ``''``
    elsewhere and for ``other`` terms."""
    against = model_signs(values, contributions) * expected < 0
    against &= np.array([k != "other" for k in kinds])
    base = np.array(
        [
            HISTORY_REASON
            if k == "history"
            else SOURCE_REASON.format(others=sib)
            if sib
            else MODEL_REASON
            for k, sib in zip(kinds, siblings, strict=True)
        ],
        dtype=object,
    )
    row = np.where(against, base, "")
    return np.tile(row, (len(values), 1))


def driver_table(
    estimator,
    X: np.ndarray,
    units: np.ndarray,
    panel: Panel,
    *,
    reference: np.ndarray,
    indicators: Mapping[str, object] | None = None,
    year: int | None = None,
) -> pd.DataFrame:
    """Long table of drivers, one row per unit and feature.

    Columns: ``unit``, ``feature``, ``label`` (the spec's label, else the name), ``kind``,
    ``value``, ``value_text`` (the value as a reader sees it, e.g. ``42%``, with ``(as of
    2013)`` when it has not changed since then), ``contribution`` (log-odds), ``odds_ratio``
    (``exp(contribution)``), ``method``, ``unit_fact`` (False for :func:`time_terms`,
    never shown as drivers) and ``reason`` (why a sign a reader would not expect is so,
    ``''`` elsewhere; see :func:`_reasons`); with ``year`` also ``year``.
    """
    from forecast.risk._derived import same_source

    info = indicators or {}
    trend = time_terms(panel)
    att = attribute(estimator, X, reference=reference)
    features = list(panel.features)
    n, p = att.contributions.shape
    kinds = [panel.kinds.get(f, "other") for f in features]
    values = np.asarray(X, dtype=float)
    texts = np.array(
        [[value_of(info, f, v) for f, v in zip(features, row)] for row in values], dtype=object
    )
    if year is not None:
        since = input_flags(panel, year).reindex(np.asarray(units))
        for j, name in enumerate(features):
            old = since[f"since:{name}"].to_numpy(dtype=float)
            for i in np.flatnonzero(np.isfinite(old) & (old < year)):
                if texts[i, j]:
                    texts[i, j] = f"{texts[i, j]} (as of {int(old[i])})"
    table = pd.DataFrame(
        {
            "unit": np.repeat(np.asarray(units), p),
            "feature": np.tile(features, n),
            "label": np.tile([label_of(info, f) for f in features], n),
            "kind": np.tile(kinds, n),
            "value": values.ravel(),
            "value_text": texts.ravel(),
            "contribution": att.contributions.ravel(),
            "odds_ratio": _odds(att.contributions.ravel()),
            "method": att.method,
            "unit_fact": np.tile([f not in trend for f in features], n),
            "reason": _reasons(
                kinds,
                values,
                att.contributions,
                [
                    ", ".join(label_of(info, g) for g in same_source(info, features)[f])
                    for f in features
                ],
                marginal_signs(panel, year),
            ).ravel(),
        }
    )
    if year is not None:
        table["year"] = int(year)
    return table


def _odds(log_odds: np.ndarray | float) -> np.ndarray:
    """``exp(log_odds)``, capped at ``exp(700)`` so a separated fit gives a huge finite ratio
    rather than an overflow warning."""
    return np.exp(np.clip(log_odds, -700.0, 700.0))


def driver_item(label: str, value_text: str, contribution: float, reason: str = "") -> str:
    """``label: value, raises risk (odds x1.88)`` -- one driver in words, with ``: why``
    when the sign needs a reason."""
    direction = "raises risk" if contribution > 0 else "lowers risk"
    value = f": {value_text}" if value_text else ""
    ratio = float(_odds(contribution))
    odds = f"{ratio:.2f}" if ratio < 100 else f"{ratio:.3g}"
    why = f" (why: {reason})" if reason else ""
    return f"{label}{value}, {direction} (odds x{odds}){why}"


def _format(block: pd.DataFrame, contributions: np.ndarray, picked: list[int]) -> str:
    kinds = block["kind"].to_numpy()
    labels = (block["label"] if "label" in block else block["feature"]).to_numpy()
    values = (
        (block["value_text"] if "value_text" in block else pd.Series("", index=block.index))
        .fillna("")
        .to_numpy()
    )
    reasons = (block["reason"] if "reason" in block else pd.Series("", index=block.index)).fillna(
        ""
    )
    reasons = reasons.to_numpy()
    parts = []
    for kind in KIND_ORDER:
        items = [
            driver_item(str(labels[i]), str(values[i]), contributions[i], str(reasons[i]))
            for i in picked
            if kinds[i] == kind
        ]
        if items:
            parts.append(f"{kind}: {'; '.join(items)}")
    return " | ".join(parts)


def _merge_labels(block: pd.DataFrame) -> pd.DataFrame:
    """One row per (label, kind): indicators a reader cannot tell apart (a year and its
    square are both "time trend") count as one, their log-odds contributions summed."""
    if "label" not in block or not block.duplicated(["label", "kind"]).any():
        return block
    merged = block.groupby(["label", "kind"], sort=False, as_index=False).agg(
        feature=("feature", "first"),
        contribution=("contribution", "sum"),
        **({"reason": ("reason", "first")} if "reason" in block else {}),
        **(
            {"value_text": ("value_text", lambda v: "; ".join(dict.fromkeys(filter(None, v))))}
            if "value_text" in block
            else {}
        ),
    )
    return merged


def driver_text(drivers: pd.DataFrame, *, top: int = 4, min_log_odds: float = 0.05) -> pd.DataFrame:
    """Per unit, the ``top`` largest contributions raising and lowering risk (at least
    ``min_log_odds`` in size), grouped by kind: ``unit``, ``drivers_up``, ``drivers_down``.

    Kinds are separated by `` | ``, items within a kind by ``; ``; each item reads
    ``label: value, raises risk (odds xR)`` with ``R = exp(contribution)`` (``label`` and
    ``value_text`` from :func:`driver_table`; the feature name when there is no label).
    Indicators with the same label and kind count as one (contributions summed). Rows whose
    ``unit_fact`` is False (a time trend) are never drivers; a ``reason`` follows its item as
    ``(why: ...)``.
    """
    records = []
    if "unit_fact" in drivers:
        drivers = drivers[drivers["unit_fact"].astype(bool)]
    for unit, block in drivers.groupby("unit", sort=False):
        block = _merge_labels(block)
        c = block["contribution"].to_numpy(dtype=float)
        up = [int(i) for i in np.argsort(-c, kind="stable")[:top] if c[i] >= min_log_odds]
        down = [int(i) for i in np.argsort(c, kind="stable")[:top] if c[i] <= -min_log_odds]
        records.append(
            {
                "unit": unit,
                "drivers_up": _format(block, c, up),
                "drivers_down": _format(block, c, down),
            }
        )
    return pd.DataFrame(records, columns=["unit", "drivers_up", "drivers_down"])
