"""Readers for raw sources: each returns a tidy table keyed by ``unit`` and ``year``.

Built-in datasets read the EWP 2025 replication files under ``<data dir>/ewp-2025/``.
Parsed tables are cached per process (keyed by path, size and modification time).
Feature-set specs may also declare their own CSV/parquet files (bring your own data),
neighbour tables (unit, neighbour pairs) and registered datasets of
:func:`forecast.data.load_dataset` with options (e.g. the grid flavour of the synthetic
world). Readers given ``columns`` keep only those (plus the keys).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from forecast._errors import DataNotAvailableError, ForecastInputError, input_error
from forecast.panel import FIRST_YEAR, LAST_YEAR, calendar_years

__all__ = [
    "BUILTIN",
    "SourceInfo",
    "data_root",
    "dataset_names",
    "load_builtin",
    "load_neighbour_table",
    "load_registered",
    "load_user_table",
    "project",
]

EWP_DIR = "ewp-2025"


def data_root(data_dir: str | Path | None = None) -> Path:
    """Folder holding ``ewp-2025/``: ``data_dir``, else ``$FORECAST_DATA_DIR``, else the cache."""
    if data_dir is not None:
        return Path(data_dir).expanduser()
    from forecast.data import data_dir as default_dir

    return default_dir()


@dataclass(frozen=True)
class SourceInfo:
    """A built-in dataset: the files it reads and a reader returning a tidy table."""

    name: str
    files: tuple[str, ...]
    reader: Callable[..., pd.DataFrame]
    description: str
    events: bool = False


def _csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, low_memory=False)


_NAMES = "ewp-2025/countrynamesheet_complete.csv"


def _names(path: Path) -> dict[str, int]:
    names = _csv(path)
    return dict(zip(names["country"], names["ccode"].astype(int)))


def _keyed(frame: pd.DataFrame, unit: str = "ccode", year: str = "year") -> pd.DataFrame:
    """Drop rows without a unit code (regional aggregates) and use int ``unit``/``year``."""
    frame = frame[frame[unit].notna()].copy()
    frame.insert(0, "unit", frame.pop(unit).astype(np.int64))
    frame.insert(1, "year", frame.pop(year).astype(np.int64))
    return frame.reset_index(drop=True)


def _read_base(paths: list[Path]) -> pd.DataFrame:
    frame = _csv(paths[0]).drop(columns=["Unnamed: 0"], errors="ignore")
    return _keyed(frame)


def _read_plain(paths: list[Path]) -> pd.DataFrame:
    return _keyed(_csv(paths[0]))


def _read_by_name(name_column: str, year_column: str) -> Callable[[list[Path]], pd.DataFrame]:
    def read(paths: list[Path]) -> pd.DataFrame:
        frame = _csv(paths[0])
        names = _names(paths[1])
        frame["ccode"] = frame[name_column].map(names)
        return _keyed(frame, year=year_column)

    return read


def _read_vdem(paths: list[Path]) -> pd.DataFrame:
    import pyreadr

    frame = next(iter(pyreadr.read_r(str(paths[0])).values()))
    frame = frame.rename(columns={"COWcode": "ccode"})
    frame["ccode"] = pd.to_numeric(frame["ccode"], errors="coerce")
    # V-Dem codes West Germany 260 (1949-1990); the EWP panel uses 255 for Germany.
    frame.loc[frame["ccode"] == 260, "ccode"] = 255
    return _keyed(frame)


def _read_events(paths: list[Path]) -> pd.DataFrame:
    return pd.read_excel(paths[0], sheet_name="mk_events")


def _read_synthetic(paths: list[Path]) -> pd.DataFrame:
    from forecast.data.synthetic import DEFAULT_SEED, generate_synthetic_world

    return generate_synthetic_world(DEFAULT_SEED)


_RAW = "ewp-2025/raw/"
BUILTIN: dict[str, SourceInfo] = {
    s.name: s
    for s in (
        SourceInfo(
            "base",
            ("ewp-2025/basedata2025_4august2025.csv",),
            _read_base,
            "EWP country-year skeleton 1934-2024 with episode variables (key ccode)",
        ),
        SourceInfo(
            "episodes",
            ("ewp-2025/mk-events-master-list-2025.xlsx",),
            _read_events,
            "EWP mass-killing episode list (sheet mk_events) -> onset/ongoing/ever",
            True,
        ),
        SourceInfo("coups", (_RAW + "all-coups.csv",), _read_plain, "coup attempts (cou.any)"),
        SourceInfo(
            "battledeaths",
            (_RAW + "battledeaths.csv", _NAMES),
            _read_by_name("country", "year"),
            "UCDP battle deaths per country-year",
        ),
        SourceInfo(
            "epr",
            (_RAW + "epr-clean.csv",),
            _read_plain,
            "EPR share of population politically discriminated (discrimpop)",
        ),
        SourceInfo(
            "hief",
            (_RAW + "hief.csv", _NAMES),
            _read_by_name("Country", "Year"),
            "HIEF ethnic fractionalization (efindex), merged by country name",
        ),
        SourceInfo("wdi", (_RAW + "wdi.csv",), _read_plain, "World Bank WDI extract"),
        SourceInfo(
            "un_imr",
            (_RAW + "un_imr_clean.csv",),
            _read_plain,
            "UN WPP infant mortality per 1,000 (un_imr)",
        ),
        SourceInfo(
            "maddison",
            (_RAW + "maddison.csv",),
            _read_plain,
            "Maddison GDP per capita and population",
        ),
        SourceInfo("pwt", (_RAW + "pwt.csv",), _read_plain, "Penn World Table extract"),
        SourceInfo("iccpr", (_RAW + "iccpr-data.csv",), _read_plain, "ICCPR ratification"),
        SourceInfo("regions", (_RAW + "reg-data.csv",), _read_plain, "region dummies"),
        SourceInfo(
            "mitchell_imr",
            (_RAW + "mitchell-imr.csv",),
            _read_plain,
            "Mitchell historical infant mortality",
        ),
        SourceInfo("vdem", (_RAW + "vdem.Rdata",), _read_vdem, "V-Dem extract (ordinal codings)"),
        SourceInfo(
            "synthetic",
            (),
            _read_synthetic,
            "embedded synthetic world (forecast.data.synthetic, default seed; key unit)",
        ),
        SourceInfo(
            "vdem11",
            (_RAW + "vdem11.Rdata",),
            _read_vdem,
            "V-Dem v11 extract (e_migdppc, e_migdpgro)",
        ),
    )
}


def dataset_names() -> list[str]:
    """Names of the built-in datasets."""
    return sorted(BUILTIN)


@functools.lru_cache(maxsize=64)
def _cached(name: str, paths: tuple[str, ...], stamp: tuple[tuple[int, int], ...]) -> pd.DataFrame:
    return BUILTIN[name].reader([Path(p) for p in paths])


def load_builtin(name: str, root: Path, *, where: str | None = None) -> pd.DataFrame:
    """Tidy table of built-in dataset ``name`` (a cached copy; do not modify in place)."""
    if name not in BUILTIN:
        raise input_error(
            f"unknown dataset {name!r}; valid datasets: "
            f"{', '.join(dataset_names())} (or declare it under datasets:)",
            source=where,
            fix="use a listed name or declare your own file",
        )
    info = BUILTIN[name]
    paths = [root / f for f in info.files]
    missing = [p for p in paths if not p.is_file()]
    if missing:
        raise DataNotAvailableError(
            f"{missing[0]} is missing (dataset {name!r}); fix: run `forecast data fetch "
            f"ewp-2025` or put the EWP 2025 files in {root / EWP_DIR} (set FORECAST_DATA_DIR "
            f"to the folder that contains ewp-2025/)"
        )
    stamp = tuple((p.stat().st_size, p.stat().st_mtime_ns) for p in paths)
    return _cached(name, tuple(str(p) for p in paths), stamp)


def project(frame: pd.DataFrame, columns: set[str] | None, keys: tuple[str, ...]) -> pd.DataFrame:
    """``frame`` limited to ``keys`` and ``columns`` (all when ``columns`` is None).

    When a column is missing the frame is returned whole, so that the build's error lists
    the columns there are. With pandas copy-on-write the projection copies no data.
    """
    if columns is None or not columns <= set(frame.columns):
        return frame
    keep = [c for c in frame.columns if c in keys or c in columns]
    return frame if len(keep) == len(frame.columns) else frame[keep]


def _read_declared(
    path: Path, keys: tuple[str, str], *, what: str, spec_keys: str, where: str
) -> pd.DataFrame:
    """A file declared under ``datasets:``, read whole; one-line errors when it is missing or
    lacks a key column (the fix names ``spec_keys``, the spec entries that name them)."""
    from forecast.data import read_table

    if not path.is_file():
        raise input_error(
            f"declared {what} not found",
            source=f"{where}: {path}",
            fix="correct the path (relative paths are relative to the spec)",
        )
    frame = read_table(path)
    for column in keys:
        if column not in frame.columns:
            header = str(frame.columns[0])
            separator = next((s for s in ";\t|" if s in header), None)
            raise input_error(
                f"key column {column!r} is missing (columns: "
                f"{', '.join(map(str, frame.columns[:15]))})",
                source=f"{where}: {path}",
                fix=f"correct {spec_keys} in the spec"
                if len(frame.columns) > 1 or separator is None
                else f"separate the columns with commas, not {separator!r}",
            )
    return frame


def load_user_table(
    path: Path, unit: str, year: str, *, where: str, columns: set[str] | None = None
) -> pd.DataFrame:
    """Read a declared CSV/parquet file and rename its key columns to ``unit``/``year``.

    ``columns``: the value columns the spec reads (None: all); the others are dropped.
    """
    frame = _read_declared(
        path, (unit, year), what="dataset file", spec_keys="unit:/year:", where=where
    )
    bad = ~calendar_years(frame[year])
    if bad.any():
        raise input_error(
            f"years must be whole numbers in {FIRST_YEAR}..{LAST_YEAR}, got "
            f"{frame.loc[bad, year].tolist()[0]!r}",
            source=str(path),
            column=year,
            rows=[f"{u}/{y}" for u, y in frame.loc[bad, [unit, year]].itertuples(index=False)],
            fix="store years such as 1994",
        )
    frame = project(frame, columns, (unit, year)).rename(columns={unit: "unit", year: "year"})
    frame["year"] = pd.to_numeric(frame["year"]).astype(np.int64)
    return frame


def load_neighbour_table(path: Path, unit: str, neighbour: str, *, where: str) -> pd.DataFrame:
    """Read a declared neighbour table: columns ``unit`` and ``neighbour``, one row a pair."""
    frame = _read_declared(
        path, (unit, neighbour), what="neighbour table", spec_keys="unit:/neighbour:", where=where
    )
    pairs = frame[[unit, neighbour]].set_axis(["unit", "neighbour"], axis=1)
    missing = pairs.isna().any(axis=1).to_numpy()
    if missing.any():
        raise input_error(
            "a pair has a missing unit or neighbour",
            source=f"{where}: {path}",
            rows=list(np.flatnonzero(missing) + 2),  # file lines (after the header)
            fix="fill or drop the incomplete pairs",
        )
    return pairs


def load_registered(
    name: str, options: dict, *, where: str, columns: set[str] | None = None
) -> pd.DataFrame:
    """The frame of registered dataset ``name`` (:func:`forecast.data.load_dataset` with
    ``options``), its key columns renamed ``unit``/``year``, limited to ``columns``."""
    from forecast.data import load_dataset

    try:
        panel = load_dataset(name, **options)
    except ForecastInputError as error:
        raise ForecastInputError(f"{where}: dataset {name!r}: {error}") from error
    except TypeError as error:  # e.g. an unhashable option value
        raise input_error(
            f"dataset {name!r}: bad options {options!r} ({error})",
            source=where,
            fix="give options as plain numbers and names",
        ) from error
    frame = project(panel.frame, columns, (panel.unit, panel.year))
    return frame.rename(columns={panel.unit: "unit", panel.year: "year"})
