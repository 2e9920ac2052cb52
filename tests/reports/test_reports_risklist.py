"""Risk list rendering (HTML, CSV, PDF printed by Chromium), escaping of hostile names, page
sections, the browser helper, and the real EWP list read as a policy reader would."""

from __future__ import annotations

import html as html_module
import logging
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecast._errors import ForecastInputError
from forecast.reports import RISKLIST_COLUMNS, render_risklist
from forecast.reports._browser import dump_dom, screenshot, with_script

XSS = "<script>document.title='pwned'</script>"
QUOTED = "Côte d\"Ivoire & 'Co'"
FORMULA = '=HYPERLINK("file:///x")'
TITLE = "Statistical risk assessment 2025"


def make_risk(n: int = 50, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    p = np.sort(rng.beta(1, 25, n))[::-1]
    names = [f"Country {chr(65 + i % 26)}{i // 26}" for i in range(n)]
    names[2], names[3], names[4] = XSS, QUOTED, FORMULA
    previous = p * rng.uniform(0.7, 1.3, n)
    previous[5] = np.nan
    frame = pd.DataFrame(
        {
            "rank": np.arange(1, n + 1),
            "unit": 100 + np.arange(n),
            "name": names,
            "probability": p,
            "lower": p * 0.6,
            "upper": np.minimum(p * 1.6, 1.0),
            "tier": np.where(p > 0.04, "High", "Elevated"),
            "tier_meaning": np.where(
                p > 0.04,
                "of countries listed at this level, about 1 in 6 had an onset within two years",
                "about 1 in 20",
            ),
            "previous_probability": previous,
            "change": p - previous,
            "drivers_up": "structural: share of population politically discriminated: 42%, raises "
            "risk (odds x1.88); population: 50 million people, raises risk (odds "
            "x1.44) | trigger: coup attempt in the last five years: yes, raises risk "
            "(odds x1.37)",
            "drivers_down": "mitigating: freedom of discussion: 0.9 on a 0-1 scale, lowers risk "
            "(odds x0.80)",
            "flags": "economic growth: no data for 2024 (filled in) | ethnic diversity: last "
            "updated 2013",
        }
    )
    assert tuple(frame.columns) == RISKLIST_COLUMNS
    return frame


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> tuple[pd.DataFrame, dict[str, Path]]:
    risk = make_risk()
    paths = render_risklist(
        risk.sample(frac=1.0, random_state=1),
        tmp_path_factory.mktemp("rl"),
        title=TITLE,
        method_note="We fit a logistic model.\n\n<i>Risk</i> is a probability.",
        meta={"forecast year": 2025, "model": "logit <v2>"},
    )
    return risk, paths


def test_html_lists_every_unit_in_rank_order_escaped(written):
    risk, paths = written
    html = paths["html"].read_text(encoding="utf-8")
    assert "<script" not in html and XSS not in html
    assert "&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;" in html
    assert "Côte d&#34;Ivoire &amp; &#39;Co&#39;" in html
    assert "&lt;i&gt;Risk&lt;/i&gt;" in html and "logit &lt;v2&gt;" in html
    rows = re.findall(
        r'<tr><td>(\d+)</td><td><span class="name">(.*?)</span></td>'
        r"<td>([^<]*)</td>",
        html,
    )
    assert [int(r[0]) for r in rows] == list(range(1, len(risk) + 1))  # sorted by rank
    assert rows[0][1] == "Country A0" and rows[0][2] == f"{100 * risk['probability'].iloc[0]:.1f}%"
    assert not any(re.fullmatch(r"\d+", r[1]) for r in rows)  # names, never the codes
    assert "Highest risk: <strong>Country A0</strong>" in html  # the summary names the top
    assert (
        '<span class="kind">structural</span><ul><li>share of population politically '
        "discriminated: 42%, raises risk (odds x1.88)</li>" in html
    )
    assert "<li>ethnic diversity: last updated 2013</li>" in html
    assert "new on the list" in html  # missing previous probability
    assert html.count("▲ up") == int((risk["change"] > 0.0005).sum())
    assert "about 1 in 6 had an onset within two years" in html  # tier legend
    assert "How this list was made" in html


def test_csv_round_trips_and_defuses_formulas(written):
    risk, paths = written
    back = pd.read_csv(paths["csv"])
    assert list(back.columns) == list(RISKLIST_COLUMNS)  # the code next to the name
    np.testing.assert_allclose(back["probability"], risk["probability"], rtol=1e-12)
    assert back["unit"].tolist() == risk["unit"].tolist()
    assert back.loc[2, "name"] == XSS and back.loc[3, "name"] == QUOTED
    assert back.loc[4, "name"] == "'" + FORMULA


def _pdf_text(pdf: Path) -> str | None:
    """The PDF's text by poppler's pdftotext, or None when poppler is not installed."""
    if shutil.which("pdftotext") is None:
        return None
    return subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout


def _page_one(pdf: Path, png_stem: Path) -> np.ndarray | None:
    """Page 1 of the PDF rendered by poppler's pdftoppm (None without poppler)."""
    from matplotlib.image import imread

    if shutil.which("pdftoppm") is None:
        return None
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            "40",
            "-f",
            "1",
            "-l",
            "1",
            "-png",
            "-singlefile",
            str(pdf),
            str(png_stem),
        ],
        check=True,
        capture_output=True,
    )
    return imread(f"{png_stem}.png")


