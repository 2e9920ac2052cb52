"""Line styles shared by every figure: a distinct (colour, line style, marker) per model.

Colours come from the Okabe-Ito colour-blind-safe palette (black left for the oracle);
line styles and markers cycle with lengths coprime to the palette's, so any number of
models (7 x 4 = 28 before a (colour, line style) pair repeats, 140 with markers) get
distinct lines that still read apart in greyscale. The recommended model is a thick
solid black line on top, labelled "(recommended)". The oracle (the true probabilities of
a simulated world) is a dashed black line so that it reads as a ceiling, not a model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = [
    "LINESTYLES",
    "MARKERS",
    "ORACLE",
    "PALETTE",
    "figure_legend",
    "legend_label",
    "model_label",
    "model_style",
]

ORACLE = "oracle"
"""Model label of the true probabilities on the synthetic world."""

PALETTE = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#882255",  # wine (Tol), for Okabe-Ito's yellow that vanishes on white
    "#777777",  # grey (drivers only: models cycle through the first 7)
)
"""Okabe & Ito (2008) colours without black (the oracle's) and yellow."""

_MODEL_COLOURS = 7
LINESTYLES = ("-", "--", "-.", ":")
MARKERS = ("o", "s", "^", "D", "v")


def legend_label(name: str) -> str:
    """A legend-safe label: no mathtext, not hidden by a leading underscore."""
    text = str(name).replace("$", r"\$")
    return "\u200b" + text if text.startswith("_") else text


def model_style(
    model: str, models: Sequence[str], *, highlight: str | None = None, markers: bool = True
) -> dict[str, Any]:
    """Matplotlib line keywords of ``model`` among ``models`` (its position fixes them).

    ``highlight`` (the recommended model) is a thick solid black line on top; model ``i``
    of the others (oracle excluded) gets colour ``i mod 7``, line style ``i mod 4`` and
    marker ``i mod 5``: no two of up to 28 models share a (colour, line style) pair.
    """
    if model == ORACLE:
        return {"color": "black", "linestyle": "--", "linewidth": 1.4}
    if model == highlight:
        strong: dict[str, Any] = {"color": "black", "linestyle": "-", "linewidth": 3.0, "zorder": 5}
        return strong | ({"marker": "o", "markersize": 5, "markevery": 0.1} if markers else {})
    others = [m for m in models if m not in (ORACLE, highlight)]
    i = others.index(model)
    style: dict[str, Any] = {
        "color": PALETTE[i % _MODEL_COLOURS],
        "linestyle": LINESTYLES[i % len(LINESTYLES)],
        "linewidth": 1.5,
    }
    if markers:
        style |= {"marker": MARKERS[i % len(MARKERS)], "markersize": 4, "markevery": 0.1}
    return style


def model_label(model: str, highlight: str | None = None) -> str:
    """The legend label of ``model``; ``highlight`` is marked "(recommended)"."""
    return legend_label(f"{model} (recommended)" if model == highlight else model)


def figure_legend(fig: Any, ax: Any, *, ncols: int | None = None) -> None:
    """One legend for the whole figure, below the axes, so it never covers a line."""
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        fig.legend(
            handles,
            labels,
            loc="outside lower center",
            ncols=ncols or min(len(labels), max(2, int(fig.get_figwidth() / 2.2))),
            fontsize=8,
            frameon=False,
        )
