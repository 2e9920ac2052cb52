"""Reports for analysts and risk lists for policy teams.

:func:`build_report` turns a backtest output directory into one self-contained
HTML model comparison (figures embedded, no scripts, printable);
:func:`render_risklist` writes a ranked risk list as HTML, CSV and PDF.
"""

from forecast.reports._report import build_report, load_run
from forecast.reports._risklist import RISKLIST_COLUMNS, render_risklist

__all__ = ["RISKLIST_COLUMNS", "build_report", "load_run", "render_risklist"]
