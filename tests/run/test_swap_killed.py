"""A write killed at any point of the swap leaves the folder whole, old or new, never missing;
the next write restores or removes what the killed one left beside it."""

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from forecast.run import check_output_dir, staged_output

# The writer runs in a child process, which kills itself (SIGKILL: no cleanup runs) at the
# named step of the swap; "exchange" is the system's one-step swap, "fallback" two renames.
_CHILD = textwrap.dedent(
    """
    import os, shutil, signal, sys
    from pathlib import Path
    import forecast.run._staging as staging

    out, mode, point = Path(sys.argv[1]), sys.argv[2], sys.argv[3]

    def die():
        os.kill(os.getpid(), signal.SIGKILL)

    if mode == "fallback":
        staging._exchange = lambda a, b: False
    exchange, rename, rmtree = staging._exchange, Path.rename, shutil.rmtree

    def patched_exchange(a, b):
        if point == "before-exchange":
            die()
        done = exchange(a, b)
        if point == "after-exchange":
            die()
        return done

    def patched_rename(self, target):
        if point == "between-renames" and Path(target).name.startswith(".out.old-"):
            rename(self, target)
            die()
        return rename(self, target)

    def patched_rmtree(path, *args, **kwargs):
        if point == "removing-old":
            for child in sorted(Path(path).iterdir())[:1]:
                child.unlink()
            die()
        return rmtree(path, *args, **kwargs)

    staging._exchange = patched_exchange
    Path.rename = patched_rename
    staging.shutil.rmtree = patched_rmtree
    with staging.staged_output(out, markers=("a.txt",)) as stage:
        (stage / "a.txt").write_text("new")
        (stage / "b.txt").write_text("new")
    """
)

_POINTS = [
    ("exchange", "before-exchange"),
    ("exchange", "after-exchange"),
    ("exchange", "removing-old"),
    ("fallback", "between-renames"),
    ("fallback", "removing-old"),
]


def _contents(folder):
    return {p.name: p.read_text() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize(("mode", "point"), _POINTS)
def test_a_killed_swap_never_loses_the_folder(tmp_path, mode, point):
    out = tmp_path / "out"
    with staged_output(out, markers=("a.txt",)) as stage:
        (stage / "a.txt").write_text("old")
        (stage / "b.txt").write_text("old")
    child = subprocess.run(
        [sys.executable, "-c", _CHILD, str(out), mode, point],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        timeout=120,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    whole = ({"a.txt": "old", "b.txt": "old"}, {"a.txt": "new", "b.txt": "new"})
    if not (mode == "fallback" and point == "between-renames"):
        assert _contents(out) in whole  # the one-step swap: never a moment without `out`
    assert len(list(tmp_path.iterdir())) > 1  # the killed writer left something beside it
    check_output_dir(out, markers=("a.txt",))  # the next write
    assert _contents(out) in whole
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
