"""The backtest job: check, backtest, save the run folder, track (no printing)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forecast._backtest_result import Backtest, backtest
from forecast.experiment import load_experiment
from forecast.run import RUN_MARKERS, check_output_dir

if TYPE_CHECKING:
    from forecast.tracking import TrackedRun

__all__ = ["run_experiment"]


def run_experiment(
    experiment: Path | str,
    *,
    out: Path | str,
    n_jobs: int = 2,
    backend: str = "loky",
    scheduler: str | None = None,
    cache_dir: Path | None = None,
    track: bool = True,
    tracking_uri: str | None = None,
    progress: bool = False,
    report: bool = True,
    tracker: Any = None,
) -> tuple[Backtest, TrackedRun | None]:
    """Backtest an experiment spec, write its run folder as one transaction, track it.

    Everything that can be checked is checked before the first fit (the spec, ``out``, the
    tracking store). Then :func:`forecast.backtest`, :meth:`Backtest.save` into ``out`` (the
    cost figures only for the report or the tracker) and :meth:`Backtest.log` with
    ``tracker`` (default an :class:`forecast.tracking.MlflowTracker` at ``tracking_uri``)
    unless ``track`` is False.

    Returns
    -------
    (Backtest, TrackedRun or None)
        The run (its ``failed`` tasks, if any) and where it was tracked (None when not, or
        when the store failed: one warning line through ``logging`` names
        ``forecast track --run-dir``, and the run folder is complete).
    """
    config = load_experiment(experiment)
    out = check_output_dir(out, markers=RUN_MARKERS)
    if track and tracker is None:
        from forecast.tracking import MlflowTracker

        tracker = MlflowTracker.for_job(tracking_uri, config.tracking_uri)
    if not track:
        tracker = None
    if tracker is not None:
        tracker.check()  # before any work
    run = backtest(
        config,
        n_jobs=n_jobs,
        backend=backend,
        scheduler=scheduler,
        cache_dir=cache_dir,
        progress=progress,
    )
    run.save(out, report=report, figures=report or tracker is not None)
    if tracker is None:
        return run, None
    from forecast.tracking import TrackingError

    try:
        return run, run.log(tracker)
    except TrackingError as error:  # the run folder is written: one line, and on we go
        logging.getLogger("forecast.tracking").warning(str(error))
        return run, None
