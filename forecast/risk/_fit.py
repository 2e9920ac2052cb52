"""Fit a model on every outcome known by a forecast year and forecast that year's units."""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from forecast._errors import input_error
from forecast.experiment import ExperimentConfig, ModelSpec
from forecast.outcomes import training_target
from forecast.panel import Panel

__all__ = [
    "LatestForecast",
    "OriginFit",
    "backtest_forecasts",
    "fit_latest",
    "fit_origin",
    "forecast_years",
    "model_spec",
    "rank_units",
]

NO_INTERVAL_NOTE = (
    "This model gives no interval for its probabilities (only recalibrated "
    "models do), so the plausible range is left blank; no bootstrap is run."
)


@dataclass(frozen=True)
class OriginFit:
    """A model fitted for one forecast year ``year`` and its forecasts of that year's units.

    Attributes
    ----------
    year : int
        Data year the forecast is made from (the backtest's origin).
    estimator : object
        The fitted estimator (as built by :func:`forecast.backtest._task.make_estimator`).
    units : ndarray
        Units present in ``year``, in panel order.
    X : ndarray of shape (n_units, n_features)
        Their features (missing values left as NaN; the model imputes them).
    probability, lower, upper : ndarray
        Forecast probability and interval bounds (NaN when the model gives no interval).
    train_start, train_end, n_train, n_train_onsets : int
        Training rows: years ``train_start..train_end`` (``train_end = year - horizon``)
        with a known outcome window.
    train_median : ndarray
        Per-feature median of the training rows (NaN-aware), the reference value of the
        occlusion attribution.
    """

    year: int
    estimator: Any
    units: np.ndarray
    X: np.ndarray
    probability: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    train_start: int
    train_end: int
    n_train: int
    n_train_onsets: int
    train_median: np.ndarray = field(repr=False)


@dataclass(frozen=True)
class LatestForecast:
    """The forecast of year ``year`` and the list that would have been published a year earlier.

    Attributes
    ----------
    config : ExperimentConfig
    spec : ModelSpec
        The model that made the list.
    panel : Panel
    year : int
        Forecast (data) year ``Y``.
    current : OriginFit
        Model trained on rows with ``year <= Y - horizon`` and a known outcome.
    previous : OriginFit or None
        The same rule applied at ``Y - 1`` (None when ``Y - 1`` has too little history).
    dataset_digest : str
        sha256 of the panel frame (as in the backtest's provenance).
    notes : tuple of str
        Plain-language caveats (e.g. no interval available).
    """

    config: ExperimentConfig
    spec: ModelSpec
    panel: Panel = field(repr=False)
    year: int
    current: OriginFit = field(repr=False)
    previous: OriginFit | None = field(repr=False)
    dataset_digest: str
    notes: tuple[str, ...] = ()

    @property
    def features(self) -> list[str]:
        return list(self.panel.features)

    def table(self) -> pd.DataFrame:
        """One row per unit of year ``Y``: ``rank``, ``unit``, ``year``, ``probability``,
        ``lower``, ``upper``, ``previous_probability``, ``previous_rank`` and ``change``
        (``probability - previous_probability``; NaN for units absent in ``Y - 1``)."""
        cur = self.current
        out = pd.DataFrame(
            {
                "unit": cur.units,
                "year": self.year,
                "probability": cur.probability,
                "lower": cur.lower,
                "upper": cur.upper,
            }
        )
        out["rank"] = rank_units(out["unit"].to_numpy(), out["probability"].to_numpy())
        if self.previous is not None:
            prev = pd.DataFrame(
                {"unit": self.previous.units, "previous_probability": self.previous.probability}
            )
            prev["previous_rank"] = rank_units(
                prev["unit"].to_numpy(), prev["previous_probability"].to_numpy()
            )
            out = out.merge(prev, on="unit", how="left")
        else:
            out["previous_probability"] = np.nan
            out["previous_rank"] = np.nan
        out["change"] = out["probability"] - out["previous_probability"]
        columns = [
            "rank",
            "unit",
            "year",
            "probability",
            "lower",
            "upper",
            "previous_probability",
            "previous_rank",
            "change",
        ]
        return out[columns].sort_values("rank", kind="stable").reset_index(drop=True)


