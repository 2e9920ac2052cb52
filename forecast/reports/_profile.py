"""A country's risk profile page: risk over the years with onsets, drivers, last change.

Renders a :class:`forecast.risk.CountryProfile` (it computes nothing): one self-contained HTML
page (figures embedded as PNG, no scripts, printable) for a policy reader.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from forecast._plotting import PALETTE, legend_label
from forecast.features import format_value
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
    return format_value(float(value))


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
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"x{v:.2g}"))
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


def _history(profile) -> list[dict[str, str]]:
    h = profile.history.sort_values("year", ascending=False)
    return [
        {
            "year": str(int(r["year"])),
            "risk": _pct(r["probability"]),
            "range": f"{_pct(r['lower'])} – {_pct(r['upper'])}",
            "rank": f"{int(r['rank'])} of {int(r['n_units'])}",
            "tier": str(r["tier"]),
            "onset": "yes" if r["onset"] == 1 else "",
            "outcome": _outcome(r["outcome"]),
        }
        for r in h.to_dict("records")
    ]


def _drivers(profile) -> tuple[int, list[dict[str, str]]]:
    d = profile.drivers
    now = d[d["year"] == profile.year].set_index("feature")
    earlier = max(int(d["year"].min()), profile.year - 5) if len(d) else profile.year
    before = d[d["year"] == earlier].set_index("feature")
    rows = [
        {
            "label": str(row["label"]),
            "kind": str(row["kind"]),
            "now": _value(profile, feature, row["value"]),
            "pull_now": _odds(row["contribution"]),
            "then": _value(profile, feature, before["value"].get(feature, np.nan)),
            "pull_then": _odds(before["contribution"][feature]) if feature in before.index else "–",
        }
        for feature, row in now.iterrows()
    ]
    return earlier, rows


def _lead(profile) -> dict[str, str] | None:
    h = profile.history
    last = h[h["year"] == profile.year]
    if last.empty:
        return None
    r = last.iloc[0]
    onsets = [str(int(y)) for y in h.loc[h["onset"] == 1, "year"]]
    return {
        "risk": _pct(r["probability"]),
        "range": f"{_pct(r['lower'])} – {_pct(r['upper'])}" if math.isfinite(r["lower"]) else "",
        "rank": str(int(r["rank"])),
        "n": str(int(r["n_units"])),
        "tier": str(r["tier"]),
        "onsets": ", ".join(onsets),
        "first": str(int(h["year"].min())),
    }


def render_profile(profile, out_dir: str | Path, *, filename: str = "profile.html") -> Path:
    """Write ``profile`` (a :class:`forecast.risk.CountryProfile`) as one HTML page.

    Returns the path written. The page is ``profile.html.j2`` (every name escaped); figures
    are embedded PNGs with alt text.
    """
    from forecast.reports._html import png_data_uri
    from forecast.reports._templates import render

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
    earlier, drivers = _drivers(profile)
    c = profile.change
    path = out / filename
    html = render(
        "profile.html.j2",
        title=f"{profile.name}: risk profile",
        subtitle=f"Model {profile.model}; data up to {profile.year}",
        p=profile,
        lead=_lead(profile),
        window=(
            f"Onset in the next {profile.horizon} years"
            if profile.horizon > 1
            else "Onset the next year"
        ),
        history=_history(profile),
        has_range=bool(h["lower"].notna().any()),
        figures={k: png_data_uri(f) for k, f in figures.items()},
        risk_alt=risk_alt,
        drivers_alt=(
            f"Line chart of how {len(labels)} indicators pushed {profile.name}'s odds "
            f"up or down each year under the {profile.year} model: {', '.join(labels)}."
        ),
        earlier=earlier,
        drivers=drivers,
        change=[
            {"label": r["label"], "moved": r["moved"], "points": f"{r['points']:+.1f} pts"}
            for r in c.to_dict("records")
        ],
    )
    path.write_text(html, encoding="utf-8")
    return path
