"""Run a rolling-origin backtest: tasks (origin x model), in parallel, cached, tidy output."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from forecast._errors import input_error
from forecast.backtest._cache import TaskCache, arrays_digest, code_version, task_key
from forecast.backtest._execute import (
    Design,
    Execution,
    Executor,
    Fit,
    open_executor,
    recency_weights,
)
from forecast.backtest._splitter import RollingOrigin, Split
from forecast.backtest._task import one_line
from forecast.experiment import ExperimentConfig, ModelSpec
from forecast.outcomes import training_target
from forecast.panel import COUNTRY, Panel, UnitNoun

__all__ = [
    "ORACLE",
    "BacktestResult",
    "backtest_models",
    "dataset_digest",
    "load_panel",
    "meta_members",
    "recency_weights",
    "run_backtest",
]

ORACLE = "oracle"

_log = logging.getLogger("forecast.backtest")


@dataclass
class BacktestResult:
    """Output of :func:`run_backtest`.

    ``forecasts``: one row per (unit, year, model): ``unit``, ``year`` (data year the forecast
    is made from = origin), ``model``, ``probability``, ``outcome`` (window outcome; NaN when
    not yet known), ``origin``, ``horizon``, ``train_start``, ``train_end``, ``n_train`` and,
    when the model gives them, ``lower``/``upper`` interval bounds; rows of ``stacked`` and
    ``selected`` also hold their origin's choice (``weight_<member>``, ``meta_intercept``,
    ``meta_lambda``, ``meta_events``, ``meta_choice``; :class:`forecast.models.MetaChoice`) and
    ``meta_bounded`` (member forecasts held to the band, docs/design/0012).
    ``scores``: one row per (origin, model): fit seconds, rows, onsets, status, error, the
    number of warnings the fit raised (``warnings``) and the first one (``warning``), AUC,
    Brier, whether the result came from the cache. ``execution``: the backend, workers and
    bytes shipped to them (:class:`Execution`). ``unit_noun``: what the panel's units are called
    (``Panel.unit_noun``; reports word their text with it).
    """

    config: ExperimentConfig
    panel_name: str
    forecasts: pd.DataFrame
    scores: pd.DataFrame
    dataset_digest: str
    annual_onsets: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)
    execution: Execution | None = field(repr=False, default=None)
    unit_noun: UnitNoun = field(repr=False, default=COUNTRY)

    @property
    def failed(self) -> pd.DataFrame:
        return self.scores[self.scores["status"] != "ok"]


def load_panel(config: ExperimentConfig) -> Panel:
    """The experiment's panel: a named dataset, or a feature set built from raw sources."""
    if config.feature_set:
        from forecast.features import build_panel, load_feature_set

        return build_panel(load_feature_set(config.feature_set))
    from forecast.data import load_dataset

    return load_dataset(config.dataset, **config.dataset_options)


def dataset_digest(frame: pd.DataFrame) -> str:
    import hashlib

    hashed = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    return hashlib.sha256(hashed.tobytes() + ",".join(frame.columns).encode()).hexdigest()


def _oracle(panel: Panel, horizon: int) -> np.ndarray | None:
    if "true_probability" not in panel.frame.columns:
        return None
    from forecast.data.synthetic import oracle_window_probability

    return oracle_window_probability(panel.frame, horizon).to_numpy()


def run_backtest(
    config: ExperimentConfig,
    *,
    panel: Panel | None = None,
    n_jobs: int = 1,
    backend: str = "loky",
    scheduler: str | None = None,
    cache_dir: Path | None = None,
    progress: bool = False,
) -> BacktestResult:
    """Backtest every model of ``config`` on a rolling origin.

    Tasks are independent (origin, model) fits, run with joblib (``n_jobs`` workers of the
    ``loky``, ``threading`` or ``sequential`` backend) or on a Dask cluster (``backend='dask'``:
    the cluster at ``scheduler``, else an in-process one), and cached by a content hash of
    their training data, test features, model spec, seed and code version, so a killed run
    resumes and a re-run is instant, whatever the backend. The panel goes to each worker once;
    a task carries its split's row positions and its spec. Results do not depend on the
    backend or the number of workers.

    Raises
    ------
    ForecastInputError
        Among others (spec, data), before the data is read: an unknown ``backend``, Dask not
        installed, or a ``scheduler`` that does not answer within a few seconds.
    """
    members = {
        spec.label: meta_members(config, spec) for spec in config.models if _is_meta(spec)
    }  # checked before any data is read
    with open_executor(backend, scheduler, n_jobs=n_jobs) as executor:
        panel = panel if panel is not None else load_panel(config)
        frame = panel.frame
        target = training_target(panel, config)
        splitter = RollingOrigin.from_config(config)
        scoring = frame.assign(_target=target)
        splits = list(splitter.split(scoring, year=panel.year, outcome="_target"))
        design = Design(
            panel.design_matrix(),
            target,
            frame[panel.year].to_numpy(),
            tuple((split.train, split.test) for split in splits),
            config.recency_half_life,
        )
        tasks, fits = _plan(config, members, splits, design)
        results, execution = _run_fits(config, fits, design, executor, cache_dir, progress)
    return _assemble(config, panel, members, design, splits, tasks, results, execution)


