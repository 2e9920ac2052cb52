"""Which model a run recommends: one rule, read from the spec (``docs/design/0011``).

:func:`recommend_model` is the one place that answers "which model": the report's verdict,
the risk list's default, ``profile``, ``whatif``, the ``forecast costs`` headline and the
MLflow alias ``champion`` all call it. The rule needs only the experiment spec, so a risk
list made without a backtest agrees with the report; a run's pooled metrics and costs, when
given, add the hindsight-best model (a reference, never the recommendation) and whether the
recommended model's value at the spec's cost ratio is below doing nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from forecast._plotting import ORACLE
from forecast.experiment import ExperimentConfig
from forecast.models import META_MODELS

__all__ = ["ModelChoice", "recommend_model", "spec_cost_ratio"]

DEFAULT_RATIO = 1 / 20


@dataclass(frozen=True)
class ModelChoice:
    """The recommended model of a run and why (:func:`recommend_model`).

    Attributes
    ----------
    recommended : str
        Model label (possibly a history-recalibrated ``<label>_recal``).
    reason : str
        Why the rule picked it, as a clause ("the spec names it as default_model").
    hindsight_best : str or None
        Highest pooled ROC AUC of the run (oracle excluded; ties by label): a reference chosen
        with the numbers being reported, never the recommendation. None without metrics.
    below_nothing : bool or None
        The recommended model's value against doing nothing at the spec's cost ratio (honest
        policy) is negative. None when the run's costs do not hold it.
    value : float or None
        That value (None when unknown).
    cost_ratio : float
        The spec's cost ratio (:func:`spec_cost_ratio`).
    """

    recommended: str
    reason: str
    hindsight_best: str | None = None
    below_nothing: bool | None = None
    value: float | None = None
    cost_ratio: float = DEFAULT_RATIO

    def note_for(self, label: str) -> str:
        """One line when ``label`` is not the recommended model, else ``""``.

        >>> ModelChoice("stacked_recal", "it is X").note_for("xgboost")
        'model xgboost; the rule recommends stacked_recal because it is X'
        """
        if label == self.recommended:
            return ""
        return f"model {label}; the rule recommends {self.recommended} because {self.reason}"

    def warning(self) -> str:
        """The sentence said first when the recommended model's value is below doing
        nothing at the spec's cost ratio (``""`` otherwise)."""
        if not self.below_nothing:
            return ""
        odds = 1 / self.cost_ratio
        ratio = f"1:{round(odds):d}" if abs(odds - round(odds)) < 1e-6 else f"1:{odds:.3g}"
        return (
            f"At the spec's cost ratio {ratio}, acting on {self.recommended}'s warnings is worth "
            f"less than doing nothing (value {self.value:.3f})"
        )


