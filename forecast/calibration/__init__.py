"""Recalibration of onset probabilities and checks of their calibration.

:class:`RecalibratedClassifier` wraps any classifier with a temporal
recalibration step (Platt, isotonic, intercept-only or Venn-Abers) and gives
probability intervals; :func:`reliability_table`, :func:`fixed_bin_reliability`
(the bins a risk list is read in) and :func:`interval_coverage` check the result.
"""

from forecast.calibration._anchor import anchor_to_recent_rate
from forecast.calibration._history import HistoryShiftedClassifier, recalibrate_from_history
from forecast.calibration._recalibrate import RecalibratedClassifier
from forecast.calibration._reliability import (
    FIXED_BINS,
    CoverageResult,
    fixed_bin_reliability,
    interval_coverage,
    reliability_table,
    wilson_interval,
)
from forecast.calibration._venn_abers import VennAbersCalibrator

__all__ = [
    "FIXED_BINS",
    "CoverageResult",
    "HistoryShiftedClassifier",
    "RecalibratedClassifier",
    "VennAbersCalibrator",
    "anchor_to_recent_rate",
    "fixed_bin_reliability",
    "interval_coverage",
    "recalibrate_from_history",
    "reliability_table",
    "wilson_interval",
]
