"""MLflow implementation of the tracker: a parent run per backtest, a nested run per model."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from forecast._errors import input_error

__all__ = ["MlflowTracker", "default_tracking_uri"]


def default_tracking_uri() -> str:
    """``$MLFLOW_TRACKING_URI`` or a SQLite store ``mlflow.db`` in the working directory."""
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{Path.cwd() / 'mlflow.db'}"


def _finite(metrics: dict[str, Any]) -> dict[str, float]:
    out = {}
    for key, value in metrics.items():
        try:
            number = float(value)
        except (TypeError, ValueError):
            continue
        if np.isfinite(number):
            out[key] = number
    return out


def _flatten(prefix: str, value: Any, out: dict[str, str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), item, out)
    else:
        text = json.dumps(value, default=str) if isinstance(value, (list, tuple)) else str(value)
        out[prefix] = text[:6000]


class MlflowTracker:
    """Logs backtests to MLflow.

    It owns its runs: it refuses to start inside a run that someone else left active in this
    process, except the run that ``mlflow run`` hands over through ``MLFLOW_RUN_ID``, which
    becomes the parent.

    Parameters
    ----------
    uri : str, optional
        Tracking URI; default :func:`default_tracking_uri` (SQLite).
    experiment : str, optional
        Experiment name; default the experiment spec's ``name``.
    """

    def __init__(self, uri: str | None = None, *, experiment: str | None = None):
        self.uri = uri or default_tracking_uri()
        self.experiment = experiment

    def _client(self):
        from mlflow.tracking import MlflowClient

        return MlflowClient(tracking_uri=self.uri)

    def check(self) -> None:
        """Reach the store before any work; fail with the URI in the message."""
        if self.uri.startswith("sqlite:///"):
            parent = Path(self.uri.removeprefix("sqlite:///")).expanduser().parent
            if not parent.is_dir():
                raise input_error(f"cannot reach tracking URI {self.uri!r}: folder {parent} "
                                  "does not exist", fix="create the folder or pass another --tracking-uri")
        try:
            self._client().search_experiments(max_results=1)
        except Exception as error:  # any backend failure means unreachable
            message = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise input_error(f"cannot reach tracking URI {self.uri!r} ({message})",
                              fix="start the tracking server or pass another --tracking-uri") from error

    def _experiment_id(self, name: str) -> str:
        client = self._client()
        found = client.get_experiment_by_name(name)
        return found.experiment_id if found else client.create_experiment(name)

    def log_backtest(self, result: Any, summary: Any, out_dir: Path,
                     extra_metrics: dict[str, dict[str, float]] | None = None,
                     artifacts: list[Path] | None = None) -> str:
        """Log ``result`` (and its ``summary``) and return the parent run id."""
        import time

        import mlflow
        from mlflow.data.http_dataset_source import HTTPDatasetSource
        from mlflow.data.meta_dataset import MetaDataset
        from mlflow.entities import Metric, Param

        active = mlflow.active_run()
        handed_over = os.environ.get("MLFLOW_RUN_ID")
        if active is not None and active.info.run_id != handed_over:
            raise input_error(f"an MLflow run ({active.info.run_id}) is already active in this "
                              "process", fix="call mlflow.end_run() before running a backtest")
        config = result.config
        client = self._client()
        mlflow.set_tracking_uri(self.uri)
        if handed_over:
            parent_id = handed_over
        else:
            experiment_id = self._experiment_id(self.experiment or config.tracking_experiment
                                                or config.name)
            parent_id = client.create_run(experiment_id, run_name=config.name,
                                          tags={"forecast.kind": "backtest"}).info.run_id
        experiment_id = client.get_run(parent_id).info.experiment_id
        now = int(time.time() * 1000)
        params: dict[str, str] = {}
        _flatten("", {k: v for k, v in config.raw.items() if k not in ("models", "tracking")}, params)
        params.update({
            "dataset": result.panel_name, "dataset_sha256": result.dataset_digest,
            "horizon": str(config.horizon),
            "origins": f"{result.forecasts['origin'].min()}..{result.forecasts['origin'].max()}",
            "n_origins": str(result.forecasts["origin"].nunique()),
            "models": ",".join(s.label for s in config.models),
            "code_version": result.forecasts.attrs.get("code_version", ""),
        })
        client.log_batch(parent_id, params=[Param(k, v) for k, v in sorted(params.items())])
        source = HTTPDatasetSource(url=f"forecast://datasets/{result.panel_name}")
        dataset = MetaDataset(source, name=result.panel_name, digest=result.dataset_digest[:32])
        with mlflow.start_run(run_id=parent_id):
            mlflow.log_input(dataset, context="backtest")
            for path in [*(artifacts or [])]:
                mlflow.log_artifact(str(path))
            for name in ("forecasts.parquet", "scores.csv", "onsets.parquet", "provenance.json",
                         "ewp_metrics.csv", "report.html", "costs.csv"):
                if (Path(out_dir) / name).is_file():
                    mlflow.log_artifact(str(Path(out_dir) / name))
            mlflow.log_dict(config.raw, "experiment.yaml")
            if summary is not None:
                mlflow.log_table(summary.pooled, "pooled_metrics.json")
                if summary.ewp is not None:
                    mlflow.log_table(summary.ewp, "ewp_pooled_metrics.json")

        labels = [s.label for s in config.models]
        labels += sorted(set(result.forecasts["model"]) - set(labels))  # recalibrated, oracle
        specs = {s.label: s for s in config.models}
        for label in labels:
            run = client.create_run(experiment_id, run_name=label, tags={
                "mlflow.parentRunId": parent_id, "forecast.model": label})
            run_id = run.info.run_id
            spec = specs.get(label)
            model_params = {"model": spec.name if spec else label, "label": label}
            if spec is not None:
                _flatten("params", spec.params, model_params)
                model_params["calibration"] = str(spec.calibration)
            metrics: list[Metric] = []
            if summary is not None:
                row = summary.pooled.set_index("model").loc[label] if label in set(summary.pooled["model"]) else None
                if row is not None:
                    metrics += [Metric(k, v, now, 0) for k, v in _finite(row.to_dict()).items()]
                per_year = summary.per_year[summary.per_year["model"] == label]
                for record in per_year.itertuples():
                    if np.isfinite(record.value):
                        metrics.append(Metric(f"by_year/{record.metric}", float(record.value), now,
                                              int(record.year)))
                model_curves = summary.curves[summary.curves["model"] == label]
                for record in model_curves.itertuples():
                    if np.isfinite(record.value):
                        metrics.append(Metric(f"curve/{record.curve}", float(record.value), now,
                                              int(record.step)))
                if summary.ewp is not None and label in set(summary.ewp["model"]):
                    ewp_row = summary.ewp.set_index("model").loc[label].to_dict()
                    metrics += [Metric(f"ewp_{k}", v, now, 0) for k, v in _finite(ewp_row).items()]
            for k, v in _finite((extra_metrics or {}).get(label, {})).items():
                metrics.append(Metric(k, v, now, 0))
            fits = result.scores[result.scores["model"] == label]
            if len(fits):
                metrics.append(Metric("fit_seconds_total", float(fits["fit_seconds"].sum()), now, 0))
                metrics.append(Metric("failed_origins", float((fits["status"] != "ok").sum()), now, 0))
            client.log_batch(run_id, params=[Param(k, v) for k, v in sorted(model_params.items())])
            for start in range(0, len(metrics), 900):
                client.log_batch(run_id, metrics=metrics[start:start + 900])
            with tempfile.TemporaryDirectory() as tmp:
                own = result.forecasts[result.forecasts["model"] == label]
                path = Path(tmp) / "forecasts.parquet"
                own.to_parquet(path, index=False)
                client.log_artifact(run_id, str(path))
                if summary is not None:
                    for name, frame in (("curves.csv", summary.curves), ("reliability.csv", summary.reliability)):
                        if len(frame):
                            own_table = frame[frame["model"] == label]
                            own_table.to_csv(Path(tmp) / name, index=False)
                            client.log_artifact(run_id, str(Path(tmp) / name))
            status = "FAILED" if len(fits) and (fits["status"] != "ok").any() else "FINISHED"
            client.set_terminated(run_id, status=status)
        failed = result.failed
        if len(failed):
            client.set_tag(parent_id, "forecast.failures", "; ".join(
                f"{r.model}@{r.origin}: {r.error}" for r in failed.head(20).itertuples())[:5000])
        if not handed_over:
            client.set_terminated(parent_id, status="FAILED" if len(failed) else "FINISHED")
        return parent_id
