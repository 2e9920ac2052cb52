"""Leakage-safe forecasting and evaluation of atrocity early-warning models."""

from forecast._errors import DataNotAvailableError, ForecastInputError

__all__ = ["DataNotAvailableError", "ForecastInputError"]
__version__ = "0.1.0"
