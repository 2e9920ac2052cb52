"""A backtest run: the forecast-table schema, the run folder (:class:`RunArtifacts`) and
all-or-nothing output folders (:func:`staged_output`)."""

from forecast.run._artifacts import FIGURES, RUN_FILES, RunArtifacts
from forecast.run._schema import FORECAST_COLUMNS, FORECAST_KEY, check_forecasts, forecast_schema
from forecast.run._staging import check_output_dir, check_writable_file, staged_output

__all__ = [
    "FIGURES",
    "FORECAST_COLUMNS",
    "FORECAST_KEY",
    "RUN_FILES",
    "RunArtifacts",
    "check_forecasts",
    "check_output_dir",
    "check_writable_file",
    "forecast_schema",
    "staged_output",
]
