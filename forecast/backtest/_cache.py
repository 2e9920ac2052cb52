"""Content-addressed cache of backtest task results (data + spec + code version)."""

from __future__ import annotations

import ast
import contextlib
import datetime
import hashlib
import io
import json
import logging
import os
import re
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from forecast._files import atomic_write_bytes

__all__ = [
    "CacheInfo",
    "TaskCache",
    "arrays_digest",
    "code_version",
    "default_cache_dir",
    "task_key",
]

_log = logging.getLogger("forecast.backtest")

_SUFFIX = ".npz"
_LEFTOVERS = ".*.tmp"  # temporary files of writes killed before their rename
_ZIP_START = b"PK\x03\x04"
_ZIP_END = b"PK\x05\x06"  # end-of-central-directory record: the last 22 bytes of an .npz


KERNEL = ("forecast.backtest._task",)
"""The modules whose code makes a task's result: the fit kernel (what it imports follows)."""


def _module_file(root: Path, module: str) -> Path | None:
    """The source of ``forecast.<...>`` module ``module`` under package folder ``root``."""
    parts = module.split(".")[1:]
    for path in (root.joinpath(*parts).with_suffix(".py"), root.joinpath(*parts, "__init__.py")):
        if parts and path.is_file():
            return path
    return root / "__init__.py" if not parts else None


_IMPORT = re.compile(
    rb"^[ \t]*(?:from[ \t]+[.\w]+[ \t]+import[ \t]*(?:\([^)]*\)|(?:[^\n]*\\\n)*[^\n]*)"
    rb"|import[ \t]+(?:[^\n]*\\\n)*[^\n]*)",
    re.MULTILINE,
)
"""An ``import`` or ``from ... import`` statement (at any indentation, over continuation
lines and parentheses): parsing these alone is much faster than compiling whole modules."""


def _imported(source: bytes, module: str, is_package: bool) -> set[str]:
    """The ``forecast`` modules a module's import statements name (in functions too): each
    imported module, each module a ``from`` import takes a name from, and that name when it
    is a module itself. A line that only looks like an import (in a docstring) adds nothing
    or a module more, never fewer."""
    names: set[str] = set()
    for match in _IMPORT.finditer(source):
        try:
            statement = ast.parse(match.group().strip()).body[0]
        except SyntaxError:  # prose in a docstring
            continue
        if isinstance(statement, ast.Import):
            names |= {alias.name for alias in statement.names}
        elif isinstance(statement, ast.ImportFrom):
            base = statement.module or ""
            if statement.level:  # relative: from the module's package
                parts = module.split(".")
                package = parts[: len(parts) - statement.level + is_package]
                base = ".".join([*package, *([base] if base else [])])
            names.add(base)
            names |= {f"{base}.{alias.name}" for alias in statement.names}
    return {n for n in names if n == "forecast" or n.startswith("forecast.")}


def import_closure(root: Path, modules: tuple[str, ...] = KERNEL) -> list[Path]:
    """The source files of ``modules`` and of every ``forecast`` module they import, directly
    or through others, with the packages that hold them (importing a module runs its
    packages' ``__init__``), found by a static walk of the import statements under ``root``
    (the ``forecast`` package folder). Sorted."""
    seen: dict[str, Path] = {}
    stack = list(modules)
    while stack:
        module = stack.pop()
        if module in seen:
            continue
        path = _module_file(root, module)
        if path is None:  # a name, not a module (``from forecast.models import fit``)
            continue
        seen[module] = path
        parents = [".".join(module.split(".")[:i]) for i in range(1, module.count(".") + 1)]
        found = _imported(path.read_bytes(), module, path.name == "__init__.py")
        stack += parents + sorted(found)
    return sorted(set(seen.values()))


