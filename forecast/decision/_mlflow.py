"""Read a finished backtest run from MLflow and log a cost analysis into its model runs."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from forecast._errors import input_error

if TYPE_CHECKING:
    from forecast.decision._tracking import CostAnalysis

__all__ = ["load_run", "log_cost_analysis", "model_runs"]

FORECASTS = "forecasts.parquet"
SPEC = "experiment.yaml"
ONSETS = "onsets.parquet"
_BATCH = 900  # MLflow accepts at most 1000 metrics per log_batch


def _client(uri: str):
    from mlflow.tracking import MlflowClient

    if uri.startswith("sqlite:///"):
        path = Path(uri.removeprefix("sqlite:///")).expanduser()
        if not path.is_file():
            raise input_error(
                f"no MLflow store at {uri!r} (file {path} does not exist)",
                fix="pass the --tracking-uri used by `forecast backtest`",
            )
    return MlflowClient(tracking_uri=uri)


def _get_run(client: Any, run_id: str, uri: str) -> Any:
    from mlflow.exceptions import MlflowException

    try:
        return client.get_run(run_id)
    except MlflowException as error:
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise input_error(
            f"MLflow run {run_id!r} not found at {uri!r} ({first[:160]})",
            fix="pass the parent run id printed by `forecast backtest` (see `mlflow ui`)",
        ) from None


def load_run(run_id: str, uri: str) -> tuple[pd.DataFrame, dict[str, Any], int | None]:
    """Forecast table, experiment spec (``{}`` if absent) and last data year of a backtest run.

    The last data year is the latest year of the ``onsets.parquet`` artifact,
    or None when the run has none (then :func:`cost_analysis` infers it).

    Raises
    ------
    ForecastInputError
        If the store or the run does not exist, the run is a nested model run,
        or it has no ``forecasts.parquet`` artifact.
    """
    import mlflow
    import yaml

    client = _client(uri)
    run = _get_run(client, run_id, uri)
    parent = run.data.tags.get("mlflow.parentRunId")
    if parent:
        model = run.data.tags.get("forecast.model", "?")
        raise input_error(
            f"MLflow run {run_id!r} is the nested run of model {model!r}, not a backtest",
            fix=f"pass its parent run: --run {parent}",
        )
    names = {item.path for item in client.list_artifacts(run_id)}
    if FORECASTS not in names:
        raise input_error(
            f"MLflow run {run_id!r} has no {FORECASTS} artifact (found {sorted(names)})",
            fix="pass the parent run id of a `forecast backtest` run",
        )
    with tempfile.TemporaryDirectory() as tmp:
        path = mlflow.artifacts.download_artifacts(
            run_id=run_id, artifact_path=FORECASTS, dst_path=tmp, tracking_uri=uri
        )
        table = pd.read_parquet(path)
        spec: dict[str, Any] = {}
        if SPEC in names:
            spec_path = mlflow.artifacts.download_artifacts(
                run_id=run_id, artifact_path=SPEC, dst_path=tmp, tracking_uri=uri
            )
            spec = yaml.safe_load(Path(spec_path).read_text()) or {}
        data_end = None
        if ONSETS in names:
            onsets_path = mlflow.artifacts.download_artifacts(
                run_id=run_id, artifact_path=ONSETS, dst_path=tmp, tracking_uri=uri
            )
            years = pd.read_parquet(onsets_path, columns=["year"])["year"]
            data_end = int(years.max()) if len(years) else None
    return table, spec, data_end


def model_runs(run_id: str, uri: str) -> dict[str, str]:
    """Nested runs of a parent run: ``{forecast.model tag: run id}``."""
    client = _client(uri)
    run = _get_run(client, run_id, uri)
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


def log_cost_analysis(
    analysis: CostAnalysis, run_id: str, uri: str, *, files: list[Path] | None = None
) -> dict[str, str]:
    """Log ``analysis`` into the nested model runs of parent run ``run_id``.

    Each model run (matched by its ``forecast.model`` tag) gets the finite
    values of :meth:`CostAnalysis.metrics_by_model` at step 0, the step series
    of :meth:`CostAnalysis.curves_by_model` and tags with the cost assumptions
    (``forecast.costs.effectiveness``, ``forecast.costs.capacity``). The parent
    gets ``costs/costs.csv`` and the figures: ``files`` when the caller has
    already written them (``costs.csv`` and :meth:`CostAnalysis.figures`),
    else they are written to a temporary folder. Every check runs before
    anything is logged.

    Returns
    -------
    dict of str to str
        ``{model: run id}`` of the runs logged to.

    Raises
    ------
    ForecastInputError
        If the parent has no nested run of any analysed model.
    """
    from mlflow.entities import Metric, RunTag

    runs = model_runs(run_id, uri)
    matched = {model: runs[model] for model in analysis.models if model in runs}
    if not matched:
        raise input_error(
            f"MLflow run {run_id!r} has no nested run of the models {analysis.models} "
            f"(nested runs: {sorted(runs)})",
            fix="pass the parent run of the backtest that made these forecasts",
        )
    client = _client(uri)
    metrics = analysis.metrics_by_model()
    curves = analysis.curves_by_model()
    now = int(pd.Timestamp.now(tz="UTC").timestamp() * 1000)
    tags = [
        RunTag("forecast.costs.effectiveness", f"{analysis.effectiveness:g}"),
        RunTag("forecast.costs.capacity", str(analysis.capacity)),
        RunTag("forecast.costs.data_end", str(analysis.data_end)),
    ]
    for model, child in matched.items():
        batch = [Metric(k, v, now, 0) for k, v in metrics[model].items() if np.isfinite(v)]
        batch += [Metric(name, value, now, step) for name, step, value in curves[model]]
        for start in range(0, len(batch), _BATCH):
            client.log_batch(child, metrics=batch[start : start + _BATCH])
        client.log_batch(child, tags=tags)
    with tempfile.TemporaryDirectory() as tmp:
        if files is None:  # not written by the caller: render them once, here
            out = Path(tmp)
            analysis.table().to_csv(out / "costs.csv", index=False)
            files = [out / "costs.csv", *analysis.figures(out)]
        for path in files:
            client.log_artifact(run_id, str(path), artifact_path="costs")
    return matched
