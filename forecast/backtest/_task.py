"""One backtest task: fit a model on an origin's training rows, forecast its test rows."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import traceback
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np

from forecast.experiment import ModelSpec

__all__ = [
    "CapturedWarnings",
    "capture_warnings",
    "fit_forecast",
    "fit_predict",
    "make_estimator",
]

_log = logging.getLogger("forecast.backtest")

WARNING_CHARS = 200
"""Longest first-warning text kept per task (``warning`` column of the scores)."""


class CapturedWarnings:
    """The warnings raised inside a :func:`capture_warnings` block, in order.

    Attributes
    ----------
    records : list of warnings.WarningMessage
    """

    def __init__(self) -> None:
        self.records: list[warnings.WarningMessage] = []

    @property
    def count(self) -> int:
        """Number of warnings raised (repeats included)."""
        return len(self.records)

    @property
    def first(self) -> str:
        """The first warning as one line, ``'Category: message'`` (at most 200 characters;
        empty when none was raised)."""
        if not self.records:
            return ""
        record = self.records[0]
        return one_line(f"{record.category.__name__}: {record.message}")


def one_line(text: str, limit: int = WARNING_CHARS) -> str:
    """``text`` on one line (whitespace runs collapsed), cut to ``limit`` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


# One process-wide hook shared by the threads that capture at the same time: each thread's
# warnings go to its own record, the other threads' warnings are shown as before.
_lock = threading.Lock()
_local = threading.local()
_active = 0
_outer: warnings.catch_warnings | None = None
_outer_show: Any = None
_default_show = warnings.showwarning


def _show(message, category, filename, lineno, file=None, line=None) -> None:
    sink = getattr(_local, "sink", None)
    if sink is not None:
        sink.append(warnings.WarningMessage(message, category, filename, lineno, file, line))
    else:
        (_outer_show or _default_show)(message, category, filename, lineno, file, line)


def _install() -> None:
    global _outer, _outer_show
    errors = [f for f in warnings.filters if f[0] == "error"]
    _outer = warnings.catch_warnings()
    _outer.__enter__()  # saves the filters and the display hook, restored by _uninstall
    _outer_show = warnings.showwarning
    warnings.simplefilter("always")  # every warning counted, however often it repeats
    warnings.filters[:0] = errors  # type: ignore[index]  # ahead of it: -W error and pytest's errors still raise
    warnings.showwarning = _show


def _uninstall() -> None:
    global _outer, _outer_show
    if _outer is not None:
        _outer.__exit__(None, None, None)
    _outer = _outer_show = None


@contextlib.contextmanager
def capture_warnings(log_as: str | None = None) -> Iterator[CapturedWarnings]:
    """Record the warnings raised in the block instead of printing them.

    Every warning is recorded, repeats included (the ``always`` action), so counts do not
    depend on what a worker process raised before; filters that turn warnings into errors
    (``-W error``, pytest's ``filterwarnings``) still apply. Thread-safe: concurrent blocks
    in several threads each record their own thread's warnings.

    Parameters
    ----------
    log_as : str, optional
        When given and the block warned, one line ``"<log_as> raised N warning(s) (first:
        ...)"`` is logged at WARNING level to the ``forecast.backtest`` logger on exit.

    Yields
    ------
    CapturedWarnings
        Filled as the block runs.

    Examples
    --------
    >>> import warnings
    >>> with capture_warnings() as caught:
    ...     warnings.warn("ill-conditioned design", RuntimeWarning)
    >>> caught.count, caught.first
    (1, 'RuntimeWarning: ill-conditioned design')
    """
    global _active
    caught = CapturedWarnings()
    previous = getattr(_local, "sink", None)
    with _lock:
        if _active == 0:
            _install()
        _active += 1
    _local.sink = caught.records
    try:
        yield caught
    finally:
        _local.sink = previous
        with _lock:
            _active -= 1
            if _active == 0:
                _uninstall()
    if log_as and caught.count:
        _log.warning(f"{log_as} raised {caught.count} warning(s) (first: {caught.first})")


def make_estimator(spec: ModelSpec, seed: int):
    """Registered model for ``spec``, wrapped in its recalibrator when one is configured."""
    from forecast.models import build_model

    estimator = build_model(spec.name, {**spec.params, "seed": seed})
    if spec.calibration:
        from forecast.calibration import RecalibratedClassifier

        estimator = RecalibratedClassifier(
            estimator,
            method=spec.calibration,  # type: ignore[arg-type]  # checked by the spec schema
            calibration_years=spec.calibration_years,
        )
    return estimator


def fit_forecast(
    spec: ModelSpec,
    X_train: np.ndarray,
    y_train: np.ndarray,
    w_train: np.ndarray | None,
    years_train: np.ndarray,
    X_test: np.ndarray,
    seed: int,
) -> tuple[Any, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """The fit kernel: ``spec``'s estimator fitted on an origin's training rows, and its
    forecast of the test rows.

    The one place a model is fitted at an origin, by the backtest (:func:`fit_predict`) and
    the risk list (:func:`forecast.risk.fit_origin`) alike, so their forecasts agree bit for
    bit: the estimator of :func:`make_estimator` is fitted by ``fit_estimator`` with the rows'
    weights and years under a one-thread BLAS limit (results do not depend on the machine's
    cores).

    Returns
    -------
    estimator, probability, lower, upper
        The fitted estimator, the test rows' probabilities and interval bounds (None when
        the model gives no interval, or when no bootstrap resample could be fitted).
    """
    from threadpoolctl import threadpool_limits

    from forecast._errors import ForecastInputError
    from forecast.models import fit_estimator

    with threadpool_limits(1):
        estimator = make_estimator(spec, seed)
        fit_estimator(estimator, X_train, y_train, sample_weight=w_train, years=years_train)
        probability = np.asarray(estimator.predict_proba(X_test))[:, 1].astype(float)
        lower = upper = None
        if hasattr(estimator, "predict_interval"):
            try:
                lower, upper = (np.asarray(a, float) for a in estimator.predict_interval(X_test))
            except ForecastInputError:  # no usable bootstrap resample: no interval
                pass
    return estimator, probability, lower, upper


def fit_predict(
    X_train: np.ndarray,
    y_train: np.ndarray,
    w_train: np.ndarray | None,
    years_train: np.ndarray,
    X_test: np.ndarray,
    spec: dict[str, Any],
    seed: int,
) -> dict[str, Any]:
    """Fit and forecast; never raises: failures come back as ``status='failed'``.

    Warnings raised by the fit and the forecast are recorded, not printed: ``warnings`` is
    their number and ``warning`` the first one (see :func:`capture_warnings`).
    """
    start = time.perf_counter()
    with capture_warnings() as caught:
        try:
            _, probability, lower, upper = fit_forecast(
                ModelSpec(**spec), X_train, y_train, w_train, years_train, X_test, seed
            )
            result = {
                "status": "ok",
                "error": "",
                "fit_seconds": time.perf_counter() - start,
                "probability": probability,
                "lower": lower,
                "upper": upper,
            }
        except Exception as error:  # recorded per task; the run continues and is marked failed
            last = traceback.format_exception_only(type(error), error)[-1].strip()
            result = {
                "status": "failed",
                "error": last,
                "fit_seconds": time.perf_counter() - start,
                "probability": None,
                "lower": None,
                "upper": None,
            }
    return {**result, "warnings": caught.count, "warning": caught.first}