@pytest.mark.browser
def test_pdf_is_the_page_printed_by_chromium(written, tmp_path):
    risk, paths = written
    data = paths["pdf"].read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 20_000
    pages = len(re.findall(rb"/Type\s*/Page\b", data))
    assert pages >= 2  # 50 rows with their drivers do not fit on one A4 page
    text = _pdf_text(paths["pdf"])
    if text is not None:  # poppler-utils installed: the names are in the PDF as text
        flat = " ".join(text.split())
        assert "Country A0" in flat and "Highest risk" in flat and "Raising risk" in flat
        assert XSS in flat  # printed as text, never run
        assert flat.count("Raising risk") >= 2  # the table header is repeated on each page
    shot = _page_one(paths["pdf"], tmp_path / "page1")
    if shot is not None:
        assert shot[..., :3].std() > 0.05  # page 1 is not blank


def test_without_chromium_no_pdf_and_one_line(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("FORECAST_CHROMIUM", str(tmp_path / "no-such-chromium"))
    risk = make_risk(8)
    with caplog.at_level(logging.WARNING, logger="forecast.reports"):
        paths = render_risklist(risk, tmp_path / "out", title="t", method_note="m", meta={})
    assert set(paths) == {"html", "csv"} and not (tmp_path / "out" / "risklist.pdf").exists()
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and lines[0].startswith("risklist.pdf not written")


def test_sections_go_after_the_summary_and_footnotes_at_the_end(tmp_path):
    risk = make_risk(8)
    paths = render_risklist(
        risk,
        tmp_path,
        title="t",
        method_note="m",
        meta={"Data year": 2024},
        pdf=False,
        sections=[("map", "World <map>", '<svg id="m"></svg>'), ("track", "Record", "<p>r</p>")],
        footnotes=["method <linear>"],
    )
    html = paths["html"].read_text()
    order = [
        html.index(x)
        for x in (
            '<section id="summary">',
            '<section id="map">',
            '<svg id="m"></svg>',
            '<section id="track">',
            '<section id="list">',
            '<section id="method">',
            '<section id="notes">',
        )
    ]
    assert order == sorted(order)
    assert "<h2>World &lt;map&gt;</h2>" in html and "<li>method &lt;linear&gt;</li>" in html
    with pytest.raises(
        ForecastInputError,
        match=r"each of 'sections' must be \(id, title, "
        r"html\) strings",
    ):
        render_risklist(
            risk,
            tmp_path,
            title="t",
            method_note="m",
            meta={},
            pdf=False,
            sections=[("map", "Map")],
        )


def test_minimal_columns_and_no_pdf(tmp_path):
    risk = pd.DataFrame({"rank": [2, 1], "unit": ["B", "A"], "probability": [0.01, 0.2]})
    paths = render_risklist(risk, tmp_path, title="t", method_note="m", meta={}, pdf=False)
    assert set(paths) == {"html", "csv"} and not (tmp_path / "risklist.pdf").exists()
    html = paths["html"].read_text()
    assert html.index('<span class="name">A</span>') < html.index('<span class="name">B</span>')
    assert '<th scope="col">Change</th>' not in html and "Plausible range" not in html


@pytest.mark.parametrize(
    ("risk", "match"),
    [
        ([1, 2], "'risk' must be a DataFrame"),
        (pd.DataFrame({"rank": [1], "unit": ["a"]}), r"lacks column\(s\) \['probability'\]"),
        (pd.DataFrame({"rank": [], "unit": [], "probability": []}), "has no rows"),
        (
            pd.DataFrame({"rank": [1, 2], "unit": ["a", "b"], "probability": [0.2, 12.0]}),
            r"column 'probability': render_risklist: values must be probabilities in \[0, 1\] "
            r"at rows \[1\]",
        ),
        (
            pd.DataFrame({"rank": [1], "unit": ["a"], "probability": [0.2], "upper": ["x"]}),
            "column 'upper'",
        ),
    ],
)
def test_bad_risk_tables_raise(tmp_path, risk, match):
    with pytest.raises(ForecastInputError, match=match):
        render_risklist(risk, tmp_path, title="t", method_note="m", meta={})


@pytest.mark.browser
def test_browser_shows_risklist_as_text(written, tmp_path):
    from matplotlib.image import imread

    _, paths = written
    page = dump_dom(paths["html"])
    assert page.returncode == 0 and page.console == ()
    assert re.search(r"<title>(.*?)</title>", page.dom).group(1) == TITLE  # script did not run
    assert "<script" not in page.dom
    assert "&lt;script&gt;document.title='pwned'&lt;/script&gt;" in page.dom
    assert page.dom.count("<tr>") >= 50
    shot = imread(screenshot(paths["html"], tmp_path / "risklist.png"))
    assert shot.shape[:2] == (2000, 1280) and shot[..., :3].std() > 0.05


@pytest.mark.browser
def test_browser_helper_catches_console_errors_and_blank_pages(tmp_path):
    from matplotlib.image import imread

    bad = tmp_path / "bad.html"
    bad.write_text(
        "<html><head><title>x</title></head><body><p>hi</p><script>"
        "console.error('boom'); missingFunction();</script></body></html>"
    )
    page = dump_dom(bad)
    assert any("boom" in m for m in page.console)
    assert any("Uncaught ReferenceError" in m for m in page.errors)
    blank = tmp_path / "blank.html"
    blank.write_text("<html><body style='background:#fff'></body></html>")
    shot = imread(screenshot(blank, tmp_path / "blank.png", width=400, height=300))
    assert shot[..., :3].std() < 1e-6


REPO = Path(__file__).resolve().parents[2]
RAW_NAMES = (
    "discrimpop",
    "popsize.log2",
    "un_imr_sqrt",
    "efindex",
    "battledeaths",
    "coup.try",
    "stale:",
    "imputed:",
)


@pytest.fixture(scope="module")
def ewp_list(tmp_path_factory):
    """The EWP 2025-plus list of the elastic net (no backtest, no tracking): ~20 s."""
    from forecast.experiment import load_experiment
    from forecast.pipeline import run_risklist

    config = load_experiment(REPO / "experiments" / "ewp-2025-plus.yaml")
    out = tmp_path_factory.mktemp("ewp") / "risklist"
    return run_risklist(
        config, out=out, model_label="elastic_net", track=False, tiers_from_backtest=False
    )


@pytest.mark.slow
@pytest.mark.realdata
@pytest.mark.browser
def test_real_list_names_countries_and_explains_in_words(ewp_list, tmp_path):
    csv = pd.read_csv(ewp_list.paths["csv"])
    assert list(csv.columns[:3]) == ["rank", "unit", "name"]
    assert {"Myanmar", "Sudan", "India", "Serbia", "Democratic Republic of the Congo"} <= set(
        csv["name"]
    )
    assert csv.set_index("unit").loc[[625, 775, 750], "name"].tolist() == [
        "Sudan",
        "Myanmar",
        "India",
    ]
    assert pd.api.types.is_integer_dtype(csv["unit"])  # the COW code stays, as a column
    words = " ".join(
        csv["drivers_up"].fillna("")
        + " "
        + csv["drivers_down"].fillna("")
        + " "
        + csv["flags"].fillna("")
    )
    assert "raises risk" in words and "lowers risk" in words
    assert "share of population politically discriminated" in words
    assert not [raw for raw in RAW_NAMES if raw in words]
    html = ewp_list.paths["html"].read_text(encoding="utf-8")
    table = html[
        html.index('<section id="list">') : html.index(
            "</table>", html.index('<section id="list">')
        )
    ]
    countries = re.findall(r'<td><span class="name">(.*?)</span>', table)
    assert len(countries) == len(csv) and not [c for c in countries if re.search(r"\d", c)]
    start = html.index('<section id="summary">')
    summary = html[start : html.index("</section>", start)]
    assert "Highest risk: <strong>" in summary and "linear" not in summary  # jargon: notes
    assert "Attribution method as recorded: linear" in html[html.index('<section id="notes">') :]
    assert "last updated 2013" in html  # the ethnic-diversity index, said once
    assert "time trend" not in " ".join(
        csv["drivers_up"].fillna("") + csv["drivers_down"].fillna("")
    )
    _no_overflow(ewp_list.paths["html"], tmp_path)  # the real list's table wraps at 1024 px


@pytest.mark.slow
@pytest.mark.realdata
@pytest.mark.browser
def test_real_list_pdf_has_the_names_and_a_page_one(ewp_list, tmp_path):
    pdf = ewp_list.paths["pdf"]
    assert pdf.read_bytes().startswith(b"%PDF")
    text = _pdf_text(pdf)
    if text is not None:
        flat = " ".join(text.split())
        assert all(name in flat for name in ("Sudan", "Myanmar", "India"))
        assert "raises risk" in flat
    shot = _page_one(pdf, tmp_path / "page1")
    if shot is not None:
        assert shot[..., :3].std() > 0.05


@pytest.mark.slow
@pytest.mark.realdata
def test_explain_takes_a_name_and_answers_in_words(capsys):
    from forecast.cli import main

    assert (
        main(
            [
                "explain",
                str(REPO / "experiments" / "ewp-2025-plus.yaml"),
                "--unit",
                "myanmar",
                "--from",
                "2023",
                "--to",
                "2024",
                "--model",
                "elastic_net",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert out.startswith("model elastic_net; the rule recommends stacked_recal because")
    assert "\nMyanmar (775), model elastic_net: risk " in out
    assert "model update" in out and "battle deaths this year" in out


INTRO = {
    "definition": "at least 1,000 <civilians> deliberately killed",
    "first_year": 2025,
    "last_year": 2026,
    "level": 0.8,
    "interval_kind": "level",
    "expected": 1.6149,
    "n_units": 50,
    "no_forecast": [("states outside the dataset's selection", ["Iceland", "Taiwan"])],
    "past": {
        "level": 0.1,
        "n": 160,
        "events": 12,
        "one_in": 160 / 12,
        "mean_forecast": 0.16,
        "first": 1993,
        "last": 2022,
        "horizon": 2,
    },
    "reliability": None,
}


def test_list_opens_with_what_the_number_is(tmp_path):
    risk = make_risk(12)
    paths = render_risklist(
        risk, tmp_path, title="t", method_note="m", meta={}, pdf=False, intro=INTRO
    )
    html = paths["html"].read_text(encoding="utf-8")
    what = html[html.index('<section id="what">') : html.index('<section id="list">')]
    assert "at least 1,000 &lt;civilians&gt; deliberately killed" in what  # escaped
    text = html_module.unescape(" ".join(re.sub(r"<[^>]+>", " ", what).split()))
    assert "a new onset happens there in 2025 or 2026" in text  # the window
    assert "the model's 80% interval" in text  # the interval's level
    assert "about 1.6 among the 50 countries" in text and "sum of their probabilities" in text
    assert "about 1 time in 13 (12 of 160 ratings" in text  # past lists at 10% or more
    assert (
        "no forecast for 2 countries, states outside the dataset's selection: Iceland, "
        "Taiwan" in text
    )
    assert "How to read and use this list" in text and "not causes" in text
    assert html.index('<section id="what">') < html.index('<section id="summary">')


def _measure(page: Path, tmp_path: Path, expression: str, *, width: int = 1024, printed=False):
    """``expression`` evaluated in ``page`` at ``width`` CSS pixels (a copy of the page with
    its no-script policy lifted; ``printed``: its print rules applied on screen)."""
    text = page.read_text(encoding="utf-8")
    if printed:
        text = text.replace("@media print", "@media all")
    script = f"<script>document.body.setAttribute('data-m', String({expression}));</script>"
    copy = tmp_path / f"measure-{width}-{printed}.html"
    copy.write_text(with_script(text, script), encoding="utf-8")
    found = re.search(r'data-m="([^"]*)"', dump_dom(copy, width=width).dom)
    assert found, "the measuring script did not run"
    return found.group(1)


_WIDTHS = (
    "[window.innerWidth, document.documentElement.scrollWidth].concat("
    "Array.from(document.querySelectorAll('table')).map("
    "t => Math.ceil(t.getBoundingClientRect().right))).join(',')"
)


def _no_overflow(page: Path, tmp_path: Path, width: int = 1024) -> None:
    inner, scroll, *tables = map(int, _measure(page, tmp_path, _WIDTHS, width=width).split(","))
    assert inner == width and tables
    assert scroll <= inner, f"the page is {scroll} px wide at {inner} px"
    assert max(tables) <= inner, f"a table ends at {max(tables)} px at {inner} px"


@pytest.mark.browser
def test_no_table_overflows_at_1024_px(written, tmp_path):
    _no_overflow(written[1]["html"], tmp_path)


@pytest.mark.browser
def test_print_opens_every_past_list_and_hides_the_hover_note(tmp_path):
    sections = [
        (
            "map",
            "Map",
            '<p class="note"><span class="screen-only">Hover over a country</span> Outlines.</p>',
        ),
        (
            "track",
            "Record",
            "<details><summary>Every past list</summary><table id='past'>"
            "<tr><td>1995</td></tr></table></details>",
        ),
    ]
    paths = render_risklist(
        make_risk(8), tmp_path, title="t", method_note="m", meta={}, pdf=False, sections=sections
    )
    probe = (
        "[document.querySelector('details').getBoundingClientRect().height"
        " - document.querySelector('summary').getBoundingClientRect().height,"
        " document.querySelector('.screen-only').getBoundingClientRect().height].join(',')"
    )
    shown, hover = map(float, _measure(paths["html"], tmp_path, probe).split(","))
    assert shown < 1 and hover > 0  # on screen: collapsed, the hint shown
    shown, hover = map(float, _measure(paths["html"], tmp_path, probe, printed=True).split(","))
    assert shown > 10 and hover == 0  # in print: every past list open, no hover hint
