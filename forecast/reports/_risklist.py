"""Risk lists for policy teams: one HTML document, the same document printed to PDF by
Chromium, and a CSV of the same rows."""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from forecast._errors import input_error
from forecast.panel import COUNTRY, UnitNoun
from forecast.reports._html import esc, key_value_table, page, table_html
from forecast.risk import RISKLIST_COLUMNS

__all__ = ["RISKLIST_COLUMNS", "render_risklist"]

_REQUIRED = ("rank", "unit", "probability")
_CSV_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_KINDS = ("structural", "trigger", "mitigating", "history", "other")
_log = logging.getLogger("forecast.reports")


def _check(risk: Any) -> pd.DataFrame:
    if not isinstance(risk, pd.DataFrame):
        raise input_error(
            f"render_risklist: 'risk' must be a DataFrame, got {type(risk).__name__}",
            fix=f"pass a table with columns {list(_REQUIRED)}",
        )
    missing = [c for c in _REQUIRED if c not in risk.columns]
    if missing:
        raise input_error(
            f"render_risklist: 'risk' lacks column(s) {missing}; it has {list(risk.columns)}",
            fix=f"add columns {list(_REQUIRED)}",
        )
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
            raise input_error(
                "render_risklist: values must be probabilities in [0, 1]",
                column=column,
                rows=np.flatnonzero(bad.to_numpy()).tolist(),
                fix="pass probabilities, not percentages or scores",
            )
        frame[column] = values.astype(float)
    return frame.sort_values("rank", kind="stable").reset_index(drop=True)


def _check_sections(sections: Any) -> list[tuple[str, str, str]]:
    out = []
    for item in sections:
        if not (
            isinstance(item, tuple | list)
            and len(item) == 3
            and all(isinstance(part, str) for part in item)
        ):
            raise input_error(
                f"render_risklist: each of 'sections' must be (id, title, html) "
                f"strings, got {item!r}",
                fix="pass ('map', 'Map', '<svg>...')",
            )
        out.append((item[0], item[1], item[2]))
    return out


def _names(frame: pd.DataFrame) -> pd.Series:
    """What readers see for each unit: ``name`` where given, else the unit id."""
    if "name" not in frame.columns:
        return frame["unit"]
    return frame["name"].where(
        frame["name"].notna() & (frame["name"].astype(str) != ""), frame["unit"]
    )


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


_KIND_PREFIX = re.compile(rf"^({'|'.join(_KINDS)}): ")


def _drivers_html(value: Any) -> str:
    """Driver text (kinds separated by ' | ', items by '; ') as one line per item, each kind
    named once in small capitals."""
    text = "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)
    blocks = []
    for part in filter(None, (p.strip() for p in text.split(" | "))):
        match = _KIND_PREFIX.match(part)
        kind, items = (match.group(1), part[match.end() :]) if match else ("", part)
        lines = "".join(f"<li>{esc(item)}</li>" for item in items.split("; ") if item)
        head = f'<span class="kind">{esc(kind)}</span>' if kind else ""
        blocks.append(f'<div class="drivers">{head}<ul>{lines}</ul></div>')
    return "".join(blocks)


def _change(row: Mapping[str, Any]) -> str:
    prev = row.get("previous_probability", np.nan)
    change = row.get("change", np.nan)
    why = row.get("change_drivers", "")
    why = (
        f'<br><span class="why">why: {esc(why)}</span>'
        if isinstance(why, str) and why.strip()
        else ""
    )
    if prev is None or not np.isfinite(prev):
        return '<span class="note">new on the list</span>'
    if change is None or not np.isfinite(change):
        change = row["probability"] - prev
    points = 100 * change
    if abs(points) < 0.05:
        return f'<span>no change</span><br><span class="note">was {esc(_pct(prev))}</span>{why}'
    cls, arrow, word = ("up", "▲", "up") if points > 0 else ("down", "▼", "down")
    return (
        f'<span class="{cls}">{arrow} {word} {abs(points):.1f} pts</span>'
        f'<br><span class="note">was {esc(_pct(prev))}</span>{why}'
    )


