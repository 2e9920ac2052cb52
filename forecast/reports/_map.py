"""A world map of a risk list: inline SVG, offline, no scripts.

Country outlines are Natural Earth's 1:110m countries (public domain) as packaged in the
TopoJSON of the npm ``world-atlas`` package (``forecast/_data/countries-110m.json``; see
``countries-110m.NOTICE.txt``). TopoJSON stores each shared border once as an *arc* of
quantized, delta-encoded positions: position ``k`` of an arc is
``translate + scale * sum_{i <= k} delta_i``, and a ring lists arc indices, ``~i`` meaning
arc ``i`` reversed; consecutive arcs share their joining point.

Coordinates are projected with the Natural Earth I projection (Šavrič, Jenny, Patterson,
Petrovič & Hurni 2011, the polynomial of d3-geo's ``geoNaturalEarth1``), for longitude
``lam`` and latitude ``phi`` in radians::

    x = lam * (0.8707 - 0.131979 phi^2 - 0.013791 phi^4 + 0.003971 phi^10 - 0.001529 phi^12)
    y = phi * (1.007226 + 0.015085 phi^2 - 0.044475 phi^6 + 0.028874 phi^8 - 0.005916 phi^10)

Units are matched to outlines by ISO 3166-1 numeric code, the ids of world-atlas. State codes
are year-aware: COW codes go through ``forecast/_data/cow_iso.csv`` (built by
``scripts/build_cow_iso.py``), which maps a code only in the years it is a state-system member;
GW codes are first mapped to COW codes by :class:`forecast.statesystem.StateSystem`. Somaliland
and Northern Cyprus, which Natural Earth draws apart, are drawn as part of Somalia and Cyprus
(the state system's members); Kosovo, which has no ISO code, is matched by its outline's name.
"""

from __future__ import annotations

import functools
import json
import math
import re
from dataclasses import dataclass, field
from importlib import resources
from typing import Literal

import numpy as np
import pandas as pd

from forecast._errors import input_error
from forecast.reports._html import esc
from forecast.reports._risklist import _pct

__all__ = ["CHANGE_BINS", "MapFigure", "iso_numeric_of", "world_map"]

CodeSystem = Literal["cow", "gw", "iso"]

_TOPOLOGY = "_data/countries-110m.json"
_COW_ISO = "_data/cow_iso.csv"
_WIDTH = 960.0
_DROP = {"010"}  # Antarctica: no state, a third of the frame
_PART_OF = {"name:Somaliland": "706", "name:N. Cyprus": "196"}  # drawn with their state
_NO_ISO = {"XKX": "name:Kosovo"}  # alpha-3 without an ISO numeric code -> outline name
_NO_DATA = "#d4d4d4"
_TIER_COLOURS = ("#7f0000", "#c62a1f", "#ef6548", "#fc9d63", "#fdd49e")  # OrRd, darkest first
_LOWEST_TIER = "#fdf1dc"
CHANGE_BINS = (-0.05, -0.01, -0.0025, 0.0025, 0.01, 0.05)
"""Edges of the change classes (probability difference): 0.25, 1 and 5 percentage points."""
_CHANGE_COLOURS = ("#2166ac", "#67a9cf", "#d1e5f0", "#f7f7f7", "#fddbc7", "#ef8a62", "#b2182b")
_CHANGE_LABELS = (
    "down 5+ pts",
    "down 1–5 pts",
    "down 0.25–1 pts",
    "within ±0.25 pts",
    "up 0.25–1 pts",
    "up 1–5 pts",
    "up 5+ pts",
)
_CSS = """
.wm { margin: .5rem 0 1.5rem; }
.wm-tabs { display: flex; gap: .4rem; margin: .3rem 0 .5rem; }
.wm-tabs label { border: 1px solid var(--line, #c8c8c8); border-radius: 3px; padding: .15rem .6rem;
                 cursor: pointer; font-size: .9rem; }
.wm > input { position: absolute; opacity: 0; }
#wm-show-risk:checked ~ .wm-tabs label[for="wm-show-risk"],
#wm-show-change:checked ~ .wm-tabs label[for="wm-show-change"] {
  background: var(--accent, #1f4e79); color: #fff; }
#wm-show-risk:focus-visible ~ .wm-tabs label[for="wm-show-risk"],
#wm-show-change:focus-visible ~ .wm-tabs label[for="wm-show-change"] { outline: 2px solid #000; }
#wm-show-risk:checked ~ figure.wm-change,
#wm-show-change:checked ~ figure.wm-risk { display: none; }
.wm svg { width: 100%; height: auto; display: block; background: #e6eef5; }
.wm svg path { stroke: #8c8c8c; stroke-width: .35; stroke-linejoin: round; }
.wm svg path:hover { stroke: #000; stroke-width: 1; }
.wm-legend { display: flex; flex-wrap: wrap; gap: .2rem 1rem; margin: .4rem 0; padding: 0;
             list-style: none; font-size: .85rem; }
.wm-legend span { display: inline-block; width: 1.1em; height: .85em; margin-right: .35em;
                  border: 1px solid #999; vertical-align: -1px;
                  -webkit-print-color-adjust: exact; print-color-adjust: exact; }
@media print {
  .wm-tabs { display: none; }
  .wm figure.wm-risk, .wm figure.wm-change { display: block !important; }
}
"""


