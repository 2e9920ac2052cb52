"""Matplotlib figures of the model comparison report (object API, no pyplot state).

Each function takes prepared numbers and returns a :class:`matplotlib.figure.Figure`
with a title and axis labels; the oracle (true probabilities on simulated data),
when present, is drawn as a dashed black line so it reads as a ceiling, not a model.
The cost figures are those of the run's cost analysis
(:func:`forecast.decision.value_curve_figure`, :func:`~forecast.decision.decision_curve_figure`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from forecast._plotting import ORACLE, figure_legend, legend_label, model_label, model_style

__all__ = [
    "CURVE_POINTS",
    "ORACLE",
    "catch_figure",
    "curve_thresholds",
    "difference_figure",
    "per_year_figure",
    "fixed_reliability_figure",
    "roc_pr_figure",
    "threshold_figure",
]


def _figure(ncols: int = 1, *, width: float = 10.0, height: float = 4.2):
    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(1, ncols, squeeze=False)[0]
    for ax in axes:
        ax.grid(True, color="#dddddd", linewidth=0.6)
    return fig, axes


CURVE_POINTS = 20_000
"""Most thresholds a ROC or precision-recall curve is drawn at: a model with more distinct
forecasts is drawn at this many quantiles of them (exact points of its curves, fewer of
them), and the figure says so."""


def curve_thresholds(p: np.ndarray) -> np.ndarray | None:
    """The thresholds a model's ROC and PR curves are drawn at: None for every distinct
    forecast (up to :data:`CURVE_POINTS` of them), else that many quantiles of ``p``."""
    if np.unique(p).size <= CURVE_POINTS:
        return None
    return np.unique(np.quantile(p, np.linspace(0.0, 1.0, CURVE_POINTS), method="lower"))


def _curves(y: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, ...]:
    """(fpr, tpr) and (recall, precision) of warning at ``p >= t``, as scikit-learn's
    ``roc_curve`` and ``precision_recall_curve`` draw them; at :func:`curve_thresholds`."""
    grid = curve_thresholds(p)
    if grid is None:
        from sklearn.metrics import precision_recall_curve, roc_curve

        fpr, tpr, _ = roc_curve(y, p)
        precision, recall, _ = precision_recall_curve(y, p)
        return fpr, tpr, recall, precision
    from forecast.metrics import threshold_counts

    at = threshold_counts(y, p, thresholds=grid[::-1])  # highest threshold first
    tp, fp = at["hits"], at["false_alarms"]
    fpr = np.r_[0.0, fp / fp[-1]]
    tpr = np.r_[0.0, tp / tp[-1]]
    return fpr, tpr, np.r_[(tp / tp[-1])[::-1], 0.0], np.r_[at["precision"][::-1], 1.0]


def roc_pr_figure(
    data: Mapping[str, tuple[np.ndarray, np.ndarray]], *, highlight: str | None = None
) -> Figure:
    """ROC curves (left) and precision-recall curves (right), one line per model
    (``highlight`` drawn thicker); a model with more than :data:`CURVE_POINTS` distinct
    forecasts is drawn at that many quantile thresholds, with a note under the panels."""
    models = list(data)
    fig, (roc_ax, pr_ax) = _figure(2)
    base_rate = np.nan
    gridded = []
    for model, (y, p) in data.items():
        fpr, tpr, recall, precision = _curves(y, p)
        if curve_thresholds(p) is not None:
            gridded.append(model)
        style = {
            "label": model_label(model, highlight),
            **model_style(model, models, highlight=highlight),
        }
        roc_ax.plot(fpr, tpr, **style)
        pr_ax.step(recall, precision, where="post", **style)
        base_rate = float(np.mean(y))
    if gridded:
        pr_ax.set_xlabel(
            "Recall (share of onsets warned)\n"
            f"Curves drawn at {CURVE_POINTS:,} quantile thresholds of each model's forecasts "
            f"(exact points, straight lines between them): {', '.join(gridded)}.",
        )
    roc_ax.plot([0, 1], [0, 1], color="grey", linewidth=0.8, linestyle=":", label="chance")
    roc_ax.set(
        title="ROC curves",
        xlabel="False positive rate (share of non-onsets warned)",
        ylabel="True positive rate (share of onsets warned)",
        xlim=(0, 1),
        ylim=(0, 1.01),
    )
    if not gridded:
        pr_ax.set_xlabel("Recall (share of onsets warned)")
    pr_ax.axhline(base_rate, color="grey", linewidth=0.8, linestyle=":", label="base rate")
    pr_ax.set(
        title="Precision-recall curves",
        ylabel="Precision (share of warnings followed by an onset)",
        xlim=(0, 1),
        ylim=(0, 1.01),
    )
    figure_legend(fig, roc_ax)
    return fig


def fixed_reliability_figure(
    tables: Mapping[str, pd.DataFrame], *, highlight: str | None = None, level: float = 0.9
) -> Figure:
    """Observed onset rate per fixed forecast bin, one series per model with its Wilson
    interval (:func:`forecast.calibration.fixed_bin_reliability`); a black tick marks each
    bin's mean forecast. Log scale; an observed rate of 0 is drawn at the bottom edge."""
    models = list(tables)
    fig, (ax,) = _figure(1, width=9.0, height=4.6)
    labels = list(next(iter(tables.values()))["bin"])
    floor = 5e-4
    width = 0.7 / max(len(models), 1)
    for j, (model, table) in enumerate(tables.items()):
        x = np.arange(len(table)) - 0.35 + width * (j + 0.5)
        style = model_style(model, models, markers=False)  # black is the ticks' colour here
        rate = table["observed_rate"].to_numpy(float)
        low = table["lower"].to_numpy(float)
        high = table["upper"].to_numpy(float)
        shown = np.clip(rate, floor, None)
        err = np.vstack([shown - np.clip(low, floor, None), high - shown]).clip(min=0)
        ax.errorbar(
            x,
            shown,
            yerr=err,
            fmt="os^Dv"[j % 5],
            color=style["color"],
            markersize=7 if model == highlight else 5,
            elinewidth=3.0 if model == highlight else 1.5,
            capsize=2,
            linestyle="none",
            label=model_label(model, highlight),
        )
        ax.plot(x, table["mean_forecast"], "_", color="black", markersize=12, markeredgewidth=1.6)
    ax.plot([], [], "_", color="black", markersize=12, label="mean forecast in the bin")
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{100 * v:g}%"))
    ax.set_xticks(np.arange(len(labels)), [f"forecast {b}" for b in labels])
    ax.set(
        title=f"Observed onset rate by forecast bin ({level:.0%} Wilson intervals)",
        ylabel="Share of forecasts followed by an onset (log)",
        ylim=(floor * 0.8, 1.0),
    )
    figure_legend(fig, ax)
    return fig


