"""A country's risk profile page: risk over the years with onsets, drivers, last change.

Renders a :class:`forecast.risk.CountryProfile` (it computes nothing): one self-contained HTML
page (figures embedded as PNG, no scripts, printable) for a policy reader.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from forecast._plotting import PALETTE, legend_label
from forecast.reports._html import esc, figure_html, page, table_html
from forecast.reports._risklist import _pct

__all__ = ["profile_figures", "render_profile"]

_LINE = "#1f4e79"
_ONSET = "#a4161a"
_DRIVER_COLOURS = PALETTE[:8]


def _odds(log_odds: float) -> str:
    ratio = math.exp(max(min(log_odds, 700.0), -700.0))
    return f"x{ratio:.2f}" if ratio < 10 else f"x{ratio:.0f}"


def _value(profile, feature: str, value: float) -> str:
    entry = profile.indicators.get(feature)
    if value is None or not math.isfinite(value):
        return "missing"
    display = getattr(entry, "display", None)
    if display is not None:
        text = display.format(float(value))
        if text:
            return text
    return f"{float(value):.3g}"


def _risk_figure(profile) -> Figure:
    history = profile.history
    fig = Figure(figsize=(10, 3.8), layout="constrained")
    ax = fig.subplots()
    ax.grid(True, color="#dddddd", linewidth=0.6)
    years = history["year"].to_numpy()
    p = 100 * history["probability"].to_numpy()
    lower, upper = 100 * history["lower"].to_numpy(), 100 * history["upper"].to_numpy()
    if np.isfinite(lower).any():
        ax.fill_between(
            years, lower, upper, color=_LINE, alpha=0.15, linewidth=0, label="plausible range"
        )
    ax.plot(
        years,
        p,
        color=_LINE,
        marker="o",
        markersize=4,
        linewidth=1.8,
        label="risk of an onset within the next "
        + (f"{profile.horizon} years" if profile.horizon > 1 else "year"),
    )
    top = max(float(np.nanmax(np.r_[p, upper[np.isfinite(upper)]])) * 1.15, 1.0)
    onsets = history.loc[history["onset"] == 1, "year"].to_numpy()
    for k, year in enumerate(onsets):
        ax.axvline(
            year,
            color=_ONSET,
            linestyle="--",
            linewidth=1.2,
            label="a new mass killing began" if k == 0 else None,
        )
        ax.annotate(
            f"onset {year}",
            (year, top),
            xytext=(3, -12),
            textcoords="offset points",
            color=_ONSET,
            fontsize=8,
        )
    ax.set_ylim(0, top)
    ax.set_xlim(years.min() - 0.5, years.max() + 0.5)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("year of the data the forecast was made from")
    ax.set_ylabel("risk (%)")
    ax.set_title(
        legend_label(f"{profile.name}: forecast risk, {years.min()}-{years.max()}"),
        loc="left",
        fontsize=11,
    )
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    return fig


def _drivers_figure(profile) -> Figure:
    drivers = profile.drivers
    fig = Figure(figsize=(10, 3.8), layout="constrained")
    ax = fig.subplots()
    ax.grid(True, color="#dddddd", linewidth=0.6)
    for k, (_, block) in enumerate(drivers.groupby("feature", sort=False)):
        ax.plot(
            block["year"],
            np.exp(np.clip(block["contribution"], -50, 50)),
            color=_DRIVER_COLOURS[k % len(_DRIVER_COLOURS)],
            marker="o",
            markersize=3,
            linewidth=1.5,
            label=legend_label(block["label"].iloc[0]),
        )
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"x{v:g}"))
    ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: ""))
    low, high = ax.get_ylim()
    ticks = [t for t in (0.01, 0.03, 0.1, 0.25, 0.5, 1, 2, 4, 10, 30, 100) if low <= t <= high]
    ax.set_yticks(ticks if len(ticks) >= 3 else [*ticks, low, high])
    ax.axhline(1.0, color="#555555", linewidth=0.8)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("year")
    ax.set_ylabel("odds multiplier (log scale)")
    ax.set_title(
        legend_label(
            f"{profile.name}: what pushed the odds up (>1) or down (<1), "
            f"under the {profile.year} model"
        ),
        loc="left",
        fontsize=11,
    )
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8, frameon=False)
    return fig


def profile_figures(profile) -> dict[str, Figure]:
    """The page's figures: ``risk`` (history with onsets) and ``drivers`` (over time)."""
    return {"risk": _risk_figure(profile), "drivers": _drivers_figure(profile)}


def _outcome(value: float) -> str:
    if not math.isfinite(value):
        return "not yet known"
    return "yes" if value == 1 else "no"


def _history_table(profile) -> str:
    h = profile.history.sort_values("year", ascending=False)
    window = (
        f"Onset in the next {profile.horizon} years"
        if profile.horizon > 1
        else ("Onset the next year")
    )
    rows = pd.DataFrame(
        {
            "Data year": h["year"].map(str),
            "Risk": h["probability"].map(_pct),
            "Rank": [f"{r} of {n}" for r, n in zip(h["rank"], h["n_units"], strict=True)],
            "Tier": h["tier"],
            "Onset that year": h["onset"].map(lambda o: "yes" if o == 1 else ""),
            window: h["outcome"].map(_outcome),
        }
    )
    if h["lower"].notna().any():
        rows.insert(
            2,
            "Plausible range",
            [f"{_pct(lo)} – {_pct(hi)}" for lo, hi in zip(h["lower"], h["upper"], strict=True)],
        )
    return table_html(rows)