def rank_units(units: np.ndarray, probability: np.ndarray) -> np.ndarray:
    """Ranks 1 = highest probability; ties broken by unit name (deterministic)."""
    order = np.lexsort((np.asarray(units).astype(str), -np.asarray(probability, dtype=float)))
    ranks = np.empty(len(order), dtype=np.int64)
    ranks[order] = np.arange(1, len(order) + 1)
    return ranks


def model_spec(config: ExperimentConfig, label: str) -> ModelSpec:
    """The model of ``config`` labelled ``label``; the error lists the valid labels."""
    for spec in config.models:
        if spec.label == label:
            return spec
    options = config.history_recalibration or {}
    recal = [m + options.get("suffix", "_recal") for m in options.get("models", [])]
    raise input_error(
        f"unknown model label {label!r}",
        source=config.source,
        column="models",
        fix=f"use one of {[s.label for s in config.models] + recal}",
    )


def history_base_label(config: ExperimentConfig, label: str) -> str | None:
    """The base model of a history-recalibrated label (``ensemble_recal`` -> ``ensemble``)."""
    options = config.history_recalibration or {}
    suffix = options.get("suffix", "_recal")
    if label.endswith(suffix) and label[: -len(suffix)] in options.get("models", []):
        return label[: -len(suffix)]
    return None


def backtest_forecasts(
    config: ExperimentConfig,
    label: str,
    panel: Panel,
    origins: list[int],
    *,
    cache_dir: Path | None = None,
    n_jobs: int = 1,
) -> pd.DataFrame:
    """The backtest's forecasts of model ``label`` at ``origins`` (every unit), fits cached.

    The one small backtest behind the risk list, profile and tiers: it runs the models
    ``label`` needs (a meta model's members, then itself: :func:`forecast.backtest.
    backtest_models`; a history-recalibrated label's base model and its recalibration). A
    meta model's weights and a recalibration learn from earlier origins, so for them every
    origin of the experiment up to ``max(origins)`` is run too: each origin knows what it
    knows in the full backtest, and its forecasts are the full backtest's bit for bit.
    """
    from forecast.backtest import RollingOrigin, backtest_models, run_backtest
    from forecast.models import META_MODELS

    base = history_base_label(config, label)
    spec = model_spec(config, base or label)
    run = set(origins)
    if base is not None or spec.name in META_MODELS:
        splitter = RollingOrigin.from_config(config)
        try:
            earlier = splitter.origin_years(panel.frame[panel.year].to_numpy())
        except ValueError:  # no trainable origin at all
            earlier = []
        run |= {o for o in earlier if o <= max(origins)}
    small = dataclasses.replace(
        config,
        models=backtest_models(config, spec),
        origins=tuple(sorted(run)),
        first_origin=None,
        last_origin=None,
        history_recalibration={**config.history_recalibration, "models": [base]} if base else {},
    )
    forecasts = run_backtest(small, panel=panel, n_jobs=n_jobs, cache_dir=cache_dir).forecasts
    return forecasts[(forecasts["model"] == label) & forecasts["origin"].isin(origins)]


def _recalibrated(
    config: ExperimentConfig, spec: ModelSpec, label: str, panel: Panel, fits: list[OriginFit]
) -> list[OriginFit]:
    """Apply the backtest's history recalibration of each fit's year to the fit.

    The backtest of the base model over the experiment's origins up to that year (cached) gives
    the recalibrated forecasts ``label`` at origin ``Y`` (from outcomes known by ``Y`` only);
    the fit's estimator is wrapped in :class:`HistoryShiftedClassifier` with that origin's
    coefficients, so its predictions are those forecasts bit for bit.
    """
    from forecast.backtest import default_cache_dir
    from forecast.calibration import HistoryShiftedClassifier

    years = [f.year for f in fits]
    recal = backtest_forecasts(config, label, panel, years, cache_dir=default_cache_dir())
    out = []
    for fit in fits:
        rows = recal[recal["origin"] == fit.year].set_index("unit").loc[fit.units]
        a, b = float(rows["recal_a"].iloc[0]), float(rows["recal_b"].iloc[0])
        estimator = fit.estimator if np.isnan(a) else HistoryShiftedClassifier(fit.estimator, a, b)
        out.append(
            dataclasses.replace(
                fit,
                estimator=estimator,
                probability=rows["probability"].to_numpy(float),
                lower=rows["lower"].to_numpy(float),
                upper=rows["upper"].to_numpy(float),
            )
        )
    return out


