"""Write an output folder as one transaction: stage beside it, swap it in when complete.

A command that writes a folder (a backtest's ``--out``, a risk list, a feature build) writes
into ``.<name>.staging-<pid>`` beside the target and swaps it in only when every file is
written: in one step on Linux (``renameat2`` with ``RENAME_EXCHANGE``), elsewhere by two
renames through ``.<name>.old-<pid>``. On any failure the previous contents of the target
are untouched; the partial results stay in the staging folder with an ``ERROR.txt``, and the
message names it (on a full disk the staging folder is removed). The next write of the same
target restores an interrupted swap and removes the leftovers of dead processes.

No command replaces a run folder (or writes inside one) except with its own earlier output
of the same kind: a backtest replaces an earlier run, a report rewrites ``report.html``.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import logging
import os
import shutil
import sys
import traceback
from collections.abc import Iterator, Sequence
from pathlib import Path

from forecast._errors import ForecastInputError, input_error
from forecast.run._artifacts import RUN_MARKERS, enclosing_run, is_run_folder

__all__ = ["check_output_dir", "check_writable_file", "recover_leftovers", "staged_output"]

logger = logging.getLogger(__name__)

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
_FULL = (errno.ENOSPC, errno.EDQUOT)


def _probe(folder: Path, what: str, flag: str) -> None:
    """Create and remove a file in ``folder``; fail in one line when that is not possible."""
    probe = folder / f".forecast-probe-{os.getpid()}"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise input_error(
            f"{what} {str(folder)!r} is not writable ({error.strerror or error})",
            fix=f"pass a writable path to {flag}",
        ) from None


def _existing_parent(path: Path) -> Path:
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    return parent


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # our own leftover: this process is not inside that swap any more
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _leftovers(out: Path) -> tuple[list[Path], list[Path]]:
    """Staging and old folders of ``out`` left by processes that are gone."""
    found: dict[str, list[Path]] = {"staging": [], "old": []}
    if not out.parent.is_dir():
        return [], []
    for entry in out.parent.iterdir():
        for kind in found:
            prefix = f".{out.name}.{kind}-"
            pid = entry.name.removeprefix(prefix)
            if entry.name.startswith(prefix) and pid.isdigit() and not _pid_alive(int(pid)):
                found[kind].append(entry)
    return found["staging"], found["old"]


def recover_leftovers(out: Path | str) -> None:
    """Finish what an interrupted write of ``out`` left behind.

    When ``out`` is missing and a ``.<name>.old-<pid>`` of a dead process holds its previous
    contents (a swap killed between its two renames), that folder is put back. Then every
    staging and old folder of a dead process is removed (partial results of a failed run,
    the previous contents of a finished swap).
    """
    out = Path(out)
    staging, old = _leftovers(out)
    if old and not out.exists():
        newest = max(old, key=lambda p: p.stat().st_mtime)
        newest.rename(out)
        old.remove(newest)
        logger.warning("restored %s from %s (an interrupted swap)", out, newest.name)
    for path in (*staging, *old):
        shutil.rmtree(path, ignore_errors=True)
        logger.info("removed leftover %s", path)


def _refuse_runs(out: Path, markers: Sequence[str], flag: str) -> None:
    """Refuse to replace a run folder, write inside one, or replace a folder holding runs,
    unless ``out`` is an earlier run and this output is a run (``markers`` hold the run's)."""
    run = enclosing_run(out)
    writes_runs = set(RUN_MARKERS) <= set(markers)
    fix = f"pass a folder outside every run folder to {flag}"
    if run is not None and not (writes_runs and run == out.absolute()):
        where = "is a run folder" if run == out.absolute() else f"lies inside run folder {run}"
        raise input_error(
            f"{flag} {str(out)!r} {where} (it holds {' or '.join(RUN_MARKERS)}); writing there "
            "would replace that run's files",
            fix=fix,
        )
    if out.is_dir():
        runs = sorted(p.name for p in out.iterdir() if is_run_folder(p))
        if runs:
            raise input_error(
                f"{flag} {str(out)!r} holds run folder(s) {', '.join(runs[:5])}; "
                "replacing it would delete them",
                fix=fix,
            )


def check_output_dir(out: Path | str, *, markers: Sequence[str] = (), flag: str = "--out") -> Path:
    """Check, before any work, that ``out`` can be written as a whole folder.

    ``out`` must be a folder or not exist; its parent must be writable; an existing non-empty
    folder must hold one of ``markers`` (files that this kind of output writes), so that a
    mistyped ``--out .`` never replaces a folder of other files. A run folder (see
    :data:`forecast.run.RUN_MARKERS`) is replaced only by a run (``markers`` include the
    run markers); nothing is written inside one. Leftovers of an interrupted earlier write
    of ``out`` are restored or removed first (:func:`recover_leftovers`).

    Raises
    ------
    ForecastInputError
        One line naming the path, the constraint and the fix.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise input_error(
            f"{flag} {str(out)!r} is a file, not a folder", fix=f"pass a folder path to {flag}"
        )
    parent = _existing_parent(out)
    if not parent.is_dir():
        raise input_error(
            f"{flag} {str(out)!r}: {str(parent)!r} is not a folder",
            fix=f"pass a path under an existing folder to {flag}",
        )
    _probe(parent, f"the folder of {flag}", flag)
    recover_leftovers(out)
    _refuse_runs(out, markers, flag)
    if out.is_dir():
        _probe(out, flag, flag)
        entries = sorted(p.name for p in out.iterdir())
        if entries and markers and not any((out / m).exists() for m in markers):
            raise input_error(
                f"{flag} {str(out)!r} holds other files ({', '.join(entries[:5])}) and no "
                f"earlier output ({', '.join(markers)}); it would be replaced",
                fix=f"pass a new or empty folder to {flag}",
            )
    return out


def check_writable_file(
    path: Path | str, *, flag: str, own: Sequence[str] = (), reading: Path | str | None = None
) -> Path:
    """Check, before any work, that the file ``path`` can be (over)written.

    Inside a run folder only this command's own output of the run it reads may be written:
    a file named in ``own`` (e.g. ``report.html``) directly in the run folder ``reading``.
    """
    path = Path(path)
    if path.is_dir():
        raise input_error(
            f"{flag} {str(path)!r} is a folder, not a file",
            fix=f"pass a file path to {flag}, e.g. {path / 'report.html'}",
        )
    run = enclosing_run(path.parent)
    ours = reading is not None and Path(reading).absolute() == path.parent.absolute()
    if run is not None and not (ours and path.name in own):
        raise input_error(
            f"{flag} {str(path)!r} lies inside run folder {run}"
            + (f" and would replace its {path.name}" if path.exists() else "")
            + "; a command writes into a run only its own output"
            + (f" ({', '.join(own)} of the run it reads)" if own else ""),
            fix=f"pass a path outside every run folder to {flag}",
        )
    parent = _existing_parent(path)
    _probe(parent, f"the folder of {flag}", flag)
    return path


def _exchange(a: Path, b: Path) -> bool:
    """Swap the paths ``a`` and ``b`` in one step (Linux ``renameat2(RENAME_EXCHANGE)``);
    False where the system or file system cannot."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p]
    renameat2.argtypes += [ctypes.c_uint]
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(a), None, str(b))


