"""What the engine needs from a tracker."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

__all__ = ["Tracker"]


class Tracker(Protocol):
    def check(self) -> None:
        """Fail fast (before any work) if the store cannot be reached."""

    def log_backtest(self, result: Any, summary: Any, out_dir: Path) -> str:
        """Log a finished backtest; return the parent run id."""