def spec_cost_ratio(cost_ratios: Sequence[float]) -> float:
    """The spec's cost ratio: the median of ``costs.cost_ratios`` (the higher middle one for
    an even count), else 1:20.

    >>> spec_cost_ratio([0.1, 0.05, 0.02]), spec_cost_ratio([0.1, 0.02]), spec_cost_ratio([])
    (0.05, 0.1, 0.05)
    """
    ratios = sorted((float(r) for r in cost_ratios), reverse=True)
    return ratios[(len(ratios) - 1) // 2] if ratios else DEFAULT_RATIO


@dataclass(frozen=True)
class _Facts:
    """What the rule reads from a spec: ``default_model``, the models' ``(name, label)``,
    the recalibrated labels and their suffix, the cost ratios."""

    default_model: str | None
    models: tuple[tuple[str, str], ...]
    recalibrated: tuple[str, ...]
    suffix: str
    cost_ratios: tuple[float, ...]

    @classmethod
    def of(cls, config: ExperimentConfig | Mapping[str, Any]) -> _Facts:
        if isinstance(config, ExperimentConfig):
            history = config.history_recalibration or {}
            return cls(
                config.default_model,
                tuple((m.name, m.label) for m in config.models),
                tuple(history.get("models") or ()),
                history.get("suffix", "_recal"),
                tuple(config.costs.cost_ratios),
            )
        items = [{"name": m} if isinstance(m, str) else m for m in config.get("models") or ()]
        history = config.get("history_recalibration") or {}
        return cls(
            config.get("default_model"),
            tuple((str(m["name"]), str(m.get("label", m["name"]))) for m in items),
            tuple(history.get("models") or ()),
            history.get("suffix", "_recal"),
            tuple(float(r) for r in (config.get("costs") or {}).get("cost_ratios") or ()),
        )


def _rule(facts: _Facts) -> tuple[str, str]:
    if facts.default_model is not None:
        return facts.default_model, "the spec names it as default_model"
    if not facts.models:
        raise ValueError("recommend_model: the experiment has no models")
    meta = next((m for m in facts.models if m[0] in META_MODELS), None)
    name, label = meta if meta is not None else facts.models[0]
    if meta is not None:
        reason = (
            f"{label} is the spec's first {name} model: it chooses at each origin from what "
            "that origin knew"
        )
    else:
        reason = f"{label} is the spec's first model (no default_model, no stacked/selected)"
    if label not in facts.recalibrated:
        return label, reason.replace(f"{label} is", "it is", 1)
    copy = label + facts.suffix
    return copy, f"{reason}, and {copy} is its history-recalibrated copy (the published list)"


def _hindsight_best(metrics: pd.DataFrame | None) -> str | None:
    if metrics is None or not {"model", "roc_auc"} <= set(metrics.columns):
        return None
    rows = metrics[(metrics["model"].astype(str) != ORACLE) & metrics["roc_auc"].notna()]
    if rows.empty:
        return None
    best = rows.assign(model=rows["model"].astype(str)).sort_values(
        ["roc_auc", "model"], ascending=[False, True], kind="stable"
    )
    return str(best["model"].iloc[0])


def _value(costs: pd.DataFrame | None, model: str, ratio: float) -> float | None:
    if costs is None or not {"model", "policy", "cost_ratio", "value_vs_nothing"} <= set(
        costs.columns
    ):
        return None
    rows = costs[
        (costs["model"].astype(str) == model)
        & (costs["policy"] == "honest")
        & np.isclose(costs["cost_ratio"].astype(float), ratio, rtol=1e-9, atol=0)
    ]
    if rows.empty or pd.isna(rows["value_vs_nothing"].iloc[0]):
        return None
    return float(rows["value_vs_nothing"].iloc[0])


def recommend_model(
    config: ExperimentConfig | Mapping[str, Any],
    *,
    metrics: pd.DataFrame | None = None,
    costs: pd.DataFrame | None = None,
) -> ModelChoice:
    """The recommended model of a run, by the rule of ``docs/design/0011``.

    1. The spec's ``default_model`` when given;
    2. else the first ``stacked``/``selected`` model of the spec, in its history-recalibrated
       copy (``<label><suffix>``) when the spec recalibrates it;
    3. else the first model listed (its recalibrated copy likewise).

    Parameters
    ----------
    config : ExperimentConfig or mapping
        The experiment, or its spec as written (a run's recorded ``spec``).
    metrics : DataFrame, optional
        The run's pooled metrics (``model``, ``roc_auc``): for the hindsight-best reference.
    costs : DataFrame, optional
        The run's cost analysis (``costs.csv``): for the value at the spec's cost ratio.

    Returns
    -------
    ModelChoice
    """
    facts = _Facts.of(config)
    label, reason = _rule(facts)
    ratio = spec_cost_ratio(facts.cost_ratios)
    value = _value(costs, label, ratio)
    return ModelChoice(
        recommended=label,
        reason=reason,
        hindsight_best=_hindsight_best(metrics),
        below_nothing=None if value is None else value < 0,
        value=value,
        cost_ratio=ratio,
    )