@dataclass(frozen=True)
class MapFigure:
    """A rendered world map of a risk list.

    Attributes
    ----------
    svg : str
        Inline ``<svg role="img">`` of the risk, countries coloured by tier.
    missing : list of str
        Units that could not be drawn (no outline at this scale, or no ISO code), as
        ``"name (risk, tier)"``, highest risk first.
    change_svg : str
        The same map coloured by the change since the previous list ('' without ``change``).
    html : str
        Everything for a page section: a toggle between the two maps (CSS only; both print),
        their legends, and the list of units not drawn.
    """

    svg: str
    missing: list[str]
    change_svg: str = ""
    html: str = field(default="", repr=False)


def _natural_earth(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lam, phi = np.radians(lon), np.radians(lat)
    phi2 = phi * phi
    phi4 = phi2 * phi2
    x = lam * (
        0.8707 - 0.131979 * phi2 + phi4 * (-0.013791 + phi4 * (0.003971 * phi2 - 0.001529 * phi4))
    )
    y = phi * (
        1.007226 + phi2 * (0.015085 + phi4 * (-0.044475 + 0.028874 * phi2 - 0.005916 * phi4))
    )
    return x, y


def _arcs(topology: dict) -> list[np.ndarray]:
    """Each arc as an (n, 2) array of longitude/latitude (delta-decoded, de-quantized)."""
    transform = topology.get("transform")
    out = []
    for arc in topology["arcs"]:
        points = np.asarray(arc, dtype=float)
        if transform is not None:
            points = np.cumsum(points, axis=0) * transform["scale"] + transform["translate"]
        out.append(points)
    return out


def _ring(indices: list[int], arcs: list[np.ndarray]) -> np.ndarray:
    parts = []
    for k, index in enumerate(indices):
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        parts.append(arc if k == 0 else arc[1:])
    return np.concatenate(parts)


def _polygons(geometry: dict, arcs: list[np.ndarray]) -> list[list[np.ndarray]]:
    if geometry["type"] == "Polygon":
        return [[_ring(r, arcs) for r in geometry["arcs"]]]
    if geometry["type"] == "MultiPolygon":
        return [[_ring(r, arcs) for r in polygon] for polygon in geometry["arcs"]]
    return []


def _clip(ring: np.ndarray, edge: float, keep_below: bool) -> np.ndarray:
    """Sutherland-Hodgman: the part of a closed ring with longitude <= ``edge`` (or >=)."""
    inside = ring[:, 0] <= edge if keep_below else ring[:, 0] >= edge
    out = []
    for i in range(len(ring)):
        p, q = ring[i - 1], ring[i]
        p_in, q_in = inside[i - 1], inside[i]
        if p_in != q_in:
            t = (edge - p[0]) / (q[0] - p[0])
            out.append((edge, p[1] + t * (q[1] - p[1])))
        if q_in:
            out.append((q[0], q[1]))
    if not out:
        return np.empty((0, 2))
    clipped = np.asarray(out, dtype=float)
    return _densify_edge(clipped, edge)


def _densify_edge(ring: np.ndarray, edge: float, step: float = 1.0) -> np.ndarray:
    """Points every ``step`` degrees along stretches of the ring that run on the meridian
    ``edge``, so that the cut follows the projection's curved boundary."""
    out = [ring[:1]]
    for p, q in zip(ring[:-1], ring[1:], strict=True):
        if p[0] == q[0] == edge and abs(q[1] - p[1]) > step:
            n = int(abs(q[1] - p[1]) // step)
            lat = np.linspace(p[1], q[1], n + 2)[1:-1]
            out.append(np.column_stack((np.full(n, edge), lat)))
        out.append(q[None, :])
    return np.concatenate(out)


def _split_antimeridian(ring: np.ndarray) -> list[np.ndarray]:
    """World-atlas rings are spherical: a ring crossing the 180th meridian (Russia, Fiji)
    jumps from +180 to -180. Unwrap it and cut it into the parts on each side."""
    lon = ring[:, 0]
    step = np.diff(lon)
    if not np.any(np.abs(step) > 180):
        return [ring]
    wrapped = (step + 180) % 360 - 180
    unwrapped = np.column_stack((lon[0] + np.r_[0, np.cumsum(wrapped)], ring[:, 1]))
    if unwrapped[:, 0].max() > 180:
        parts = [(_clip(unwrapped, 180, True), 0.0), (_clip(unwrapped, 180, False), -360.0)]
    else:
        parts = [(_clip(unwrapped, -180, False), 0.0), (_clip(unwrapped, -180, True), 360.0)]
    return [part + (shift, 0.0) for part, shift in parts if len(part) >= 3]


def _key(geometry: dict) -> str:
    key = str(geometry["id"]) if "id" in geometry else f"name:{geometry['properties']['name']}"
    return _PART_OF.get(key, key)


@dataclass(frozen=True)
class _Shape:
    key: str
    name: str
    d: str


def _numbers(tenths: np.ndarray) -> str:
    """Numbers ``tenths / 10`` as compact SVG path text: a comma between two numbers unless
    the second has a minus sign, which separates them by itself."""
    out = []
    for i, value in enumerate(tenths.tolist()):
        text = f"{value / 10:g}"
        out.append(text if i == 0 or text.startswith("-") else "," + text)
    return "".join(out)


@functools.lru_cache(maxsize=1)
def _shapes() -> tuple[tuple[_Shape, ...], tuple[float, float]]:
    """Projected SVG path data of every outline (data-independent, computed once), and the
    frame's width and height."""
    text = resources.files("forecast").joinpath(_TOPOLOGY).read_text(encoding="utf-8")
    topology = json.loads(text)
    arcs = _arcs(topology)
    projected = []
    for geometry in topology["objects"]["countries"]["geometries"]:
        key = _key(geometry)
        if key in _DROP:
            continue
        rings = [
            part
            for polygon in _polygons(geometry, arcs)
            for ring in polygon
            for part in _split_antimeridian(ring)
        ]
        rings = [np.column_stack(_natural_earth(r[:, 0], r[:, 1])) for r in rings]
        projected.append((key, geometry["properties"]["name"], rings))
    every = np.concatenate([r for _, _, rings in projected for r in rings])
    (x0, y0), (x1, y1) = every.min(axis=0), every.max(axis=0)
    k = _WIDTH / (x1 - x0)
    shapes = []
    for key, name, rings in projected:
        parts = []
        for ring in rings:
            tenths = np.rint(
                np.column_stack(((ring[:, 0] - x0) * k, (y1 - ring[:, 1]) * k)) * 10
            ).astype(np.int64)
            steps = np.diff(tenths, axis=0)
            steps = steps[np.any(steps != 0, axis=1)]  # points that round together
            if len(steps) < 2:
                continue
            parts.append(f"M{_numbers(tenths[0])}l{_numbers(steps.ravel())}z")
        shapes.append(_Shape(key, name, "".join(parts)))
    return tuple(shapes), (_WIDTH, round(float((y1 - y0) * k), 1))


@functools.lru_cache(maxsize=1)
def _cow_iso() -> pd.DataFrame:
    with resources.files("forecast").joinpath(_COW_ISO).open("r", encoding="utf-8") as handle:
        table = pd.read_csv(
            handle,
            dtype={"iso3c": str, "iso_numeric": str},
            keep_default_na=False,
            na_values={"end_year": [""]},
        )
    table["end_year"] = table["end_year"].fillna(9999).astype(int)
    return table


def iso_numeric_of(code: int, year: int, *, code_system: CodeSystem = "cow") -> str | None:
    """The ISO 3166-1 numeric code (three digits, as world-atlas ids) of a state in ``year``.

    ``None`` when the code is not a member of its state system in ``year`` or the state has
    no ISO code (Kosovo has an outline matched by name: its key is ``'name:Kosovo'``).

    Examples
    --------
    >>> iso_numeric_of(625, 2024), iso_numeric_of(626, 2005), iso_numeric_of(345, 2024)
    ('729', None, '688')
    """
    code, year = int(code), int(year)
    if code_system == "iso":
        return f"{code:03d}"
    if code_system == "gw":
        cow = _state_system().to_cow(code, year)
        if cow is None:
            return None
        code = cow
    hit = _spell(code, year)
    if hit.empty:
        return None
    row = hit.iloc[0]
    return row["iso_numeric"] or _NO_ISO.get(row["iso3c"])


@functools.lru_cache(maxsize=1)
def _state_system():
    from forecast.statesystem import StateSystem

    return StateSystem.load()


def _points(change: float) -> str:
    points = 100 * change
    return "no change" if abs(points) < 0.05 else f"{points:+.1f} pts"


def _check(risk: pd.DataFrame, code_system: str, year: object) -> pd.DataFrame:
    if not isinstance(risk, pd.DataFrame):
        raise input_error(
            f"world_map: 'risk' must be a DataFrame, got {type(risk).__name__}",
            fix="pass a table with columns unit, probability and tier",
        )
    missing = [c for c in ("unit", "probability", "tier") if c not in risk.columns]
    if missing:
        raise input_error(
            f"world_map: 'risk' lacks column(s) {missing}; it has {list(risk.columns)}",
            fix="add unit (state codes), probability, tier",
        )
    if code_system not in ("cow", "gw", "iso"):
        raise input_error(
            f"world_map: 'code_system' must be 'cow', 'gw' or 'iso', got {code_system!r}",
            fix="pass the code system of the 'unit' column",
        )
    if isinstance(year, bool) or not isinstance(year, (int, np.integer)):
        raise input_error(
            f"world_map: 'year' must be an integer year, got {year!r}",
            fix="pass the data year of the list, e.g. year=2024",
        )
    codes = pd.to_numeric(risk["unit"], errors="coerce")
    if codes.isna().any() or (codes != codes.round()).any():
        bad = risk.index[codes.isna() | (codes != codes.round())].tolist()
        raise input_error(
            "world_map: 'unit' must hold integer state codes",
            column="unit",
            rows=bad,
            fix=f"pass {code_system.upper()} codes, e.g. 625 for Sudan",
        )
    p = pd.to_numeric(risk["probability"], errors="coerce")
    if (p.isna() | (p < 0) | (p > 1)).any():
        raise input_error(
            "world_map: probabilities must be in [0, 1]",
            column="probability",
            rows=risk.index[p.isna() | (p < 0) | (p > 1)].tolist(),
            fix="pass probabilities, not percentages",
        )
    frame = risk.copy()
    frame["unit"] = codes.astype(int)
    frame["probability"] = p.astype(float)
    if "change" in frame.columns:
        frame["change"] = pd.to_numeric(frame["change"], errors="coerce").astype(float)
    return frame.sort_values("probability", ascending=False, kind="stable").reset_index(drop=True)


def _tier_colours(frame: pd.DataFrame) -> dict[str, str]:
    """Tiers ordered by their highest probability; the last (lowest) tier is the palest."""
    order = (
        frame.groupby("tier", sort=False)["probability"]
        .max()
        .sort_values(ascending=False, kind="stable")
        .index.tolist()
    )
    colours = {t: _TIER_COLOURS[min(i, len(_TIER_COLOURS) - 1)] for i, t in enumerate(order)}
    if len(order) > 1:
        colours[order[-1]] = _LOWEST_TIER
    return colours


def _change_class(change: float) -> int:
    return int(np.searchsorted(CHANGE_BINS, change, side="right"))


def _svg(
    shapes: tuple[_Shape, ...],
    size: tuple[float, float],
    fills: dict[str, str],
    titles: dict[str, str],
    *,
    label: str,
    title: str,
    classes: dict[str, str],
) -> str:
    width, height = size
    paths = []
    for shape in shapes:
        fill = fills.get(shape.key, _NO_DATA)
        tip = titles.get(shape.key, f"{shape.name}: no forecast")
        cls = f' class="{esc(classes[shape.key])}"' if shape.key in classes else ""
        paths.append(
            f'<path d="{shape.d}" fill="{fill}" data-key="{esc(shape.key)}"{cls}>'
            f"<title>{esc(tip)}</title></path>"
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:g} {height:g}" '
        f'role="img" aria-label="{esc(label)}" preserveAspectRatio="xMidYMid meet">'
        f"<title>{esc(title)}</title>{''.join(paths)}</svg>"
    )


def _legend(items: list[tuple[str, str]]) -> str:
    cells = "".join(
        f'<li><span style="background:{colour}"></span>{esc(text)}</li>' for colour, text in items
    )
    return f'<ul class="wm-legend">{cells}</ul>'


def world_map(
    risk: pd.DataFrame,
    *,
    code_system: CodeSystem = "cow",
    year: int,
    title: str = "Risk of a new mass killing",
) -> MapFigure:
    """Draw a risk list on a world map, by tier, and by change since the previous list.

    Parameters
    ----------
    risk : DataFrame
        One row per unit: ``unit`` (integer state codes of ``code_system``), ``probability``
        (in [0, 1]) and ``tier`` (text); optionally ``name`` (shown on hover, default the
        state-system name) and ``change`` (probability minus the previous list's; NaN for
        units new on the list). Tiers are coloured darkest for the tier with the highest
        probabilities; the last tier is the palest.
    code_system : {'cow', 'gw', 'iso'}
        Codes of ``unit``: Correlates of War, Gleditsch-Ward or ISO 3166-1 numeric.
    year : int
        Year the codes refer to (state-system membership and borders of that year).
    title : str
        Map title, read by screen readers and shown on hover over the sea.

    Returns
    -------
    MapFigure
        ``svg`` (risk by tier), ``change_svg`` (change classes of :data:`CHANGE_BINS`; '' when
        ``risk`` has no ``change``), ``missing`` (units not drawn) and ``html`` (a page
        section holding both). Every name is HTML-escaped; the SVG has no scripts or links.
    """
    frame = _check(risk, code_system, year)
    shapes, size = _shapes()
    drawn = {s.key for s in shapes}
    names = frame["name"].astype(str) if "name" in frame.columns else None
    frame["key"] = [iso_numeric_of(c, year, code_system=code_system) for c in frame["unit"]]
    if names is None:
        frame["name"] = [_default_name(c, year, code_system) for c in frame["unit"]]
    on_map = frame["key"].isin(drawn)
    frame["label"] = [
        f"{n} ({_pct(p)}, {t})"
        for n, p, t in zip(frame["name"], frame["probability"], frame["tier"], strict=True)
    ]
    missing = frame.loc[~on_map, "label"].tolist()
    shown = frame[on_map].drop_duplicates("key")  # highest risk first when two share a shape
    colours = _tier_colours(frame)
    fills = {k: colours[t] for k, t in zip(shown["key"], shown["tier"], strict=True)}
    changes = frame["change"] if "change" in frame.columns else pd.Series(np.nan, frame.index)
    tips = [
        f"{n}: {_pct(p)} risk, {t}"
        + (f", {_points(c)} since the last list" if math.isfinite(c) else "")
        for n, p, t, c in zip(
            frame["name"], frame["probability"], frame["tier"], changes, strict=True
        )
    ]
    titles = pd.Series(tips, index=frame.index)[on_map].groupby(frame["key"]).agg("; ".join)
    titles = titles.to_dict()
    classes = {
        k: "tier-" + (re.sub(r"[^0-9a-z]+", "-", str(t).lower()).strip("-") or "x")
        for k, t in zip(shown["key"], shown["tier"], strict=True)
    }
    top = frame.head(5)
    summary = ", ".join(
        f"{n} {_pct(p)}" for n, p in zip(top["name"], top["probability"], strict=True)
    )
    label = (
        f"World map of {title.lower()} in {len(frame)} countries, coloured by tier "
        f"({', '.join(colours)}). Highest risk: {summary}. "
        f"{len(missing)} not drawn (listed below the map); grey: no forecast."
    )
    svg = _svg(shapes, size, fills, titles, label=label, title=title, classes=classes)
    tier_items = [(c, str(t)) for t, c in colours.items()] + [(_NO_DATA, "no forecast")]

    change_svg, change_items = "", []
    if "change" in frame.columns:
        change = shown.set_index("key")["change"]
        change_fills = {
            k: (_NO_DATA if not math.isfinite(c) else _CHANGE_COLOURS[_change_class(c)])
            for k, c in change.items()
        }
        moved = frame[np.isfinite(frame["change"])].sort_values("change", kind="stable")
        ups = ", ".join(
            f"{n} {_points(c)}"
            for n, c in zip(
                moved["name"].iloc[::-1][:3], moved["change"].iloc[::-1][:3], strict=True
            )
            if c > 0
        )
        downs = ", ".join(
            f"{n} {_points(c)}"
            for n, c in zip(moved["name"][:3], moved["change"][:3], strict=True)
            if c < 0
        )
        change_label = (
            f"World map of the change in {title.lower()} since the previous list, "
            f"in percentage points. Largest increases: {ups or 'none'}. "
            f"Largest decreases: {downs or 'none'}. Grey: no forecast or new "
            "on the list."
        )
        change_svg = _svg(
            shapes,
            size,
            change_fills,
            titles,
            label=change_label,
            title=f"Change since the previous list: {title}",
            classes={},
        )
        change_items = [
            *zip(_CHANGE_COLOURS, _CHANGE_LABELS, strict=True),
            (_NO_DATA, "no forecast or no previous list"),
        ]
    html = _section(svg, change_svg, tier_items, change_items, missing, year, title)
    return MapFigure(svg, missing, change_svg, html)


def _spell(cow: int | None, year: int) -> pd.DataFrame:
    """Rows of the COW -> ISO table for ``cow`` in ``year`` (at most one)."""
    table = _cow_iso()
    return table[
        (table["cow"] == cow) & (table["start_year"] <= year) & (year <= table["end_year"])
    ]


def _default_name(code: int, year: int, code_system: str) -> str:
    if code_system != "iso":
        cow = code if code_system == "cow" else _state_system().to_cow(code, year)
        hit = _spell(cow, year)
        if not hit.empty:
            return str(hit["name"].iloc[0])
    return f"{code_system.upper()} {code}"


def _section(
    svg: str,
    change_svg: str,
    tier_items: list[tuple[str, str]],
    change_items: list[tuple[str, str]],
    missing: list[str],
    year: int,
    title: str,
) -> str:
    note = (
        '<p class="note"><span class="screen-only">Hover over a country for its name, risk '
        "and tier. </span>Outlines: Natural Earth 1:110m (public domain), Natural Earth I "
        "projection; small states have no outline at this scale.</p>"
    )
    left_out = (
        f'<p class="note">Not on the map ({len(missing)}; no outline at this scale or '
        f"no ISO code in {year}): {esc('; '.join(missing))}.</p>"
        if missing
        else ""
    )
    risk_fig = (
        f'<figure class="wm-risk">{svg}<figcaption>{esc(title)}: the tier of each '
        f"country on the list.</figcaption>{_legend(tier_items)}</figure>"
    )
    if not change_svg:
        return f'<div class="wm"><style>{_CSS}</style>{risk_fig}{note}{left_out}</div>'
    change_fig = (
        f'<figure class="wm-change">{change_svg}<figcaption>{esc(title)}: the change '
        f"since the list made from {year - 1} data, in percentage points.</figcaption>"
        f"{_legend(change_items)}</figure>"
    )
    tabs = (
        '<input type="radio" name="wm-view" id="wm-show-risk" checked>'
        '<input type="radio" name="wm-view" id="wm-show-change">'
        '<div class="wm-tabs">'
        '<label for="wm-show-risk">Risk now</label>'
        '<label for="wm-show-change">Change since last year</label></div>'
    )
    return (
        f'<div class="wm"><style>{_CSS}</style>{tabs}{risk_fig}{change_fig}{note}{left_out}</div>'
    )
