"""Read a panel file (CSV or parquet) with one-line errors for every way it can be broken."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from forecast._errors import input_error

__all__ = ["read_table"]


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV or parquet file into a DataFrame.

    Raises :class:`~forecast.ForecastInputError` naming the file for a missing, empty,
    malformed or unsupported file.
    """
    path = Path(path)
    if not path.is_file():
        raise input_error("file not found", source=str(path), fix="check the path")
    if path.stat().st_size == 0:
        raise input_error(
            "the file is empty", source=str(path), fix="write a header row and data rows"
        )
    suffix = path.suffix.lower()
    if suffix not in {".parquet", ".csv", ".txt"}:
        raise input_error(
            f"unsupported file type {suffix!r}", source=str(path), fix="use .csv or .parquet"
        )
    try:
        frame = pd.read_parquet(path) if suffix == ".parquet" else pd.read_csv(path)
    except pd.errors.EmptyDataError as error:
        raise input_error(
            "the file has no columns", source=str(path), fix="write a header row and data rows"
        ) from error
    except UnicodeDecodeError:
        data = path.read_bytes()  # the reader counts from its buffer: find the byte itself
        try:
            data.decode("utf-8")
            start = 0
        except UnicodeDecodeError as first:
            start = first.start
        line = data.count(b"\n", 0, start) + 1
        raise input_error(
            f"not UTF-8 text (byte {data[start : start + 1]!r} on line {line})",
            source=str(path),
            fix="save the file as UTF-8 (CSV UTF-8 in a spreadsheet)",
        ) from None
    except pd.errors.ParserError as error:
        detail = str(error).strip().splitlines()[-1]
        raise input_error(
            f"malformed CSV ({detail})",
            source=str(path),
            fix="make every row have as many fields as the header",
        ) from error
    except (OSError, ValueError) as error:
        raise input_error(
            f"cannot read file ({error})",
            source=str(path),
            fix="check the file is a valid CSV or parquet file",
        ) from error
    if frame.empty:
        raise input_error(
            "the file has a header but no rows", source=str(path), fix="add data rows"
        )
    return frame
