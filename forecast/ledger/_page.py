"""The track record as HTML: a section for the risk list and the ledger's own page.

The numbers come from :class:`~forecast.ledger.LedgerScore`; this module only formats them
for the templates ``ledger_section.html.j2`` and ``ledger.html.j2``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from forecast._files import atomic_write_bytes
from forecast.ledger._score import LedgerScore, distinct_onsets

__all__ = ["render_track_record", "track_record_section_html"]

_SOURCES = {"ewp": "Early Warning Project", "forecast": "This framework", "backtest": "Backtest"}
_TARGETS = {"any": "any new mass killing", "state-led": "state-led only"}


def _num(value: object, digits: int = 3) -> str:
    from forecast.reports._html import fmt

    return fmt(None if value is None or pd.isna(value) else value, digits)


def _ci(row: pd.Series, name: str, digits: int = 3) -> str:
    if name not in row or pd.isna(row[name]):
        return "–"
    return (
        f"{_num(row[name], digits)} ({_num(row[f'{name}_lower'], digits)}–"
        f"{_num(row[f'{name}_upper'], digits)})"
    )


def _pooled_rows(score: LedgerScore) -> list[dict[str, str]]:
    out = []
    for _, row in score.pooled.iterrows():
        share = _ci(row, "top30_share", 2)
        out.append(
            {
                "source": _SOURCES.get(row["source"], row["source"])
                + (f" ({row['models']}, on today's data)" if row["source"] == "backtest" else ""),
                "target": _TARGETS.get(row["target"], row["target"]),
                "editions": str(row["editions"]),
                "data_years": _span(row["data_years"]),
                "onsets": str(row["onsets"]),
                "top10": str(row["top10"]),
                "top30": f"{row['top30']} (share {share})",
                "auc": _ci(row, "roc_auc"),
                "brier": _ci(row, "brier", 4),
                "oe": _ci(row, "observed_expected", 2),
            }
        )
    return out


def _edition_rows(score: LedgerScore) -> list[dict[str, str]]:
    out = []
    for _, row in score.editions.iterrows():
        cell = {k: "–" if k not in row or pd.isna(row[k]) else str(row[k]) for k in row.index}
        cell.update(
            target=_TARGETS.get(row["target"], row["target"]),
            window=_years(row["window"]),
            auc=_num(row.get("roc_auc")),
            brier=_num(row.get("brier"), 4),
            oe=_num(row.get("observed_expected"), 2),
        )
        for key in ("scored_units", "onsets", "top10", "top30"):
            cell.setdefault(key, "–")
            if key in row and pd.notna(row[key]):
                cell[key] = str(int(row[key]))
        out.append(cell)
    return out


def _span(years: str) -> str:
    """``"2017, 2018, 2019"`` as ``"2017–2019"`` when the years run without a gap."""
    values = [int(y) for y in years.split(", ")]
    if len(values) > 2 and values == list(range(values[0], values[-1] + 1)):
        return f"{values[0]}–{values[-1]}"
    return years


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _years(window: str) -> str:
    first, _, last = window.partition("-")
    return first if first == last else f"{first}–{last}"


def _lead(score: LedgerScore) -> str:
    table = score.editions
    scored = table[table["status"] == "scored"]
    pending = table[table["status"].astype(str).str.startswith("pending")]
    issued = scored[scored["kind"] == "issued"]
    onsets = int(issued["onsets"].sum()) if len(scored) else 0
    distinct = distinct_onsets(score.onsets, issued["edition_id"])
    return (
        f"{len(table)} lists: {len(scored)} with their forecast window closed (outcomes "
        f"through {score.last_year}), {len(pending)} pending. The issued lists' figures are "
        f"based on {onsets} list-onsets, {distinct} distinct onsets (an onset counts once "
        "for every list whose window holds it); with so few, read the intervals, not the "
        "point figures."
    )


def _context(score: LedgerScore) -> dict[str, object]:
    level = f"{100 * score.level:.0f}%"
    return {
        "lead": _lead(score),
        "pooled": _pooled_rows(score),
        "editions": _edition_rows(score),
        "level": level,
        "interval_note": f"In brackets: {level} intervals from a bootstrap that resamples "
        "countries. Top 30: onsets in countries the list ranked 1-30 (share of all onsets). "
        "Observed / expected: onsets seen over onsets the probabilities expected (1 = right "
        "on average; below 1, the lists ran too high).",
    }


def track_record_section_html(score: LedgerScore) -> str:
    """How the issued lists (ours and the reference system's) have fared, as one HTML
    section: the pooled figures with intervals and one row per list.

    Use it as a section of :func:`forecast.reports.render_risklist`:
    ``("ledger", "How issued lists have fared", track_record_section_html(score))``.
    """
    from forecast.reports._templates import render

    return render("ledger_section.html.j2", **_context(score))


def render_track_record(score: LedgerScore, out: str | Path, *, names=None) -> Path:
    """Write the ledger's track-record page ``out/ledger.html``; return its path.

    ``names`` maps a list's unit (its code or id) to a country name for the onsets table.
    """
    from forecast.reports._templates import render

    names = names or {}
    onsets = []
    for _, row in score.onsets.sort_values(["edition", "year", "rank"]).iterrows():
        shown = row["name"] if isinstance(row["name"], str) else names.get(row["unit"], row["unit"])
        onsets.append(
            {
                "edition": row["edition"],
                "name": names.get(shown, shown),
                "year": int(row["year"]),
                "rank": "–" if pd.isna(row["rank"]) else str(int(row["rank"])),
                "top30": bool(pd.notna(row["rank"]) and row["rank"] <= 30),
                "probability": _num(row["probability"]),
                "observed": "yes" if row["observed"] else "not yet",
            }
        )
    paired = [
        {
            **{k: str(v) for k, v in row.items()},
            "units": f"{row['units']} ({row['units_with_onset']})",
            "metric": {"roc_auc": "AUC", "brier": "Brier"}.get(row["metric"], row["metric"]),
            "value_a": _num(row["value_a"], 4),
            "value_b": _num(row["value_b"], 4),
            "difference": _num(row["difference"], 4),
            "interval": f"{_num(row['lower'], 4)} to {_num(row['upper'], 4)}",
        }
        for _, row in score.paired.iterrows()
    ]
    movement = [
        {**{k: str(v) for k, v in row.items()}, "spearman": _num(row["spearman"], 2)}
        for _, row in score.movement.iterrows()
    ]
    unmatched = [
        f"{row['edition']}: {'; '.join(filter(None, parts))}"
        for _, row in score.editions.iterrows()
        if any(parts := [row.get("unmatched_units") or "", _text(row.get("unscored_units"))])
    ]
    html = render(
        "ledger.html.j2",
        title="Track record of issued risk lists",
        subtitle=f"Outcomes known through {score.last_year}",
        onsets=onsets,
        paired=paired,
        movement=movement,
        unmatched=unmatched,
        **_context(score),
    )
    path = Path(out) / "ledger.html"
    return atomic_write_bytes(path, html.encode("utf-8"))
