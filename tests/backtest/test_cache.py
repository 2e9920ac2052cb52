"""The task cache heals unreadable entries, writes with the umask, and has a CLI."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import stat
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecast._files import atomic_path, atomic_write_bytes
from forecast.backtest import TaskCache, run_backtest
from forecast.cli import main
from forecast.experiment import experiment_from_dict

LOGGER = "forecast.backtest"

CONFIG = experiment_from_dict(
    {
        "name": "toy",
        "horizon": 2,
        "origins": {"first": 2000, "last": 2005},
        "min_train_years": 5,
        "models": [
            {
                "name": "sklearn",
                "params": {
                    "class": "sklearn.linear_model.LogisticRegression",
                    "C": 0.5,
                    "max_iter": 1000,
                },
            }
        ],
    }
)


@contextlib.contextmanager
def _umask(mask: int):
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _records(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage() for r in caplog.records if r.name == LOGGER and r.levelno == logging.WARNING
    ]


def _not_an_entry(path: Path) -> None:
    buffer = io.BytesIO()
    np.savez(buffer, something_else=np.arange(3))  # a valid .npz without a task result
    path.write_bytes(buffer.getvalue())


def _wrong_length(path: Path) -> None:
    with np.load(path) as data:
        arrays = {key: data[key] for key in data.files}
    arrays["probability"] = arrays["probability"][:-1]  # a valid-looking entry of another task
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    path.write_bytes(buffer.getvalue())


DAMAGE = {
    "truncated": lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]),
    "wrong-length": _wrong_length,
    "empty": lambda p: p.write_bytes(b""),
    "garbage": lambda p: p.write_bytes(np.random.default_rng(0).bytes(700)),
    "not-a-result": _not_an_entry,
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_an_unreadable_entry_is_recomputed_rewritten_and_named_once(
    toy_panel, tmp_path, caplog, damage
):
    first = run_backtest(CONFIG, panel=toy_panel, cache_dir=tmp_path)
    entries = sorted(tmp_path.glob("*.npz"))
    assert len(entries) == 6
    bad = entries[2]
    DAMAGE[damage](bad)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        second = run_backtest(CONFIG, panel=toy_panel, cache_dir=tmp_path)
    pd.testing.assert_frame_equal(first.forecasts, second.forecasts, check_exact=True)
    assert second.scores["cached"].sum() == 5
    messages = _records(caplog)
    assert len(messages) == 1 and str(bad) in messages[0] and "recomputing it" in messages[0]
    assert TaskCache(tmp_path).info(check=True).unreadable == 0  # rewritten, readable
    with np.load(bad) as data:
        assert data["probability"].shape == (len(toy_panel.frame.query("year == 2002")),)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        third = run_backtest(CONFIG, panel=toy_panel, cache_dir=tmp_path)
    assert third.scores["cached"].all() and not _records(caplog)


def test_several_unreadable_entries_make_one_line(toy_panel, tmp_path, caplog):
    run_backtest(CONFIG, panel=toy_panel, cache_dir=tmp_path)
    for entry in sorted(tmp_path.glob("*.npz"))[:3]:
        entry.write_bytes(b"")
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        run_backtest(CONFIG, panel=toy_panel, cache_dir=tmp_path)
    messages = _records(caplog)
    assert len(messages) == 1 and messages[0].startswith("3 task cache entries are unreadable")


def test_cache_files_follow_the_umask(toy_panel, tmp_path):
    with _umask(0o022):
        run_backtest(CONFIG, panel=toy_panel, cache_dir=tmp_path / "cache")
    entries = list((tmp_path / "cache").glob("*.npz"))
    assert entries and {_mode(p) for p in entries} == {0o644}
    assert not [p for p in (tmp_path / "cache").iterdir() if p.suffix != ".npz"]


def test_an_unwritable_cache_is_skipped_with_one_line(toy_panel, tmp_path, caplog):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        result = run_backtest(CONFIG, panel=toy_panel, cache_dir=blocked)
    assert (result.scores["status"] == "ok").all()
    messages = _records(caplog)
    assert len(messages) == 1
    assert messages[0].startswith(f"cannot write the task cache in {blocked}")


def test_built_panel_follows_the_umask(tmp_path):
    from forecast.features import feature_set_dir

    rng = np.random.default_rng(3)
    rows = [
        (
            c,
            y,
            rng.random(),
            int(rng.integers(0, 500)),
            int(rng.random() < 0.1),
            int(rng.random() < 0.05),
        )
        for c in ("Aland", "Borduria")
        for y in range(1990, 2001)
    ]
    pd.DataFrame(
        rows, columns=["country", "year", "repression", "conflict_deaths", "coup", "onset"]
    ).to_csv(tmp_path / "my_panel.csv", index=False)
    spec = tmp_path / "byo.yaml"
    spec.write_text((feature_set_dir() / "byo-example.yaml").read_text())
    out = tmp_path / "out" / "panel.parquet"
    with _umask(0o022):
        assert main(["features", "build", "--set", str(spec), "--out", str(out)]) == 0
    assert _mode(out) == 0o644
    assert [p.name for p in out.parent.iterdir()] == ["panel.parquet"]


def test_atomic_path_keeps_the_old_file_on_error_and_follows_the_umask(tmp_path):
    target = tmp_path / "sub" / "table.csv"
    with _umask(0o077):
        atomic_write_bytes(target, b"old")
    assert _mode(target) == 0o600
    with pytest.raises(RuntimeError, match="half-way"), atomic_path(target) as tmp:
        tmp.write_bytes(b"ne")
        raise RuntimeError("half-way")
    assert target.read_bytes() == b"old"
    assert [p.name for p in target.parent.iterdir()] == ["table.csv"]
    with _umask(0o022):
        atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"new" and _mode(target) == 0o644


@pytest.fixture
def filled_cache(toy_panel, tmp_path) -> Path:
    folder = tmp_path / "cache"
    run_backtest(CONFIG, panel=toy_panel, cache_dir=folder)
    return folder


def test_cache_info_counts_entries_and_unreadable_ones(filled_cache, capsys):
    entries = sorted(filled_cache.glob("*.npz"))
    _not_an_entry(entries[0])  # only opening it shows it is unreadable
    entries[1].write_bytes(b"")
    (filled_cache / ".x.npz.123.tmp").write_bytes(b"debris")
    assert main(["cache", "info", "--cache-dir", str(filled_cache)]) == 0
    out = capsys.readouterr().out
    size = sum(p.stat().st_size for p in entries)
    assert f"folder:      {filled_cache}\n" in out
    assert f"entries:     6 ({size / 1000:.1f} kB)\n" in out
    assert "oldest:      " in out and "newest:      " in out
    assert "unreadable:  1 (quick check; --check opens every entry;" in out
    assert "leftovers:   1 temporary file(s)" in out
    assert main(["cache", "info", "--check", "--cache-dir", str(filled_cache)]) == 0
    assert "unreadable:  2 (every entry opened;" in capsys.readouterr().out


def test_cache_info_of_a_missing_folder(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("FORECAST_CACHE_DIR", str(tmp_path / "none"))
    assert main(["cache", "info"]) == 0
    out = capsys.readouterr().out
    assert out == (
        f"folder:      {tmp_path / 'none'}\nentries:     0 (the folder does not exist yet)\n"
    )


def test_cache_clear_all_or_older_than(filled_cache, capsys):
    entries = sorted(filled_cache.glob("*.npz"))
    old = time.time() - 10 * 86400
    for entry in entries[:2]:
        os.utime(entry, (old, old))
    size = sum(p.stat().st_size for p in entries[:2])
    assert main(["cache", "clear", "--older-than", "7", "--cache-dir", str(filled_cache)]) == 0
    assert capsys.readouterr().out == (
        f"removed 2 entries written more than 7 day(s) ago ({size / 1000:.1f} kB) from "
        f"{filled_cache}; 4 kept\n"
    )
    assert sorted(filled_cache.glob("*.npz")) == entries[2:]
    assert main(["cache", "clear", "--cache-dir", str(filled_cache)]) == 0
    assert capsys.readouterr().out.startswith("removed 4 entries (")
    assert not list(filled_cache.iterdir())


def test_cache_clear_rejects_a_negative_age(tmp_path, capsys):
    assert main(["cache", "clear", "--older-than", "-1", "--cache-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("forecast: error: --older-than must be a number of days >= 0, got -1")
    assert "fix: pass e.g. --older-than 30" in err


def test_a_split_hashed_once_gives_every_model_the_key_of_its_own_arrays():
    from forecast.backtest._cache import arrays_digest, task_key

    rng = np.random.default_rng(0)
    arrays = [rng.random((50, 3)), rng.random(50), None, np.arange(50), rng.random((5, 3))]
    shared = arrays_digest(arrays)
    for spec in ({"name": "logit"}, {"name": "xgboost", "params": {"n_estimators": 3}}):
        assert task_key(shared, spec, 1) == task_key(arrays, spec, 1)
    assert task_key(shared, {"name": "logit"}, 1) != task_key(shared, {"name": "logit"}, 2)
