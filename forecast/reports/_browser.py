"""Headless Chromium for checking rendered pages: DOM dump, console messages, screenshots.

Used by the tests (and handy by hand) to see a report as a reader does, and to print the
risk list to PDF. Each call starts a fresh browser with a throw-away profile, cut off from
the network: in a network namespace of its own where the kernel allows one (``unshare``),
and, in any case, with every host name resolving to nothing and every request sent to a
proxy that does not exist. The pages are self-contained files; the browser needs no network,
and left to itself it looks up Google hosts.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "PageLoad",
    "chromium_path",
    "dump_dom",
    "overflowing_tables",
    "print_pdf",
    "screenshot",
    "with_script",
]

_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
_CONSOLE = re.compile(r":CONSOLE(?::\d+)?\]\s*(.*)$")
_ERROR_WORDS = ("Uncaught", "Error", "Failed to load", "Refused to", "net::ERR", "Not allowed")


@dataclass(frozen=True)
class PageLoad:
    """What the browser saw: the serialised DOM and every console message."""

    dom: str
    console: tuple[str, ...]
    returncode: int

    @property
    def errors(self) -> tuple[str, ...]:
        """Console messages of the page that report an error (uncaught exception, blocked or
        failed load); the browser's own pages (``chrome://``, e.g. its "Slow network is
        detected" note under load) are not the page's."""
        return tuple(
            m
            for m in self.console
            if any(w in m for w in _ERROR_WORDS) and "source: chrome://" not in m
        )


def chromium_path() -> str:
    """The Chromium binary: ``$FORECAST_CHROMIUM`` or the first of chromium/chrome on PATH."""
    explicit = os.environ.get("FORECAST_CHROMIUM")
    if explicit:
        return explicit
    for name in _CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    raise FileNotFoundError(
        "no Chromium found (looked for $FORECAST_CHROMIUM, "
        f"{', '.join(_CANDIDATES)}); install it, e.g. apt-get install chromium"
    )


def _flags(profile: str) -> list[str]:
    return [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-extensions",
        "--hide-scrollbars",
        # No name resolves and every request goes to a proxy where nothing listens.
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--proxy-server=127.0.0.1:9",
        "--proxy-bypass-list=<-loopback>",
        f"--user-data-dir={profile}",
    ]


_UNSHARE = ("unshare", "--user", "--map-root-user", "--net")


@functools.cache
def _offline_prefix() -> tuple[str, ...]:
    """``unshare`` arguments that run a command in a new network namespace (a loopback
    that is down, no route anywhere), or ``()`` where the kernel refuses unprivileged user
    namespaces or there is no ``unshare``: the browser flags alone then keep it offline."""
    if not sys.platform.startswith("linux") or shutil.which(_UNSHARE[0]) is None:
        return ()
    try:
        probe = subprocess.run(
            [*_UNSHARE, "true"], capture_output=True, stdin=subprocess.DEVNULL, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return ()
    return _UNSHARE if probe.returncode == 0 else ()


def _url(page: str | Path) -> str:
    text = str(page)
    if re.match(r"^[a-z]+:", text) and not re.match(r"^[A-Za-z]:\\", text):
        return text
    return Path(page).resolve().as_uri()


def _run(args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory(prefix="forecast-chromium-") as profile:
        command = [*_offline_prefix(), chromium_path(), *_flags(profile), *args]
        return subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            check=False,
        )


def dump_dom(page: str | Path, *, timeout: float = 60.0, width: int | None = None) -> PageLoad:
    """Load ``page`` (a file path or URL) and return its DOM after load, with console output.

    Console messages are read from Chromium's log (``--enable-logging=stderr``);
    each entry is the message text with its source. ``width``: the window's width in CSS
    pixels (Chromium's default otherwise), for scripts of the page that measure its layout.
    """
    size = [f"--window-size={width},900"] if width else []
    done = _run(["--enable-logging=stderr", "--v=0", *size, "--dump-dom", _url(page)], timeout)
    console = tuple(m.group(1) for line in done.stderr.splitlines() if (m := _CONSOLE.search(line)))
    return PageLoad(done.stdout, console, done.returncode)


_MEASURE = """<script>addEventListener('load', () => {
document.querySelectorAll('details').forEach(d => d.open = true);
const w = window.innerWidth, out = [];
document.querySelectorAll('table').forEach((t, i) => {
  let box = t.parentElement;
  while (box && getComputedStyle(box).overflowX !== 'auto') box = box.parentElement;
  const right = (box || t).getBoundingClientRect().right;
  if (right > w + 1) out.push(i + ':' + Math.ceil(right));
});
document.body.setAttribute('data-overflow', out.join(' ') || 'none');
document.body.setAttribute('data-page', document.documentElement.scrollWidth + '/' + w);
});</script>"""


def with_script(html: str, script: str) -> str:
    """``html`` with its no-script policy (the Content-Security-Policy ``<meta>``) lifted and
    ``script`` (a ``<script>`` element) run at the end of its body: a page to measure or
    arrange in the browser, never one to publish."""
    html = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", html)
    return html.replace("</body>", script + "</body>")


def overflowing_tables(page: str | Path, *, width: int = 1024) -> tuple[list[str], int]:
    """Tables of ``page`` that run past a ``width``-px window (``'index:right edge'``; a table
    inside a box that scrolls sideways counts by its box), and the page's scroll width.

    The page is measured from a copy with a measuring script (its own stays script-free),
    every ``<details>`` opened.
    """
    text = with_script(Path(page).read_text(encoding="utf-8"), _MEASURE)
    with tempfile.TemporaryDirectory(prefix="forecast-measure-") as folder:
        probe = Path(folder) / "probe.html"
        probe.write_text(text, encoding="utf-8")
        dom = dump_dom(probe, width=width).dom
    found = re.search(r'data-overflow="([^"]*)"', dom)
    scroll = re.search(r'data-page="(\d+)/\d+"', dom)
    if not found or not scroll:
        raise RuntimeError(f"the measuring script did not run on {page}")
    tables = [] if found.group(1) == "none" else found.group(1).split()
    return tables, int(scroll.group(1))


def screenshot(
    page: str | Path,
    png: str | Path,
    *,
    width: int = 1280,
    height: int = 2000,
    timeout: float = 60.0,
) -> Path:
    """Save a ``width`` x ``height`` PNG screenshot of ``page``; raise if none was written."""
    png = Path(png).resolve()
    png.unlink(missing_ok=True)
    done = _run([f"--screenshot={png}", f"--window-size={width},{height}", _url(page)], timeout)
    if not png.is_file():
        raise RuntimeError(
            f"Chromium wrote no screenshot (exit {done.returncode}): {done.stderr.strip()[-500:]}"
        )
    return png


def print_pdf(page: str | Path, pdf: str | Path, *, timeout: float = 120.0) -> Path:
    """Print ``page`` to ``pdf`` with Chromium's print-to-PDF (paper size and margins from the
    page's ``@page`` CSS, no header or footer); raise if no PDF was written.

    Raises
    ------
    FileNotFoundError
        When there is no Chromium (see :func:`chromium_path`).
    """
    pdf = Path(pdf).resolve()
    pdf.unlink(missing_ok=True)
    done = _run(["--no-pdf-header-footer", f"--print-to-pdf={pdf}", _url(page)], timeout)
    if not pdf.is_file() or pdf.stat().st_size == 0:
        raise RuntimeError(
            f"Chromium wrote no PDF (exit {done.returncode}): {done.stderr.strip()[-500:]}"
        )
    return pdf
