"""Risk lists for policy teams: an HTML page, a CSV and a compact PDF of one forecast year."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from forecast._errors import input_error
from forecast._plotting import legend_label as plot_text
from forecast.reports._html import esc, key_value_table, page, table_html

__all__ = ["RISKLIST_COLUMNS", "render_risklist"]

RISKLIST_COLUMNS = ("rank", "unit", "probability", "lower", "upper", "tier", "tier_meaning",
                    "previous_probability", "change", "drivers_up", "drivers_down", "flags")
"""Columns a risk list may carry; ``rank``, ``unit`` and ``probability`` are required."""

_REQUIRED = ("rank", "unit", "probability")
_CSV_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def _check(risk: Any) -> pd.DataFrame:
    if not isinstance(risk, pd.DataFrame):
        raise input_error(f"render_risklist: 'risk' must be a DataFrame, got {type(risk).__name__}",
                          fix=f"pass a table with columns {list(_REQUIRED)}")
    missing = [c for c in _REQUIRED if c not in risk.columns]
    if missing:
        raise input_error(f"render_risklist: 'risk' lacks column(s) {missing}; it has "
                          f"{list(risk.columns)}", fix=f"add columns {list(_REQUIRED)}")
    if risk.empty:
        raise input_error("render_risklist: 'risk' has no rows", fix="pass at least one unit")
    frame = risk.reset_index(drop=True)
    for column in ("probability", "lower", "upper", "previous_probability"):
        if column not in frame.columns:
            continue
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = (values < 0) | (values > 1) | (values.isna() & frame[column].notna())
        if column == "probability":
            bad |= values.isna()
        if bad.any():
            raise input_error("render_risklist: values must be probabilities in [0, 1]",
                              column=column, rows=np.flatnonzero(bad.to_numpy()).tolist(),
                              fix="pass probabilities, not percentages or scores")
        frame[column] = values.astype(float)
    return frame.sort_values("rank", kind="stable").reset_index(drop=True)


def _pct(p: float) -> str:
    if p is None or not math.isfinite(p):
        return "–"
    if 0 < p < 0.001:
        return "<0.1%"
    return f"{100 * p:.1f}%"


def _text_block(value: Any) -> str:
    """Escaped text; line breaks and ' | ' separators become <br>."""
    text = esc(value)
    return text.replace("\n", "<br>").replace(" | ", "<br>")


def _change(row: Mapping[str, Any]) -> str:
    prev = row.get("previous_probability", np.nan)
    change = row.get("change", np.nan)
    if prev is None or not np.isfinite(prev):
        return '<span class="note">new on the list</span>'
    if change is None or not np.isfinite(change):
        change = row["probability"] - prev
    points = 100 * change
    if abs(points) < 0.05:
        return f'<span>no change</span><br><span class="note">was {esc(_pct(prev))}</span>'
    cls, arrow, word = ("up", "▲", "up") if points > 0 else ("down", "▼", "down")
    return (f'<span class="{cls}">{arrow} {word} {abs(points):.1f} pts</span>'
            f'<br><span class="note">was {esc(_pct(prev))}</span>')


def _html_rows(frame: pd.DataFrame) -> pd.DataFrame:
    cols = set(frame.columns)
    out = pd.DataFrame({"Rank": frame["rank"].map(lambda r: esc(int(r)) if pd.notna(r) else ""),
                        "Country": frame["unit"].map(esc),
                        "Risk": frame["probability"].map(lambda p: esc(_pct(p)))})
    if {"lower", "upper"} <= cols:
        out["Plausible range"] = [esc(f"{_pct(lo)} – {_pct(hi)}")
                                  for lo, hi in zip(frame["lower"], frame["upper"], strict=True)]
    if "tier" in cols:
        out["Tier"] = frame["tier"].map(lambda t: f'<span class="tier">{esc(t)}</span>')
    if "previous_probability" in cols:
        out["Change"] = [_change(r) for r in frame.to_dict("records")]
    if "drivers_up" in cols:
        out["Raising risk"] = frame["drivers_up"].map(_text_block)
    if "drivers_down" in cols:
        out["Lowering risk"] = frame["drivers_down"].map(_text_block)
    if "flags" in cols:
        out["Data flags"] = frame["flags"].map(
            lambda f: f'<span class="flags">{_text_block(f)}</span>')
    return out


def _tier_legend(frame: pd.DataFrame) -> str:
    if not {"tier", "tier_meaning"} <= set(frame.columns):
        return ""
    legend = frame.drop_duplicates("tier")[["tier", "tier_meaning"]]
    legend = legend.rename(columns={"tier": "Tier", "tier_meaning": "What it means"})
    return "<h2>What the tiers mean</h2>" + table_html(legend)


def _reading_note(frame: pd.DataFrame) -> str:
    cols = set(frame.columns)
    parts = [("Risk: estimated probability of a new mass-killing episode starting in the "
              "forecast window.")]
    if {"lower", "upper"} <= cols:
        parts.append("Plausible range: the interval the model gives for that probability.")
    if "previous_probability" in cols:
        parts.append("Change: difference from the previous assessment, in percentage points.")
    if "flags" in cols:
        parts.append("Data flags: inputs that were filled in (imputed) or are out of date (stale).")
    return " ".join(parts)


def _html(frame: pd.DataFrame, title: str, method_note: str, meta: Mapping[str, Any]) -> str:
    rows = _html_rows(frame)
    paragraphs = [p.strip() for p in str(method_note).split("\n\n") if p.strip()]
    note = "".join(f"<p>{_text_block(p)}</p>" for p in paragraphs)
    body = [
        f"<section id=\"about\">{key_value_table({str(k): v for k, v in meta.items()})}</section>"
        if meta else "",
        '<section id="list"><h2>Risk list</h2>',
        table_html(rows, raw_html_columns=list(rows.columns), table_class="risklist"),
        f'<p class="note">{esc(_reading_note(frame))}</p></section>',
        _tier_legend(frame),
        f'<section id="method"><h2>How this list was made</h2>{note}</section>',
    ]
    return page(title, "".join(body), subtitle=f"{len(frame)} countries, ranked by risk")


def _csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Neutralise spreadsheet formulas: text cells starting with = + - @ get a leading quote."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(
                lambda v: "'" + v if isinstance(v, str) and v.startswith(_CSV_TRIGGERS) else v)
    return out


def _clip(text: Any, width: int) -> str:
    text = "" if text is None or (isinstance(text, float) and math.isnan(text)) else str(text)
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _pdf(frame: pd.DataFrame, path: Path, title: str, meta: Mapping[str, Any]) -> Path:
    """A compact A4 table (rank, country, risk, range, tier, change, flags), 45 rows a page."""
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure

    cols = ["Rank", "Country", "Risk"]
    cells = [[str(int(r)), _clip(u, 30), _pct(p)]
             for r, u, p in zip(frame["rank"], frame["unit"], frame["probability"], strict=True)]
    if {"lower", "upper"} <= set(frame.columns):
        cols.append("Range")
        for row, lo, hi in zip(cells, frame["lower"], frame["upper"], strict=True):
            row.append(f"{_pct(lo)}–{_pct(hi)}")
    for column, name in (("tier", "Tier"), ("change", "Change (pts)"), ("flags", "Data flags")):
        if column in frame.columns:
            cols.append(name)
            for row, v in zip(cells, frame[column], strict=True):
                if column == "change":
                    text = "–" if pd.isna(v) else f"{100 * float(v):+.1f}"
                    row.append("0.0" if text in ("-0.0", "+0.0") else text)
                else:
                    row.append(_clip(v, 44))
    cells = [[plot_text(c) for c in row] for row in cells]
    per_page = 45
    with PdfPages(path, metadata={"Title": title, "Creator": "forecast.reports"}) as pdf:
        for start in range(0, len(cells), per_page):
            fig = Figure(figsize=(8.27, 11.69))
            fig.text(0.06, 0.96, plot_text(title), fontsize=13, weight="bold")
            info = "; ".join(f"{k}: {v}" for k, v in meta.items())
            fig.text(0.06, 0.935, plot_text(_clip(info, 150)), fontsize=7.5)
            ax = fig.add_axes((0.04, 0.05, 0.92, 0.86))
            ax.axis("off")
            chunk = cells[start:start + per_page]
            table = ax.table(cellText=chunk, colLabels=cols, loc="upper center", cellLoc="left")
            table.auto_set_font_size(False)
            table.set_fontsize(7)
            table.scale(1, 1.35)
            table.auto_set_column_width(list(range(len(cols))))
            fig.text(0.5, 0.02, f"page {start // per_page + 1}; full drivers and method note in "
                                "risklist.html", ha="center", fontsize=7)
            pdf.savefig(fig)
    return path


def render_risklist(
    risk: pd.DataFrame,
    out_dir: str | Path,
    *,
    title: str,
    method_note: str,
    meta: Mapping[str, Any],
    pdf: bool = True,
) -> dict[str, Path]:
    """Write a risk list as ``risklist.html``, ``risklist.csv`` and ``risklist.pdf``.

    Parameters
    ----------
    risk : DataFrame
        One row per unit: ``rank``, ``unit``, ``probability`` (required) and
        optionally ``lower``, ``upper``, ``tier``, ``tier_meaning``,
        ``previous_probability``, ``change`` (probability difference),
        ``drivers_up``, ``drivers_down`` and ``flags`` (text). Probabilities
        must be in [0, 1].
    out_dir : path
        Folder to write into (created if missing).
    title : str
        Page title, e.g. "Statistical risk assessment 2025".
    method_note : str
        Plain-language explanation shown on the page; blank lines separate
        paragraphs.
    meta : mapping
        Facts shown at the top (forecast year, model, data version, ...).
    pdf : bool
        Also write a compact PDF table (matplotlib ``PdfPages``).

    Returns
    -------
    dict of str to Path
        ``{"html": ..., "csv": ...}`` plus ``"pdf"`` when written. Every
        string is HTML-escaped on the page (the page has no scripts); in the
        CSV, text cells that start with ``= + - @`` get a leading ``'`` so
        that spreadsheets do not run them as formulas.
    """
    frame = _check(risk)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"html": out / "risklist.html", "csv": out / "risklist.csv"}
    paths["html"].write_text(_html(frame, title, method_note, meta), encoding="utf-8")
    _csv_safe(frame).to_csv(paths["csv"], index=False)
    if pdf:
        paths["pdf"] = _pdf(frame, out / "risklist.pdf", title, meta)
    return paths