def _html_rows(frame: pd.DataFrame, noun: UnitNoun) -> pd.DataFrame:
    cols = set(frame.columns)
    out = pd.DataFrame(
        {
            "Rank": frame["rank"].map(lambda r: esc(int(r)) if pd.notna(r) else ""),
            noun.title: _names(frame).map(lambda n: f'<span class="name">{esc(n)}</span>'),
            "Risk": frame["probability"].map(lambda p: esc(_pct(p))),
        }
    )
    if {"lower", "upper"} <= cols:
        out["Plausible range"] = [
            esc(f"{_pct(lo)} – {_pct(hi)}")
            for lo, hi in zip(frame["lower"], frame["upper"], strict=True)
        ]
    if "tier" in cols:
        out["Tier"] = frame["tier"].map(lambda t: f'<span class="tier">{esc(t)}</span>')
    if "previous_probability" in cols:
        out["Change"] = [
            f'<span class="change">{_change(r)}</span>' for r in frame.to_dict("records")
        ]
    if "drivers_up" in cols:
        out["Raising risk"] = frame["drivers_up"].map(_drivers_html)
    if "drivers_down" in cols:
        out["Lowering risk"] = frame["drivers_down"].map(_drivers_html)
    if "flags" in cols:
        out["Data flags"] = frame["flags"].map(_flags_html)
    return out


def _flags_html(flags: Any) -> str:
    """Data flags (separated by ' | ') as a short list in small print."""
    items = [f for f in ("" if not isinstance(flags, str) else flags).split(" | ") if f.strip()]
    return f'<ul class="flags">{"".join(f"<li>{esc(f)}</li>" for f in items)}</ul>' if items else ""


def _tier_legend(frame: pd.DataFrame) -> str:
    if not {"tier", "tier_meaning"} <= set(frame.columns):
        return ""
    legend = frame.drop_duplicates("tier")[["tier", "tier_meaning"]]
    legend = legend.rename(columns={"tier": "Tier", "tier_meaning": "What it means"})
    return '<section id="tiers"><h2>What the tiers mean</h2>' + table_html(legend) + "</section>"


def _reading_note(frame: pd.DataFrame) -> str:
    cols = set(frame.columns)
    parts = [
        (
            "Risk: estimated probability of a new mass-killing episode starting in the "
            "forecast window."
        )
    ]
    if {"lower", "upper"} <= cols:
        parts.append("Plausible range: the interval the model gives for that probability.")
    if "previous_probability" in cols:
        parts.append("Change: difference from the previous assessment, in percentage points.")
    if "flags" in cols:
        parts.append(
            "Data flags: inputs that are missing this year (filled in) or have not "
            "been updated for some years."
        )
    return " ".join(parts)


def _summary(frame: pd.DataFrame, meta: Mapping[str, Any]) -> str:
    """The first thing a reader sees: the highest risks by name, then the key facts."""
    top = frame.head(10)
    names = [
        f"<strong>{esc(n)}</strong> ({esc(_pct(p))})"
        for n, p in zip(_names(top), top["probability"], strict=True)
    ]
    lead = f'<p class="lead">Highest risk: {", ".join(names)}.</p>' if names else ""
    facts = key_value_table({str(k): v for k, v in meta.items()}) if meta else ""
    return f'<section id="summary">{lead}{facts}</section>'


def _html(
    frame: pd.DataFrame,
    title: str,
    method_note: str,
    meta: Mapping[str, Any],
    sections: Sequence[tuple[str, str, str]],
    footnotes: Sequence[str],
    noun: UnitNoun,
) -> str:
    rows = _html_rows(frame, noun)
    paragraphs = [p.strip() for p in str(method_note).split("\n\n") if p.strip()]
    note = "".join(f"<p>{_text_block(p)}</p>" for p in paragraphs)
    extra = "".join(
        f'<section id="{esc(sid)}"><h2>{esc(heading)}</h2>{html}</section>'
        for sid, heading, html in sections
    )
    notes = (
        ""
        if not footnotes
        else '<section id="notes"><h2>Technical notes</h2><ol class="note">'
        + "".join(f"<li>{esc(n)}</li>" for n in footnotes)
        + "</ol></section>"
    )
    body = [
        '<div class="print-wide">',  # printed on A4 landscape pages: the table is wide
        _summary(frame, meta),
        extra,
        '<section id="list"><h2>Risk list</h2>',
        f'<p class="note">{esc(_reading_note(frame))}</p>',
        table_html(rows, raw_html_columns=list(rows.columns), table_class="risklist"),
        "</section>",
        _tier_legend(frame),
        f'<section id="method"><h2>How this list was made</h2>{note}</section>',
        notes,
        "</div>",
    ]
    return page(title, "".join(body), subtitle=f"{len(frame)} {noun.plural}, ranked by risk")


