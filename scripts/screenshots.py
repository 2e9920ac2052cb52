"""Screenshots of the pages a reader sees, at 1024 and 1440 px, for docs/img.

Each page is a file an earlier command wrote (a risk list, a report, a profile, a what-if);
sections are shot by their anchor (`page.html#costs`): the page is copied with a one-line
scroll to that element, since headless Chromium shoots from the top. Nothing is fetched.

    python scripts/screenshots.py --page risklist=outputs/risklist/risklist.html \
        --page report=outputs/ewp-plus/report.html#calibration --out docs/img
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from pathlib import Path

from forecast.reports._browser import screenshot

WIDTHS = (1024, 1440)


def _scrolled(page: Path, anchor: str, folder: Path) -> Path:
    """A copy of ``page`` beside it that opens scrolled to ``#anchor``."""
    copy = folder / page.name
    html = page.read_text(encoding="utf-8")
    script = (
        f"<script>addEventListener('load',()=>{{const e=document.getElementById('{anchor}');"
        "if(e){e.querySelectorAll('details').forEach(d=>d.open=true);"
        "if(e.tagName==='DETAILS')e.open=true;e.scrollIntoView();}});</script>"
    )
    html = html.replace("default-src 'none'", "default-src 'none'; script-src 'unsafe-inline'")
    copy.write_text(html.replace("</body>", script + "</body>"), encoding="utf-8")
    return copy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--page", action="append", required=True, metavar="NAME=FILE[#ID]")
    parser.add_argument("--out", type=Path, default=Path("docs/img"))
    parser.add_argument("--height", type=int, default=1100)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for item in args.page:
        name, _, target = item.partition("=")
        file, _, anchor = target.partition("#")
        page = Path(file).resolve()
        with tempfile.TemporaryDirectory(dir=page.parent) as tmp:
            shown = _scrolled(page, anchor, Path(tmp)) if anchor else page
            for width in WIDTHS:
                png = args.out / f"{name}-{width}.png"
                screenshot(shown, png, width=width, height=args.height)
                if shutil.which("convert"):  # smaller files for the docs
                    subprocess.run(["convert", str(png), "-colors", "256", str(png)], check=False)
                print(f"{png} {png.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
