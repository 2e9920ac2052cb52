"""Reports for analysts and risk lists for policy teams.

:func:`build_report` turns a backtest output directory into one self-contained
HTML model comparison (figures embedded, no scripts, printable);
:func:`render_risklist` writes a ranked risk list as HTML, CSV and PDF;
:func:`compare_runs` compares the models of several runs on their common rows;
:func:`track_record_section` shows how a model's past lists fared.
"""

from forecast.reports._compare import compare_runs, compare_table
from forecast.reports._map import MapFigure, world_map
from forecast.reports._profile import render_profile
from forecast.reports._report import build_report, load_run
from forecast.reports._risklist import RISKLIST_COLUMNS, render_risklist
from forecast.reports._track import track_record_section

__all__ = [
    "RISKLIST_COLUMNS",
    "build_report",
    "compare_runs",
    "compare_table",
    "load_run",
    "render_risklist",
    "track_record_section",
    "MapFigure",
    "render_profile",
    "world_map",
]