# A task is (split, model, groups): each group is a model whose result the task's result is
# made from (the model itself, or a meta model's members) with its fits' keys.
Task = tuple[Split, ModelSpec, list[tuple[ModelSpec, list[str]]]]


def _plan(
    config: ExperimentConfig,
    members: dict[str, tuple[ModelSpec, ...]],
    splits: list[Split],
    design: Design,
) -> tuple[list[Task], dict[str, Fit]]:
    """The tasks, and the fits they need by cache key (a fit shared by models appears once).

    A key hashes the fit's arrays (:func:`task_arrays`), sliced here one split at a time.
    """
    tasks: list[Task] = []
    fits: dict[str, Fit] = {}
    for number, split in enumerate(splits):
        arrays = design.arrays(number)
        sliced = sum(a.nbytes for a in arrays if a is not None)
        data = arrays_digest(arrays)  # hashed once per split, whatever the number of models
        for spec in config.models:
            groups = []
            for part in members.get(spec.label, (spec,)):
                keys = []
                for unit in _fit_units(part):
                    spec_dict = asdict(unit)
                    spec_dict["label"] = ""  # the label names a model; it does not change its fit
                    spec_dict["anchor_years"] = None  # anchoring is applied after the fit
                    key = task_key(data, spec_dict, config.seed)
                    keys.append(key)
                    if key not in fits:
                        name = f"{unit.label}@{split.origin}"
                        fits[key] = Fit(key, number, spec_dict, name, sliced)
                groups.append((part, keys))
            tasks.append((split, spec, groups))
    return tasks, fits


def _run_fits(
    config: ExperimentConfig,
    fits: dict[str, Fit],
    design: Design,
    executor: Executor,
    cache_dir: Path | None,
    progress: bool,
) -> tuple[dict[str, dict[str, Any]], Execution]:
    """Every fit's result: from the cache, else run (and cached as each one finishes)."""
    cache = TaskCache(cache_dir)
    results: dict[str, dict[str, Any]] = {}
    pending = []
    for key, fit in fits.items():
        hit = cache.get(key, rows=len(design.rows[fit.split][1]))
        if hit is not None:
            results[key] = hit
        else:
            pending.append(fit)
    if unreadable := cache.unreadable_message():
        _log.warning(unreadable)

    from forecast.backtest._progress import FitProgress

    with FitProgress(f"{config.name}: origins x models", len(pending), enabled=progress) as shown:

        def done(key: str, result: dict[str, Any]) -> None:
            results[key] = result
            cache.put(key, result)  # as each finishes: a killed run resumes from here
            shown.advance()

        execution = executor.run(pending, design, config.seed, done)
    return results, execution


