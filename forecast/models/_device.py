"""Where a boosting model computes: ``device`` (cpu, cuda, auto) and ``threads`` from the spec.

``xgboost`` and ``xgboost_tuned`` run on a CUDA GPU when ``device: cuda`` (or ``cuda:N``) and
one is visible; ``device: auto`` means cuda when a GPU is visible, else cpu, and is resolved
once, when the spec is loaded (:func:`resolve_device`), so the task cache key and the run's
record name the device that really computed. ``hist_gradient_boosting`` has no GPU build:
it takes ``device: cpu`` or ``auto`` (resolved to cpu). ``threads`` sets a fit's CPU threads
(XGBoost's ``n_jobs``; OpenMP threads of scikit-learn's histogram boosting). By default a
fit uses one thread, because the backtest runs fits in parallel.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from forecast._errors import input_error

__all__ = ["DEVICE_MODELS", "compute_record", "cuda_build", "gpu_count", "resolve_device"]

DEVICE_MODELS = {"xgboost": True, "xgboost_tuned": True, "hist_gradient_boosting": False}
"""Models taking ``device``/``threads``, and whether they can run on a GPU."""

_CUDA = re.compile(r"^cuda(:\d+)?$")


@lru_cache(maxsize=1)
def gpu_count() -> int:
    """Number of CUDA GPUs this process can use (0 when none).

    Counts the NVIDIA driver's GPUs (``/proc/driver/nvidia/gpus``, else ``/dev/nvidiaN``),
    limited by ``CUDA_VISIBLE_DEVICES`` when it is set (empty or ``-1`` hides them all).
    """
    gpus = Path("/proc/driver/nvidia/gpus")
    if gpus.is_dir():
        found = len(list(gpus.iterdir()))
    else:
        found = len([p for p in Path("/dev").glob("nvidia[0-9]*") if p.name[6:].isdigit()])
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        ids = [v for v in visible.split(",") if v.strip() and v.strip() != "-1"]
        found = min(found, len(ids))
    return found


def resolve_device(model: str, device: Any) -> str:
    """The device a ``model`` fit runs on, for the spec's ``device`` value.

    Returns ``'cpu'``, ``'cuda'`` or ``'cuda:N'``; ``'auto'`` becomes cuda when
    :func:`gpu_count` is positive and the model has a GPU build, else cpu.

    Raises
    ------
    ForecastInputError
        An unknown device, a GPU asked of a model without a GPU build, or ``cuda`` when no
        GPU is visible.
    """
    gpu_capable = DEVICE_MODELS.get(model, False)
    if not isinstance(device, str) or not (device in ("cpu", "auto") or _CUDA.match(device)):
        raise input_error(
            f"model {model!r}: device must be cpu, cuda, cuda:N or auto, got {device!r}",
            fix="use device: cpu (default), or auto to take a GPU when one is visible",
        )
    if device == "auto":
        return "cuda" if gpu_capable and gpu_count() > 0 and cuda_build() else "cpu"
    if device == "cpu":
        return device
    if not gpu_capable:
        raise input_error(
            f"model {model!r} has no GPU build, got device {device!r}",
            fix="use device: cpu (or auto), or xgboost for GPU fits",
        )
    if gpu_count() == 0:
        raise input_error(
            f"model {model!r}: device {device!r} needs a CUDA GPU, and none is visible "
            "(no NVIDIA driver GPU, or CUDA_VISIBLE_DEVICES hides them)",
            fix="use device: auto (cuda when a GPU is visible, else cpu) or device: cpu",
        )
    if not cuda_build():
        raise input_error(
            f"model {model!r}: device {device!r} needs xgboost's CUDA build, and the installed "
            "xgboost is the CPU-only build (xgboost-cpu, the default dependency)",
            fix="pip uninstall xgboost-cpu && pip install xgboost (same version), or device: cpu",
        )
    return device


@lru_cache(maxsize=1)
def cuda_build() -> bool:
    """Whether the installed xgboost was built with CUDA (``xgboost``, not ``xgboost-cpu``)."""
    import xgboost

    return bool(xgboost.build_info().get("USE_CUDA", False))


def check_threads(model: str, threads: Any) -> int:
    """``threads`` as a positive int, or a one-line error."""
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise input_error(
            f"model {model!r}: threads must be a positive integer, got {threads!r}",
            fix="use threads: 1 (default; the backtest already runs fits in parallel) or more",
        )
    return threads


def compute_record(models: Any) -> dict[str, dict[str, Any]]:
    """``{label: {device, threads}}`` of the models that take them (for the run's record).

    ``models`` are :class:`forecast.experiment.ModelSpec`; their ``device`` is already
    resolved by the spec loader.
    """
    record = {}
    for spec in models:
        if spec.name in DEVICE_MODELS:
            record[spec.label] = {
                "device": spec.params.get("device", "cpu"),
                "threads": spec.params.get("threads", 1),
            }
    return record
