"""One backtest task: fit a model on an origin's training rows, forecast its test rows."""

from __future__ import annotations

import time
import traceback
from dataclasses import asdict
from typing import Any

import numpy as np

from forecast.experiment import ModelSpec

__all__ = ["fit_predict", "make_estimator"]


def make_estimator(spec: ModelSpec, seed: int):
    """Registered model for ``spec``, wrapped in its recalibrator when one is configured."""
    from forecast.models import build_model

    estimator = build_model(spec.name, {**spec.params, "seed": seed})
    if spec.calibration:
        from forecast.calibration import RecalibratedClassifier

        estimator = RecalibratedClassifier(estimator, method=spec.calibration,
                                           calibration_years=spec.calibration_years)
    return estimator


def fit_predict(X_train: np.ndarray, y_train: np.ndarray, w_train: np.ndarray | None,
                years_train: np.ndarray, X_test: np.ndarray, spec: dict[str, Any],
                seed: int) -> dict[str, Any]:
    """Fit and forecast; never raises: failures come back as ``status='failed'``."""
    from threadpoolctl import threadpool_limits

    from forecast.models import fit_estimator

    model_spec = ModelSpec(**spec)
    start = time.perf_counter()
    try:
        with threadpool_limits(1):
            estimator = make_estimator(model_spec, seed)
            fit_estimator(estimator, X_train, y_train, sample_weight=w_train, years=years_train)
            fit_seconds = time.perf_counter() - start
            probability = np.asarray(estimator.predict_proba(X_test))[:, 1].astype(float)
            lower = upper = None
            if hasattr(estimator, "predict_interval"):
                lower, upper = (np.asarray(a, float) for a in estimator.predict_interval(X_test))
        return {"status": "ok", "error": "", "fit_seconds": fit_seconds,
                "probability": probability, "lower": lower, "upper": upper}
    except Exception as error:  # recorded per task; the run continues and is marked failed
        last = traceback.format_exception_only(type(error), error)[-1].strip()
        return {"status": "failed", "error": last, "fit_seconds": time.perf_counter() - start,
                "probability": None, "lower": None, "upper": None}


def spec_dict(spec: ModelSpec) -> dict[str, Any]:
    return asdict(spec)
