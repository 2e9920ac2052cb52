"""The ledger folder: one CSV per edition and a JSON index, written atomically.

Layout (docs/design/0014-editions-ledger.md)::

    <ledger>/index.json              {"editions": [record, ...]}, one record per edition
    <ledger>/editions/<id>.csv       the list: rank, unit, name, code, probability

An edition's id is the first 16 hex digits of the sha256 of its content (source, model,
data year, window, target, kind, data digest, code version and the list itself), so
recording the same list twice keeps one edition. Every file is written to a temporary
file beside it and moved into place (:func:`forecast._files.atomic_path`): an interrupted
write leaves the previous ledger.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from forecast._errors import input_error
from forecast._files import atomic_path, atomic_write_bytes

__all__ = ["LEDGER_ENV", "Edition", "EditionRecord", "Ledger", "edition_id", "ledger_dir"]

LEDGER_ENV = "FORECAST_LEDGER_DIR"
LIST_COLUMNS = ("rank", "unit", "name", "code", "probability")
Target = Literal["any", "state-led"]
Kind = Literal["issued", "rerun", "backtest"]


def ledger_dir(tracking_uri: str | None = None) -> Path:
    """Where the ledger lives: ``$FORECAST_LEDGER_DIR``, else ``ledger/`` beside the tracking
    store (the folder of a ``sqlite:///.../mlflow.db``, else the working directory)."""
    env = os.environ.get(LEDGER_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    uri = tracking_uri or os.environ.get("MLFLOW_TRACKING_URI") or ""
    if uri.startswith("sqlite:///"):
        return Path(uri.removeprefix("sqlite:///")).expanduser().parent / "ledger"
    return Path.cwd() / "ledger"


@dataclass(frozen=True)
class EditionRecord:
    """What an edition is: who issued which list, on which data, for which window."""

    source: str
    model: str
    data_year: int
    window: tuple[int, int]
    target: Target = "any"
    kind: Kind = "issued"
    data_digest: str = ""
    code_version: str = ""
    issued: str = ""
    name: str = ""
    unit_system: str = ""
    unmatched: tuple[str, ...] = ()
    note: str = ""
    edition_id: str = ""

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["window"] = list(self.window)
        out["unmatched"] = list(self.unmatched)
        return out

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> EditionRecord:
        raw = dict(raw)
        raw["window"] = tuple(int(y) for y in raw["window"])
        raw["unmatched"] = tuple(raw.get("unmatched", ()))
        raw["data_year"] = int(raw["data_year"])
        return cls(**{k: v for k, v in raw.items() if k in cls.__dataclass_fields__})

    @property
    def label(self) -> str:
        return self.name or f"{self.source} {self.data_year}"


@dataclass(frozen=True)
class Edition:
    """One issued list: its record and its table (:data:`LIST_COLUMNS`, ranked)."""

    record: EditionRecord
    table: pd.DataFrame = field(repr=False)


def _list_table(table: pd.DataFrame) -> pd.DataFrame:
    """The list in canonical form: ranked by probability (ties share the best rank)."""
    out = pd.DataFrame(
        {
            "unit": table["unit"].astype(str),
            "name": (table["name"] if "name" in table else table["unit"]).astype(str),
            "code": pd.to_numeric(
                table["code"] if "code" in table else pd.Series(pd.NA, index=table.index),
                errors="coerce",
            ).astype("Int64"),
            "probability": pd.to_numeric(table["probability"], errors="coerce").astype(float),
        }
    )
    bad = out["probability"].isna() | ~out["probability"].between(0, 1)
    if bad.any():
        raise input_error(
            f"{int(bad.sum())} list rows have no probability in [0, 1]",
            rows=out.loc[bad, "unit"].tolist()[:10],
            fix="pass probabilities in [0, 1] for every unit of the list",
        )
    out["rank"] = out["probability"].rank(ascending=False, method="min").astype(int)
    out = out.sort_values(["rank", "unit"], kind="stable").reset_index(drop=True)
    return out.loc[:, list(LIST_COLUMNS)]


def edition_id(record: EditionRecord, table: pd.DataFrame) -> str:
    """Content address of an edition: sha256 of its record (without the issue time, the
    display name and the id) and its list, first 16 hex digits."""
    keyed = record.as_json()
    for key in ("issued", "name", "edition_id", "note"):
        keyed.pop(key)
    digest = hashlib.sha256(json.dumps(keyed, sort_keys=True).encode())
    digest.update(_list_table(table).to_csv(index=False, lineterminator="\n").encode())
    return digest.hexdigest()[:16]


def make_edition(record: EditionRecord, table: pd.DataFrame) -> Edition:
    """An :class:`Edition` with its list canonical and its id (and issue time) filled in."""
    listed = _list_table(table)
    issued = record.issued or datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    stamped = EditionRecord(**{**asdict(record), "issued": issued, "edition_id": ""})
    return Edition(
        EditionRecord(**{**asdict(stamped), "edition_id": edition_id(stamped, listed)}), listed
    )


class Ledger:
    """The editions recorded in folder ``root`` (created on the first record).

    Parameters
    ----------
    root : path
        The ledger folder, e.g. :func:`ledger_dir`.
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    @property
    def index_path(self) -> Path:
        return self.root / "index.json"

    def records(self) -> list[EditionRecord]:
        """Every recorded edition's record, oldest first (empty for a new ledger)."""
        if not self.index_path.is_file():
            return []
        try:
            raw = json.loads(self.index_path.read_text(encoding="utf-8"))
            return [EditionRecord.from_json(r) for r in raw["editions"]]
        except (ValueError, KeyError, TypeError) as error:
            raise input_error(
                f"the ledger index is not readable ({error})",
                source=str(self.index_path),
                fix="restore index.json from a backup or move the folder away",
            ) from None

    def editions(self) -> list[Edition]:
        """Every recorded edition with its list."""
        out = []
        for record in self.records():
            path = self.root / "editions" / f"{record.edition_id}.csv"
            if not path.is_file():
                raise input_error(
                    f"edition {record.edition_id} is in the index but its list is missing",
                    source=str(path),
                    fix="restore the file or remove the edition from index.json",
                )
            table = pd.read_csv(path, dtype={"unit": str, "name": str})
            table["code"] = table["code"].astype("Int64")
            out.append(Edition(record, table))
        return out

    def record(self, edition: Edition) -> Edition:
        """Add ``edition`` (made by :func:`make_edition`); an edition already there is kept
        as it is. Returns the edition as stored."""
        known = {r.edition_id: r for r in self.records()}
        if edition.record.edition_id in known:
            return Edition(known[edition.record.edition_id], edition.table)
        path = self.root / "editions" / f"{edition.record.edition_id}.csv"
        with atomic_path(path) as tmp:
            edition.table.to_csv(tmp, index=False, lineterminator="\n")
        records = [*known.values(), edition.record]
        text = json.dumps({"editions": [r.as_json() for r in records]}, indent=1)
        atomic_write_bytes(self.index_path, (text + "\n").encode())
        return edition