def _drivers_table(profile) -> str:
    d = profile.drivers
    now = d[d["year"] == profile.year].set_index("feature")
    earlier_year = max(int(d["year"].min()), profile.year - 5)
    before = d[d["year"] == earlier_year].set_index("feature")
    rows = []
    for feature, row in now.iterrows():
        rows.append(
            {
                "Indicator": row["label"],
                "Kind": row["kind"],
                f"Value {profile.year}": _value(profile, feature, row["value"]),
                f"Pull on the odds {profile.year}": _odds(row["contribution"]),
                f"Value {earlier_year}": _value(
                    profile, feature, before["value"].get(feature, np.nan)
                ),
                f"Pull {earlier_year}": _odds(before["contribution"].get(feature, np.nan))
                if feature in before.index
                else "–",
            }
        )
    return table_html(pd.DataFrame(rows))


def _change_table(profile) -> str:
    c = profile.change
    if c.empty:
        return '<p class="note">No previous list to compare with.</p>'
    rows = pd.DataFrame(
        {
            "Part": c["label"],
            "From": [
                (_value(profile, f, v) if one else "")
                for f, one, v in zip(c["term"], c["indicator"], c["value_from"], strict=True)
            ],
            "To": [
                (_value(profile, f, v) if one else "")
                for f, one, v in zip(c["term"], c["indicator"], c["value_to"], strict=True)
            ],
            "Change in risk": c["points"].map(lambda x: f"{x:+.1f} pts"),
        }
    )
    return table_html(rows)


def _lead(profile) -> str:
    h = profile.history
    last = h[h["year"] == profile.year]
    if last.empty:
        return ""
    r = last.iloc[0]
    y, k = profile.year, profile.horizon
    rng = (
        f" (plausible range {_pct(r['lower'])} – {_pct(r['upper'])})"
        if math.isfinite(r["lower"])
        else ""
    )
    onsets = [int(y) for y in h.loc[h["onset"] == 1, "year"]]
    seen = (
        f" New mass killings began in {', '.join(map(str, onsets))}."
        if onsets
        else f" No new mass killing began in {int(h['year'].min())}-{y}."
    )
    return (
        f'<p class="lead"><strong>{esc(profile.name)}</strong>: {esc(_pct(r["probability"]))} '
        f"risk of a new mass killing in {y + 1}-{y + k}{esc(rng)}, rank {int(r['rank'])} of "
        f"{int(r['n_units'])}, tier <strong>{esc(r['tier'])}</strong>.{esc(seen)}</p>"
    )


def render_profile(profile, out_dir: str | Path, *, filename: str = "profile.html") -> Path:
    """Write ``profile`` (a :class:`forecast.risk.CountryProfile`) as one HTML page.

    Returns the path written. Every name is escaped; figures are embedded PNGs with alt text.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    figures = profile_figures(profile)
    h = profile.history
    peak = h.loc[h["probability"].idxmax()] if len(h) else None
    risk_alt = (
        f"Line chart of {profile.name}'s forecast risk from {int(h['year'].min())} to "
        f"{int(h['year'].max())}; highest {_pct(peak['probability'])} in "
        f"{int(peak['year'])}; latest {_pct(h['probability'].iloc[-1])}; onsets in "
        f"{', '.join(str(int(y)) for y in h.loc[h['onset'] == 1, 'year']) or 'none'}."
        if peak is not None
        else "No forecasts."
    )
    labels = profile.drivers.drop_duplicates("feature")["label"].tolist()
    drivers_alt = (
        f"Line chart of how {len(labels)} indicators pushed {profile.name}'s odds "
        f"up or down each year under the {profile.year} model: {', '.join(labels)}."
    )
    notes = "".join(f"<p>{esc(n)}</p>" for n in profile.notes)
    body = "".join(
        [
            _lead(profile),
            '<section id="history"><h2>Risk over the years</h2>',
            figure_html(
                figures["risk"],
                alt=risk_alt,
                fig_id="risk-history",
                caption=(
                    f"Each point is the forecast the same model ({profile.model}) made "
                    "from that year's data, trained only on outcomes known then (the "
                    "backtest); the last point is the published list. Dashed lines: "
                    "years in which a new mass killing began."
                ),
            ),
            _history_table(profile),
            "</section>",
            '<section id="drivers"><h2>What drives the risk, and how it moved</h2>',
            figure_html(
                figures["drivers"],
                alt=drivers_alt,
                fig_id="drivers-history",
                caption=(
                    "The indicators with the largest pull in any of these years, "
                    f"read by the {profile.year} model so the lines move only with the "
                    "data: above 1 an indicator raises the odds of an onset, below 1 it "
                    f"lowers them (relative to the training data; method: "
                    f"{profile.method})."
                ),
            ),
            _drivers_table(profile),
            "</section>",
            f'<section id="change"><h2>Why the risk changed since {profile.year - 1}</h2>',
            _change_table(profile),
            '<p class="note">The parts add up to the change in log-odds; the model update is the '
            "effect of retraining with one more year of outcomes.</p></section>",
            f'<section id="method"><h2>Notes</h2>{notes}</section>' if notes else "",
        ]
    )
    title = f"{profile.name}: risk profile"
    path = out / filename
    path.write_text(
        page(title, body, subtitle=f"Model {profile.model}; data up to {profile.year}"),
        encoding="utf-8",
    )
    return path
