"""Content-addressed cache of backtest task results (data + spec + code version)."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["TaskCache", "code_version", "task_key"]


@lru_cache(maxsize=1)
def code_version() -> str:
    """Hash of the package version and the source of everything a task's result depends on."""
    import forecast

    root = Path(forecast.__file__).parent
    digest = hashlib.sha256(forecast.__version__.encode())
    for sub in ("models", "calibration", "backtest/_task.py"):
        path = root / sub
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for file in files:
            if file.is_file():
                digest.update(file.name.encode())
                digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def task_key(arrays: list[np.ndarray | None], spec: dict[str, Any], seed: int) -> str:
    digest = hashlib.sha256()
    for array in arrays:
        if array is None:
            digest.update(b"none")
        else:
            contiguous = np.ascontiguousarray(array)
            digest.update(str(contiguous.dtype).encode() + str(contiguous.shape).encode())
            digest.update(contiguous.tobytes())
    digest.update(json.dumps(spec, sort_keys=True, default=str).encode())
    digest.update(str(seed).encode())
    digest.update(code_version().encode())
    return digest.hexdigest()


class TaskCache:
    """Directory of ``<key>.npz`` files; writes are atomic so a killed run leaves no debris."""

    def __init__(self, directory: Path | None):
        self.directory = Path(directory) if directory else None

    def get(self, key: str) -> dict[str, Any] | None:
        if self.directory is None:
            return None
        path = self.directory / f"{key}.npz"
        if not path.is_file():
            return None
        with np.load(path, allow_pickle=False) as data:
            result: dict[str, Any] = {"status": "ok", "error": "",
                                      "fit_seconds": float(data["fit_seconds"]),
                                      "probability": data["probability"],
                                      "lower": data["lower"] if "lower" in data else None,
                                      "upper": data["upper"] if "upper" in data else None,
                                      "cached": True}
        return result

    def put(self, key: str, result: dict[str, Any]) -> None:
        if self.directory is None or result["status"] != "ok":
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        arrays = {"probability": result["probability"],
                  "fit_seconds": np.array(result["fit_seconds"])}
        if result.get("lower") is not None:
            arrays["lower"], arrays["upper"] = result["lower"], result["upper"]
        handle, tmp = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
        with os.fdopen(handle, "wb") as out:
            np.savez(out, **arrays)
        os.replace(tmp, self.directory / f"{key}.npz")
