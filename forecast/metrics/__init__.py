"""Metrics for onset forecasts: a registry of scores, table scoring and uncertainty.

Every metric is a plain function ``(y_true, y_score, *, sample_weight=None,
...)`` registered with its direction; look it up with :func:`get_metric`.
"""

from forecast.metrics._bootstrap import (
    BootstrapResult,
    PairedDifference,
    bootstrap_metric,
    bootstrap_metrics,
    paired_difference,
    paired_from_bootstraps,
)
from forecast.metrics._evaluate import evaluate, evaluate_forecasts, oracle_gap
from forecast.metrics._pooled import ewp_pooled_rows, ewp_pooled_scores
from forecast.metrics._ranks import onset_ranks
from forecast.metrics._registry import Metric, get_metric, metric_names
from forecast.metrics._scores import (
    average_precision,
    brier,
    brier_skill,
    calibration_intercept,
    calibration_slope,
    ece,
    log_loss,
    observed_expected,
    roc_auc,
)
from forecast.metrics._threshold import (
    false_alarms_per_hit_at_threshold,
    fbeta_at_threshold,
    precision_at_threshold,
    recall_at_threshold,
    threshold_counts,
    warnings_at_threshold,
)
from forecast.metrics._topk import precision_at_k, recall_at_k, top_k_curve, top_k_mask
from forecast.metrics._track import TrackRecord, track_record

__all__ = [
    "BootstrapResult",
    "Metric",
    "PairedDifference",
    "TrackRecord",
    "average_precision",
    "bootstrap_metric",
    "bootstrap_metrics",
    "brier",
    "brier_skill",
    "calibration_intercept",
    "calibration_slope",
    "ece",
    "evaluate",
    "evaluate_forecasts",
    "ewp_pooled_rows",
    "ewp_pooled_scores",
    "false_alarms_per_hit_at_threshold",
    "fbeta_at_threshold",
    "get_metric",
    "log_loss",
    "metric_names",
    "observed_expected",
    "onset_ranks",
    "oracle_gap",
    "paired_difference",
    "paired_from_bootstraps",
    "precision_at_k",
    "precision_at_threshold",
    "recall_at_k",
    "recall_at_threshold",
    "roc_auc",
    "threshold_counts",
    "top_k_curve",
    "top_k_mask",
    "track_record",
    "warnings_at_threshold",
]
