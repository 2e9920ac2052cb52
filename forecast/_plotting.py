"""Line styles shared by every figure: one colour per model, the oracle dashed black.

The oracle (the true probabilities of a simulated world) is drawn as a dashed
black line so that it reads as a ceiling, not as a competing model.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["ORACLE", "PALETTE", "legend_label", "model_style"]

ORACLE = "oracle"
"""Model label of the true probabilities on the synthetic world."""

PALETTE = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#9467bd",
    "#ff7f0e",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#7f7f7f",
)


def legend_label(name: str) -> str:
    """A legend-safe label: no mathtext, not hidden by a leading underscore."""
    text = str(name).replace("$", r"\$")
    return "\u200b" + text if text.startswith("_") else text


def model_style(model: str, models: Sequence[str]) -> dict:
    """Line style of ``model``: a fixed colour per position, dashed black for the oracle."""
    if model == ORACLE:
        return {"color": "black", "linestyle": "--", "linewidth": 1.4}
    others = [m for m in models if m != ORACLE]
    return {"color": PALETTE[others.index(model) % len(PALETTE)], "linewidth": 1.6}
