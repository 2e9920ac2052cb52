"""Figures of a :class:`CostAnalysis`: value curves and decision curves (no pyplot state)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

if TYPE_CHECKING:
    from forecast.decision._tracking import CostAnalysis

__all__ = ["decision_curve_figure", "value_curve_figure"]

_ORACLE = "oracle"
_COLOURS = (
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


def _style(model: str, models: list[str]) -> dict:
    """Fixed colour per model; the oracle (true probabilities) dashed black, as a ceiling."""
    if model == _ORACLE:
        return {"color": "black", "linestyle": "--", "linewidth": 1.4}
    others = [m for m in models if m != _ORACLE]
    return {"color": _COLOURS[others.index(model) % len(_COLOURS)], "linewidth": 1.6}


def _legend_label(model: str) -> str:
    text = str(model).replace("$", r"\$")
    return "\u200b" + text if text.startswith("_") else text


def _model_lines(ax: Axes, frame: pd.DataFrame, x: str, y: str, models: list[str]) -> np.ndarray:
    """One line per model of ``y`` against ``x``; return all finite ``y`` values drawn."""
    drawn = []
    for model in models:
        rows = frame[frame["model"] == model].sort_values(x)
        ax.plot(rows[x], rows[y], label=_legend_label(model), **_style(model, models))
        drawn.append(rows[y].to_numpy(dtype=float))
    values = np.concatenate(drawn) if drawn else np.array([])
    return values[np.isfinite(values)]


def value_curve_figure(analysis: CostAnalysis) -> Figure:
    """Value relative to doing nothing across cost ratios: honest (left), in-sample (right).

    ``V = (E_nothing - E) / (E_nothing - E_perfect)``; the x axis is the odds
    ``k`` of the cost ratio ``r = C / (e L) = 1 / k`` on a log scale.
    """
    results = analysis.results
    models = analysis.models
    fig = Figure(figsize=(11.0, 4.4), layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    cap = "no capacity limit" if analysis.capacity is None else f"capacity {analysis.capacity}/year"
    fig.suptitle(
        f"Value of acting on warnings (effectiveness e = {analysis.effectiveness:g}, "
        f"{cap}, outcomes known through {analysis.data_end})"
    )
    low = -0.25
    for ax, policy, title in zip(
        axes,
        ("honest", "in_sample"),
        ("Threshold chosen from earlier outcomes (honest)", "Best threshold in hindsight"),
    ):
        part = results[results["policy"] == policy]
        values = _model_lines(ax, part, "odds", "value_vs_nothing", models)
        low = min(low, float(values.min())) if values.size else low
        ax.axhline(0, color="grey", linewidth=0.8)
        ax.set_xscale("log")
        ax.grid(True, color="#dddddd", linewidth=0.6)
        ax.set(title=title, xlabel="Cost ratio C / (e L) = 1 : k, odds k (log scale)")
    axes[0].set(
        ylabel="Value vs doing nothing (1 = perfect, 0 = nothing)",
        ylim=(max(low - 0.05, -1.0), 1.02),
    )
    axes[1].legend(loc="lower right", fontsize=8)
    return fig


def decision_curve_figure(analysis: CostAnalysis) -> Figure:
    """Net benefit ``TP/n - FP/n * t / (1 - t)`` against the threshold probability ``t``."""
    curves = analysis.decision_curves
    models = analysis.models
    fig = Figure(figsize=(8.0, 4.4), layout="constrained")
    ax = fig.subplots()
    values = _model_lines(ax, curves, "threshold", "net_benefit_model", models)
    top = max(1e-3, float(values.max())) if values.size else 1e-3
    first = curves[curves["model"] == models[0]].sort_values("threshold")
    ax.plot(
        first["threshold"],
        first["net_benefit_treat_all"],
        color="grey",
        linestyle="-.",
        linewidth=1,
        label="warn on all",
    )
    ax.axhline(0, color="grey", linewidth=1, label="warn on none")
    ax.set_xscale("log")
    ax.grid(True, color="#dddddd", linewidth=0.6)
    ax.set(
        title="Decision curves (net benefit, Vickers & Elkin 2006)",
        xlabel="Threshold probability t (log scale)",
        ylabel="Net benefit (onsets warned per country-year)",
        ylim=(-0.25 * top, 1.1 * top),
    )
    ax.legend(loc="upper right", fontsize=8)
    return fig
