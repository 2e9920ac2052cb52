"""Editions from outside: a CSV list, the ``ewp-editions`` dataset, a risk list just issued.

The column mapping of each published EWP list lives in the dataset's manifest
(``forecast/_data/manifests/ewp-editions.yaml``, key ``editions``), not in code.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from forecast._errors import input_error
from forecast.data import load_manifest, read_table, verify_file
from forecast.ledger._store import Edition, EditionRecord, Ledger, make_edition
from forecast.ledger._units import match_units

__all__ = ["dataset_editions", "import_list", "parse_window", "record_risklist"]


def parse_window(text: str) -> tuple[int, int]:
    """``"2024-2025"`` (or one year ``"2024"``) as ``(2024, 2025)``."""
    first, _, last = str(text).partition("-")
    try:
        window = (int(first), int(last or first))
    except ValueError:
        raise input_error(
            f"window {text!r} is not 'first-last' years", fix="pass e.g. --window 2024-2025"
        ) from None
    if window[1] < window[0]:
        raise input_error(f"window {text!r} ends before it starts", fix="pass first-last")
    return window


def import_list(
    path: str | Path,
    *,
    source: str,
    data_year: int,
    window: tuple[int, int],
    unit_column: str | None = None,
    prob_column: str = "probability",
    code_column: str | None = None,
    code_system: str = "cow",
    target: str = "any",
    kind: str = "issued",
    model: str = "",
    issued: str = "",
    name: str = "",
) -> Edition:
    """An edition from a CSV (or parquet) list, its units matched to COW codes.

    Rows whose unit matches no state are left out of the list and named in the record's
    ``unmatched`` (see :func:`forecast.ledger.match_units`). ``unit_column`` defaults to
    ``country`` or ``unit``, whichever the file has, unless a code column is given.
    """
    frame = read_table(path)
    if unit_column is None and code_column is None:
        unit_column = next((c for c in ("country", "unit", "name") if c in frame.columns), None)
        if unit_column is None:
            raise input_error(
                "the list has no country, unit or name column",
                source=str(path),
                fix="pass --unit-column (names) or --code-column (COW/GW codes)",
            )
    if prob_column not in frame.columns:
        raise input_error(
            f"no probability column {prob_column!r}",
            source=str(path),
            fix=f"pass --prob-column, one of {list(frame.columns)}",
        )
    return _edition(
        frame,
        data_year=data_year,
        name_column=unit_column,
        code_column=code_column,
        code_system=code_system,
        probability=prob_column,
        record=dict(
            source=source,
            model=model,
            data_year=data_year,
            window=tuple(window),
            target=target,
            kind=kind,
            issued=issued,
            name=name,
            unit_system="cow",
            note=f"imported from {Path(path).name}",
        ),
    )


def _edition(
    frame: pd.DataFrame,
    *,
    data_year: int,
    name_column: str | None,
    code_column: str | None,
    code_system: str,
    probability: str,
    record: dict[str, Any],
) -> Edition:
    matched, unmatched = match_units(
        frame,
        year=data_year,
        name_column=name_column,
        code_column=code_column,
        code_system=code_system,
    )
    risk = pd.to_numeric(matched[probability], errors="coerce")
    unmatched += [
        f"{name} (row {label}): no probability"
        for label, name in matched["name"][risk.isna()].items()
    ]
    matched = matched[risk.notna()]
    listed = pd.DataFrame(
        {
            "unit": matched["code"].astype(str),
            "name": matched["name"],
            "code": matched["code"],
            "probability": matched[probability],
        }
    )
    return make_edition(EditionRecord(**record, unmatched=tuple(unmatched)), listed)


def _edition_specs(name: str) -> list[dict[str, Any]]:
    text = (resources.files("forecast") / "_data" / "manifests" / f"{name}.yaml").read_text()
    specs = yaml.safe_load(text).get("editions")
    if not specs:
        raise input_error(
            f"dataset {name!r} holds no editions", fix="pass a dataset of issued lists"
        )
    return specs


def dataset_editions(name: str = "ewp-editions", root: Path | None = None) -> list[Edition]:
    """The lists of a dataset of published editions (``ewp-editions``), each file verified
    against its pinned sha256 (``forecast data fetch ewp-editions`` gets them)."""
    manifest = load_manifest(name)
    out = []
    for spec in _edition_specs(name):
        frame = read_table(verify_file(manifest, spec["file"], root))
        for column, value in (spec.get("rows") or {}).items():
            frame = frame[frame[column] == value]
        window = (int(spec["window"][0]), int(spec["window"][1]))
        out.append(
            _edition(
                frame,
                data_year=int(spec["data_year"]),
                name_column=spec.get("name"),
                code_column=spec.get("code"),
                code_system="cow",
                probability=spec["probability"],
                record=dict(
                    source="ewp",
                    model="EWP statistical risk assessment",
                    data_year=int(spec["data_year"]),
                    window=window,
                    target=spec["target"],
                    kind=spec["kind"],
                    issued=str(spec["issued"]),
                    name=f"EWP {spec['edition']}",
                    unit_system="cow",
                    note=f"{name}/{spec['file']} column {spec['probability']}",
                ),
            )
        )
    return out


def record_risklist(
    ledger: str | Path,
    latest: Any,
    risk: pd.DataFrame,
    *,
    source: str = "forecast",
) -> Edition:
    """Record a risk list just issued (:func:`forecast.risk.build_risklist` of ``latest``,
    a :class:`forecast.risk.LatestForecast`) in the ledger at ``ledger``."""
    from forecast.backtest import code_version
    from forecast.risk import state_codes

    codes = state_codes(latest.panel, latest.year)
    units = risk["unit"]
    table = pd.DataFrame(
        {
            "unit": units.astype(str),
            "name": risk["name"] if "name" in risk.columns else units.astype(str),
            "code": units.map(codes).astype("Int64"),
            "probability": risk["probability"],
        }
    )
    y, config = int(latest.year), latest.config
    record = EditionRecord(
        source=source,
        model=latest.spec.label,
        data_year=y,
        window=(y + 1, y + int(config.horizon)),
        target="any",
        kind="issued",
        data_digest=latest.dataset_digest,
        code_version=code_version(),
        name=f"{source} {config.name} {latest.spec.label} {y}",
        unit_system="cow" if codes.notna().any() else "",
        note=f"experiment {config.name}, dataset {latest.panel.name}",
    )
    return Ledger(ledger).record(make_edition(record, table))
