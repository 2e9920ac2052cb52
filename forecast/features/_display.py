"""How an indicator's value reads to a person: the optional ``display:`` of a spec entry.

``display`` is a scale, optionally followed by the unit of the underlying quantity::

    display: yes_no                         # 1 -> "yes", 0 -> "no"
    display: share                          # 0.42 -> "42%"
    display: percent                        # -3.2 -> "-3.2%"
    display: log2 people                    # 27.4 -> "177 million people"   (2**v)
    display: log2p1 deaths                  # 12.3 -> "about 5,000 deaths"   (2**v - 1)
    display: sqrt per 1,000 live births     # 5.3 -> "28 per 1,000 live births" (v**2)
    display: number on a 0-4 scale          # 2 -> "2 on a 0-4 scale"
    display: change                         # 1 -> "began", -1 -> "ended", 0 -> "no change"
    display: log2_change                    # 1.6 -> "3.0 times the year before"
    display: none                           # the value is not shown (e.g. a time trend)

Without ``display`` a value is shown as a plain number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from forecast._errors import input_error

__all__ = ["DISPLAY_SCALES", "Display", "format_value", "parse_display"]

DISPLAY_SCALES: tuple[str, ...] = (
    "yes_no",
    "share",
    "percent",
    "number",
    "log2",
    "log2p1",
    "sqrt",
    "change",
    "log2_change",
    "none",
)


@dataclass(frozen=True)
class Display:
    """A scale (one of :data:`DISPLAY_SCALES`) and the unit of the quantity (may be empty)."""

    scale: str
    unit: str = ""

    def format(self, value: float) -> str:
        """``value`` as a reader sees it (see the module docstring); ``''`` for ``none``."""
        return format_value(value, self)


def parse_display(raw: Any, where: str) -> Display | None:
    """Parse ``display: <scale> [unit words]``; None when absent."""
    if raw is None:
        return None
    if not isinstance(raw, str) or not raw.strip():
        raise input_error(
            f"display must be a scale and optional unit such as 'log2p1 deaths', got {raw!r}",
            source=where,
            fix=f"start it with one of {list(DISPLAY_SCALES)}",
        )
    scale, _, unit = raw.strip().partition(" ")
    if scale not in DISPLAY_SCALES:
        raise input_error(
            f"display scale must be one of {list(DISPLAY_SCALES)}, got {scale!r}",
            source=where,
            fix="e.g. display: share, or display: log2p1 deaths",
        )
    if scale in ("yes_no", "share", "percent", "change", "log2_change", "none") and unit.strip():
        raise input_error(
            f"display scale {scale!r} takes no unit, got {unit.strip()!r}",
            source=where,
            fix=f"write display: {scale}",
        )
    return Display(scale, " ".join(unit.split()))


def _magnitude(x: float) -> str:
    """A count in words a reader takes in at a glance: 177 million, 5,000, 12, 0.42."""
    size = abs(x)
    if not math.isfinite(x) or size >= 1e12:
        return f"{x:.2g}"
    if 1000 <= size < 1e6:  # two significant digits: 5,040 -> 5,000; 123,456 -> 120,000
        x = round(x, 1 - int(math.floor(math.log10(size))))
        size = abs(x)
    for factor, word in ((1e9, "billion"), (1e6, "million")):
        if size >= factor:
            scaled = x / factor
            return f"{scaled:.1f} {word}" if abs(scaled) < 10 else f"{scaled:.0f} {word}"
    if size >= 1000:
        return f"{x:,.0f}"
    if size >= 10 or float(x).is_integer():
        return f"{x:,.0f}"
    return f"{x:.2g}" if size < 1 else f"{x:.1f}"


def _with_unit(number: str, unit: str, value: float) -> str:
    if not unit:
        return number
    first, _, rest = unit.partition(" ")
    if number in ("1", "about 1") and first.endswith("s") and len(first) > 2:
        first = first[:-1]  # 1 death, 1 episode
    return " ".join(p for p in (number, first, rest) if p)


def format_value(value: float, display: Display | None = None) -> str:
    """``value`` formatted by ``display`` (a plain number when None); missing -> 'no data'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "no data"
    v = float(value)
    if not math.isfinite(v):
        return "no data"
    if display is None:
        return _magnitude(v)
    scale, unit = display.scale, display.unit
    if scale == "none":
        return ""
    if scale == "yes_no":
        return "yes" if v >= 0.5 else "no"
    if scale == "share":
        return f"{100 * v:.0f}%" if abs(v) >= 0.01 or v == 0 else f"{100 * v:.1f}%"
    if scale == "percent":
        return f"{v:+.1f}%" if v else "0%"
    if scale == "change":
        return "began" if v > 0 else "ended" if v < 0 else "no change"
    if scale == "log2_change":
        if abs(v) < 0.05:
            return "about the same as the year before"
        ratio = 2.0 ** float(np.clip(v, -1000.0, 1000.0))
        if v > 0:
            return (
                f"{ratio:.1f} times the year before"
                if ratio < 10
                else f"{ratio:.0f} times the year before"
            )
        return (
            f"{100 * ratio:.0f}% of the year before"
            if ratio >= 0.01
            else "under 1% of the year before"
        )
    if scale == "log2":
        return _with_unit(_magnitude(2.0 ** min(v, 1000.0)), unit, v)
    if scale == "log2p1":
        count = max(2.0 ** min(v, 1000.0) - 1, 0.0)
        number = _magnitude(count)
        return _with_unit(number if count < 100 else f"about {number}", unit, count)
    if scale == "sqrt":
        return _with_unit(_magnitude(v * v), unit, v * v)
    return _with_unit(_magnitude(v), unit, v)