def _assemble(
    config: ExperimentConfig,
    panel: Panel,
    members: dict[str, tuple[ModelSpec, ...]],
    design: Design,
    splits: list[Split],
    tasks: list[Task],
    results: dict[str, dict[str, Any]],
    execution: Execution,
) -> BacktestResult:
    """The forecast and score tables from the fits' results."""
    frame, target, years = panel.frame, design.target, design.years
    outcomes: list[dict[str, Any]] = []
    for split, spec, groups in tasks:
        parts = [
            _model_result(
                part, [results[key] for key in keys], target[split.train], years[split.train]
            )
            for part, keys in groups
        ]
        outcomes.append({"parts": parts} if _is_meta(spec) else parts[0])
    for spec in filter(_is_meta, config.models):
        _meta_results(spec, members[spec.label], tasks, outcomes, target, config.horizon)

    oracle = _oracle(panel, config.horizon)
    rows, scores = [], []
    for (split, spec, _), result in zip(tasks, outcomes):
        test = split.test
        y_test = target[test]
        base = {
            "origin": split.origin,
            "model": spec.label,
            "status": result["status"],
            "error": result["error"],
            "warnings": int(result["warnings"]),
            "warning": result["warning"],
            "fit_seconds": result["fit_seconds"],
            "n_train": len(split.train),
            "n_train_onsets": int(np.nansum(target[split.train])),
            "n_test": len(test),
            "cached": bool(result.get("cached", False)),
        }
        if result["status"] == "ok":
            block = pd.DataFrame(
                {
                    "unit": frame[panel.unit].to_numpy()[test],
                    "year": years[test],
                    "model": spec.label,
                    "probability": result["probability"],
                    "outcome": y_test,
                    "origin": split.origin,
                    "horizon": config.horizon,
                    "train_start": split.train_start,
                    "train_end": split.train_end,
                    "n_train": len(split.train),
                }
            )
            if result.get("lower") is not None:
                block["lower"], block["upper"] = result["lower"], result["upper"]
            if spec.anchor_years:
                block["anchor_offset"] = result["anchor_offset"]
            if _is_meta(spec):
                block = block.assign(**_meta_columns(result["meta"], members[spec.label]))
                block["meta_bounded"] = result["meta_bounded"]
            rows.append(block)
            base.update(_origin_scores(y_test, result["probability"]))
        scores.append(base)
    if oracle is not None:
        for split in splits:
            test = split.test[~np.isnan(oracle[split.test])]  # no oracle past the data's end
            rows.append(
                pd.DataFrame(
                    {
                        "unit": frame[panel.unit].to_numpy()[test],
                        "year": years[test],
                        "model": ORACLE,
                        "probability": oracle[test],
                        "outcome": target[test],
                        "origin": split.origin,
                        "horizon": config.horizon,
                        "train_start": split.train_start,
                        "train_end": split.train_end,
                        "n_train": 0,
                    }
                )
            )
    forecasts = (
        pd.concat(rows, ignore_index=True)
        if rows
        else pd.DataFrame(columns=["unit", "year", "model", "probability", "outcome", "origin"])
    )
    if config.history_recalibration and len(forecasts):
        from forecast.calibration import recalibrate_from_history

        options = dict(config.history_recalibration)
        models = [m for m in options.pop("models") if m in set(forecasts["model"])]
        forecasts = pd.concat(
            [
                forecasts,
                recalibrate_from_history(
                    forecasts, horizon=config.horizon, models=models, **options
                ),
            ],
            ignore_index=True,
        )
    forecasts = forecasts.sort_values(["model", "year", "unit"], kind="stable").reset_index(
        drop=True
    )
    forecasts.attrs["code_version"] = code_version()
    onsets = frame[[panel.unit, panel.year, config.outcome]].rename(
        columns={panel.unit: "unit", panel.year: "year", config.outcome: "onset"}
    )
    if (codes := panel.cow_codes()) is not None:  # lets runs with other unit ids be compared
        onsets = onsets.assign(cow_code=codes.to_numpy())
    scores = pd.DataFrame(scores)
    if warned := _warnings_line(scores):
        _log.warning(warned)
    return BacktestResult(
        config,
        panel.name,
        forecasts,
        scores,
        dataset_digest(frame),
        onsets,
        execution,
        panel.unit_noun,
    )


def _warnings_line(scores: pd.DataFrame) -> str | None:
    """One line on the tasks whose fit raised warnings (the first by origin), or None."""
    warned = scores[scores["warnings"] > 0] if len(scores) else scores
    if warned.empty:
        return None
    first = warned.iloc[0]
    return (
        f"{len(warned)} of {len(scores)} backtest tasks raised warnings (first: "
        f"{first['model']} at origin {first['origin']}: {first['warning']}); see the "
        "'warnings' and 'warning' columns of the scores (scores.csv)"
    )


def _fit_units(spec: ModelSpec) -> list[ModelSpec]:
    """The fits a model needs: itself, or, for an uncalibrated ensemble, each member."""
    if spec.name != "ensemble" or spec.calibration:
        return [spec]
    units = []
    for member in spec.params.get("members", []):
        name, params = (
            (member, {}) if isinstance(member, str) else (member["name"], member.get("params", {}))
        )
        units.append(ModelSpec(name, name, dict(params)))
    return units


