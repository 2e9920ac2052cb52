"""Experiment tracking behind a small protocol (:class:`Tracker`): MLflow (SQLite store by
default) implements it, :class:`MemoryTracker` fakes it. Every MLflow call of the package
lives here."""

import os

from forecast.tracking._log import TrackingError, log_run
from forecast.tracking._memory import MemoryTracker
from forecast.tracking._mlflow import ALIAS, MlflowTracker, default_tracking_uri
from forecast.tracking._protocol import RisklistRecord, TrackedRun, Tracker

# MLflow reports usage to its authors over the network (it looks up
# config.mlflow-telemetry.io) unless told not to; no forecast command asks for that. Set
# before mlflow is first imported (the modules above import it in their functions only),
# and inherited by every process started from here on.
for _variable in ("MLFLOW_DISABLE_TELEMETRY", "DO_NOT_TRACK"):
    os.environ.setdefault(_variable, "true")

__all__ = [
    "ALIAS",
    "MemoryTracker",
    "MlflowTracker",
    "RisklistRecord",
    "TrackedRun",
    "Tracker",
    "TrackingError",
    "default_tracking_uri",
    "log_run",
]