def forecast_years(config: ExperimentConfig, panel: Panel) -> list[int]:
    """Years a list can be made for: in the panel, with ``min_train_years`` of known outcomes
    (the backtest's earliest origin ``first year + min_train_years - 1 + horizon``)."""
    years = np.unique(panel.frame[panel.year].to_numpy())
    earliest = int(years.min()) + config.min_train_years - 1 + config.horizon
    return [int(y) for y in years if y >= earliest]


def _check_year(config: ExperimentConfig, panel: Panel, year: int) -> int:
    valid = forecast_years(config, panel)
    if isinstance(year, bool) or not isinstance(year, (int, np.integer)) or int(year) not in valid:
        span = f"{valid[0]}..{valid[-1]}" if valid else "none"
        raise input_error(
            f"year {year!r} is not a forecast year of {panel.name}",
            source=config.source,
            column="year",
            fix=f"use a year in {span} (data years with enough known outcomes)",
        )
    return int(year)


def _meta_fits(
    config: ExperimentConfig, spec: ModelSpec, panel: Panel, years: list[int], target: np.ndarray
) -> list[OriginFit]:
    """Fit a ``stacked`` or ``selected`` model for each of ``years`` as the backtest does.

    Its members are fitted for the year (:func:`fit_origin`); the weights are those the
    backtest chose at that origin from earlier origins' forecasts (the backtest of the members
    and the meta model up to the year, cached: :func:`backtest_forecasts`), read from its
    ``weight_<member>`` and ``meta_intercept`` columns and applied by
    :class:`forecast.models.MetaEnsemble`, so the probabilities equal the backtest's bit for bit.
    """
    from forecast.backtest import default_cache_dir, meta_members
    from forecast.models import MetaEnsemble

    members = meta_members(config, spec)
    own = backtest_forecasts(config, spec.label, panel, years, cache_dir=default_cache_dir())
    out = []
    for year in years:
        chosen = own[own["origin"] == year]
        if chosen.empty:
            raise input_error(
                f"every member of {spec.label!r} failed in the backtest at {year}",
                source=config.source,
                fix="see the backtest's scores (errors)",
            )
        weights = np.array([chosen[f"weight_{m.label}"].iloc[0] for m in members], float)
        fits = {
            m.label: fit_origin(config, m, panel, year, target=target)
            for m, w in zip(members, weights)
            if not np.isnan(w)
        }
        estimator = MetaEnsemble.from_fitted(
            [(m.label, fits[m.label].estimator if m.label in fits else None) for m in members],
            weights=weights,
            intercept=float(chosen["meta_intercept"].iloc[0]),
        )
        first = next(iter(fits.values()))
        P = np.column_stack(
            [
                fits[m.label].probability if m.label in fits else np.full(len(first.units), np.nan)
                for m in members
            ]
        )
        probability = estimator.combine(P)
        nan = np.full(len(probability), np.nan)
        out.append(
            dataclasses.replace(
                first, estimator=estimator, probability=probability, lower=nan, upper=nan
            )
        )
    return out


