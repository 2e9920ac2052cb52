"""Screenshots of the pages a reader sees, at 1024 and 1440 px, for docs/img.

Each page is a file an earlier command wrote (a risk list, a report, a profile, a what-if);
sections are shot by their anchor (`page.html#costs`): the page is copied with what comes
before that element hidden, since headless Chromium shoots from the top. Nothing is fetched.

    python scripts/screenshots.py --page risklist=outputs/risklist/risklist.html \
        --page report=outputs/ewp-plus/report.html#calibration --out docs/img
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from PIL import Image

from forecast.reports._browser import screenshot, with_script

WIDTHS = (1024, 1440)


def _scrolled(page: Path, anchor: str, folder: Path) -> Path:
    """A copy of ``page`` that starts at ``#anchor``: what comes before it is hidden."""
    copy = folder / page.name
    html = page.read_text(encoding="utf-8")
    script = (  # hide what comes before the section (the shot starts at the top)
        f"<script>(()=>{{"
        f"let e=document.getElementById('{anchor}');if(!e)return;"
        "e.querySelectorAll('details').forEach(d=>d.open=true);"
        "if(e.tagName==='DETAILS')e.open=true;"
        "for(let n=e;n&&n!==document.body;n=n.parentElement)"
        "for(let s=n.previousElementSibling;s;s=s.previousElementSibling)"
        "s.style.display='none';})();</script>"
    )
    copy.write_text(with_script(html, script), encoding="utf-8")
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
                with Image.open(png) as image:  # 256 colours: a quarter of the size
                    image.convert("RGB").quantize(256).save(png, optimize=True)
                print(f"{png} {png.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
