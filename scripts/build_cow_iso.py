"""Regenerate ``forecast/_data/cow_iso.csv``: COW state codes -> ISO 3166-1 numeric, by year.

Usage::

    python scripts/build_cow_iso.py [--ewp-raw DIR] [--iso3166 JSON] [--out PATH]

Sources, and why:

* COW membership spells: the shipped state-system table (``forecast/_data/state_system.csv``,
  itself from the EWP 2025 workbook; see ``forecast.statesystem``). One output row per spell.
* COW code -> ISO 3166-1 alpha-3: the joins the Early Warning Project itself made when it built
  the 2025 panel, read from its replication files ``raw/wdi.csv``, ``raw/un_imr_clean.csv`` and
  ``raw/pwt.csv`` (columns ``ccode`` and ``iso3c``/``iso3``), found under
  ``$FORECAST_DATA_DIR/ewp-2025/raw``. Every code there has exactly one alpha-3 (checked), so
  a state is drawn in the shape of the present-day country the EWP joins its data to
  (Yugoslavia 345 -> Serbia, Czechoslovakia 315 -> Czechia, South Yemen 680 -> Yemen).
* alpha-3 -> numeric: ISO 3166-1 as shipped by Debian's ``iso-codes`` package
  (``/usr/share/iso-codes/json/iso_3166-1.json``; ``apt-get install iso-codes``; pycountry's
  ``databases/iso3166-1.json`` is the same file). Codes that are not ISO (the World Bank's
  ``XKX`` for Kosovo) keep an empty numeric code.

The year-aware part is the COW side: a code maps only in the years it is a member (South
Sudan 626 from 2011; unified Yemen 679 from 1990, the two Yemens before), so the map of a
year draws the states of that year.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import pandas as pd

from forecast.statesystem import StateSystem

RAW_FILES = {"wdi.csv": "iso3c", "un_imr_clean.csv": "iso3c", "pwt.csv": "iso3"}
ISO_JSON = Path("/usr/share/iso-codes/json/iso_3166-1.json")
OUT = Path(__file__).resolve().parents[1] / "forecast" / "_data" / "cow_iso.csv"


def ewp_alpha3(raw: Path) -> dict[int, str]:
    """COW code -> alpha-3 as joined in the EWP raw files; fails on a code with two."""
    parts = []
    for name, column in RAW_FILES.items():
        frame = pd.read_csv(raw / name, usecols=["ccode", column]).dropna()
        parts.append(frame.rename(columns={column: "iso3c"}))
    pairs = pd.concat(parts).astype({"ccode": int}).drop_duplicates()
    clash = pairs[pairs.duplicated("ccode", keep=False)]
    if not clash.empty:
        raise SystemExit(f"COW codes joined to two alpha-3 codes: {clash.to_dict('records')}")
    return dict(zip(pairs["ccode"], pairs["iso3c"], strict=True))


def iso_numeric(path: Path) -> dict[str, str]:
    """ISO 3166-1 alpha-3 -> three-digit numeric code."""
    with path.open(encoding="utf-8") as handle:
        entries = json.load(handle)["3166-1"]
    return {e["alpha_3"]: e["numeric"] for e in entries}


def build(raw: Path, iso_json: Path) -> pd.DataFrame:
    alpha3 = ewp_alpha3(raw)
    numeric = iso_numeric(iso_json)
    cow = StateSystem.load().table.query("system == 'cow'")
    out = pd.DataFrame(
        {
            "cow": cow["code"].astype(int),
            "start_year": cow["start_year"].astype(int),
            "end_year": cow["end_year"].astype("Int64"),
            "name": cow["name"],
        }
    )
    out["iso3c"] = out["cow"].map(alpha3).fillna("")
    out["iso_numeric"] = out["iso3c"].map(numeric).fillna("")
    return (
        out[["cow", "start_year", "end_year", "iso3c", "iso_numeric", "name"]]
        .sort_values(["cow", "start_year"], kind="stable")
        .reset_index(drop=True)
    )


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, rebuild the CSV and print where it was written."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--ewp-raw", type=Path, help="EWP raw folder (default $FORECAST_DATA_DIR/ewp-2025/raw)"
    )
    parser.add_argument(
        "--iso3166",
        type=Path,
        default=ISO_JSON,
        help=f"ISO 3166-1 JSON of iso-codes (default {ISO_JSON})",
    )
    parser.add_argument(
        "--out", type=Path, default=OUT, help="output CSV (default: the package copy)"
    )
    args = parser.parse_args(argv)
    raw = args.ewp_raw
    if raw is None:
        data_dir = os.environ.get("FORECAST_DATA_DIR")
        if not data_dir:
            parser.error("pass --ewp-raw or set FORECAST_DATA_DIR")
        raw = Path(data_dir) / "ewp-2025" / "raw"
    if not args.iso3166.is_file():
        parser.error(f"{args.iso3166} not found: apt-get install iso-codes, or pass --iso3166")
    table = build(raw, args.iso3166)
    table.to_csv(args.out, index=False, lineterminator="\n", encoding="utf-8")
    mapped = table["iso_numeric"] != ""
    print(f"{args.out}: {len(table)} COW spells, {int(mapped.sum())} with an ISO numeric code")
    return 0


if __name__ == "__main__":
    sys.exit(main())
