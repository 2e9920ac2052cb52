"""Track a risk list in MLflow and register its model so a list can be reproduced later.

A run named ``risklist-<year>`` holds the list's files; with ``register=True`` the fitted model
is logged (skops format, artifact name ``model``), registered as ``forecast-<experiment name>``,
given the alias ``champion`` (``candidate`` when it is not the recommended model) and tagged
with the data year, the dataset's sha256, the feature names and the experiment spec. The
MLflow calls live in :mod:`forecast.tracking`.
"""

from __future__ import annotations

import dataclasses
import json
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from forecast._errors import input_error
from forecast.choice import recommend_model
from forecast.panel import Panel
from forecast.risk._fit import LatestForecast, rank_units
from forecast.tracking import ALIAS, MlflowTracker, RisklistRecord, TrackedRun, Tracker

__all__ = [
    "ALIAS",
    "RiskRun",
    "load_registered",
    "log_risklist",
    "registered_name",
    "reproduce_registered",
]

_TAG = "forecast."
_REQUIREMENTS = (
    "atrocity-forecast",
    "scikit-learn",
    "numpy",
    "pandas",
    "scipy",
    "xgboost",  # the CUDA build; xgboost-cpu (the default) otherwise
    "xgboost-cpu",
    "glum",
    "statsmodels",
    "skops",
)


CANDIDATE = "candidate"
"""Alias of a registered model that is not the recommended one (design 0011)."""

RiskRun = TrackedRun
"""Where a risk list was logged (``run_id``, ``uri``, registered ``model_name``, ``version``)."""


def registered_name(experiment_name: str) -> str:
    """Registry name of an experiment's forecasting model: ``forecast-<experiment name>``."""
    return f"forecast-{experiment_name}"


def _requirements() -> list[str]:
    pins = []
    for name in _REQUIREMENTS:
        try:
            pins.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    return pins


def _tags(latest: LatestForecast) -> dict[str, str]:
    from forecast.backtest import code_version

    config = latest.config
    spec = json.dumps(config.raw, default=str, sort_keys=True)
    return {
        "data_year": str(latest.year),
        "dataset": latest.panel.name,
        "dataset_sha256": latest.dataset_digest,
        "experiment": config.name,
        "experiment_spec": spec if len(spec) <= 7500 else "(too long; see experiment.yaml)",
        "model_label": latest.spec.label,
        "features": json.dumps(list(latest.panel.features)),
        "horizon": str(config.horizon),
        "train_end": str(latest.current.train_end),
        "code_version": code_version(),
    }


def _metrics(risk: pd.DataFrame) -> dict[str, float]:
    p = risk["probability"].to_numpy(dtype=float)
    out = {
        "n_units": float(len(p)),
        "expected_onsets": float(p.sum()),
        "max_probability": float(p.max()),
    }
    if "tier" in risk.columns:
        for tier, count in risk["tier"].value_counts().items():
            out[f"n_tier/{str(tier).split(' ')[0]}"] = float(count)
    return out


def log_risklist(
    latest: LatestForecast,
    risk: pd.DataFrame,
    artifacts: list[Path],
    *,
    tracking_uri: str | None = None,
    register: bool = False,
    tracker: Tracker | None = None,
) -> TrackedRun:
    """Log a risk list (and, with ``register``, its model) through a tracker.

    Parameters
    ----------
    latest : LatestForecast
    risk : DataFrame
        The list (for summary metrics: units, expected onsets ``sum p``, units per tier).
    artifacts : list of Path
        Files to attach under ``risklist/``.
    tracking_uri : str, optional
        Store of the default :class:`forecast.tracking.MlflowTracker` (when ``tracker`` is
        None).
    register : bool
        Log the fitted model, register it as ``forecast-<experiment>`` and point the alias
        ``champion`` at the new version when it is the recommended model
        (:func:`forecast.choice.recommend_model`; else the alias ``candidate``), tagged with
        the data year, dataset sha256, features and experiment spec.
    tracker : Tracker, optional
    """
    tracker = tracker or MlflowTracker(tracking_uri)
    config = latest.config
    tags = _tags(latest)
    params = {f"risklist.{k}": v for k, v in tags.items() if k != "experiment_spec"}
    record = RisklistRecord(
        experiment=config.tracking_experiment or config.name,
        year=latest.year,
        params=params,
        metrics=_metrics(risk),
        files=list(artifacts),
        spec=config.raw,
    )
    if register:
        recommended = recommend_model(config).recommended == latest.spec.label
        record = dataclasses.replace(
            record,
            alias=ALIAS if recommended else CANDIDATE,
            model=latest.current.estimator,
            model_name=registered_name(config.name),
            model_tags={_TAG + k: v for k, v in tags.items()},
            example=latest.current.X,
            requirements=_requirements(),
        )
    return tracker.log_risklist(record)


def load_registered(
    name: str,
    *,
    alias: str = ALIAS,
    tracking_uri: str | None = None,
    tracker: Tracker | None = None,
) -> tuple[Any, dict[str, str]]:
    """The registered model ``models:/<name>@<alias>`` and its ``forecast.*`` tags (prefix
    dropped): ``data_year``, ``dataset``, ``dataset_sha256``, ``experiment_spec``, ..."""
    tracker = tracker or MlflowTracker(tracking_uri)
    model, tags = tracker.load_registered(name, alias=alias)
    return model, {k.removeprefix(_TAG): v for k, v in tags.items() if k.startswith(_TAG)}


def reproduce_registered(
    name: str,
    *,
    alias: str = ALIAS,
    tracking_uri: str | None = None,
    panel: Panel | None = None,
    tracker: Tracker | None = None,
) -> pd.DataFrame:
    """Recompute the list of a registered model from its tags.

    Loads the model, rebuilds the experiment from the ``experiment_spec`` tag, loads its panel
    (unless given), checks the dataset's sha256 and features against the tags and forecasts
    the tagged data year. Returns ``rank``, ``unit``, ``year``, ``probability``.
    """
    from threadpoolctl import threadpool_limits

    from forecast.backtest import dataset_digest, load_panel
    from forecast.experiment import experiment_from_dict

    model, tags = load_registered(name, alias=alias, tracking_uri=tracking_uri, tracker=tracker)
    source = f"models:/{name}@{alias}"
    if panel is None:
        spec = tags.get("experiment_spec", "")
        if not spec.startswith("{"):
            raise input_error(
                "the registered version carries no experiment spec tag",
                source=source,
                fix="pass panel= explicitly",
            )
        panel = load_panel(experiment_from_dict(json.loads(spec), source=source))
    if dataset_digest(panel.frame) != tags.get("dataset_sha256"):
        raise input_error(
            f"the dataset differs from the one the model was registered with "
            f"(sha256 {tags.get('dataset_sha256', '?')[:12]}...)",
            source=source,
            fix="load the same data version the list was made from",
        )
    features = json.loads(tags["features"])
    if list(panel.features) != features:
        raise input_error(
            "the panel's features differ from the registered model's",
            source=source,
            fix=f"use features {features}",
        )
    year = int(tags["data_year"])
    rows = np.flatnonzero(panel.frame[panel.year].to_numpy() == year)
    X = panel.design_matrix(rows)  # the array the model was fitted on (its dtype too)
    with threadpool_limits(1):
        p = np.asarray(model.predict_proba(X))[:, 1]
    units = panel.frame[panel.unit].to_numpy()[rows]
    out = pd.DataFrame(
        {"rank": rank_units(units, p), "unit": units, "year": year, "probability": p.astype(float)}
    )
    return out.sort_values("rank", kind="stable").reset_index(drop=True)
