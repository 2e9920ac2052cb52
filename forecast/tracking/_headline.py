"""What a tracked run shows first: headline metrics, the recommended model, descriptions.

Shared by the trackers (:class:`~forecast.tracking.MlflowTracker`,
:class:`~forecast.tracking.MemoryTracker`) so that both log the same names: a backtest's
parent run carries every model's headline metrics (``<metric>/<model>``) and the recommended
model's under the plain names; a model run carries a handful of cost metrics at the spec's
cost ratio, the whole cost grid being one table of the parent.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "backtest_headline",
    "cost_grid",
    "cost_headline",
    "describe_backtest",
    "describe_model",
    "ratio_label",
    "run_choice",
]


def _finite(metrics: dict[str, Any]) -> dict[str, float]:
    out = {}
    for key, value in metrics.items():
        try:
            number = float(value)
        except (TypeError, ValueError):
            continue
        if np.isfinite(number):
            out[key] = number
    return out


_HEADLINE = ("roc_auc", "average_precision", "brier", "observed_expected")
_COST_HEADLINE = (
    "relative_value",
    "value_vs_nothing",
    "warnings_per_year",
    "hits_per_year",
    "false_alarms_per_hit",
)


def ratio_label(ratio: float) -> str:
    """``1to20`` of a cost ratio (the ``metrics_by_model`` key suffix)."""
    return f"1to{1 / float(ratio):.6g}"


def cost_headline(
    metrics: dict[str, dict[str, float]], ratio: float | None = None
) -> tuple[str, dict[str, dict[str, float]]]:
    """The few cost metrics a model run carries: ``(ratio label, {model: {name: value}})``.

    From ``metrics`` (``analysis.metrics_by_model()``) at ``ratio``, the spec's cost ratio
    (:func:`forecast.choice.spec_cost_ratio`; None: that rule's default for a spec without
    ratios), honest policy: ``cost/relative_value``, ``cost/value_vs_nothing``,
    ``cost/warnings_per_year``, ``cost/hits_per_year``, ``cost/false_alarms_per_hit`` and
    ``cost/onsets_per_year`` (finite values only). The full grid goes to a table
    (:func:`cost_grid`).
    """
    from forecast.choice import spec_cost_ratio

    label = ratio_label(spec_cost_ratio(()) if ratio is None else ratio)
    keys = [(f"cost/{m}", f"{m}_{label}") for m in _COST_HEADLINE]
    keys.append(("cost/onsets_per_year", "onsets_per_year"))
    out = {}
    for model, values in metrics.items():
        picked = {name: float(values.get(key, np.nan)) for name, key in keys}
        out[model] = {k: v for k, v in picked.items() if np.isfinite(v)}
    return label, out


def cost_grid(metrics: dict[str, dict[str, float]]) -> pd.DataFrame:
    """``analysis.metrics_by_model()`` as one long table: ``model``, ``metric``, ``value``."""
    return pd.DataFrame(
        [(m, k, v) for m, values in metrics.items() for k, v in sorted(values.items())],
        columns=["model", "metric", "value"],
    )


def run_choice(config: Any, summary: Any, run: Any) -> Any:
    """The run's :class:`forecast.choice.ModelChoice` (None when nothing was scored)."""
    from forecast.choice import recommend_model

    metrics = summary.pooled if summary is not None else None
    return recommend_model(config, metrics=metrics, costs=run.costs)


def backtest_headline(summary: Any, recommended: str | None) -> list[tuple[str, float]]:
    """The parent run's metrics: ``<metric>/<model>`` of every model (AUC, AP, Brier, O/E,
    top-k recall) and the recommended model's under the plain names, so the collapsed runs
    table sorts on them."""
    if summary is None:
        return []
    pooled = summary.pooled.set_index("model")
    wanted = [*_HEADLINE, *sorted(c for c in pooled.columns if c.startswith("recall_top"))]
    out = []
    for model, row in pooled.iterrows():
        values = _finite({k: row[k] for k in wanted if k in row.index})
        out += [(f"{k}/{model}", v) for k, v in values.items()]
        if model == recommended:
            out += list(values.items())
    return out


def describe_backtest(result: Any, summary: Any, choice: Any) -> str:
    """The parent run's description (MLflow shows it on the run page)."""
    config = result.config
    origins = result.forecasts["origin"]
    text = (
        f"Backtest of {config.name} on {result.panel_name}: {origins.nunique()} origins "
        f"({origins.min()}-{origins.max()}), horizon {config.horizon}, "
        f"{len(config.models)} models."
    )
    if choice is not None:
        text += (
            f" Recommended model (docs/design/0011): {choice.recommended}, because {choice.reason}."
        )
        if summary is not None and choice.recommended in set(summary.pooled["model"]):
            auc = summary.pooled.set_index("model").loc[choice.recommended].get("roc_auc")
            if auc is not None and np.isfinite(auc):
                text += f" Its pooled ROC AUC: {auc:.3f}."
        if warning := choice.warning():
            text += f" {warning}."
        if choice.hindsight_best and choice.hindsight_best != choice.recommended:
            text += (
                f" Highest pooled AUC of this backtest (hindsight, a reference only): "
                f"{choice.hindsight_best}."
            )
    return text


def describe_model(label: str, spec: Any, choice: Any) -> str:
    """A model run's description."""
    what = f"model {spec.name}" if spec is not None else "derived forecasts"
    text = f"{label}: {what} in this backtest (one row per origin in forecasts.parquet)."
    if choice is not None and label == choice.recommended:
        text += " The recommended model of the run."
    return text
