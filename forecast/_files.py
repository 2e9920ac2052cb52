"""Atomic file writes that respect the user's umask.

A file is written to a temporary file beside its target and moved into place with
:func:`os.replace` only when complete, so an interrupted write leaves the previous file (or
none), never a partial one. The temporary file is created with mode ``0o666`` filtered by
the process umask, as ``open(path, "w")`` would (:func:`tempfile.mkstemp` would make it
``0o600`` whatever the umask).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

__all__ = ["atomic_path", "atomic_write_bytes"]

_ATTEMPTS = 100


def _reserve(target: Path) -> Path:
    """Create an empty, new ``.<name>.<random>.tmp`` file beside ``target``."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(_ATTEMPTS):
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
        try:
            handle = os.open(tmp, flags, 0o666)  # the kernel applies the umask
        except FileExistsError:
            continue
        os.close(handle)
        return tmp
    raise FileExistsError(f"no free temporary name beside {target} after {_ATTEMPTS} tries")


@contextlib.contextmanager
def atomic_path(target: Path | str) -> Iterator[Path]:
    """A temporary path that replaces ``target`` when the block ends without an error.

    The parent folder is created if needed. The temporary file already exists (empty) when
    the block starts; write it by name with any library (``to_parquet``, ``np.save`` on an
    open handle, ...). On an error the temporary file is removed and ``target`` is left as
    it was.

    Parameters
    ----------
    target : Path or str
        File to write.

    Yields
    ------
    Path
        The temporary file, in the same folder as ``target`` (so the final rename is atomic).

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> with atomic_path(folder / "table.csv") as tmp:
    ...     _ = tmp.write_text("a,b\\n1,2\\n")
    >>> (folder / "table.csv").read_text()
    'a,b\\n1,2\\n'
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = _reserve(target)
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_bytes(target: Path | str, data: bytes) -> Path:
    """Write ``data`` to ``target`` atomically (see :func:`atomic_path`); return ``target``."""
    target = Path(target)
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return target
