"""Experiment tracking behind a small protocol; MLflow (SQLite store by default) implements it."""

from forecast.tracking._mlflow import MlflowTracker, default_tracking_uri
from forecast.tracking._protocol import Tracker

__all__ = ["MlflowTracker", "Tracker", "default_tracking_uri"]
