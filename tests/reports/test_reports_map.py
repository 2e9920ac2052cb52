"""World map of a risk list: TopoJSON decoding, projection, COW -> ISO codes, the SVG, the page."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from forecast._errors import ForecastInputError
from forecast.reports import MapFigure, render_risklist, world_map
from forecast.reports._map import (
    CHANGE_BINS,
    _arcs,
    _natural_earth,
    _ring,
    _shapes,
    _split_antimeridian,
    iso_numeric_of,
)

XSS = "<script>document.title='pwned'</script>"
TIERS = ("highest (top 10)", "high (top 30)", "elevated (>= 4%)", "lower")
# COW code -> ISO 3166-1 numeric in 2024, checked by hand against ISO 3166-1
KNOWN = {
    625: "729",
    626: "728",
    775: "104",
    750: "356",
    679: "887",
    816: "704",
    345: "688",
    255: "276",
    365: "643",
    2: "840",
    710: "156",
}


def test_topojson_arcs_are_delta_decoded_and_reversed_by_bitwise_not():
    topology = {
        "transform": {"scale": [0.5, 2.0], "translate": [10.0, -5.0]},
        "arcs": [[[0, 0], [2, 0], [0, 1]], [[2, 1], [-2, -1]]],
    }
    arcs = _arcs(topology)
    np.testing.assert_allclose(arcs[0], [[10, -5], [11, -5], [11, -3]])  # cumulative deltas
    np.testing.assert_allclose(arcs[1], [[11, -3], [10, -5]])
    # ring [0, 1] joins the arcs without repeating their shared point; ~1 reverses arc 1
    np.testing.assert_allclose(_ring([0, 1], arcs), [[10, -5], [11, -5], [11, -3], [10, -5]])
    np.testing.assert_allclose(_ring([~1], arcs), [[10, -5], [11, -3]])


def test_natural_earth_projection_matches_the_published_polynomial():
    x, y = _natural_earth(np.array([0.0, 180.0, 90.0]), np.array([0.0, 0.0, 45.0]))
    assert x[0] == 0 and y[0] == 0
    assert x[1] == pytest.approx(np.pi * 0.8707)  # the equator's half-length
    phi = np.pi / 4  # d3-geo naturalEarth1Raw, written out
    lon = (np.pi / 2) * (
        0.8707 - 0.131979 * phi**2 - 0.013791 * phi**4 + 0.003971 * phi**10 - 0.001529 * phi**12
    )
    lat = phi * (
        1.007226 + 0.015085 * phi**2 - 0.044475 * phi**6 + 0.028874 * phi**8 - 0.005916 * phi**10
    )
    assert (x[2], y[2]) == (pytest.approx(lon), pytest.approx(lat))


def test_rings_across_the_antimeridian_are_cut_into_two():
    ring = np.array([[170.0, 60.0], [-170.0, 60.0], [-170.0, 70.0], [170.0, 70.0], [170.0, 60.0]])
    parts = _split_antimeridian(ring)
    assert len(parts) == 2
    assert all(p[:, 0].min() >= -180 and p[:, 0].max() <= 180 for p in parts)
    assert {round(p[:, 0].mean()) < 0 for p in parts} == {True, False}
    assert np.isclose(np.abs(parts[0][:, 0]).max(), 180)  # each part closes on the meridian


def test_no_outline_jumps_across_the_map():
    shapes, (width, height) = _shapes()
    assert len(shapes) > 170 and width == 960 and 350 < height < 500
    for shape in shapes:  # relative moves: a jump from +180 to -180 would be ~900 px
        for ring in shape.d.split("M")[1:]:
            moves = ring.split("l", 1)[1].rstrip("z")
            steps = [abs(float(v)) for v in re.findall(r"-?[\d.]+", moves)]
            assert max(steps) < width / 2, shape.name


@pytest.mark.parametrize(("cow", "iso"), sorted(KNOWN.items()))
def test_cow_codes_map_to_iso_numeric(cow, iso):
    assert iso_numeric_of(cow, 2024) == iso


def test_codes_are_year_aware():
    assert iso_numeric_of(626, 2005) is None  # South Sudan is not yet a state
    assert iso_numeric_of(626, 2011) == "728"
    assert iso_numeric_of(678, 1985) is None  # North Yemen: no present-day outline
    assert iso_numeric_of(680, 1985) == "887"  # South Yemen in Yemen's outline (as EWP joins)
    assert iso_numeric_of(316, 1990) is None and iso_numeric_of(315, 1990) == "203"
    assert iso_numeric_of(347, 2024) == "name:Kosovo"  # no ISO code; matched by its outline
    assert iso_numeric_of(625, 2024, code_system="gw") == "729"
    assert iso_numeric_of(729, 2024, code_system="iso") == "729"


def make_risk(*, names: bool = True) -> pd.DataFrame:
    """Every COW state of 2024 with a made-up risk: Sudan highest, Bahrain (no outline) next,
    India 16th."""
    table = pd.read_csv(
        pytest.importorskip("importlib.resources")
        .files("forecast")
        .joinpath("_data/cow_iso.csv")
        .open(),
        keep_default_na=False,
    )
    codes = sorted(int(c) for c, end in zip(table["cow"], table["end_year"]) if end == "")
    codes = [625, 692] + [c for c in codes if c not in (625, 692, 750)]
    codes.insert(15, 750)  # India in the second tier
    n = len(codes)
    p = np.linspace(0.3, 0.001, n)
    tiers = np.where(
        np.arange(n) < 10,
        TIERS[0],
        np.where(np.arange(n) < 30, TIERS[1], np.where(p >= 0.04, TIERS[2], TIERS[3])),
    )
    change = np.linspace(0.08, -0.08, n)
    change[5] = np.nan  # new on the list
    frame = pd.DataFrame({"unit": codes, "probability": p, "tier": tiers, "change": change})
    if names:
        frame["name"] = [f"State {c}" for c in codes]
        frame.loc[frame["unit"] == 625, "name"] = "Sudan"
        frame.loc[frame["unit"] == 2, "name"] = XSS
    return frame


@pytest.fixture(scope="module")
def figure() -> MapFigure:
    return world_map(make_risk(), year=2024, title="Risk of a new mass killing, 2025-2026")


def _path(svg: str, key: str) -> str:
    match = re.search(
        rf'<path d="[^"]*" fill="(#[0-9a-f]{{6}})" data-key="{key}"[^>]*>'
        r"<title>([^<]*)</title>",
        svg,
    )
    assert match, key
    return match.group(1), match.group(2)


def test_map_colours_each_country_by_its_tier(figure):
    svg = figure.svg
    assert svg.startswith("<svg") and 'role="img"' in svg and "<script" not in svg
    assert svg.count("<path ") >= 170
    fills = {t: _path(svg, k)[0] for t, k in ((TIERS[0], "729"), (TIERS[1], "356"))}
    assert len(set(fills.values())) == 2  # two tiers, two colours
    legend = dict(
        re.findall(r'<li><span style="background:(#[0-9a-f]{6})"></span>([^<]*)</li>', figure.html)
    )
    assert legend[fills[TIERS[0]]] == TIERS[0] and legend[fills[TIERS[1]]] == TIERS[1]
    fill, title = _path(svg, "729")
    assert title == "Sudan: 30.0% risk, highest (top 10), +8.0 pts since the last list"
    assert 'data-key="729" class="tier-highest-top-10"' in svg
    assert _path(svg, "304")[1] == "Greenland: no forecast"  # not a state: grey
    somalia = re.findall(r'fill="(#[0-9a-f]{6})" data-key="706"', svg)
    assert len(somalia) == 2 and len(set(somalia)) == 1  # Somaliland is drawn with Somalia


def test_map_says_what_it_shows_and_lists_what_it_cannot_draw(figure):
    label = re.search(r'aria-label="([^"]*)"', figure.svg).group(1)
    assert label.startswith("World map of risk of a new mass killing, 2025-2026 in ")
    assert "Highest risk: Sudan 30.0%" in label
    assert re.fullmatch(r"State 692 \(29\.\d%, highest \(top 10\)\)", figure.missing[0])  # Bahrain
    assert all("(" in m for m in figure.missing) and len(figure.missing) < 30
    assert "Not on the map" in figure.html and "State 692" in figure.html


def test_change_map_uses_diverging_classes(figure):
    svg = figure.change_svg
    assert svg.count("<path ") >= 170 and "Largest increases: Sudan +8.0 pts" in svg
    assert len(CHANGE_BINS) == 6
    up, down = _path(svg, "729")[0], _path(svg, "554")[0]  # Sudan +8 pts; New Zealand -8 pts
    legend = dict(
        re.findall(r'<li><span style="background:(#[0-9a-f]{6})"></span>([^<]*)</li>', figure.html)
    )
    assert (legend[up], legend[down]) == ("up 5+ pts", "down 5+ pts")
    assert 'id="wm-show-change"' in figure.html and "@media print" in figure.html


def test_names_are_escaped_and_default_to_the_state_system(figure):
    assert XSS not in figure.svg and "<script" not in figure.html
    assert "&lt;script&gt;document.title=&#x27;pwned&#x27;&lt;/script&gt;" in figure.svg
    plain = world_map(make_risk(names=False).drop(columns="change"), year=2024)
    assert _path(plain.svg, "729")[1] == "Sudan: 30.0% risk, highest (top 10)"
    assert plain.change_svg == "" and 'id="wm-show-change"' not in plain.html


@pytest.mark.parametrize(
    ("risk", "kwargs", "match"),
    [
        ([1], {}, "'risk' must be a DataFrame"),
        (pd.DataFrame({"unit": [625], "probability": [0.1]}), {}, r"lacks column\(s\) \['tier'\]"),
        (
            pd.DataFrame({"unit": ["Sudan"], "probability": [0.1], "tier": ["a"]}),
            {},
            "integer state codes",
        ),
        (pd.DataFrame({"unit": [625], "probability": [10.0], "tier": ["a"]}), {}, r"in \[0, 1\]"),
        (
            pd.DataFrame({"unit": [625], "probability": [0.1], "tier": ["a"]}),
            {"year": 2024.5},
            "integer year",
        ),
        (
            pd.DataFrame({"unit": [625], "probability": [0.1], "tier": ["a"]}),
            {"code_system": "iso3"},
            "'code_system' must be",
        ),
    ],
)
def test_bad_input_is_one_line_with_a_fix(risk, kwargs, match):
    with pytest.raises(ForecastInputError, match=match):
        world_map(risk, **{"year": 2024, **kwargs})


def _page(tmp_path, figure):
    ranked = make_risk().assign(rank=lambda f: np.arange(1, len(f) + 1))
    return render_risklist(
        ranked.rename(columns={"unit": "code"}).assign(unit=lambda f: f["name"]),
        tmp_path,
        title="Risk list",
        method_note="m",
        meta={},
        pdf=False,
        sections=[("map", "World map", figure.html)],
    )["html"]


def test_risklist_page_is_self_contained(tmp_path, figure):
    html = _page(tmp_path, figure).read_text(encoding="utf-8")
    assert "default-src 'none'" in html  # the page's CSP: nothing may load
    external = re.findall(r'(?:src|href)\s*=\s*"(?!data:|#)[^"]*"|url\(|@import', html)
    assert external == []
    assert re.findall(r"https?://[^\s\"]*", html) == ["http://www.w3.org/2000/svg"] * 2  # ns


@pytest.mark.browser
def test_browser_draws_the_map_on_the_risk_list(tmp_path, figure):
    from matplotlib.image import imread

    from forecast.reports._browser import dump_dom, screenshot

    path = _page(tmp_path, figure)
    page = dump_dom(path)
    assert page.returncode == 0 and page.console == ()  # no errors, no blocked loads
    assert "<title>Risk list</title>" in page.dom  # no script ran
    svg = re.search(r"<svg[^>]*role=\"img\".*?</svg>", page.dom, re.S).group(0)
    assert len(re.findall(r"<path ", svg)) >= 100
    assert "&lt;script&gt;document.title='pwned'&lt;/script&gt;" in page.dom
    fill = re.search(r'fill="(#[0-9a-f]{6})" data-key="729"', svg).group(1)
    assert fill == _path(figure.svg, "729")[0]
    shot = imread(screenshot(path, tmp_path / "map.png", width=1280, height=1100))
    pixels = shot[..., :3]
    assert pixels.std() > 0.05
    dark_red = (pixels[..., 0] > 0.4) & (pixels[..., 1] < 0.1) & (pixels[..., 2] < 0.1)
    assert dark_red.sum() > 500  # the highest tier is drawn


@pytest.mark.realdata
@pytest.mark.slow
def test_risklist_of_ewp_has_the_map_with_sudan_in_its_tier(tmp_path):
    from forecast.pipeline import run_risklist

    result = run_risklist(
        "experiments/ewp-2025-plus.yaml",
        out=tmp_path / "rl",
        model_label="elastic_net",
        track=False,
        tiers_from_backtest=False,
        pdf=False,
    )
    html = result.paths["html"].read_text(encoding="utf-8")
    svg = re.search(r'<figure class="wm-risk"><svg.*?</svg>', html, re.S).group(0)
    assert svg.count("<path ") >= 100
    sudan = result.risk[result.risk["unit"] == 625].iloc[0]
    fill, title = _path(svg, "729")
    assert title.startswith(f"Sudan: {100 * sudan['probability']:.1f}% risk, {sudan['tier']}")
    legend = dict(
        re.findall(r'<li><span style="background:(#[0-9a-f]{6})"></span>([^<]*)</li>', html)
    )
    assert legend[fill] == sudan["tier"]