def source_version(root: Path, version: str) -> str:
    """Hash of ``version`` and the source of the fit kernel's import closure under ``root``."""
    digest = hashlib.sha256(version.encode())
    for file in import_closure(root):
        digest.update(file.relative_to(root).as_posix().encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


@lru_cache(maxsize=1)
def code_version() -> str:
    """Hash of the package version and the source of everything a task's result depends on:
    every module the fit kernel imports, directly or not (:func:`import_closure`)."""
    import forecast

    return source_version(Path(forecast.__file__).parent, forecast.__version__)


def arrays_digest(arrays: list[np.ndarray | None]) -> Any:
    """The running sha256 of a fit's arrays (dtype, shape and bytes of each), for
    :func:`task_key`: computed once per split, shared by every model fitted on it."""
    digest = hashlib.sha256()
    for array in arrays:
        if array is None:
            digest.update(b"none")
        else:
            contiguous = np.ascontiguousarray(array)
            digest.update(str(contiguous.dtype).encode() + str(contiguous.shape).encode())
            digest.update(contiguous.tobytes())
    return digest


def task_key(arrays: list[np.ndarray | None] | Any, spec: dict[str, Any], seed: int) -> str:
    """Cache key of a fit: sha256 of its arrays (or their :func:`arrays_digest`), its spec,
    the seed and the code version."""
    data = arrays_digest(arrays) if isinstance(arrays, list) else arrays
    digest = data.copy()
    digest.update(json.dumps(spec, sort_keys=True, default=str).encode())
    digest.update(str(seed).encode())
    digest.update(code_version().encode())
    return digest.hexdigest()


def _read(path: Path, rows: int | None = None) -> dict[str, Any]:
    """The task result stored in ``path``; raises on any unreadable or malformed entry, and
    on one whose probabilities are not ``rows`` values in [0, 1] (when ``rows`` is given)."""
    with np.load(path, allow_pickle=False) as data:
        probability = np.asarray(data["probability"])
        result: dict[str, Any] = {
            "status": "ok",
            "error": "",
            "fit_seconds": float(data["fit_seconds"]),
            "probability": probability,
            "lower": data.get("lower"),
            "upper": data.get("upper"),
            "warnings": int(data["warnings"]) if "warnings" in data else 0,
            "warning": str(data["warning"].item()) if "warning" in data else "",
            "cached": True,
        }
    if probability.ndim != 1 or probability.dtype.kind != "f":
        raise ValueError(
            f"'probability' is a {probability.dtype} array of shape "
            f"{probability.shape}, not a 1-d float array"
        )
    if rows is not None and len(probability) != rows:
        raise ValueError(f"'probability' has {len(probability)} values, not the {rows} test rows")
    if not np.all((probability >= 0) & (probability <= 1)):  # NaN fails too
        raise ValueError("'probability' holds values outside [0, 1] or NaN")
    for bound in ("lower", "upper"):
        if result[bound] is not None and result[bound].shape != probability.shape:
            raise ValueError(f"{bound!r} has shape {result[bound].shape}, not {probability.shape}")
    return result


def _describe(error: BaseException) -> str:
    text = " ".join(str(error).split()) or "no detail"
    return f"{type(error).__name__}: {text[:120]}"


def _quick_problem(path: Path) -> str | None:
    """Why ``path`` is clearly not a complete ``.npz`` file (empty, garbage, truncated)."""
    try:
        size = path.stat().st_size
        if size == 0:
            return "empty file"
        with path.open("rb") as handle:
            start = handle.read(4)
            handle.seek(max(size - 22, 0))
            end = handle.read(4)
    except OSError as error:
        return _describe(error)
    if start != _ZIP_START:
        return "not an .npz (zip) file"
    if end != _ZIP_END:
        return "truncated (no zip directory at the end)"
    return None


@dataclass(frozen=True)
class CacheInfo:
    """What a task cache folder holds (see :meth:`TaskCache.info`).

    Attributes
    ----------
    directory : Path
    entries : int
        Number of ``<key>.npz`` entries.
    bytes : int
        Their total size.
    oldest, newest : datetime.datetime or None
        Modification times (local time) of the oldest and newest entries.
    unreadable : int
        Entries that cannot be read: empty, garbage or truncated files, and with ``checked``
        also entries whose content does not load.
    checked : bool
        Whether every entry was opened (else only its first and last bytes were read).
    leftovers : int
        Temporary files of writes that were killed before completing.
    """

    directory: Path
    entries: int
    bytes: int
    oldest: datetime.datetime | None
    newest: datetime.datetime | None
    unreadable: int
    checked: bool
    leftovers: int


class TaskCache:
    """Folder of ``<key>.npz`` task results, one per fit.

    Entries are written atomically (a temporary file beside the entry, then a rename) with
    the user's umask. An entry that cannot be read (emptied, truncated, garbage) is a cache
    miss: :meth:`get` deletes it and records it in :attr:`unreadable`, and the recomputed
    result overwrites it. A cache that cannot be written is skipped with one log line.

    Parameters
    ----------
    directory : Path or None
        The cache folder (created on the first write); None disables the cache.

    Attributes
    ----------
    unreadable : list of (Path, str)
        Entries :meth:`get` found unreadable, with the reason.
    """

    def __init__(self, directory: Path | str | None):
        self.directory = Path(directory) if directory else None
        self.unreadable: list[tuple[Path, str]] = []
        self._write_failed = False

    def path(self, key: str) -> Path:
        """The entry file of task ``key``."""
        if self.directory is None:
            raise ValueError("this TaskCache has no directory")
        return self.directory / f"{key}{_SUFFIX}"

    def get(self, key: str, rows: int | None = None) -> dict[str, Any] | None:
        """The cached result of task ``key``, or None (not cached, or unreadable, or with
        other than ``rows`` probabilities when ``rows``, the task's test rows, is given)."""
        if self.directory is None:
            return None
        path = self.path(key)
        if not path.is_file():
            return None
        try:
            return _read(path, rows)
        except Exception as error:  # noqa: BLE001 - any unreadable entry is a miss, not a crash
            self.unreadable.append((path, _quick_problem(path) or _describe(error)))
            with contextlib.suppress(OSError):  # else the recomputed result overwrites it
                path.unlink()
            return None

    def put(self, key: str, result: dict[str, Any]) -> None:
        """Store an ``ok`` result (others are not cached)."""
        if self.directory is None or self._write_failed or result["status"] != "ok":
            return
        arrays = {
            "probability": result["probability"],
            "fit_seconds": np.array(result["fit_seconds"]),
            "warnings": np.array(int(result.get("warnings", 0))),
            "warning": np.array(str(result.get("warning", ""))),
        }
        if result.get("lower") is not None:
            arrays["lower"], arrays["upper"] = result["lower"], result["upper"]
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        try:
            atomic_write_bytes(self.path(key), buffer.getvalue())
        except OSError as error:
            self._write_failed = True
            _log.warning(
                f"cannot write the task cache in {self.directory} ({_describe(error)}); "
                "continuing without caching (set --cache-dir or FORECAST_CACHE_DIR "
                "to a writable folder)"
            )

    def unreadable_message(self) -> str | None:
        """One line naming the unreadable entries found by :meth:`get`, or None."""
        if not self.unreadable:
            return None
        path, reason = self.unreadable[0]
        if len(self.unreadable) == 1:
            return f"task cache entry {path} is unreadable ({reason}); recomputing it"
        return (
            f"{len(self.unreadable)} task cache entries are unreadable (first: {path}: "
            f"{reason}); recomputing them"
        )

    def entries(self) -> list[Path]:
        """The entry files, sorted by name (empty when the folder does not exist)."""
        if self.directory is None or not self.directory.is_dir():
            return []
        return sorted(p for p in self.directory.glob(f"*{_SUFFIX}") if p.is_file())

    def _leftovers(self) -> list[Path]:
        if self.directory is None or not self.directory.is_dir():
            return []
        return sorted(p for p in self.directory.glob(_LEFTOVERS) if p.is_file())

    def info(self, *, check: bool = False) -> CacheInfo:
        """Entries, size, age and unreadable entries of the folder.

        Parameters
        ----------
        check : bool, default False
            Open every entry (slower); else an entry counts as unreadable when it is empty,
            not a zip file or truncated (its first and last bytes only are read).
        """
        sizes, times, unreadable = 0, [], 0
        for path in self.entries():
            try:
                stat = path.stat()
            except OSError:
                continue  # removed meanwhile
            sizes += stat.st_size
            times.append(stat.st_mtime)
            problem = _quick_problem(path)
            if problem is None and check:
                try:
                    _read(path)
                except Exception:  # noqa: BLE001 - unreadable, whatever the reason
                    problem = "does not load"
            unreadable += problem is not None
        stamp = datetime.datetime.fromtimestamp
        return CacheInfo(
            directory=Path(self.directory or ""),
            entries=len(times),
            bytes=sizes,
            oldest=stamp(min(times)) if times else None,
            newest=stamp(max(times)) if times else None,
            unreadable=unreadable,
            checked=check,
            leftovers=len(self._leftovers()),
        )

    def clear(self, *, older_than_days: float | None = None) -> tuple[int, int]:
        """Remove entries (and leftover temporary files); return ``(count, bytes)`` removed.

        Parameters
        ----------
        older_than_days : float, optional
            Remove only entries written more than this many days ago; default all.
        """
        cutoff = None if older_than_days is None else time.time() - older_than_days * 86400
        count = size = 0
        for path in self.entries() + self._leftovers():
            try:
                stat = path.stat()
                if cutoff is not None and stat.st_mtime >= cutoff:
                    continue
                path.unlink()
            except FileNotFoundError:
                continue
            if path.suffix == _SUFFIX:
                count += 1
                size += stat.st_size
        return count, size


def default_cache_dir() -> Path:
    """``$FORECAST_CACHE_DIR`` or ``<user cache dir>/forecast/fits``."""
    import platformdirs

    env = os.environ.get("FORECAST_CACHE_DIR")
    return Path(env) if env else Path(platformdirs.user_cache_dir("forecast")) / "fits"
