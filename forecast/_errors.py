"""Error types raised for bad user input.

Every message is one line that says what is wrong (the constraint), where
(file, column, rows), what was found, and how to fix it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

__all__ = ["DataNotAvailableError", "ForecastInputError", "format_rows", "input_error"]


class ForecastInputError(ValueError):
    """Bad user input: a file, column, value or spec that breaks a constraint."""


class DataNotAvailableError(FileNotFoundError):
    """A dataset is not in the local cache and the session is offline."""


def format_rows(rows: Iterable[object], limit: int = 5) -> str:
    """Render the first ``limit`` offending rows, e.g. ``[3, 7, 9] (+12 more)``."""
    rows = list(rows)
    shown = ", ".join(str(r) for r in rows[:limit])
    more = f" (+{len(rows) - limit} more)" if len(rows) > limit else ""
    return f"[{shown}]{more}"


def input_error(
    problem: str,
    *,
    source: str | None = None,
    column: str | None = None,
    rows: Sequence[object] | None = None,
    fix: str | None = None,
) -> ForecastInputError:
    """Build a one-line :class:`ForecastInputError`.

    Examples
    --------
    >>> str(input_error("values must be 0, 1 or missing", source="panel.csv",
    ...                 column="onset", rows=[4], fix="recode the outcome"))
    "panel.csv: column 'onset': values must be 0, 1 or missing at rows [4]; fix: recode the outcome"
    """
    parts = []
    if source:
        parts.append(f"{source}:")
    if column:
        parts.append(f"column {column!r}:")
    parts.append(problem)
    message = " ".join(parts)
    if rows is not None and len(rows):
        message += f" at rows {format_rows(rows)}"
    if fix:
        message += f"; fix: {fix}"
    return ForecastInputError(message.replace("\n", " "))