def _is_meta(spec: ModelSpec) -> bool:
    from forecast.models import META_MODELS

    return spec.name in META_MODELS


def meta_members(config: ExperimentConfig, spec: ModelSpec) -> tuple[ModelSpec, ...]:
    """The members a ``stacked`` or ``selected`` model of ``config`` combines.

    ``params.members`` entries: a string is a model label of ``config`` (that model, with its
    parameters, calibration and anchoring), else a registered model name (default
    parameters); a mapping ``{name, params}`` is a fit of its own. Without ``members``: every
    other model of ``config`` that is not itself a meta model, in spec order. Member labels
    are made unique (``_2``, ``_3``, ...) for the ``weight_<member>`` columns.

    Raises
    ------
    ForecastInputError
        Calibration or anchoring on the meta model, a member that is another meta model or
        neither a label nor a registered model, or no members at all.
    """
    from forecast.models import META_MODELS, model_names

    if not _is_meta(spec):
        raise input_error(
            f"{spec.label!r} is a {spec.name!r} model, not stacked or selected",
            fix="pass a stacked or selected model of the experiment",
        )
    where = f"model {spec.label!r} ({spec.name})"
    if spec.calibration or spec.anchor_years:
        raise input_error(
            f"{where} cannot take calibration or anchor_years",
            source=config.source,
            fix="set them on its members, or recalibrate it with history_recalibration",
        )
    others = [m for m in config.models if not _is_meta(m) and m.label != spec.label]
    listed = spec.params.get("members")
    if listed is None:
        chosen = others
    else:
        labels = {m.label: m for m in others}
        names = [n for n in model_names() if n not in META_MODELS]
        chosen = []
        for entry in listed:
            name = entry if isinstance(entry, str) else entry["name"]
            if isinstance(entry, str) and name in labels:
                chosen.append(labels[name])
            elif name in names:
                params = {} if isinstance(entry, str) else dict(entry.get("params") or {})
                chosen.append(ModelSpec(name, name, params))
            else:
                raise input_error(
                    f"{where}: member {name!r} is neither a model label of the "
                    "experiment nor a registered model (meta models cannot be "
                    "members)",
                    source=config.source,
                    fix=f"use one of {sorted(labels)} or {names}",
                )
    if not chosen:
        raise input_error(
            f"{where} has no members",
            source=config.source,
            fix="list other models in the experiment, or params.members",
        )
    unique: list[ModelSpec] = []
    seen: dict[str, int] = {}
    for member in chosen:
        seen[member.label] = seen.get(member.label, 0) + 1
        label = member.label if seen[member.label] == 1 else f"{member.label}_{seen[member.label]}"
        unique.append(
            member
            if label == member.label
            else ModelSpec(
                member.name,
                label,
                member.params,
                member.calibration,
                member.calibration_years,
                member.anchor_years,
            )
        )
    return tuple(unique)


def backtest_models(config: ExperimentConfig, spec: ModelSpec) -> tuple[ModelSpec, ...]:
    """The models a backtest of ``spec`` alone needs: a meta model's members, then itself."""
    return (*meta_members(config, spec), spec) if _is_meta(spec) else (spec,)


def _model_result(
    spec: ModelSpec, fits: list[dict[str, Any]], y_train: np.ndarray, years_train: np.ndarray
) -> dict[str, Any]:
    """A model's result at one origin from its fits: combined (ensemble), then anchored."""
    result = _combine(spec, fits)
    if spec.anchor_years and result["status"] == "ok":
        result = _anchor(result, y_train, years_train, spec.anchor_years)
    return result


