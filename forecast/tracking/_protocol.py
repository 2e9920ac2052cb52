"""What the rest of the code needs from an experiment tracker."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from forecast.run import RunArtifacts

__all__ = ["RisklistRecord", "TrackedRun", "Tracker"]


@dataclass(frozen=True)
class RisklistRecord:
    """What a risk list logs: run ``risklist-<year>`` in ``experiment`` with ``params``,
    ``metrics``, ``files`` and the ``spec``; with ``model``, the model registered as
    ``model_name`` (version tags ``model_tags``, signature from ``example``, pinned
    ``requirements``) with the alias ``alias``)."""

    experiment: str
    year: int
    params: dict[str, str]
    metrics: dict[str, float]
    files: list[Path]
    spec: dict[str, Any]
    model: Any = None
    model_name: str | None = None
    model_tags: dict[str, str] = field(default_factory=dict)
    example: Any = None
    requirements: list[str] = field(default_factory=list)
    alias: str = "champion"


@dataclass(frozen=True)
class TrackedRun:
    """Where something was logged: ``run_id``, store ``uri``, registered ``model_name`` and
    ``version`` and its ``alias`` (None when nothing was registered)."""

    run_id: str
    uri: str
    model_name: str | None = None
    version: str | None = None
    alias: str | None = None


class Tracker(Protocol):
    """Experiment tracking: :class:`forecast.tracking.MlflowTracker` in use,
    :class:`forecast.tracking.MemoryTracker` in tests."""

    uri: str

    def check(self, *, create: bool = True) -> None:
        """Fail fast (before any work) if the store cannot be reached."""

    def log_backtest(self, result: Any, summary: Any, run: RunArtifacts) -> str:
        """Log a finished backtest and its written run folder; return the parent run id."""

    def log_costs(
        self, analysis: Any, run_id: str, *, files: list[Path] | None = None
    ) -> dict[str, str]:
        """Log a cost analysis into the model runs of parent ``run_id``; ``{model: run id}``."""

    def log_report(self, run_id: str, path: Path) -> None:
        """Attach a report file to a run."""

    def fetch_run(self, run_id: str, dst: Path, *, names: tuple[str, ...]) -> Path:
        """Download a backtest run's files ``names`` into ``dst``; return ``dst``."""

    def log_risklist(self, record: RisklistRecord) -> TrackedRun:
        """Log a risk list (and register its model when ``record.model`` is given)."""

    def load_registered(self, name: str, *, alias: str = "champion") -> tuple[Any, dict[str, str]]:
        """A registered model and its version tags."""