def _csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Neutralise spreadsheet formulas: text cells starting with = + - @ get a leading quote."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(
                lambda v: "'" + v if isinstance(v, str) and v.startswith(_CSV_TRIGGERS) else v
            )
    return out


def _pdf(html: Path, path: Path) -> Path | None:
    """``html`` printed by Chromium to ``path``; None (and one logged line) without Chromium."""
    from forecast.reports._browser import chromium_path, print_pdf

    try:
        chromium_path()
        return print_pdf(html, path)
    except FileNotFoundError as error:
        _log.warning(f"risklist.pdf not written: {error}")
    except (RuntimeError, OSError) as error:
        _log.warning(f"risklist.pdf not written: Chromium failed ({error})")
    return None


def render_risklist(
    risk: pd.DataFrame,
    out_dir: str | Path,
    *,
    title: str,
    method_note: str,
    meta: Mapping[str, Any],
    pdf: bool = True,
    sections: Sequence[tuple[str, str, str]] = (),
    footnotes: Sequence[str] = (),
    unit_noun: UnitNoun = COUNTRY,
) -> dict[str, Path]:
    """Write a risk list as ``risklist.html``, ``risklist.csv`` and ``risklist.pdf``.

    The page reads top to bottom: a summary (the highest risks by name and the key facts),
    any ``sections``, the list, what the tiers mean, how the list was made and the technical
    notes. The PDF is the same page printed by headless Chromium (A4, the table header
    repeated on every page).

    Parameters
    ----------
    risk : DataFrame
        One row per unit: ``rank``, ``unit``, ``probability`` (required) and
        optionally ``name`` (shown instead of the unit id), ``lower``, ``upper``, ``tier``,
        ``tier_meaning``, ``previous_probability``, ``change`` (probability difference),
        ``change_drivers``, ``drivers_up``, ``drivers_down`` (kinds separated by `` | ``,
        items by ``; ``) and ``flags`` (text). Probabilities must be in [0, 1].
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
        Also print the page to ``risklist.pdf`` with Chromium. Without Chromium no PDF is
        written and one line is logged (``forecast.reports``); that is not an error.
    sections : sequence of (id, title, html)
        Extra sections placed after the summary, e.g. a map. ``html`` is inserted as is:
        it must be markup the caller built and escaped (:func:`forecast.reports._html.esc`);
        ``id`` and ``title`` are escaped here.
    footnotes : sequence of str
        Technical notes listed at the end (method names, hashes), escaped.
    unit_noun : UnitNoun
        What the units are called on the page: the name column's header and the subtitle
        (``Panel.unit_noun``; default "country"). The CSV's columns do not change.

    Returns
    -------
    dict of str to Path
        ``{"html": ..., "csv": ...}`` plus ``"pdf"`` when written. Every
        string is HTML-escaped on the page (the page has no scripts); in the
        CSV, text cells that start with ``= + - @`` get a leading ``'`` so
        that spreadsheets do not run them as formulas.
    """
    frame = _check(risk)
    extra = _check_sections(sections)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"html": out / "risklist.html", "csv": out / "risklist.csv"}
    paths["html"].write_text(
        _html(frame, title, method_note, meta, extra, list(footnotes), unit_noun), encoding="utf-8"
    )
    _csv_safe(frame).to_csv(paths["csv"], index=False)
    if pdf:
        written = _pdf(paths["html"], out / "risklist.pdf")
        if written is not None:
            paths["pdf"] = written
    return paths