def fit_origin(
    config: ExperimentConfig,
    spec: ModelSpec,
    panel: Panel,
    year: int,
    *,
    target: np.ndarray | None = None,
) -> OriginFit:
    """Fit ``spec`` exactly as the backtest does at origin ``year`` and forecast that year.

    Training rows come from :class:`forecast.backtest.RollingOrigin` with the experiment's
    window settings and ``origins=[year]``: rows with ``t <= year - horizon`` whose outcome
    window is known (:func:`forecast.outcomes.training_target`). The fit is the backtest's fit
    kernel (:func:`forecast.backtest.fit_forecast`) with the rows' years and recency weights,
    so the probabilities equal the backtest's forecasts for that origin bit for bit; anchoring
    is applied as the backtest applies it.
    A ``stacked`` or ``selected`` model combines its members' fits with the weights the
    backtest chose at ``year`` (:func:`_meta_fits`).
    """
    from forecast.backtest import RollingOrigin, capture_warnings, fit_forecast, recency_weights
    from forecast.models import META_MODELS

    year = _check_year(config, panel, year)
    frame = panel.frame
    target = training_target(panel, config) if target is None else target
    if spec.name in META_MODELS:
        return _meta_fits(config, spec, panel, [year], target)[0]
    splitter = RollingOrigin.from_config(config, origins=[year])
    split = next(
        iter(splitter.split(frame.assign(_target=target), year=panel.year, outcome="_target"))
    )
    X_all = panel.design_matrix()  # the backtest's array, float32 panels included
    years = frame[panel.year].to_numpy()
    X_train, y_train = X_all[split.train], target[split.train]
    if len(np.unique(y_train)) < 2:
        raise input_error(
            f"the training rows for {year} (years <= {split.train_end}) hold "
            "a single outcome class",
            source=panel.name,
            fix="choose a later year or a shorter horizon",
        )
    weights = recency_weights(years[split.train], config.recency_half_life)
    X_test = X_all[split.test]
    with capture_warnings(f"{spec.label} fit for {year}"):
        estimator, probability, low, high = fit_forecast(
            spec, X_train, y_train, weights, years[split.train], X_test, config.seed
        )
    nan = np.full(len(X_test), np.nan)
    lower, upper = (nan, nan) if low is None or high is None else (low, high)
    if spec.anchor_years:  # as the backtest: shift to the recent training onset rate
        from forecast.calibration import HistoryShiftedClassifier, anchor_to_recent_rate

        probability, lower, upper, offset = anchor_to_recent_rate(
            probability, lower, upper, y_train, years[split.train], spec.anchor_years
        )
        estimator = HistoryShiftedClassifier(estimator, offset)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
        median = np.nanmedian(X_train, axis=0)
    median = np.where(np.isnan(median), 0.0, median)  # as the imputer's empty-feature fill
    return OriginFit(
        year,
        estimator,
        frame[panel.unit].to_numpy()[split.test],
        X_test,
        probability,
        lower,
        upper,
        int(split.train_start),
        int(split.train_end),
        len(split.train),
        int(np.nansum(y_train)),
        median,
    )


def fit_latest(
    config: ExperimentConfig,
    *,
    model_label: str,
    panel: Panel | None = None,
    year: int | None = None,
) -> LatestForecast:
    """Train ``model_label`` on all outcomes known by year ``Y`` and forecast ``Y`` and ``Y-1``.

    Parameters
    ----------
    config : ExperimentConfig
    model_label : str
        Label of one of ``config.models``.
    panel : Panel, optional
        The experiment's panel (default: :func:`forecast.backtest.load_panel`).
    year : int, optional
        Forecast year ``Y``; default the last data year. The previous list is made by the same
        rule at ``Y - 1`` (trained on rows ``<= Y - 1 - horizon``), i.e. the list that would have
        been published then from today's data.

    Returns
    -------
    LatestForecast
    """
    from forecast.backtest import dataset_digest, load_panel
    from forecast.models import META_MODELS

    base_label = history_base_label(config, model_label)
    spec = model_spec(config, base_label or model_label)
    panel = panel if panel is not None else load_panel(config)
    year = _check_year(config, panel, panel.years[1] if year is None else year)
    target = training_target(panel, config)
    notes = []
    years = [year, year - 1] if year - 1 in forecast_years(config, panel) else [year]
    if len(years) == 1:
        notes.append(f"No previous list: {year - 1} has too little history to train on.")
    if spec.name in META_MODELS:  # one history backtest for both years
        fits = _meta_fits(config, spec, panel, years, target)
    else:
        fits = [fit_origin(config, spec, panel, y, target=target) for y in years]
    current, previous = fits[0], (fits[1] if len(fits) > 1 else None)
    if base_label is not None:
        fits = _recalibrated(
            config, spec, model_label, panel, [f for f in (current, previous) if f is not None]
        )
        current, previous = fits[0], (fits[1] if previous is not None else None)
        spec = dataclasses.replace(spec, label=model_label)
    if np.isnan(current.lower).all():
        notes.append(NO_INTERVAL_NOTE)
    return LatestForecast(
        config, spec, panel, year, current, previous, dataset_digest(panel.frame), tuple(notes)
    )
