"""MLflow implementation of :class:`forecast.tracking.Tracker` (SQLite store by default).

A backtest is a parent run named after the experiment and the time, with a nested run per
model; a cost analysis and a report are logged into a backtest's runs; a risk list is its own
run and can register its model. Runs are filed under the experiment named by the spec's
``tracking.experiment`` (else its ``name``), also when ``mlflow run`` launched the command.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from forecast._errors import input_error
from forecast.run import RUN_FILES, RunArtifacts
from forecast.tracking import _store as store
from forecast.tracking._headline import (
    _finite,
    backtest_headline,
    cost_grid,
    cost_headline,
    describe_backtest,
    describe_model,
    run_choice,
)
from forecast.tracking._log import TrackingError
from forecast.tracking._protocol import RisklistRecord, TrackedRun

__all__ = ["MlflowTracker", "default_tracking_uri"]

default_tracking_uri = store.default_tracking_uri

ALIAS = "champion"
"""Registry alias of the model behind the published risk list."""


def _flatten(prefix: str, value: Any, out: dict[str, str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), item, out)
    else:
        text = json.dumps(value, default=str) if isinstance(value, (list, tuple)) else str(value)
        out[prefix] = text[:6000]


def _now_ms() -> int:
    return int(time.time() * 1000)


class MlflowTracker:
    """Logs backtests, cost analyses, reports and risk lists to MLflow; fetches runs back.

    It owns its runs: it refuses to start inside a run that someone else left active in this
    process. Under ``mlflow run`` (``MLFLOW_RUN_ID`` set) the launched run is used as the
    parent when it sits in the spec's experiment; otherwise the parent is created in the
    spec's experiment and the launched run is renamed and tagged with a link to it.

    Parameters
    ----------
    uri : str, optional
        Tracking URI; default ``$MLFLOW_TRACKING_URI`` or ``sqlite:///mlflow.db``
        (see :meth:`for_job`).
    experiment : str, optional
        Experiment name; default the experiment spec's ``tracking.experiment`` or ``name``.
    """

    def __init__(self, uri: str | None = None, *, experiment: str | None = None):
        self.uri = uri or store.default_tracking_uri()
        self.experiment = experiment

    @classmethod
    def for_job(cls, flag_uri: str | None, spec_uri: str | None) -> MlflowTracker:
        """The tracker of a job: the ``--tracking-uri`` flag, else the store of the run that
        ``mlflow run`` launched (``MLFLOW_RUN_ID``), else the spec's ``tracking.uri``, else
        the default."""
        launched = os.environ.get("MLFLOW_RUN_ID") and os.environ.get("MLFLOW_TRACKING_URI")
        return cls(flag_uri or (os.environ["MLFLOW_TRACKING_URI"] if launched else spec_uri))

    def _client(self) -> Any:
        return store.client(self.uri)

    def check(self, *, create: bool = True) -> None:
        """Reach the store before any work (seconds, not minutes); fail with the URI."""
        store.check_store(self.uri, create=create)

    # -- runs -----------------------------------------------------------------------------
    def _open_run(self, experiment: str, run_name: str, kind: str) -> tuple[str, bool]:
        """A run for this job: ``(run id, owned)``; owned runs are terminated by us."""
        import mlflow

        handed_over = os.environ.get("MLFLOW_RUN_ID")
        store.refuse_foreign_active_run(handed_over, f"logging a {kind}")
        client = self._client()
        mlflow.set_tracking_uri(self.uri)
        experiment_id = store.experiment_id(client, self.experiment or experiment)
        tags = {"forecast.kind": kind, "mlflow.runName": run_name}
        if handed_over:
            launched = client.get_run(handed_over)
            if launched.info.experiment_id == experiment_id:
                client.log_batch(handed_over, tags=[_tag(k, v) for k, v in tags.items()])
                return handed_over, False
        run_id = client.create_run(experiment_id, run_name=run_name, tags=tags).info.run_id
        if handed_over:
            client.set_tag(handed_over, "mlflow.runName", f"launcher of {run_name}")
            client.set_tag(handed_over, "forecast.logged_in_run", run_id)
            client.set_tag(
                handed_over,
                "mlflow.note.content",
                f"Logged in experiment {self.experiment or experiment!r}, run {run_id}.",
            )
        return run_id, True

    def log_backtest(self, result: Any, summary: Any, run: RunArtifacts) -> str:
        """Log a finished backtest (``result``, its ``summary`` and the written ``run``
        folder); return the parent run id."""
        import mlflow
        from mlflow.data.http_dataset_source import HTTPDatasetSource
        from mlflow.data.meta_dataset import MetaDataset
        from mlflow.entities import Metric, Param

        config = result.config
        stamp = time.strftime("%Y-%m-%d %H:%M", time.localtime())
        parent_id, owned = self._open_run(
            config.tracking_experiment or config.name, f"{config.name} {stamp}", "backtest"
        )
        client = self._client()
        experiment_id = client.get_run(parent_id).info.experiment_id
        now = _now_ms()
        params: dict[str, str] = {}
        _flatten(
            "", {k: v for k, v in config.raw.items() if k not in ("models", "tracking")}, params
        )
        params.update(
            {
                "dataset": result.panel_name,
                "dataset_sha256": result.dataset_digest,
                "horizon": str(config.horizon),
                "origins": (
                    f"{result.forecasts['origin'].min()}..{result.forecasts['origin'].max()}"
                ),
                "n_origins": str(result.forecasts["origin"].nunique()),
                "models": ",".join(s.label for s in config.models),
                "code_version": result.forecasts.attrs.get("code_version", ""),
            }
        )
        client.log_batch(parent_id, params=[Param(k, v) for k, v in sorted(params.items())])
        source = HTTPDatasetSource(url=f"forecast://datasets/{result.panel_name}")
        dataset = MetaDataset(
            source,
            name=result.panel_name,  # type: ignore[abstract]
            digest=result.dataset_digest[:32],
        )
        folder = Path(run.run_dir) if run.run_dir is not None else None
        with mlflow.start_run(run_id=parent_id):
            mlflow.log_input(dataset, context="backtest")
            if folder is not None:
                for name in (*RUN_FILES.values(), "report.html"):
                    if (folder / name).is_file():
                        mlflow.log_artifact(str(folder / name))
            if summary is not None:
                mlflow.log_table(summary.pooled, "pooled_metrics.json")
                if summary.ewp is not None:
                    mlflow.log_table(summary.ewp, "ewp_pooled_metrics.json")

        choice = run_choice(config, summary, run)
        headline = backtest_headline(summary, choice.recommended if choice else None)
        store.log_batched(client, parent_id, [Metric(k, v, now, 0) for k, v in headline])
        tags = {"mlflow.note.content": describe_backtest(result, summary, choice)}
        if choice is not None:
            tags["forecast.recommended_model"] = choice.recommended
        client.log_batch(parent_id, tags=[_tag(k, v) for k, v in tags.items()])

        labels = [s.label for s in config.models]
        labels += sorted(set(result.forecasts["model"]) - set(labels))  # recalibrated, oracle
        specs = {s.label: s for s in config.models}
        for label in labels:
            child = client.create_run(
                experiment_id,
                run_name=label,
                tags={
                    "mlflow.parentRunId": parent_id,
                    "forecast.model": label,
                    "mlflow.note.content": describe_model(label, specs.get(label), choice),
                },
            ).info.run_id
            spec = specs.get(label)
            model_params = {"model": spec.name if spec else label, "label": label}
            if spec is not None:
                _flatten("params", spec.params, model_params)
                model_params["calibration"] = str(spec.calibration)
            client.log_batch(child, params=[Param(k, v) for k, v in sorted(model_params.items())])
            metrics = [Metric(k, v, now, step) for k, step, v in _summary_metrics(summary, label)]
            own = result.forecasts[result.forecasts["model"] == label]
            metrics += [Metric(k, v, now, step) for k, step, v in _meta_choices(own)]
            fits = result.scores[result.scores["model"] == label]
            if len(fits):
                metrics.append(
                    Metric("fit_seconds_total", float(fits["fit_seconds"].sum()), now, 0)
                )
                metrics.append(
                    Metric("failed_origins", float((fits["status"] != "ok").sum()), now, 0)
                )
            store.log_batched(client, child, metrics)
            with tempfile.TemporaryDirectory() as tmp:
                own.to_parquet(Path(tmp) / "forecasts.parquet", index=False)
                client.log_artifact(child, str(Path(tmp) / "forecasts.parquet"))
                if summary is not None:
                    for name, frame in (
                        ("curves.csv", summary.curves),
                        ("reliability.csv", summary.reliability),
                    ):
                        if len(frame):
                            frame[frame["model"] == label].to_csv(Path(tmp) / name, index=False)
                            client.log_artifact(child, str(Path(tmp) / name))
            failed = len(fits) and (fits["status"] != "ok").any()
            client.set_terminated(child, status="FAILED" if failed else "FINISHED")
        if summary is not None and getattr(summary, "note", None):
            client.set_tag(parent_id, "forecast.note", f"nothing scored: {summary.note}")
        failed = result.failed
        if len(failed):
            client.set_tag(
                parent_id,
                "forecast.failures",
                "; ".join(f"{r.model}@{r.origin}: {r.error}" for r in failed.head(20).itertuples())[
                    :5000
                ],
            )
        if owned:
            client.set_terminated(parent_id, status="FAILED" if len(failed) else "FINISHED")
        return parent_id

    def model_runs(self, run_id: str) -> dict[str, str]:
        """Nested runs of a parent run: ``{forecast.model tag: run id}``."""
        client = self._client()
        run = self._get_run(client, run_id)
        children = client.search_runs(
            [run.info.experiment_id],
            filter_string=f"tags.mlflow.parentRunId = '{run_id}'",
            max_results=5000,
        )
        return {
            child.data.tags["forecast.model"]: child.info.run_id
            for child in children
            if "forecast.model" in child.data.tags
        }

    def _get_run(self, client: Any, run_id: str) -> Any:
        from mlflow.exceptions import MlflowException

        try:
            return client.get_run(run_id)
        except MlflowException as error:
            first = str(error).splitlines()[0] if str(error) else type(error).__name__
            if getattr(error, "error_code", "") == "TEMPORARILY_UNAVAILABLE":  # e.g. locked
                raise TrackingError(
                    f"cannot read MLflow run {run_id!r} at {self.uri!r} ({first[:160]}); "
                    "fix: retry when the store is free (another process holds it)"
                ) from None
            raise input_error(
                f"MLflow run {run_id!r} not found at {self.uri!r} ({first[:160]})",
                fix="pass the parent run id printed by `forecast backtest` "
                "(see `mlflow ui`) and the same --tracking-uri",
            ) from None

    def log_costs(
        self,
        analysis: Any,
        run_id: str,
        *,
        files: list[Path] | None = None,
        ratio: float | None = None,
    ) -> dict[str, str]:
        """Log a :class:`forecast.decision.CostAnalysis` into the nested model runs of parent
        run ``run_id``.

        Each model run (matched by its ``forecast.model`` tag) gets a handful of headline
        metrics at the cost ratio ``ratio`` (the spec's, :func:`forecast.choice.spec_cost_ratio`;
        None: that rule's default): ``cost/relative_value``, ``cost/value_vs_nothing``,
        ``cost/warnings_per_year``, ``cost/hits_per_year``, ``cost/false_alarms_per_hit``,
        ``cost/onsets_per_year`` (honest policy), the step series of
        ``analysis.curves_by_model()`` and tags with the cost assumptions. The whole grid of
        ``analysis.metrics_by_model()`` is one table, ``costs/cost_metrics.json`` (model,
        metric, value), of the parent, which also gets ``costs/costs.csv`` and the figures:
        ``files`` when the caller has written them, else they are rendered into a temporary
        folder. Every check runs before anything is logged.

        Returns
        -------
        dict of str to str
            ``{model: run id}`` of the runs logged to.
        """
        from mlflow.entities import Metric, RunTag

        runs = self.model_runs(run_id)
        matched = {model: runs[model] for model in analysis.models if model in runs}
        if not matched:
            raise input_error(
                f"MLflow run {run_id!r} has no nested run of the models "
                f"{analysis.models} (nested runs: {sorted(runs)})",
                fix="pass the parent run of the backtest that made these forecasts",
            )
        client = self._client()
        metrics = analysis.metrics_by_model()
        curves = analysis.curves_by_model()
        label, headline = cost_headline(metrics, ratio)
        now = _now_ms()
        tags = [
            RunTag("forecast.costs.effectiveness", f"{analysis.effectiveness:g}"),
            RunTag("forecast.costs.capacity", str(analysis.capacity)),
            RunTag("forecast.costs.data_end", str(analysis.data_end)),
            RunTag("forecast.costs.ratio", label.replace("to", ":")),
        ]
        for model, child in matched.items():
            batch = [Metric(k, v, now, 0) for k, v in headline[model].items()]
            batch += [Metric(name, value, now, step) for name, step, value in curves[model]]
            store.log_batched(client, child, batch)
            client.log_batch(child, tags=tags)
        grid = cost_grid(metrics)
        with tempfile.TemporaryDirectory() as tmp:
            if files is None:  # not written by the caller: render them once, here
                out = Path(tmp)
                analysis.table().to_csv(out / "costs.csv", index=False)
                files = [out / "costs.csv", *analysis.figures(out)]
            for path in files:
                client.log_artifact(run_id, str(path), artifact_path="costs")
            client.log_table(run_id, grid, "costs/cost_metrics.json")  # keeps the run's status
        return matched

    def log_report(self, run_id: str, path: Path) -> None:
        """Attach a report file to run ``run_id``."""
        client = self._client()
        self._get_run(client, run_id)
        client.log_artifact(run_id, str(path))

    def fetch_run(self, run_id: str, dst: Path, *, names: tuple[str, ...]) -> Path:
        """Download the files ``names`` of backtest parent run ``run_id`` into ``dst``.

        Raises
        ------
        ForecastInputError
            If the store or run does not exist, the run is a nested model run, or it has no
            ``forecasts.parquet``.
        """
        import mlflow.artifacts

        self.check(create=False)
        client = self._client()
        run = self._get_run(client, run_id)
        parent = run.data.tags.get("mlflow.parentRunId")
        if parent:
            model = run.data.tags.get("forecast.model", "?")
            raise input_error(
                f"MLflow run {run_id!r} is the nested run of model {model!r}, not a backtest",
                fix=f"pass its parent run: --run {parent}",
            )
        available = {a.path for a in client.list_artifacts(run_id)}
        if RUN_FILES["forecasts"] not in available:
            raise input_error(
                f"MLflow run {run_id!r} has no {RUN_FILES['forecasts']} artifact "
                f"(it has {sorted(available)})",
                fix="pass the parent run id of a `forecast backtest` run",
            )
        dst = Path(dst)
        dst.mkdir(parents=True, exist_ok=True)
        for name in names:
            if name in available:
                mlflow.artifacts.download_artifacts(
                    run_id=run_id, artifact_path=name, dst_path=str(dst), tracking_uri=self.uri
                )
        return dst

    # -- risk lists -----------------------------------------------------------------------
    def log_risklist(self, record: RisklistRecord) -> TrackedRun:
        """Log a risk list as run ``risklist-<year>``; with ``record.model``, register it
        (skops format), tag the version and point ``record.alias`` at it (``champion`` for the
        recommended model, docs/design/0011)."""
        import mlflow
        import skops.io
        from mlflow.entities import Metric, Param

        run_id, owned = self._open_run(record.experiment, f"risklist-{record.year}", "risklist")
        client = self._client()
        mlflow.set_registry_uri(self.uri)  # register in this store, not one set earlier
        client.log_batch(
            run_id,
            params=[Param(k, v[:6000]) for k, v in sorted(record.params.items())],
            metrics=[Metric(f"risklist/{k}", v, _now_ms(), 0) for k, v in record.metrics.items()],
        )
        version = None
        with mlflow.start_run(run_id=run_id):
            for path in record.files:
                mlflow.log_artifact(str(path), artifact_path="risklist")
            mlflow.log_dict(record.spec, "risklist/experiment.yaml")
            if record.model is not None:
                from mlflow.models import infer_signature

                model, example = record.model, record.example
                trusted = skops.io.get_untrusted_types(data=skops.io.dumps(model))
                info = mlflow.sklearn.log_model(
                    model,
                    name="model",
                    registered_model_name=record.model_name,
                    serialization_format="skops",
                    skops_trusted_types=trusted,
                    pip_requirements=record.requirements,
                    pyfunc_predict_fn="predict_proba",
                    signature=infer_signature(example, model.predict_proba(example)),
                )
                version = str(info.registered_model_version)
                for key, value in record.model_tags.items():
                    client.set_model_version_tag(record.model_name, version, key, value)
                client.set_registered_model_alias(record.model_name, record.alias, version)
        if owned:
            client.set_terminated(run_id, status="FINISHED")
        name = record.model_name if record.model is not None else None
        return TrackedRun(run_id, self.uri, name, version, record.alias if version else None)

    def load_registered(self, name: str, *, alias: str = ALIAS) -> tuple[Any, dict[str, str]]:
        """The registered model ``models:/<name>@<alias>`` and its version tags."""
        import mlflow
        from mlflow.exceptions import MlflowException

        client = self._client()
        try:
            version = client.get_model_version_by_alias(name, alias)
        except MlflowException as error:
            raise input_error(
                f"no registered model {name!r} with alias {alias!r} at {self.uri}",
                fix="run `forecast risklist --register` first or check the name",
            ) from error
        mlflow.set_tracking_uri(self.uri)
        mlflow.set_registry_uri(self.uri)
        return mlflow.sklearn.load_model(f"models:/{name}@{alias}"), dict(version.tags)


def _tag(key: str, value: str) -> Any:
    from mlflow.entities import RunTag

    return RunTag(key, value)


def _meta_choices(forecasts: Any) -> list[tuple[str, int, float]]:
    """``(key, origin, value)`` of a meta model's per-origin choice: ``meta/weight_<member>``,
    ``meta/intercept``, ``meta/lambda``, ``meta/events`` (none for other models)."""
    if "meta_choice" not in forecasts.columns or forecasts["meta_choice"].isna().all():
        return []
    columns = [c for c in forecasts.columns if c.startswith("weight_")]
    names = {c: f"meta/{c}" for c in columns}
    names.update(
        {
            "meta_intercept": "meta/intercept",
            "meta_lambda": "meta/lambda",
            "meta_events": "meta/events",
        }
    )
    firsts = forecasts.dropna(subset=["meta_choice"]).groupby("origin", sort=True).first()
    out = []
    for origin, row in firsts.iterrows():
        for column, key in names.items():
            if column in row.index and np.isfinite(float(row[column])):
                out.append((key, int(origin), float(row[column])))
    return out


def _summary_metrics(summary: Any, label: str) -> list[tuple[str, int, float]]:
    """``(key, step, value)`` of a model's pooled, per-year, curve and EWP metrics."""
    if summary is None:
        return []
    out: list[tuple[str, int, float]] = []
    pooled = summary.pooled.set_index("model")
    if label in pooled.index:
        out += [(k, 0, v) for k, v in _finite(pooled.loc[label].to_dict()).items()]
    for record in summary.per_year[summary.per_year["model"] == label].itertuples():
        if np.isfinite(record.value):
            out.append((f"by_year/{record.metric}", int(record.year), float(record.value)))
    for record in summary.curves[summary.curves["model"] == label].itertuples():
        if np.isfinite(record.value):
            out.append((f"curve/{record.curve}", int(record.step), float(record.value)))
    if summary.ewp is not None and label in set(summary.ewp["model"]):
        row = summary.ewp.set_index("model").loc[label].to_dict()
        out += [(f"ewp_{k}", 0, v) for k, v in _finite(row).items()]
    return out
