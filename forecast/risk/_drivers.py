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

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from forecast.panel import Panel

__all__ = ["Attribution", "attribute", "driver_table", "driver_text", "input_flags", "log_odds"]

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
    p = np.clip(np.asarray(estimator.predict_proba(X))[:, 1].astype(float), _FLOOR,
                1 - _FLOOR)
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
    return Attribution(_fold(values, source, n_in), np.full(len(X), float(intercept)), "linear",
                       True)


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
        return Attribution(inner.contributions, inner.base, f"logit-shifted: {inner.method}",
                           inner.additive)
    if isinstance(estimator, (RecalibratedClassifier, HistoryShiftedClassifier)):
        inner = attribute(estimator.estimator_, X, reference=reference)
        return Attribution(inner.contributions, inner.base, f"recalibrated base: {inner.method}",
                           False)
    if isinstance(estimator, AveragingEnsemble):
        weights = (np.ones(len(estimator.estimators_)) if estimator.weights is None
                   else np.asarray(estimator.weights, dtype=float))
        weights = weights / weights.sum()
        parts = [attribute(est, X, reference=reference) for _, est in estimator.estimators_]
        contributions = sum(w * a.contributions for w, a in zip(weights, parts))
        base = sum(w * a.base for w, a in zip(weights, parts))
        methods = "+".join(sorted({a.method for a in parts}))
        additive = estimator.method == "logit" and all(a.additive for a in parts)
        return Attribution(np.asarray(contributions), np.asarray(base), f"ensemble of {methods}",
                           additive)
    return _occlusion(estimator, X, reference)


def input_flags(panel: Panel, year: int, *, stale_years: int = 3,
                min_change_share: float = 0.5) -> pd.DataFrame:
    """Imputed and stale inputs of each unit in ``year``.

    * imputed: the feature is missing in ``year`` (the model fills it in: median imputation
      for the linear models and forests, the learned default branch for xgboost).
    * stale: the value is identical in the ``stale_years`` consecutive years ending in
      ``year`` (e.g. carried forward), for features that usually move: features whose
      within-unit year-to-year values differ in at least ``min_change_share`` of consecutive
      pairs up to ``year``. Binary or constant indicators are never stale.

    Returns
    -------
    DataFrame
        Index ``unit``; boolean columns ``imputed:<feature>`` and ``stale:<feature>`` and a
        text column ``flags``.
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
    out = pd.DataFrame(index=pd.Index(units, name="unit"))
    for j, name in enumerate(features):
        out[f"imputed:{name}"] = imputed[:, j]
        out[f"stale:{name}"] = stale[:, j]
    texts = []
    for i in range(len(units)):
        parts = []
        filled = [f for j, f in enumerate(features) if imputed[i, j]]
        old = [f for j, f in enumerate(features) if stale[i, j]]
        if filled:
            parts.append("imputed: " + ", ".join(filled))
        if old:
            parts.append(f"stale ({stale_years}+ yrs unchanged): " + ", ".join(old))
        texts.append(" | ".join(parts))
    out["flags"] = texts
    return out


def driver_table(estimator, X: np.ndarray, units: np.ndarray, panel: Panel, *,
                 reference: np.ndarray) -> pd.DataFrame:
    """Long table of drivers: ``unit``, ``feature``, ``kind``, ``value``, ``contribution``
    (log-odds), ``odds_ratio`` (``exp(contribution)``) and ``method``."""
    att = attribute(estimator, X, reference=reference)
    features = list(panel.features)
    n, p = att.contributions.shape
    kinds = [panel.kinds.get(f, "other") for f in features]
    return pd.DataFrame({
        "unit": np.repeat(np.asarray(units), p), "feature": np.tile(features, n),
        "kind": np.tile(kinds, n), "value": np.asarray(X, dtype=float).ravel(),
        "contribution": att.contributions.ravel(), "odds_ratio": _odds(att.contributions.ravel()),
        "method": att.method})


def _odds(log_odds: np.ndarray | float) -> np.ndarray:
    """``exp(log_odds)``, capped at ``exp(700)`` so a separated fit gives a huge finite ratio
    rather than an overflow warning."""
    return np.exp(np.clip(log_odds, -700.0, 700.0))


def _format(features: np.ndarray, kinds: np.ndarray, contributions: np.ndarray,
            picked: list[int]) -> str:
    parts = []
    for kind in KIND_ORDER:
        items = [f"{features[i]} (odds x{_odds(contributions[i]):.2f})" for i in picked
                 if kinds[i] == kind]
        if items:
            parts.append(f"{kind}: {', '.join(items)}")
    return " | ".join(parts)


def driver_text(drivers: pd.DataFrame, *, top: int = 4, min_log_odds: float = 0.05
                ) -> pd.DataFrame:
    """Per unit, the ``top`` largest contributions raising and lowering risk (at least
    ``min_log_odds`` in size), grouped by kind: ``unit``, ``drivers_up``, ``drivers_down``.

    Each item reads ``feature (odds xR)`` with ``R = exp(contribution)``.
    """
    records = []
    for unit, block in drivers.groupby("unit", sort=False):
        c = block["contribution"].to_numpy(dtype=float)
        features, kinds = block["feature"].to_numpy(), block["kind"].to_numpy()
        up = [int(i) for i in np.argsort(-c, kind="stable")[:top] if c[i] >= min_log_odds]
        down = [int(i) for i in np.argsort(c, kind="stable")[:top] if c[i] <= -min_log_odds]
        records.append({"unit": unit, "drivers_up": _format(features, kinds, c, up),
                        "drivers_down": _format(features, kinds, c, down)})
    return pd.DataFrame(records, columns=["unit", "drivers_up", "drivers_down"])
