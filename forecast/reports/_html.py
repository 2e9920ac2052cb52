"""Small, escaping HTML builders for the pieces pages embed (no scripts, no network).

Every piece of data these builders put in markup goes through :func:`esc`, so a unit
named ``<script>...</script>`` renders as text; the documents themselves are Jinja2
templates (:mod:`forecast.reports._templates`, autoescape on).
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

__all__ = ["esc", "figure_html", "fmt", "png_data_uri", "table_html"]


def esc(value: Any) -> str:
    """HTML-escape any value as text (quotes included); None and NaN become ``''``."""
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    try:
        if pd.isna(value) is True:
            return ""
    except (TypeError, ValueError):
        pass
    return html.escape(str(value), quote=True)


def fmt(value: Any, digits: int = 3) -> str:
    """Format a number for a table cell: ``digits`` significant decimals, '–' for missing."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:d}"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(number):
        return "–"
    if number.is_integer() and abs(number) >= 1000:
        return f"{number:,.0f}"
    return f"{number:.{digits}f}"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def table_html(
    frame: pd.DataFrame,
    *,
    caption: str | None = None,
    digits: int = 3,
    raw_html_columns: Sequence[str] = (),
    row_classes: Sequence[str] | None = None,
    table_class: str = "",
) -> str:
    """Render a DataFrame as an HTML table, escaping every header and cell.

    ``raw_html_columns`` hold markup built by this module (already escaped);
    numbers are right-aligned and formatted with :func:`fmt`.
    """
    raw = set(raw_html_columns)
    head = "".join(f'<th scope="col">{esc(c)}</th>' for c in frame.columns)
    body = []
    classes = list(row_classes) if row_classes is not None else [""] * len(frame)
    for cls, row in zip(classes, frame.itertuples(index=False, name=None), strict=True):
        cells = []
        for column, value in zip(frame.columns, row, strict=True):
            if column in raw:
                cells.append(f"<td>{value}</td>")
            elif _is_number(value):
                cells.append(f'<td class="num">{esc(fmt(value, digits))}</td>')
            else:
                cells.append(f"<td>{esc(value)}</td>")
        attr = f' class="{esc(cls)}"' if cls else ""
        body.append(f"<tr{attr}>{''.join(cells)}</tr>")
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    tcls = f' class="{esc(table_class)}"' if table_class else ""
    return f"<table{tcls}>{cap}<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def png_data_uri(fig: Any, *, dpi: int = 110) -> str:
    """Render a matplotlib figure to a ``data:image/png;base64,...`` URI."""
    buffer = io.BytesIO()
    fig.savefig(
        buffer, format="png", dpi=dpi, metadata={"Software": None}, pil_kwargs={"compress_level": 4}
    )
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def figure_html(fig: Any, *, alt: str, caption: str, fig_id: str) -> str:
    """An embedded PNG figure with alt text and a visible caption."""
    uri = png_data_uri(fig)
    return (
        f'<figure id="{esc(fig_id)}"><img src="{uri}" alt="{esc(alt)}">'
        f"<figcaption>{esc(caption)}</figcaption></figure>"
    )