def catch_figure(
    ranks: Mapping[str, np.ndarray],
    max_k: int,
    marks: Sequence[int],
    *,
    highlight: str | None = None,
) -> Figure:
    """Share of onsets caught when warning on the top k units of each year, for k = 1..max_k."""
    models = list(ranks)
    fig, (ax,) = _figure(1, width=8.0, height=4.2)
    ks = np.arange(1, max_k + 1)
    for model, r in ranks.items():
        r = np.sort(np.asarray(r, dtype=float))  # share with rank <= k, for every k at once
        caught = (
            np.searchsorted(r, ks, side="right") / r.size if r.size else np.full(ks.size, np.nan)
        )
        ax.step(
            ks,
            caught,
            where="post",
            label=model_label(model, highlight),
            **model_style(model, models, highlight=highlight),
        )
    for k in marks:
        if k <= max_k:
            ax.axvline(k, color="grey", linewidth=0.7, linestyle=":")
            ax.text(k, 0.02, f" top {k}", fontsize=8, color="grey")
    ax.set(
        title="Catch curve: onsets caught by a top-k warning list each year",
        xlabel="k (units on the warning list each year)",
        ylabel="Share of onsets caught (recall)",
        xlim=(1, max_k),
        ylim=(0, 1.01),
    )
    figure_legend(fig, ax)
    return fig


