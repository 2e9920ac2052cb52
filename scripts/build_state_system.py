"""Regenerate ``forecast/_data/state_system.csv`` from the EWP 2025 workbook.

Usage::

    python scripts/build_state_system.py [--workbook PATH] [--out PATH]

Without ``--workbook`` the workbook is looked up as
``$FORECAST_DATA_DIR/ewp-2025/mk-events-master-list-2025.xlsx``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from forecast.statesystem import build_state_system_csv

WORKBOOK = Path("ewp-2025") / "mk-events-master-list-2025.xlsx"


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, rebuild the CSV and print where it was written."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workbook", type=Path, help="path of mk-events-master-list-2025.xlsx")
    parser.add_argument("--out", type=Path, help="output CSV (default: the package copy)")
    args = parser.parse_args(argv)
    workbook = args.workbook
    if workbook is None:
        data_dir = os.environ.get("FORECAST_DATA_DIR")
        if not data_dir:
            parser.error("pass --workbook or set FORECAST_DATA_DIR")
        workbook = Path(data_dir) / WORKBOOK
    print(build_state_system_csv(workbook, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
