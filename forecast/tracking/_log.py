"""Logging a finished run folder: a tracking failure is one line and never costs the run."""

from __future__ import annotations

from typing import Any

from forecast._errors import ForecastInputError
from forecast.run import FIGURES, RUN_FILES, RunArtifacts

__all__ = ["TrackingError", "log_run"]


class TrackingError(ForecastInputError):
    """The tracking store failed (locked, unreachable, broken); one line. A finished run's
    folder is complete and can be logged later."""


def log_run(
    tracker: Any,
    result: Any,
    summary: Any,
    run: RunArtifacts,
    analysis: Any = None,
) -> str:
    """Log a finished backtest and its written run folder (``run.run_dir``) with ``tracker``
    (:class:`forecast.tracking.Tracker`): the backtest, then its cost analysis with the
    folder's ``costs.csv`` and figures (rendered anew when the folder lacks them); the model
    runs' headline cost metrics are at the spec's cost ratio
    (:func:`forecast.choice.spec_cost_ratio`).

    Returns
    -------
    str
        The parent run id.

    Raises
    ------
    ForecastInputError
        A mistake of the caller's, as raised (e.g. an MLflow run left active in this process).
    TrackingError
        Any other failure, in one line naming the store, the first line of the failure and
        the command that logs the folder later (``forecast track --run-dir``).
    """
    try:
        run_id = tracker.log_backtest(result, summary, run)
        if analysis is not None:
            names = (RUN_FILES["costs"], *FIGURES)
            files = [run.run_dir / name for name in names] if run.run_dir is not None else []
            complete = bool(files) and all(path.is_file() for path in files)
            from forecast.choice import spec_cost_ratio

            ratio = spec_cost_ratio(result.config.costs.cost_ratios)
            tracker.log_costs(analysis, run_id, files=files if complete else None, ratio=ratio)
    except ForecastInputError as error:
        if not isinstance(error, TrackingError):  # the caller's mistake (a foreign run): as is
            raise
        first = str(error)
        folder = run.run_dir
        raise TrackingError(
            f"{first}; the run folder {folder} is complete: "
            f"log it later with `forecast track --run-dir {folder}`"
        ) from error
    except Exception as error:  # the store's failure, whatever it is: the run is written
        lines = [line for line in str(error).splitlines() if line.strip()]
        first = lines[0][:200] if lines else type(error).__name__
        folder = run.run_dir
        raise TrackingError(
            f"tracking at {tracker.uri} failed ({first}); the run folder {folder} is complete: "
            f"log it later with `forecast track --run-dir {folder}`"
        ) from error
    return run_id