def _meta_results(
    spec: ModelSpec,
    members: tuple[ModelSpec, ...],
    tasks: list[Any],
    outcomes: list[dict[str, Any]],
    target: np.ndarray,
    horizon: int,
) -> None:
    """Replace the meta model's member results in ``outcomes`` by its combined results.

    Each origin's weights come from :func:`forecast.models.choose_by_origin` (earlier
    origins' member forecasts whose windows closed by the origin); a member that failed at an
    origin is left out there; the meta model fails where every member failed.
    """
    from forecast.models import choose_by_origin

    own = sorted(
        (i for i, task in enumerate(tasks) if task[1] is spec), key=lambda i: tasks[i][0].origin
    )
    blocks = []
    for i in own:
        split, parts = tasks[i][0], outcomes[i]["parts"]
        P = np.column_stack(
            [
                p["probability"] if p["status"] == "ok" else np.full(len(split.test), np.nan)
                for p in parts
            ]
        )
        blocks.append((split.origin, P, target[split.test]))
    choices = choose_by_origin(
        spec.name,  # type: ignore[arg-type]  # a meta model's name
        blocks,
        horizon=horizon,  # type: ignore[arg-type]
        members=[m.label for m in members],
        **{k: spec.params[k] for k in ("min_events", "shrinkage") if k in spec.params},
    )
    for i, (_, P, _), choice in zip(own, blocks, choices):
        parts = outcomes[i]["parts"]
        noted = _noted([m.label for m in members], parts)
        bounded = choice.bounded(P)  # member forecasts held to the band (docs/design/0012)
        if bounded.any():
            first = f"{bounded.sum()} member forecasts bounded to [1e-4, 1-1e-4]"
            noted["warnings"] += 1
            noted["warning"] = one_line(first)
        ok = [p for p in parts if p["status"] == "ok"]
        if not ok:
            outcomes[i] = {**parts[0], **noted}
            continue
        outcomes[i] = {
            "status": "ok",
            "error": "",
            "probability": choice.combine(P),
            "lower": None,
            "upper": None,
            "meta": choice,
            "meta_bounded": bounded,
            "cached": all(p.get("cached") for p in parts),
            **noted,
        }


def _meta_columns(choice: Any, members: tuple[ModelSpec, ...]) -> dict[str, Any]:
    """The forecast-table columns recording one origin's meta choice."""
    columns: dict[str, Any] = {
        f"weight_{m.label}": float(w) for m, w in zip(members, choice.weights)
    }
    columns.update(
        meta_intercept=float(choice.intercept),
        meta_lambda=float(choice.shrinkage),
        meta_events=int(choice.n_events),
        meta_choice=choice.choice,
    )
    return columns


def _combine(spec: ModelSpec, parts: list[dict[str, Any]]) -> dict[str, Any]:
    """A model's result from its fits: the fit itself, or the ensemble average of members."""
    if len(parts) == 1 and (spec.name != "ensemble" or spec.calibration):
        return parts[0]
    failed = [p for p in parts if p["status"] != "ok"]
    noted = _noted([unit.label for unit in _fit_units(spec)], parts)
    if failed:
        return {**failed[0], **noted}
    from forecast.models import AveragingEnsemble

    probability = AveragingEnsemble.combine(
        np.column_stack([p["probability"] for p in parts]),
        method=spec.params.get("method", "mean"),
        weights=spec.params.get("weights"),
    )
    return {
        "status": "ok",
        "error": "",
        "probability": probability,
        "lower": None,
        "upper": None,
        "cached": all(p.get("cached") for p in parts),
        **noted,
    }


def _noted(labels: list[str], parts: list[dict[str, Any]]) -> dict[str, Any]:
    """The warnings and fit seconds of a result made of ``parts`` (a model's fits)."""
    warned = [f"{label}: {p['warning']}" for label, p in zip(labels, parts) if p["warnings"]]
    return {
        "warnings": sum(int(p["warnings"]) for p in parts),
        "warning": one_line(warned[0]) if warned else "",
        "fit_seconds": float(sum(p["fit_seconds"] for p in parts)),
    }


def _anchor(
    result: dict[str, Any], y_train: np.ndarray, years_train: np.ndarray, years: int
) -> dict[str, Any]:
    """The result with its forecasts anchored to the recent training onset rate."""
    from forecast.calibration import anchor_to_recent_rate

    probability, lower, upper, offset = anchor_to_recent_rate(
        result["probability"], result["lower"], result["upper"], y_train, years_train, years
    )
    return {
        **result,
        "probability": probability,
        "lower": lower,
        "upper": upper,
        "anchor_offset": offset,
    }


def _origin_scores(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    known = ~np.isnan(y)
    y, p = y[known], p[known]
    out: dict[str, float] = {"n_scored": int(known.sum()), "onsets": int(y.sum()) if len(y) else 0}
    if len(y):
        out["brier"] = float(np.mean((p - y) ** 2))
    if len(np.unique(y)) == 2:
        from sklearn.metrics import roc_auc_score

        out["roc_auc"] = float(roc_auc_score(y, p))
    return out
