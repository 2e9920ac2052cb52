"""A backtest run: the forecast-table schema, the run folder (:class:`RunArtifacts`, the one
owner of what a run folder is) and all-or-nothing output folders (:func:`staged_output`)."""

from forecast.run._artifacts import (
    FIGURES,
    RUN_FILES,
    RUN_MARKERS,
    RunArtifacts,
    enclosing_run,
    is_run_folder,
)
from forecast.run._schema import (
    FORECAST_COLUMNS,
    FORECAST_KEY,
    check_forecasts,
    check_horizon,
    forecast_schema,
)
from forecast.run._staging import (
    check_output_dir,
    check_writable_file,
    recover_leftovers,
    staged_output,
)

__all__ = [
    "FIGURES",
    "FORECAST_COLUMNS",
    "FORECAST_KEY",
    "RUN_FILES",
    "RUN_MARKERS",
    "RunArtifacts",
    "check_forecasts",
    "check_horizon",
    "check_output_dir",
    "check_writable_file",
    "enclosing_run",
    "forecast_schema",
    "is_run_folder",
    "recover_leftovers",
    "staged_output",
]
