"""Experiment tracking behind a small protocol (:class:`Tracker`): MLflow (SQLite store by
default) implements it, :class:`MemoryTracker` fakes it. Every MLflow call of the package
lives here."""

from forecast.tracking._log import TrackingError, log_run
from forecast.tracking._memory import MemoryTracker
from forecast.tracking._mlflow import ALIAS, MlflowTracker, default_tracking_uri
from forecast.tracking._protocol import RisklistRecord, TrackedRun, Tracker

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
