"""Figures of a cost analysis: value curves and decision curves (no pyplot state).

Both take tables, so that a report can draw them from a run's ``costs.csv``
as well as from a :class:`CostAnalysis`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from forecast._plotting import figure_legend, model_label, model_style

if TYPE_CHECKING:  # matplotlib is imported when a figure is drawn, not with the package
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["decision_curve_figure", "value_curve_figure"]


def _model_lines(
    ax: Axes, frame: pd.DataFrame, x: str, y: str, models: list[str], highlight: str | None
) -> np.ndarray:
    """One line per model of ``y`` against ``x`` (``highlight`` thicker); return all finite
    ``y`` values drawn."""
    drawn = []
    for model in models:
        rows = frame[frame["model"] == model].sort_values(x)
        ax.plot(
            rows[x],
            rows[y],
            label=model_label(model, highlight),
            **model_style(model, models, highlight=highlight),
        )
        drawn.append(rows[y].to_numpy(dtype=float))
    values = np.concatenate(drawn) if drawn else np.array([])
    return values[np.isfinite(values)]


def value_curve_figure(
    results: pd.DataFrame, *, data_end: int | None = None, highlight: str | None = None
) -> Figure:
    """Value relative to doing nothing across cost ratios: honest (left), in-sample (right).

    ``V = (E_nothing - E) / (E_nothing - E_perfect)``; the x axis is the odds
    ``k`` of the cost ratio ``r = C / (e L) = 1 / k`` on a log scale.

    Parameters
    ----------
    results : pandas.DataFrame
        :meth:`CostAnalysis.table` (``costs.csv``): ``model, policy, odds,
        value_vs_nothing, effectiveness, capacity``.
    data_end : int, optional
        Last data year, named in the title.
    highlight : str, optional
        The recommended model, drawn thicker and labelled.
    """
    from matplotlib.figure import Figure

    models = sorted(results["model"].unique())
    fig = Figure(figsize=(11.0, 4.4), layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    capacity = results["capacity"].iloc[0]
    cap = "no capacity limit" if pd.isna(capacity) else f"capacity {int(capacity)}/year"
    known = "" if data_end is None else f", outcomes known through {data_end}"
    fig.suptitle(
        f"Value of acting on warnings (effectiveness e = {results['effectiveness'].iloc[0]:g}, "
        f"{cap}{known})"
    )
    low = -0.25
    for ax, policy, title in zip(
        axes,
        ("honest", "in_sample"),
        ("Threshold chosen from earlier outcomes (honest)", "Best threshold in hindsight"),
    ):
        part = results[results["policy"] == policy]
        values = _model_lines(ax, part, "odds", "value_vs_nothing", models, highlight)
        low = min(low, float(values.min())) if values.size else low
        ax.axhline(0, color="grey", linewidth=0.8)
        ax.set_xscale("log")
        ax.grid(True, color="#dddddd", linewidth=0.6)
        ax.set(title=title, xlabel="Cost ratio C / (e L) = 1 : k, odds k (log scale)")
    axes[0].set(
        ylabel="Value vs doing nothing (1 = perfect, 0 = nothing)",
        ylim=(max(low - 0.05, -1.0), 1.02),
    )
    figure_legend(fig, axes[0])
    return fig


def decision_curve_figure(curves: pd.DataFrame, *, highlight: str | None = None) -> Figure:
    """Net benefit ``TP/n - FP/n * t / (1 - t)`` against the threshold probability ``t``.

    ``curves``: ``model`` plus the columns of :func:`decision_curve`
    (:attr:`CostAnalysis.decision_curves`); ``highlight`` (the recommended model) is drawn
    thicker and labelled.
    """
    from matplotlib.figure import Figure

    models = sorted(curves["model"].unique())
    fig = Figure(figsize=(8.0, 4.4), layout="constrained")
    ax = fig.subplots()
    values = _model_lines(ax, curves, "threshold", "net_benefit_model", models, highlight)
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
    figure_legend(fig, ax)
    return fig
