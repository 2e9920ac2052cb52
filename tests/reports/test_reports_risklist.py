"""Risk list rendering (HTML, CSV, PDF), escaping of hostile names, and the browser helper."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecast._errors import ForecastInputError
from forecast.reports import RISKLIST_COLUMNS, render_risklist
from forecast.reports._browser import dump_dom, screenshot

XSS = "<script>document.title='pwned'</script>"
QUOTED = "Côte d\"Ivoire & 'Co'"
FORMULA = '=HYPERLINK("file:///x")'
TITLE = "Statistical risk assessment 2025"


def make_risk(n: int = 50, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    p = np.sort(rng.beta(1, 25, n))[::-1]
    units = [f"Country {i}" for i in range(n)]
    units[2], units[3], units[4] = XSS, QUOTED, FORMULA
    previous = p * rng.uniform(0.7, 1.3, n)
    previous[5] = np.nan
    frame = pd.DataFrame({
        "rank": np.arange(1, n + 1), "unit": units, "probability": p, "lower": p * 0.6,
        "upper": np.minimum(p * 1.6, 1.0), "tier": np.where(p > 0.04, "High", "Elevated"),
        "tier_meaning": np.where(p > 0.04, "of countries listed at this level, about 1 in 6 had "
                                           "an onset within two years", "about 1 in 20"),
        "previous_probability": previous, "change": p - previous,
        "drivers_up": "structural: past mass killing | trigger: coup attempt",
        "drivers_down": "mitigating: high GDP growth",
        "flags": "imputed: gdppcgrowth; stale: efindex"})
    assert tuple(frame.columns) == RISKLIST_COLUMNS
    return frame


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> tuple[pd.DataFrame, dict[str, Path]]:
    risk = make_risk()
    paths = render_risklist(risk.sample(frac=1.0, random_state=1), tmp_path_factory.mktemp("rl"),
                            title=TITLE, method_note="We fit a logistic model.\n\n<i>Risk</i> is "
                            "a probability.", meta={"forecast year": 2025, "model": "logit <v2>"})
    return risk, paths


def test_html_lists_every_unit_in_rank_order_escaped(written):
    risk, paths = written
    html = paths["html"].read_text(encoding="utf-8")
    assert "<script" not in html and XSS not in html
    assert "&lt;script&gt;document.title=&#x27;pwned&#x27;&lt;/script&gt;" in html
    assert "Côte d&quot;Ivoire &amp; &#x27;Co&#x27;" in html
    assert "&lt;i&gt;Risk&lt;/i&gt;" in html and "logit &lt;v2&gt;" in html
    rows = re.findall(r"<tr><td>(\d+)</td><td>(.*?)</td><td>([^<]*)</td>", html)
    assert [int(r[0]) for r in rows] == list(range(1, len(risk) + 1))  # sorted by rank
    assert rows[0][2] == f"{100 * risk['probability'].iloc[0]:.1f}%"
    assert "new on the list" in html  # missing previous probability
    assert html.count("▲ up") == int((risk["change"] > 0.0005).sum())
    assert "about 1 in 6 had an onset within two years" in html  # tier legend
    assert "How this list was made" in html


def test_csv_round_trips_and_defuses_formulas(written):
    risk, paths = written
    back = pd.read_csv(paths["csv"])
    assert list(back.columns) == list(RISKLIST_COLUMNS)
    np.testing.assert_allclose(back["probability"], risk["probability"], rtol=1e-12)
    assert back.loc[2, "unit"] == XSS and back.loc[3, "unit"] == QUOTED
    assert back.loc[4, "unit"] == "'" + FORMULA


def test_pdf_has_one_page_per_45_rows(written):
    _, paths = written
    data = paths["pdf"].read_bytes()
    assert data.startswith(b"%PDF")
    assert len(re.findall(rb"/Type /Page\b", data)) == 2  # 50 rows


def test_minimal_columns_and_no_pdf(tmp_path):
    risk = pd.DataFrame({"rank": [2, 1], "unit": ["B", "A"], "probability": [0.01, 0.2]})
    paths = render_risklist(risk, tmp_path, title="t", method_note="m", meta={}, pdf=False)
    assert set(paths) == {"html", "csv"} and not (tmp_path / "risklist.pdf").exists()
    html = paths["html"].read_text()
    assert html.index("<td>A</td>") < html.index("<td>B</td>")
    assert '<th scope="col">Change</th>' not in html and "Plausible range" not in html


@pytest.mark.parametrize(("risk", "match"), [
    ([1, 2], "'risk' must be a DataFrame"),
    (pd.DataFrame({"rank": [1], "unit": ["a"]}), r"lacks column\(s\) \['probability'\]"),
    (pd.DataFrame({"rank": [], "unit": [], "probability": []}), "has no rows"),
    (pd.DataFrame({"rank": [1, 2], "unit": ["a", "b"], "probability": [0.2, 12.0]}),
     r"column 'probability': render_risklist: values must be probabilities in \[0, 1\] "
     r"at rows \[1\]"),
    (pd.DataFrame({"rank": [1], "unit": ["a"], "probability": [0.2], "upper": ["x"]}),
     "column 'upper'"),
])
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
    bad.write_text("<html><head><title>x</title></head><body><p>hi</p><script>"
                   "console.error('boom'); missingFunction();</script></body></html>")
    page = dump_dom(bad)
    assert any("boom" in m for m in page.console)
    assert any("Uncaught ReferenceError" in m for m in page.errors)
    blank = tmp_path / "blank.html"
    blank.write_text("<html><body style='background:#fff'></body></html>")
    shot = imread(screenshot(blank, tmp_path / "blank.png", width=400, height=300))
    assert shot[..., :3].std() < 1e-6