def threshold_figure(
    curves: Mapping[str, tuple[np.ndarray, np.ndarray]],
    thresholds: np.ndarray,
    marker: float,
    *,
    highlight: str | None = None,
) -> Figure:
    """Precision (left) and recall (right) of warning when ``p >= threshold``.

    ``curves[model] = (precision, recall)`` at ``thresholds`` (from
    :func:`forecast.metrics.precision_at_threshold` and ``recall_at_threshold``).
    """
    models = list(curves)
    fig, (prec_ax, rec_ax) = _figure(2)
    for model, (precision, recall) in curves.items():
        line = {
            "label": model_label(model, highlight),
            **model_style(model, models, highlight=highlight),
        }
        prec_ax.plot(thresholds, precision, **line)
        rec_ax.plot(thresholds, recall, **line)
    for ax in (prec_ax, rec_ax):
        ax.axvline(marker, color="grey", linewidth=0.8, linestyle=":")
        ax.set_xscale("log")
        ax.set_ylim(0, 1.01)
    prec_ax.set(
        title="Precision at threshold",
        xlabel="Threshold probability (log scale)",
        ylabel="Share of warnings followed by an onset",
    )
    rec_ax.set(
        title=f"Recall at threshold (dotted: EWP cut-off {marker:.0%})",
        xlabel="Threshold probability (log scale)",
        ylabel="Share of onsets warned",
    )
    figure_legend(fig, prec_ax)
    return fig


def per_year_figure(per_year: pd.DataFrame, k: int, *, highlight: str | None = None) -> Figure:
    """ROC AUC (left) and top-k recall (right) per forecast year, one line per model."""
    models = list(dict.fromkeys(per_year["model"]))
    fig, (auc_ax, rec_ax) = _figure(2)
    for model, part in per_year.groupby("model", sort=False):
        line = {
            "label": model_label(model, highlight),
            **model_style(model, models, highlight=highlight),
            "markevery": 1,
        }
        auc_ax.plot(part["year"], part["roc_auc"], **line)
        rec_ax.plot(part["year"], part[f"recall_top{k}"], **line)
    auc_ax.axhline(0.5, color="grey", linewidth=0.8, linestyle=":")
    auc_ax.set(
        title="ROC AUC per forecast year",
        xlabel="Forecast year (data year)",
        ylabel="ROC AUC",
        ylim=(0, 1.01),
    )
    rec_ax.set(
        title=f"Recall of the top {k} per forecast year",
        xlabel="Forecast year (data year)",
        ylabel=f"Share of onsets in the top {k}",
        ylim=(0, 1.01),
    )
    figure_legend(fig, auc_ax)
    return fig


def difference_figure(
    labels: Sequence[str],
    estimate: Sequence[float],
    lower: Sequence[float],
    upper: Sequence[float],
    *,
    metric: str,
) -> Figure:
    """Paired differences with their 95% intervals, one row per pair (a forest plot)."""
    n = len(labels)
    fig, (ax,) = _figure(1, width=9.0, height=1.2 + 0.42 * max(n, 1))
    pos = np.arange(n)[::-1]
    est = np.asarray(estimate, dtype=float)
    err = np.vstack(
        [est - np.asarray(lower, dtype=float), np.asarray(upper, dtype=float) - est]
    ).clip(min=0)
    excludes = (np.asarray(lower, dtype=float) > 0) | (np.asarray(upper, dtype=float) < 0)
    colors = np.where(excludes, "#1f4e79", "#888888")
    for y, x, e0, e1, c in zip(pos, est, err[0], err[1], colors):
        ax.errorbar([x], [y], xerr=[[e0], [e1]], fmt="o", color=c, capsize=3, markersize=5)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_yticks(pos, [legend_label(label) for label in labels], fontsize=8)
    ax.set(
        title=f"{metric}: difference (first minus second) with 95% paired bootstrap interval",
        xlabel=f"{metric} difference (blue: the interval excludes 0)",
    )
    ax.set_ylim(-0.7, n - 0.3)
    return fig
