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


def _text(value: Any) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


_KIND_PREFIX = re.compile(rf"^({'|'.join(_KINDS)}): ")


def _drivers(value: Any) -> list[dict[str, Any]]:
    """Driver text (kinds separated by ' | ', items by '; ') as ``[{kind, items}]``."""
    blocks = []
    for part in filter(None, (p.strip() for p in _text(value).split(" | "))):
        match = _KIND_PREFIX.match(part)
        kind, items = (match.group(1), part[match.end() :]) if match else ("", part)
        blocks.append({"kind": kind, "items": [i for i in items.split("; ") if i]})
    return blocks


def _change(row: Mapping[str, Any]) -> dict[str, Any]:
    prev = row.get("previous_probability", np.nan)
    change = row.get("change", np.nan)
    why = row.get("change_drivers", "")
    out: dict[str, Any] = {"why": why.strip() if isinstance(why, str) else ""}
    if prev is None or not np.isfinite(prev):
        return {**out, "kind": "new"}
    if change is None or not np.isfinite(change):
        change = row["probability"] - prev
    points = 100 * change
    kind = "same" if abs(points) < 0.05 else "up" if points > 0 else "down"
    return {**out, "kind": kind, "points": f"{abs(points):.1f}", "was": _pct(prev)}


def _rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """One plain record per unit for the template (text only: the template escapes it)."""
    cols = set(frame.columns)
    rows = []
    for name, row in zip(_names(frame), frame.to_dict("records"), strict=True):
        rows.append(
            {
                "rank": int(row["rank"]) if pd.notna(row["rank"]) else "",
                "name": _text(name),
                "risk": _pct(row["probability"]),
                "range": f"{_pct(row['lower'])} – {_pct(row['upper'])}"
                if {"lower", "upper"} <= cols
                else "",
                "tier": _text(row.get("tier")),
                "change": _change(row) if "previous_probability" in cols else None,
                "up": _drivers(row.get("drivers_up")),
                "down": _drivers(row.get("drivers_down")),
                "flags": [f for f in _text(row.get("flags")).split(" | ") if f.strip()],
            }
        )
    return rows


def _html(
    frame: pd.DataFrame,
    title: str,
    method_note: str,
    meta: Mapping[str, Any],
    sections: Sequence[tuple[str, str, str]],
    footnotes: Sequence[str],
    noun: UnitNoun,
    intro: Mapping[str, Any] | None,
) -> str:
    from forecast.reports._templates import Markup, render

    cols = set(frame.columns)
    legend = (
        frame.drop_duplicates("tier")[["tier", "tier_meaning"]].to_dict("records")
        if {"tier", "tier_meaning"} <= cols
        else []
    )
    top = frame.head(10)
    return render(
        "risklist.html.j2",
        title=title,
        subtitle=f"{len(frame)} {noun.plural}, ranked by risk",
        noun=noun,
        top=[(_text(n), _pct(p)) for n, p in zip(_names(top), top["probability"], strict=True)],
        meta={str(k): _text(v) for k, v in meta.items()},
        intro=intro,
        sections=[(sid, heading, Markup(html)) for sid, heading, html in sections],
        columns={
            "range": {"lower", "upper"} <= cols,
            "tier": "tier" in cols,
            "change": "previous_probability" in cols,
            "up": "drivers_up" in cols,
            "down": "drivers_down" in cols,
            "flags": "flags" in cols,
        },
        rows=_rows(frame),
        legend=legend,
        method=[
            [line for line in p.strip().replace(" | ", "\n").split("\n")]
            for p in str(method_note).split("\n\n")
            if p.strip()
        ],
        footnotes=list(footnotes),
    )


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
    intro: Mapping[str, Any] | None = None,
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
    intro : mapping, optional
        What the number is, shown first (:func:`forecast.risk.intro_context` of
        :func:`forecast.risk.list_intro`): ``definition``, ``first_year``, ``last_year``,
        ``interval_kind``, ``level``, ``expected``, ``n_units``, ``no_forecast``, ``past``
        and ``reliability``. Without it the page opens with the highest risks.

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
        _html(frame, title, method_note, meta, extra, list(footnotes), unit_noun, intro),
        encoding="utf-8",
    )
    _csv_safe(frame).to_csv(paths["csv"], index=False)
    if pdf:
        written = _pdf(paths["html"], out / "risklist.pdf")
        if written is not None:
            paths["pdf"] = written
    return paths
