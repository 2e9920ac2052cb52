"""An in-memory tracker: the :class:`Tracker` protocol without a store, for tests and dry runs."""

from __future__ import annotations

import itertools
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from forecast._errors import input_error
from forecast.tracking._protocol import RisklistRecord, TrackedRun

__all__ = ["MemoryTracker"]


@dataclass
class MemoryTracker:
    """Keeps what would be logged in ``runs`` (run id -> dict); nothing leaves the process.

    Each run dict has ``kind``, ``name``, ``params``, ``metrics`` and ``files`` (copies of the
    logged files, kept in ``folder``); ``registry`` maps ``(name, alias)`` to
    ``(model, tags)``.
    """

    folder: Path
    uri: str = "memory://"
    runs: dict[str, dict[str, Any]] = field(default_factory=dict)
    registry: dict[tuple[str, str], tuple[Any, dict[str, str]]] = field(default_factory=dict)
    _ids: Any = field(default_factory=lambda: itertools.count(1), repr=False)

    def check(self, *, create: bool = True) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)

    def _new(self, kind: str, name: str, **extra: Any) -> str:
        run_id = f"run{next(self._ids)}"
        self.runs[run_id] = {
            "kind": kind,
            "name": name,
            "params": {},
            "metrics": {},
            "files": {},
            **extra,
        }
        return run_id

    def _keep(self, run_id: str, path: Path, prefix: str = "") -> None:
        target = self.folder / run_id / prefix / Path(path).name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        self.runs[run_id]["files"][f"{prefix}/{target.name}".lstrip("/")] = target

    def log_backtest(self, result: Any, summary: Any, run: Any) -> str:
        from forecast.tracking._headline import backtest_headline, describe_backtest, run_choice

        parent = self._new("backtest", result.config.name)
        choice = run_choice(result.config, summary, run)
        self.runs[parent]["metrics"] = dict(backtest_headline(summary, choice.recommended))
        self.runs[parent]["tags"] = {
            "forecast.recommended_model": choice.recommended,
            "mlflow.note.content": describe_backtest(result, summary, choice),
        }
        folder = Path(run.run_dir)
        for path in sorted(folder.iterdir()):
            if path.is_file():
                self._keep(parent, path)
        for label in sorted(set(result.forecasts["model"])):
            child = self._new("model", label, parent=parent)
            if summary is not None and label in set(summary.pooled["model"]):
                row = summary.pooled.set_index("model").loc[label]
                self.runs[child]["metrics"] = {k: float(v) for k, v in row.items()}
        return parent

    def model_runs(self, run_id: str) -> dict[str, str]:
        return {r["name"]: rid for rid, r in self.runs.items() if r.get("parent") == run_id}

    def log_costs(
        self,
        analysis: Any,
        run_id: str,
        *,
        files: list[Path] | None = None,
        ratio: float | None = None,
    ) -> dict[str, str]:
        runs = self.model_runs(run_id)
        matched = {m: runs[m] for m in analysis.models if m in runs}
        if not matched:
            raise input_error(
                f"run {run_id!r} has no nested run of the models {analysis.models}",
                fix="pass the parent run of the backtest",
            )
        from forecast.tracking._headline import cost_grid, cost_headline

        metrics = analysis.metrics_by_model()
        _, headline = cost_headline(metrics, ratio)
        for model, child in matched.items():
            self.runs[child]["metrics"].update(headline[model])
        self.runs[run_id]["tables"] = {"costs/cost_metrics.json": cost_grid(metrics)}
        for path in files or []:
            self._keep(run_id, path, "costs")
        return matched

    def log_report(self, run_id: str, path: Path) -> None:
        self._keep(run_id, path)

    def fetch_run(self, run_id: str, dst: Path, *, names: tuple[str, ...]) -> Path:
        if run_id not in self.runs:
            raise input_error(f"run {run_id!r} not found", fix="pass a logged run id")
        dst.mkdir(parents=True, exist_ok=True)
        for name in names:
            if name in self.runs[run_id]["files"]:
                shutil.copyfile(self.runs[run_id]["files"][name], dst / name)
        return dst

    def log_risklist(self, record: RisklistRecord) -> TrackedRun:
        run_id = self._new(
            "risklist",
            f"risklist-{record.year}",
            params=dict(record.params),
            metrics=dict(record.metrics),
            spec=record.spec,
        )
        for path in record.files:
            self._keep(run_id, path, "risklist")
        version = None
        if record.model is not None and record.model_name:
            version = str(sum(1 for key in self.registry if key[0] == record.model_name) + 1)
            self.registry[(record.model_name, record.alias)] = (
                record.model,
                dict(record.model_tags),
            )
        name = record.model_name if record.model is not None else None
        return TrackedRun(run_id, self.uri, name, version, record.alias if version else None)

    def load_registered(self, name: str, *, alias: str = "champion") -> tuple[Any, dict[str, str]]:
        if (name, alias) not in self.registry:
            raise input_error(
                f"no registered model {name!r} with alias {alias!r}",
                fix="register a risk list first",
            )
        return self.registry[(name, alias)]
