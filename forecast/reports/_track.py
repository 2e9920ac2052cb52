"""The track record of past warning lists as HTML (report section and risk-list section).

Numbers come from :func:`forecast.metrics.track_record`; this module only words and lays
them out. Also the number formats of the report's first screen: three significant digits.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

from forecast.metrics import TrackRecord
from forecast.panel import COUNTRY, UnitNoun
from forecast.reports._html import esc, table_html

__all__ = ["pct", "sig", "track_record_html", "track_record_section", "track_record_sentence"]

SECTION_ID = "track-record"


def sig(value: Any, digits: int = 3, *, sign: bool = False) -> str:
    """``value`` with ``digits`` significant digits (no exponent), '–' when missing.

    >>> sig(0.853214), sig(0.012345), sig(1234.5), sig(0.01, sign=True)
    ('0.853', '0.0123', '1,230', '+0.0100')
    """
    try:
        x = float(value)
    except (TypeError, ValueError):
        return "–"
    if not math.isfinite(x):
        return "–"
    if x == 0:
        return "0"
    rounded = float(f"{x:.{digits}g}")
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(rounded))))
    text = f"{rounded:,.{decimals}f}"
    return f"+{text}" if sign and rounded > 0 else text


def pct(value: Any, digits: int = 3) -> str:
    """A share as a percentage with ``digits`` significant digits: ``0.0752 -> '7.52%'``."""
    try:
        x = 100 * float(value)
    except (TypeError, ValueError):
        return "–"
    return f"{sig(x, digits)}%" if math.isfinite(x) else "–"


def within(horizon: int) -> str:
    """``within two years``: the outcome window in words."""
    words = {1: "within a year", 2: "within two years", 3: "within three years"}
    return words.get(int(horizon), f"within {int(horizon)} years")


def _span(first: Any, last: Any) -> str:
    return f"{int(first)}" if int(first) == int(last) else f"{int(first)}–{int(last)}"


def track_record_sentence(record: TrackRecord, model: str, unit_noun: UnitNoun = COUNTRY) -> str:
    """One plain sentence: what ``model``'s past top-k lists caught (text, not escaped);
    ``unit_noun`` names the units ("listed countries")."""
    summary = record.summary()
    row = summary[summary["model"] == model]
    if row.empty:
        return (
            f"{model} has no past top-{record.k} list whose outcome window is fully "
            f"observed (data to {record.data_end})."
        )
    r = row.iloc[0]
    lists = int(r["lists"])
    caught = (
        f"caught {int(r['listed_onsets'])} of the {int(r['onsets'])} list-windows with an "
        f"onset ({pct(r['recall'])})"
        if r["onsets"]
        else "had no onset in their windows"
    )
    if "onset_events" in r.index and r["onset_events"]:
        caught = (
            f"caught {int(r['caught_events'])} of the {int(r['onset_events'])} onsets in "
            f"their windows ({pct(r['event_recall'])}; each onset once, caught when its "
            f"{unit_noun.singular} was on a list whose window holds it)"
        )
    return (
        f"The top-{record.k} lists of {model} at {lists} past origin"
        f"{'s' if lists != 1 else ''} ({_span(r['first_origin'], r['last_origin'])}) "
        f"{caught}; {pct(r['precision'])} of listed {unit_noun.plural} had an onset "
        f"{within(record.horizon)}, against {pct(r['rest_rate'])} of the others."
    )


def _count(onsets: Any, n: Any) -> str:
    return f"{int(onsets)} / {int(n)}" if n else "–"


def _caught(caught: Any, onsets: Any) -> str:
    return f"{int(caught)} / {int(onsets)} ({pct(caught / onsets if onsets else math.nan)})"


def _figures_table(frame: pd.DataFrame, *, focus: str | None = None) -> str:
    classes = (
        [
            "oracle" if str(m) == "oracle" else ("focus" if m == focus else "")
            for m in frame.iloc[:, 0]
        ]
        if len(frame)
        else []
    )
    return table_html(frame, row_classes=classes, table_class="figures")


def _summary_table(record: TrackRecord, models: Sequence[str], focus: str | None) -> str:
    summary = record.summary().set_index("model")
    tiers = record.tier_summary()
    rows = []
    for model in models:
        if model not in summary.index:
            continue
        r = summary.loc[model]
        row = {
            "model": model,
            "lists": f"{int(r['lists'])} ({_span(r['first_origin'], r['last_origin'])})",
            **(
                {"onsets caught": _caught(r["caught_events"], r["onset_events"])}
                if "onset_events" in r.index
                else {}
            ),
            "list-windows with an onset caught": _caught(r["listed_onsets"], r["onsets"]),
            "listed with an onset": f"{_count(r['listed_onsets'], r['listed'])} "
            f"({pct(r['precision'])})",
            "lift": sig(r["lift"]),
        }
        for t in tiers[tiers["model"] == model].itertuples(index=False):
            row[f"{t.tier}: with an onset"] = f"{_count(t.onsets, t.n)} ({pct(t.rate)})"
        rows.append({k: (v if isinstance(v, str) else str(v)) for k, v in row.items()})
    return _figures_table(pd.DataFrame(rows), focus=focus) if rows else ""


def _lists_table(record: TrackRecord, model: str) -> str:
    lists = record.lists[record.lists["model"] == model]
    tiers = record.tiers[record.tiers["model"] == model]
    rows = []
    for r in lists.itertuples(index=False):
        row = {
            "data year": str(int(r.origin)),
            "list for": _span(r.window_start, r.window_end),
            "listed": str(int(r.listed)),
            "listed with an onset": str(int(r.listed_onsets)),
            "list-window onsets caught": _count(r.listed_onsets, r.onsets) if r.onsets else "0 / 0",
            "share caught": pct(r.recall),
        }
        part = tiers[(tiers["origin"] == r.origin) & (tiers["year"] == r.year)]
        for t in part.itertuples(index=False):
            row[t.tier] = _count(t.onsets, t.n)
        rows.append(row)
    return _figures_table(pd.DataFrame(rows)) if rows else ""


def track_record_html(
    record: TrackRecord | None,
    *,
    focus: str,
    models: Sequence[str] | None = None,
    unit_noun: UnitNoun = COUNTRY,
) -> str:
    """The track record as HTML: a sentence on ``focus``, a table per model (``models``,
    default all), and every past list of ``focus`` with its tiers; ``unit_noun`` names the
    units."""
    if record is None:
        return '<p class="note">Not available: the forecasts have no single horizon.</p>'
    if record.lists.empty:
        return (
            f'<p class="note">Not available: no past list has a fully observed outcome '
            f"window (data to {record.data_end}).</p>"
        )
    models = list(record.summary()["model"]) if models is None else list(models)
    k = record.k
    # "Cells" are the table's, unless the units are grid cells too
    table_cells = "Table entries" if unit_noun.singular == "cell" else "Cells"
    units = unit_noun.plural
    html = [
        f"<p>{esc(track_record_sentence(record, focus, unit_noun))}</p>",
        _summary_table(record, models, focus),
        f"<details><summary><b>Every past list of {esc(focus)}</b> "
        f"({len(record.lists[record.lists['model'] == focus])} lists, with their tiers)"
        f"</summary>{_lists_table(record, focus)}</details>",
        f'<p class="note">The forecasts made at each origin are the list that would have '
        f"been published then: all {units} forecast that year, ranked (1 = highest risk), "
        f"the top {k} listed. A list is judged on its own window (the {record.horizon} "
        f"years after its data year) once the window is fully observed (data to "
        f"{record.data_end}); {units} whose outcome is unknown are ranked but not counted. "
        f"Onsets caught count each onset once (caught when its {unit_noun.singular} was on "
        f"a list whose window holds it); list-window counts count an onset inside the "
        f"windows of two lists for each. {table_cells} &ldquo;a / b&rdquo;: a {units} with "
        f"an onset among b in the list or tier (the rest: those not listed). Lift = onset "
        f"rate on the list / onset rate of the others.</p>",
    ]
    return "".join(html)


def track_record_section(
    record: TrackRecord, *, model: str, title: str | None = None, unit_noun: UnitNoun = COUNTRY
) -> tuple[str, str, str]:
    """The track record of ``model`` as a page section ``(id, title, html)``, e.g. for
    :func:`forecast.reports.render_risklist`'s ``sections``; ``unit_noun`` names the units
    (``Panel.unit_noun``)."""
    heading = title or f"Track record: how past top-{record.k} lists of {model} fared"
    return (
        SECTION_ID,
        heading,
        track_record_html(record, focus=model, models=[model], unit_noun=unit_noun),
    )
