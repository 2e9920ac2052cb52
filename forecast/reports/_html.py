"""Small, escaping HTML builders for self-contained pages (no scripts, no network).

Every piece of data that reaches a page goes through :func:`esc` (or a builder
that calls it), so a unit named ``<script>...</script>`` renders as text.
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

__all__ = [
    "PAGE_CSS",
    "esc",
    "figure_html",
    "fmt",
    "key_value_table",
    "page",
    "png_data_uri",
    "table_html",
]

PAGE_CSS = """
:root { --ink: #1b1b1b; --muted: #555; --line: #c8c8c8; --band: #f3f5f7; --accent: #1f4e79; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; color: var(--ink);
       margin: 0 auto; max-width: 1180px; padding: 1.2rem 1.5rem 3rem; line-height: 1.45; }
h1 { font-size: 1.6rem; margin: .2rem 0 .4rem; color: var(--accent); }
h2 { font-size: 1.25rem; margin: 2rem 0 .5rem; border-bottom: 2px solid var(--accent); }
h3 { font-size: 1.05rem; margin: 1.2rem 0 .4rem; }
p.note, .note { color: var(--muted); font-size: .9rem; }
nav ol { columns: 2; font-size: .92rem; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: .86rem; }
th, td { border: 1px solid var(--line); padding: .25rem .5rem; text-align: left;
         vertical-align: top; }
th { background: var(--band); }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.oracle td { font-style: italic; color: var(--muted); }
figure { margin: 1rem 0 1.5rem; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); }
figcaption { font-size: .88rem; color: var(--muted); margin-top: .3rem; }
pre { background: var(--band); padding: .6rem; overflow-x: auto; font-size: .8rem; }
.caught { color: #1a6b2a; font-weight: 600; }
.missed { color: #a4161a; font-weight: 600; }
.up { color: #a4161a; } .down { color: #1a6b2a; }
.tier { font-weight: 600; white-space: nowrap; }
.flags { color: #7a4b00; font-size: .82rem; }
p.lead { font-size: 1.05rem; }
table.risklist { width: 100%; }
table.risklist thead { display: table-header-group; }
table.risklist td { overflow-wrap: break-word; }
table.risklist .name { font-weight: 600; }
.drivers { margin: 0 0 .3rem; font-size: .8rem; line-height: 1.3; }
.drivers .kind { font-size: .68rem; text-transform: uppercase; letter-spacing: .05em;
                 color: var(--muted); }
.drivers ul { margin: 0; padding-left: .9rem; }
table.risklist ul.flags { margin: 0; padding-left: .9rem; font-size: .78rem; }
table.risklist .tier { white-space: normal; }
table.risklist .why { color: var(--muted); font-size: .78rem; }
table.risklist .drivers { min-width: 14rem; }
table.risklist .change { display: block; min-width: 8rem; }
table.risklist ul.flags { min-width: 7.5rem; }
@page { size: A4; margin: 14mm 12mm; }
@page wide { size: A4 landscape; margin: 10mm 10mm; }
.print-wide, body:has(> .print-wide) { page: wide; }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  nav { display: none; }
  h2 { break-after: avoid; page-break-after: avoid; }
  figure, table, tr { break-inside: avoid; page-break-inside: avoid; }
  figure img { max-width: 100%; border: none; }
  a { color: inherit; text-decoration: none; }
  th { background: #eee !important; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  table.risklist { font-size: 7.2pt; break-inside: auto; page-break-inside: auto; }
  table.risklist th, table.risklist td { padding: 1.5pt 3pt; }
  table.risklist .drivers, table.risklist .flags, table.risklist .note { font-size: 6.6pt; }
  .drivers .kind { font-size: 5.8pt; }
  .drivers { margin: 0; }
  .drivers ul, .drivers li { display: inline; padding: 0; }
  .drivers .kind::after { content: " "; }
  .drivers li + li::before { content: " · "; }
  table.risklist ul.flags { font-size: 6.6pt; padding-left: 0; list-style: none;
                            min-width: 22mm; }
  table.risklist .change { display: block; min-width: 34mm; }
  table.risklist .drivers { min-width: 0; }
  table.risklist .why { font-size: 6.6pt; }
  p.lead { font-size: 10.5pt; }
}
"""


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


def key_value_table(items: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> str:
    """Two-column table of labelled values (all escaped)."""
    pairs = items.items() if isinstance(items, Mapping) else items
    rows = "".join(f'<tr><th scope="row">{esc(k)}</th><td>{esc(v)}</td></tr>' for k, v in pairs)
    return f'<table class="kv"><tbody>{rows}</tbody></table>'


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


def page(title: str, body: str, *, subtitle: str = "") -> str:
    """A complete HTML5 document with the print-friendly stylesheet; no scripts."""
    sub = f'<p class="note">{esc(subtitle)}</p>' if subtitle else ""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "img-src data:; style-src 'unsafe-inline'\">"
        f"<title>{esc(title)}</title><style>{PAGE_CSS}</style></head>"
        f"<body><header><h1>{esc(title)}</h1>{sub}</header>{body}</body></html>\n"
    )
