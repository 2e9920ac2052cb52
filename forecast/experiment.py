"""Experiment specs: one YAML file, validated once into a typed configuration."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from forecast._errors import input_error

__all__ = ["CostSpec", "ExperimentConfig", "ModelSpec", "load_experiment"]


@dataclass(frozen=True)
class ModelSpec:
    """A model in an experiment: registry ``name``, display ``label``, ``params``.

    ``calibration`` optionally wraps the model in a recalibrator fitted on a temporal inner
    split (``platt``, ``isotonic``, ``venn_abers`` or ``intercept``). ``anchor_years``
    optionally anchors each origin's forecasts to the onset rate of its last
    ``anchor_years`` training years (:mod:`forecast.calibration._anchor`).
    """

    name: str
    label: str
    params: dict[str, Any] = field(default_factory=dict)
    calibration: str | None = None
    calibration_years: int = 5
    anchor_years: int | None = None


@dataclass(frozen=True)
class CostSpec:
    """Cost assumptions of the decision analysis (see :mod:`forecast.decision`)."""

    effectiveness: float = 0.5
    capacity: int | None = 30
    cost_ratios: tuple[float, ...] = ()


@dataclass(frozen=True)
class ExperimentConfig:
    name: str
    dataset: str = "synthetic-world"
    dataset_options: dict[str, Any] = field(default_factory=dict)
    feature_set: str | None = None
    outcome: str = "mk_onset"
    horizon: int = 2
    origins: tuple[int, ...] | None = None
    first_origin: int | None = None
    last_origin: int | None = None
    window: str = "expanding"
    max_train_years: int | None = None
    min_train_years: int = 10
    recency_half_life: float | None = None
    seed: int = 0
    models: tuple[ModelSpec, ...] = ()
    top_k: tuple[int, ...] = (10, 20, 30)
    metrics: tuple[str, ...] = ()
    ewp_pooled: bool = False
    baseline: str | None = None
    costs: CostSpec = field(default_factory=CostSpec)
    history_recalibration: dict[str, Any] = field(default_factory=dict)
    tracking_uri: str | None = None
    tracking_experiment: str | None = None
    source: str = "<dict>"
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


_TOP_KEYS = {"name", "dataset", "dataset_options", "feature_set", "outcome", "horizon", "origins",
             "window", "max_train_years", "min_train_years", "recency_half_life", "seed",
             "models", "evaluation", "costs", "tracking", "description", "history_recalibration"}


def _models(raw: list[Any], source: str) -> tuple[ModelSpec, ...]:
    from forecast.models import model_names

    if not raw:
        raise input_error("no models listed", source=source, column="models",
                          fix="list at least one model, e.g. - name: elastic_net")
    specs, labels = [], set()
    for item in raw:
        item = {"name": item} if isinstance(item, str) else dict(item)
        name = item.get("name")
        if name not in model_names():
            raise input_error(f"unknown model {name!r}", source=source, column="models",
                              fix=f"use one of {model_names()}")
        label = str(item.get("label", name))
        if label in labels:
            raise input_error(f"duplicate model label {label!r}", source=source, column="models",
                              fix="give each model a distinct label:")
        labels.add(label)
        calibration = item.get("calibration")
        if calibration not in (None, "platt", "isotonic", "venn_abers", "intercept"):
            raise input_error(f"unknown calibration {calibration!r} for model {label!r}",
                              source=source, column="models",
                              fix="use platt, isotonic, venn_abers or intercept")
        anchor = item.get("anchor_years")
        if anchor is not None and (isinstance(anchor, bool) or not isinstance(anchor, int)
                                   or anchor < 1):
            raise input_error(f"anchor_years must be a whole number of years >= 1, got "
                              f"{anchor!r} for model {label!r}", source=source, column="models",
                              fix="e.g. anchor_years: 20, or leave it out for no anchoring")
        specs.append(ModelSpec(name, label, dict(item.get("params") or {}), calibration,
                               int(item.get("calibration_years", 5)), anchor))
    return tuple(specs)


def _history(raw: Any, source: str) -> dict[str, Any]:
    """``history_recalibration: {models: [...], half_life: 10, level: 0.8, min_events: 10}``."""
    if not raw:
        return {}
    allowed = {"models", "half_life", "level", "min_events", "suffix"}
    if not isinstance(raw, dict) or not raw.get("models") or set(raw) - allowed:
        raise input_error(f"history_recalibration must be a mapping with models and optional "
                          f"{sorted(allowed - {'models'})}, got {raw!r}", source=source,
                          column="history_recalibration", fix="e.g. {models: [ensemble]}")
    return dict(raw)


def experiment_from_dict(raw: dict[str, Any], *, source: str = "<dict>") -> ExperimentConfig:
    """Validate a parsed experiment spec."""
    from forecast.data import dataset_names

    if not isinstance(raw, dict):
        raise input_error("an experiment spec must be a mapping", source=source,
                          fix="see experiments/synthetic-default.yaml")
    unknown = sorted(set(raw) - _TOP_KEYS)
    if unknown:
        raise input_error(f"unknown key(s) {unknown}", source=source,
                          fix=f"valid keys: {sorted(_TOP_KEYS)}")
    dataset = raw.get("dataset", "synthetic-world")
    if dataset not in dataset_names():
        raise input_error(f"unknown dataset {dataset!r}", source=source, column="dataset",
                          fix=f"use one of {dataset_names()}")
    origins = raw.get("origins") or {}
    if isinstance(origins, list):
        origins = {"years": origins}
    evaluation = raw.get("evaluation") or {}
    costs = raw.get("costs") or {}
    tracking = raw.get("tracking") or {}
    horizon = raw.get("horizon", 2)
    if not isinstance(horizon, int) or isinstance(horizon, bool) or horizon < 1:
        raise input_error(f"horizon must be an integer >= 1, got {horizon!r}", source=source,
                          column="horizon", fix="set horizon: 2")
    if "metrics" in evaluation:
        from forecast.metrics import get_metric

        for metric in evaluation["metrics"]:
            try:
                get_metric(metric)
            except ValueError as error:
                raise input_error(str(error).split("; fix:")[0], source=source,
                                  column="evaluation.metrics",
                                  fix="pick one of the valid names") from error
    effectiveness = float(costs.get("effectiveness", 0.5))
    if not 0 < effectiveness <= 1:
        raise input_error(f"effectiveness must be in (0, 1], got {effectiveness!r}",
                          source=source, column="costs.effectiveness", fix="e.g. 0.5")
    capacity = costs.get("capacity", 30)
    if capacity is not None and (not isinstance(capacity, int) or capacity < 1):
        raise input_error(f"capacity must be an integer >= 1, got {capacity!r}", source=source,
                          column="costs.capacity", fix="e.g. 30 warnings per year, or null")
    return ExperimentConfig(
        name=str(raw.get("name", Path(source).stem)),
        dataset=dataset,
        dataset_options=dict(raw.get("dataset_options") or {}),
        feature_set=raw.get("feature_set"),
        outcome=str(raw.get("outcome", "mk_onset")),
        horizon=horizon,
        origins=tuple(origins["years"]) if "years" in origins else None,
        first_origin=origins.get("first"),
        last_origin=origins.get("last"),
        window=str(raw.get("window", "expanding")),
        max_train_years=raw.get("max_train_years"),
        min_train_years=int(raw.get("min_train_years", 10)),
        recency_half_life=raw.get("recency_half_life"),
        seed=int(raw.get("seed", 0)),
        models=_models(raw.get("models") or [], source),
        top_k=tuple(int(k) for k in evaluation.get("top_k", (10, 20, 30))),
        metrics=tuple(evaluation.get("metrics", ())),
        ewp_pooled=bool(evaluation.get("ewp_pooled", False)),
        baseline=evaluation.get("baseline"),
        costs=CostSpec(effectiveness, capacity,
                       tuple(float(r) for r in costs.get("cost_ratios", ()))),
        history_recalibration=_history(raw.get("history_recalibration"), source),
        tracking_uri=tracking.get("uri"),
        tracking_experiment=tracking.get("experiment"),
        source=source,
        raw=raw,
    )


def load_experiment(path: str | Path) -> ExperimentConfig:
    """Read and validate an experiment YAML file."""
    path = Path(path)
    if not path.is_file():
        raise input_error("experiment spec not found", source=str(path),
                          fix="pass a path such as experiments/synthetic-default.yaml")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise input_error(f"invalid YAML ({str(error).splitlines()[0]})", source=str(path),
                          fix="fix the YAML syntax") from error
    return experiment_from_dict(raw, source=str(path))
