"""Progress of a backtest's fits that a person sees: a bar on a terminal, plain lines elsewhere.

On a terminal the bar stays when done (it is the record of what ran). When output is piped or
in a CI log, one line per tenth of the fits and a last one, each with counts, elapsed time and
an estimate of the time left, through the ``forecast.progress`` logger at INFO (shown by the
command line unless ``--quiet``; a library user sees nothing unless they configure logging).
"""

from __future__ import annotations

import logging
import sys
import time
from types import TracebackType
from typing import Any

__all__ = ["FitProgress"]

_log = logging.getLogger("forecast.progress")


class FitProgress:
    """Context manager counting finished fits: ``with FitProgress(title, total) as p: p.advance()``.

    Parameters
    ----------
    title : str
        What is being run, e.g. ``"synthetic-default: origins x models"``.
    total : int
        Number of fits to run (0 shows nothing).
    enabled : bool
        False shows nothing (a library call that asked for no progress).
    """

    def __init__(self, title: str, total: int, *, enabled: bool = True) -> None:
        self.title, self.total = title, total
        self.enabled = enabled and total > 0 and _log.isEnabledFor(logging.INFO)
        self.done = 0
        self._bar: Any = None  # rich.progress.Progress on a terminal
        self._task: Any = None
        self._next_line = 0
        self._start = 0.0

    def __enter__(self) -> FitProgress:
        if not self.enabled:
            return self
        self._start = time.perf_counter()
        if sys.stderr.isatty():
            from rich.progress import Progress

            self._bar = Progress(transient=False)
            self._bar.start()
            self._task = self._bar.add_task(self.title, total=self.total)
        else:
            _log.info("%s: %d fits to run", self.title, self.total)
            self._next_line = max(1, self.total // 10)
        return self

    def advance(self) -> None:
        """One more fit finished."""
        self.done += 1
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.advance(self._task)
        elif self.done >= self._next_line or self.done == self.total:
            self._next_line = self.done + max(1, self.total // 10)
            _log.info(self.line())

    def line(self) -> str:
        """``"title: 45/450 fits (10%), 12 s elapsed, about 1 min 48 s left"``."""
        elapsed = time.perf_counter() - self._start
        share = self.done / self.total
        text = (
            f"{self.title}: {self.done}/{self.total} fits ({share:.0%}), {_span(elapsed)} elapsed"
        )
        if 0 < self.done < self.total:
            text += f", about {_span(elapsed / self.done * (self.total - self.done))} left"
        return text

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._bar is not None:
            self._bar.stop()


def _span(seconds: float) -> str:
    """``75.2`` -> ``"1 min 15 s"``; ``8.4`` -> ``"8 s"``."""
    seconds = round(seconds)
    minutes, rest = divmod(seconds, 60)
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"
