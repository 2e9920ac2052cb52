"""Write an output folder as one transaction: stage beside it, swap it in when complete.

A command that writes a folder (a backtest's ``--out``, a risk list, a feature build) writes
into ``.<name>.staging-<pid>`` beside the target and swaps it in only when every file is
written. On any failure the previous contents of the target are untouched; the partial
results stay in the staging folder with an ``ERROR.txt``, and the message names it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import traceback
from collections.abc import Iterator, Sequence
from pathlib import Path

from forecast._errors import ForecastInputError, input_error

__all__ = ["check_output_dir", "check_writable_file", "staged_output"]


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


def check_output_dir(out: Path | str, *, markers: Sequence[str] = (), flag: str = "--out") -> Path:
    """Check, before any work, that ``out`` can be written as a whole folder.

    ``out`` must be a folder or not exist; its parent must be writable; an existing non-empty
    folder must hold one of ``markers`` (files that this kind of output writes), so that a
    mistyped ``--out .`` never replaces a folder of other files.

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


def check_writable_file(path: Path | str, *, flag: str) -> Path:
    """Check, before any work, that the file ``path`` can be (over)written."""
    path = Path(path)
    if path.is_dir():
        raise input_error(
            f"{flag} {str(path)!r} is a folder, not a file",
            fix=f"pass a file path to {flag}, e.g. {path / 'report.html'}",
        )
    parent = _existing_parent(path)
    _probe(parent, f"the folder of {flag}", flag)
    return path


@contextlib.contextmanager
def staged_output(
    out: Path | str, *, markers: Sequence[str] = (), flag: str = "--out"
) -> Iterator[Path]:
    """Yield a staging folder; on success it replaces ``out`` as a whole.

    On an exception the staging folder is kept (with ``ERROR.txt``), ``out`` is left as it
    was, and a :class:`ForecastInputError` is re-raised with the staging folder named.
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
        (stage / "ERROR.txt").write_text("".join(traceback.format_exception(error)))
        if isinstance(error, ForecastInputError):
            raise ForecastInputError(
                f"{error} (nothing in {out} was changed; partial results in {stage})"
            ) from error
        raise
    old = out.parent / f".{out.name}.old-{os.getpid()}"
    if out.exists():
        out.rename(old)
    stage.rename(out)
    if old.exists():
        shutil.rmtree(old, ignore_errors=True)