def _swap(stage: Path, out: Path) -> None:
    """Put ``stage`` in place of ``out``: never a moment without ``out`` where the system
    exchanges atomically; elsewhere a kill between the two renames leaves the old contents
    in ``.<name>.old-<pid>``, which :func:`recover_leftovers` puts back."""
    if not out.exists():
        stage.rename(out)
    elif _exchange(stage, out):
        shutil.rmtree(stage, ignore_errors=True)  # now holds the old contents
    else:
        old = out.parent / f".{out.name}.old-{os.getpid()}"
        out.rename(old)
        stage.rename(out)
        shutil.rmtree(old, ignore_errors=True)


def _disk_full(error: BaseException) -> bool:
    return isinstance(error, OSError) and (
        error.errno in _FULL or "No space left" in str(error) or "Disk quota" in str(error)
    )


def _last_written(stage: Path) -> str:
    files = [p for p in stage.rglob("*") if p.is_file()]
    return str(max(files, key=lambda p: p.stat().st_mtime)) if files else str(stage)


@contextlib.contextmanager
def staged_output(
    out: Path | str, *, markers: Sequence[str] = (), flag: str = "--out"
) -> Iterator[Path]:
    """Yield a staging folder; on success it replaces ``out`` as a whole.

    On an exception the staging folder is kept (with ``ERROR.txt``), ``out`` is left as it
    was, and a :class:`ForecastInputError` is re-raised with the staging folder named. A full
    disk removes the staging folder and names the file being written.
    """
    out = check_output_dir(out, markers=markers, flag=flag)
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = out.parent / f".{out.name}.staging-{os.getpid()}"
    if stage.exists():
        shutil.rmtree(stage)
    stage.mkdir()
    try:
        yield stage
    except BaseException as error:
        if _disk_full(error):
            file = getattr(error, "filename", None) or _last_written(stage)
            shutil.rmtree(stage, ignore_errors=True)
            raise input_error(
                f"disk full while writing {file} (staging folder {stage}, now removed; "
                f"nothing in {out} was changed)",
                fix=f"free space on the disk of {out.parent} or pass another {flag}",
            ) from None
        with contextlib.suppress(OSError):
            (stage / "ERROR.txt").write_text("".join(traceback.format_exception(error)))
        if isinstance(error, ForecastInputError):
            raise ForecastInputError(
                f"{error} (nothing in {out} was changed; partial results in {stage})"
            ) from error
        raise
    _swap(stage, out)
