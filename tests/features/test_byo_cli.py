"""Bring-your-own panel from a CSV without Python; the CLI writes parquet atomically."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecast._errors import ForecastInputError
from forecast.cli import cli
from forecast.features import build_panel, feature_set_dir, load_feature_set


def _byo(tmp_path: Path) -> Path:
    rng = np.random.default_rng(3)
    rows = [
        (
            c,
            y,
            rng.random(),
            rng.integers(0, 500),
            int(rng.random() < 0.1),
            int(rng.random() < 0.05),
        )
        for c in ("Aland", "Borduria", "Syldavia")
        for y in range(1990, 2001)
    ]
    pd.DataFrame(
        rows, columns=["country", "year", "repression", "conflict_deaths", "coup", "onset"]
    ).to_csv(tmp_path / "my_panel.csv", index=False)
    spec = tmp_path / "byo.yaml"
    spec.write_text((feature_set_dir() / "byo-example.yaml").read_text())
    return spec


def _cli(argv: list[str]) -> int:
    """The command's own result or exception (not main's exit code and error line)."""
    return cli.main(argv, "forecast", standalone_mode=False)


def test_byo_panel(tmp_path: Path) -> None:
    spec = _byo(tmp_path)
    panel = build_panel(load_feature_set(spec))
    raw = pd.read_csv(tmp_path / "my_panel.csv")
    assert (panel.unit, panel.year) == ("country", "year")
    assert panel.kinds == {
        "repression": "structural",
        "conflict_deaths_log2": "trigger",
        "coup_3yr": "trigger",
    }
    assert panel.outcomes == ["onset", "onset_1or2"]
    frame = panel.frame.set_index(["country", "year"])
    lookup = raw.set_index(["country", "year"])
    for (country, year), row in frame.iterrows():
        past = [lookup["coup"].get((country, y)) for y in range(year - 3, year)]
        past = [v for v in past if v is not None]
        expected = float(max(past)) if past else np.nan  # publication lag 1: t-3..t-1
        assert (np.isnan(expected) and np.isnan(row["coup_3yr"])) or row["coup_3yr"] == expected
        assert row["conflict_deaths_log2"] == pytest.approx(
            np.log2(lookup.loc[(country, year), "conflict_deaths"] + 1)
        )
    assert frame.xs(2000, level="year")["onset_1or2"].isna().all()


def test_cli_build_writes_parquet(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = _byo(tmp_path)
    out = tmp_path / "out" / "panel.parquet"
    assert _cli(["features", "build", "--set", str(spec), "--out", str(out)]) == 0
    written = pd.read_parquet(out)
    assert len(written) == 33 and {"coup_3yr", "onset"} <= set(written.columns)
    text = capsys.readouterr().out
    assert "33 rows, 3 units, years 1990-2000" in text and "missing share by kind" in text
    assert list(out.parent.iterdir()) == [out]


def test_cli_writes_nothing_on_error(tmp_path: Path) -> None:
    spec = _byo(tmp_path)
    spec.write_text(spec.read_text().replace("mine.repression", "mine.repressio"))
    out = tmp_path / "panel.parquet"
    with pytest.raises(ForecastInputError, match="has no column 'repressio'"):
        _cli(["features", "build", "--set", str(spec), "--out", str(out)])
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["byo.yaml", "my_panel.csv"]


def test_cli_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert _cli(["features", "list"]) == 0
    text = capsys.readouterr().out
    assert "ewp-2025-honest" in text and "replication" in text
