"""Track a risk list in MLflow and register its model so a list can be reproduced later.

A run named ``risklist-<year>`` holds the list's files; with ``register=True`` the fitted model
is logged (``mlflow.sklearn``, skops format, artifact name ``model``), registered as
``forecast-<experiment name>``, given the alias ``champion`` and tagged with the data year,
the dataset's sha256, the feature names and the experiment spec. Under ``mlflow run``
(``MLFLOW_RUN_ID`` set) everything is logged into that run instead of a new one.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from forecast._errors import input_error
from forecast.panel import Panel
from forecast.risk._fit import LatestForecast, rank_units

__all__ = ["ALIAS", "RiskRun", "load_registered", "log_risklist", "registered_name",
           "reproduce_registered"]

ALIAS = "champion"
_TAG = "forecast."
_REQUIREMENTS = ("atrocity-forecast", "scikit-learn", "numpy", "pandas", "scipy", "xgboost",
                 "glum", "statsmodels", "skops")


@dataclass(frozen=True)
class RiskRun:
    """Where a risk list was logged: MLflow ``run_id``, ``uri`` and registered ``version``."""

    run_id: str
    uri: str
    model_name: str | None = None
    version: str | None = None


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
    from forecast.backtest._cache import code_version

    config = latest.config
    spec = json.dumps(config.raw, default=str, sort_keys=True)
    return {
        "data_year": str(latest.year), "dataset": latest.panel.name,
        "dataset_sha256": latest.dataset_digest, "experiment": config.name,
        "experiment_spec": spec if len(spec) <= 7500 else "(too long; see experiment.yaml)",
        "model_label": latest.spec.label, "features": json.dumps(list(latest.panel.features)),
        "horizon": str(config.horizon), "train_end": str(latest.current.train_end),
        "code_version": code_version(),
    }


def _metrics(risk: pd.DataFrame) -> dict[str, float]:
    p = risk["probability"].to_numpy(dtype=float)
    out = {"n_units": float(len(p)), "expected_onsets": float(p.sum()),
           "max_probability": float(p.max())}
    if "tier" in risk.columns:
        for tier, count in risk["tier"].value_counts().items():
            out[f"n_tier/{str(tier).split(' ')[0]}"] = float(count)
    return out


def log_risklist(latest: LatestForecast, risk: pd.DataFrame, artifacts: list[Path], *,
                 tracking_uri: str | None = None, register: bool = False) -> RiskRun:
    """Log a risk list (and, with ``register``, its model) to MLflow.

    Parameters
    ----------
    latest : LatestForecast
    risk : DataFrame
        The list (for summary metrics: units, expected onsets ``sum p``, units per tier).
    artifacts : list of Path
        Files to attach under ``risklist/``.
    tracking_uri : str, optional
        Default :func:`forecast.tracking.default_tracking_uri`.
    register : bool
        Log the fitted model, register it as ``forecast-<experiment>`` and point the alias
        ``champion`` at the new version.
    """
    import mlflow
    import skops.io
    from mlflow.entities import Metric, Param
    from mlflow.tracking import MlflowClient

    from forecast.tracking import default_tracking_uri

    uri = tracking_uri or default_tracking_uri()
    handed_over = os.environ.get("MLFLOW_RUN_ID")
    active = mlflow.active_run()
    if active is not None and active.info.run_id != handed_over:
        raise input_error(f"an MLflow run ({active.info.run_id}) is already active in this "
                          "process", fix="call mlflow.end_run() before logging a risk list")
    config = latest.config
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)  # register in this store, not in one set earlier in the process
    if handed_over:
        run_id = handed_over
        client.set_tag(run_id, "forecast.kind", "risklist")
    else:
        name = config.tracking_experiment or config.name
        found = client.get_experiment_by_name(name)
        experiment_id = found.experiment_id if found else client.create_experiment(name)
        run_id = client.create_run(experiment_id, run_name=f"risklist-{latest.year}",
                                   tags={"forecast.kind": "risklist"}).info.run_id
    tags = _tags(latest)
    params = {f"risklist.{k}": v[:6000] for k, v in tags.items() if k != "experiment_spec"}
    now = int(time.time() * 1000)
    client.log_batch(run_id, params=[Param(k, v) for k, v in sorted(params.items())],
                     metrics=[Metric(f"risklist/{k}", v, now, 0)
                              for k, v in _metrics(risk).items()])
    model_name = version = None
    with mlflow.start_run(run_id=run_id):
        for path in artifacts:
            mlflow.log_artifact(str(path), artifact_path="risklist")
        mlflow.log_dict(config.raw, "risklist/experiment.yaml")
        if register:
            from mlflow.models import infer_signature

            estimator = latest.current.estimator
            model_name = registered_name(config.name)
            trusted = skops.io.get_untrusted_types(data=skops.io.dumps(estimator))
            info = mlflow.sklearn.log_model(
                estimator, name="model", registered_model_name=model_name,
                serialization_format="skops", skops_trusted_types=trusted,
                pip_requirements=_requirements(), pyfunc_predict_fn="predict_proba",
                signature=infer_signature(latest.current.X,
                                          estimator.predict_proba(latest.current.X)))
            version = str(info.registered_model_version)
            for key, value in tags.items():
                client.set_model_version_tag(model_name, version, _TAG + key, value)
            client.set_registered_model_alias(model_name, ALIAS, version)
    return RiskRun(run_id, uri, model_name, version)


def load_registered(name: str, *, alias: str = ALIAS, tracking_uri: str | None = None
                    ) -> tuple[Any, dict[str, str]]:
    """The registered model ``models:/<name>@<alias>`` and its ``forecast.*`` tags (prefix
    dropped): ``data_year``, ``dataset``, ``dataset_sha256``, ``experiment_spec``, ..."""
    import mlflow
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    from forecast.tracking import default_tracking_uri

    uri = tracking_uri or default_tracking_uri()
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    try:
        version = client.get_model_version_by_alias(name, alias)
    except MlflowException as error:
        raise input_error(f"no registered model {name!r} with alias {alias!r} at {uri}",
                          fix="run `forecast risklist --register` first or check the name") \
            from error
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    model = mlflow.sklearn.load_model(f"models:/{name}@{alias}")
    tags = {k.removeprefix(_TAG): v for k, v in version.tags.items() if k.startswith(_TAG)}
    return model, tags


def reproduce_registered(name: str, *, alias: str = ALIAS, tracking_uri: str | None = None,
                         panel: Panel | None = None) -> pd.DataFrame:
    """Recompute the list of a registered model from its tags.

    Loads the model, rebuilds the experiment from the ``experiment_spec`` tag, loads its panel
    (unless given), checks the dataset's sha256 and features against the tags and forecasts
    the tagged data year. Returns ``rank``, ``unit``, ``year``, ``probability``.
    """
    from threadpoolctl import threadpool_limits

    from forecast.backtest._engine import _digest, load_panel
    from forecast.experiment import experiment_from_dict

    model, tags = load_registered(name, alias=alias, tracking_uri=tracking_uri)
    source = f"models:/{name}@{alias}"
    if panel is None:
        spec = tags.get("experiment_spec", "")
        if not spec.startswith("{"):
            raise input_error("the registered version carries no experiment spec tag",
                              source=source, fix="pass panel= explicitly")
        panel = load_panel(experiment_from_dict(json.loads(spec), source=source))
    if _digest(panel.frame) != tags.get("dataset_sha256"):
        raise input_error(f"the dataset differs from the one the model was registered with "
                          f"(sha256 {tags.get('dataset_sha256', '?')[:12]}...)", source=source,
                          fix="load the same data version the list was made from")
    features = json.loads(tags["features"])
    if list(panel.features) != features:
        raise input_error("the panel's features differ from the registered model's",
                          source=source, fix=f"use features {features}")
    year = int(tags["data_year"])
    rows = np.flatnonzero(panel.frame[panel.year].to_numpy() == year)
    X = panel.frame[features].to_numpy(dtype=float)[rows]  # row-major, as when it was fitted
    with threadpool_limits(1):
        p = np.asarray(model.predict_proba(X))[:, 1]
    units = panel.frame[panel.unit].to_numpy()[rows]
    out = pd.DataFrame({"rank": rank_units(units, p), "unit": units, "year": year,
                        "probability": p.astype(float)})
    return out.sort_values("rank", kind="stable").reset_index(drop=True)
