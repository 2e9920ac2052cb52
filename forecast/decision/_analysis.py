"""Cost analysis of a whole backtest: per model, value across cost ratios, rules and oracle share.

:func:`cost_analysis` is the one decision engine: it turns a backtest's
forecast table and the experiment's ``costs:`` block into a
:class:`CostAnalysis`, whose table is the run's ``costs.csv``. Everything
else is a view of it: flat metrics (MLflow model runs), step series (value
curves), figures, the report's decision table (:func:`decision_table`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from forecast._errors import input_error
from forecast._plotting import ORACLE
from forecast.decision._costloss import CostLoss, decision_counts, total_expense
from forecast.decision._curves import (
    NAMED_COST_RATIOS,
    cost_ratio_grid,
    cost_ratio_label,
    decision_curve,
)
from forecast.decision._rolling import honest_threshold_grid
from forecast.decision._rules import (
    EWP_THRESHOLD,
    EWP_TOP30,
    ThresholdRule,
    TopKRule,
    capacity_mask,
)
from forecast.decision._table import check_forecast_table
from forecast.decision._threshold import min_cost_thresholds
from forecast.decision._value import value_from_counts
from forecast.outcomes import scorable_end, window_observed

__all__ = ["POLICIES", "CostAnalysis", "cost_analysis", "decision_table"]

POLICIES = ("honest", "in_sample", "bayes")
"""Threshold policies: fitted on earlier resolved forecasts, on the scored rows, ``r``."""

TABLE_COLUMNS = (
    "model",
    "policy",
    "cost_ratio",
    "odds",
    "label",
    "effectiveness",
    "capacity",
    "threshold",
    "threshold_median",
    "years",
    "n_scored",
    "onsets_per_year",
    "warnings_per_year",
    "hits_per_year",
    "misses_per_year",
    "false_alarms_per_year",
    "false_alarms_per_hit",
    "expected_hits_per_year",
    "cost_per_year",
    "cost_nothing_per_year",
    "relative_value",
    "value_vs_nothing",
    "oracle_value_share",
)

_HONEST_METRICS = (
    "relative_value",
    "value_vs_nothing",
    "oracle_value_share",
    "cost_per_year",
    "threshold",
    "threshold_median",
    "warnings_per_year",
    "hits_per_year",
    "expected_hits_per_year",
    "false_alarms_per_hit",
)
_OTHER_POLICY_METRICS = {
    "in_sample": (
        "relative_value",
        "value_vs_nothing",
        "oracle_value_share",
        "cost_per_year",
        "threshold",
    ),
    "bayes": ("relative_value", "value_vs_nothing", "cost_per_year"),
}
_RULE_COUNTS = (
    "warnings_per_year",
    "hits_per_year",
    "misses_per_year",
    "false_alarms_per_year",
    "false_alarms_per_hit",
)
_RULE_METRICS = ("cost_per_year", "value_vs_nothing")
_CURVE_METRICS = {
    "relative_value": "honest",
    "value_vs_nothing": "honest",
    "cost_per_year": "honest",
    "threshold": "honest",
    "oracle_value_share": "honest",
    "relative_value_in_sample": "in_sample",
    "value_vs_nothing_in_sample": "in_sample",
}


def _check_costs(costs: object) -> tuple[float, int | None, tuple[float, ...]]:
    effectiveness = getattr(costs, "effectiveness", None)
    capacity = getattr(costs, "capacity", None)
    ratios = tuple(getattr(costs, "cost_ratios", ()) or ())
    # CostLoss validates effectiveness (0, 1] and capacity (int >= 1 or None).
    CostLoss(cost=1.0, loss=1.0, effectiveness=effectiveness, capacity=capacity)  # type: ignore[arg-type]
    for r in ratios:
        if isinstance(r, bool) or not isinstance(r, (int, float, np.number)):
            raise input_error(
                f"cost_analysis: cost ratios must be numbers, got {r!r}",
                fix="list cost ratios C / (e L) such as 0.05 under costs: cost_ratios",
            )
        if not (math.isfinite(r) and 0.0 < r < 1.0):
            raise input_error(
                f"cost_analysis: cost ratio C / (e L) must be in (0, 1), got {r!r}",
                fix="use e.g. 0.05 (act at odds 1:20); at >= 1 acting never pays",
            )
    return float(effectiveness), capacity, tuple(float(r) for r in ratios)  # type: ignore[arg-type]


def _evaluate(
    d: np.ndarray,
    y: np.ndarray,
    p: np.ndarray,
    w: np.ndarray,
    years: int,
    costlosses: list[CostLoss],
) -> dict[str, np.ndarray]:
    """Counts per year, cost and values of decisions ``d`` (ratios x rows, or rows) per ratio.

    Counts by :func:`decision_counts` over the scored rows (weight ``w = 1``,
    others 0), ``cost = sum_i (d_i C + y_i L (1 - e d_i)) / years`` by
    :func:`total_expense` (``L = 1``, ``C = r e``), values by
    :func:`value_from_counts`. ``onsets`` are scored forecast windows with an onset
    (list-windows), the unit every cost counts; events are counted in
    :func:`forecast.metrics.track_record` (design 0011).
    """
    k = len(costlosses)
    counts = decision_counts(d, y, w, p)
    hits, false_alarms, expected = (
        np.broadcast_to(x, (k,)) for x in (counts.hits, counts.false_alarms, counts.expected_hits)
    )
    onsets, non_onsets = counts.onsets, counts.non_onsets
    cost = np.array(
        [total_expense(h, f, onsets, c) for h, f, c in zip(hits, false_alarms, costlosses)]
    )
    value = np.array(
        [
            [value_from_counts(h, f, onsets, non_onsets, c, ref) for ref in ("climate", "nothing")]
            for h, f, c in zip(hits, false_alarms, costlosses)
        ]
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        per_hit = np.where(hits > 0, false_alarms / hits, np.nan)
    return {
        "years": np.full(k, years),
        "n_scored": np.full(k, int(onsets + non_onsets)),
        "onsets_per_year": np.full(k, onsets / years),
        "warnings_per_year": (hits + false_alarms) / years,
        "hits_per_year": hits / years,
        "misses_per_year": (onsets - hits) / years,
        "false_alarms_per_year": false_alarms / years,
        "false_alarms_per_hit": per_hit,
        "expected_hits_per_year": expected / years,
        "cost_per_year": cost / years,
        "cost_nothing_per_year": np.full(k, onsets / years),
        "relative_value": value[:, 0],
        "value_vs_nothing": value[:, 1],
    }


def _model_frames(
    rows: pd.DataFrame,
    ratios: np.ndarray,
    effectiveness: float,
    capacity: int | None,
    min_events: int,
    rules: dict[str, ThresholdRule | TopKRule],
) -> tuple[pd.DataFrame | None, pd.DataFrame, pd.DataFrame | None]:
    """Policy table, honest thresholds and decision curve of one model (no table if unscored)."""
    p = rows["probability"].to_numpy()
    y_raw = rows["outcome"].to_numpy()
    groups = rows["round"].to_numpy()
    origin = rows["origin"].to_numpy()
    grid = honest_threshold_grid(rows, ratios, capacity, min_events)
    thresholds = pd.DataFrame(
        {
            "origin": np.repeat(grid.origins, ratios.size),
            "cost_ratio": np.tile(ratios, grid.origins.size),
            "threshold": grid.thresholds.ravel(),
            "threshold_source": np.repeat(
                np.where(grid.empirical, "empirical", "bayes"), ratios.size
            ),
            "n_history": np.repeat(grid.n_history, ratios.size),
            "n_history_events": np.repeat(grid.n_history_events, ratios.size),
        }
    )
    scored = ~np.isnan(y_raw)
    if not scored.any():
        return None, thresholds, None
    y = np.where(scored, y_raw, 0.0)
    w = scored.astype(float)  # unknown outcomes count nowhere
    years = int(np.unique(groups[scored]).size)
    costlosses = [CostLoss.from_ratio(float(r), effectiveness, capacity) for r in ratios]
    eligible = capacity_mask(p, groups, capacity)
    in_sample = min_cost_thresholds(
        y[scored],
        p[scored],
        np.ones(int(scored.sum())),
        ratios,
        capacity_mask(p[scored], groups[scored], capacity),
    )
    scored_origins = np.isin(grid.origins, np.unique(origin[scored]))
    policies = {
        "honest": (
            grid.per_row(origin),
            grid.thresholds[-1],
            np.median(grid.thresholds[scored_origins], axis=0),
        ),
        "in_sample": (in_sample[:, None], in_sample, in_sample),
        "bayes": (ratios[:, None], ratios, ratios),
    }
    frames = []
    for policy, (per_row, latest, median) in policies.items():
        d = (p[None, :] >= per_row) & eligible[None, :]
        columns = _evaluate(d, y, p, w, years, costlosses)
        frames.append(
            pd.DataFrame(
                {
                    "policy": policy,
                    "cost_ratio": ratios,
                    "threshold": latest,
                    "threshold_median": median,
                    **columns,
                }
            )
        )
    for name, rule in rules.items():
        d = rule.warn(p, groups)
        threshold = float(rule.threshold) if isinstance(rule, ThresholdRule) else np.nan
        columns = _evaluate(d, y, p, w, years, costlosses)
        frames.append(
            pd.DataFrame(
                {
                    "policy": name,
                    "cost_ratio": ratios,
                    "threshold": threshold,
                    "threshold_median": threshold,
                    **columns,
                }
            )
        )
    curve = decision_curve(y[scored], p[scored], thresholds=ratios)
    return pd.concat(frames, ignore_index=True), thresholds, curve


def _rules(capacity: int | None) -> dict[str, ThresholdRule | TopKRule]:
    """Fixed rules: the top ``capacity`` per year, the EWP top 30 and the EWP 4% cut-off."""
    rules: dict[str, ThresholdRule | TopKRule] = {}
    if capacity is not None:
        rules[f"top{capacity}"] = TopKRule(capacity)
    rules[f"top{EWP_TOP30.k}"] = EWP_TOP30
    rules[f"ewp{EWP_THRESHOLD.threshold * 100:g}pct"] = EWP_THRESHOLD
    return rules


@dataclass(frozen=True)
class CostAnalysis:
    """Result of :func:`cost_analysis`; see its docstring for the formulas.

    Attributes
    ----------
    results : pandas.DataFrame
        One row per (model, policy, cost ratio), columns :data:`TABLE_COLUMNS`.
    thresholds : pandas.DataFrame
        Honest thresholds: ``model, origin, cost_ratio, threshold,
        threshold_source, n_history, n_history_events``.
    decision_curves : pandas.DataFrame
        ``model`` plus the columns of :func:`decision_curve`.
    effectiveness, capacity, horizon, data_end : float, int or None, int, int
        Inputs; ``data_end`` is the last year with closed outcome windows used.
    metric_ratios : tuple of float
        Ratios that get flat metric names (1:10, 1:20, 1:50 and the spec's).
    seconds : float
        Compute time.
    """

    results: pd.DataFrame
    thresholds: pd.DataFrame
    decision_curves: pd.DataFrame
    effectiveness: float
    capacity: int | None
    horizon: int | None
    data_end: int
    metric_ratios: tuple[float, ...]
    rules: tuple[str, ...]
    seconds: float = field(default=0.0, compare=False)

    @property
    def models(self) -> list[str]:
        """Models analysed, sorted."""
        return sorted(self.results["model"].unique())

    def table(self) -> pd.DataFrame:
        """The long table (copy), sorted by model, policy and cost ratio; write it as CSV."""
        return self.results.sort_values(["model", "policy", "cost_ratio"]).reset_index(drop=True)

    def at(self, cost_ratio: float) -> pd.DataFrame:
        """Rows of every model and policy at ``cost_ratio`` (must be in the analysis)."""
        return _rows_at(self.results, cost_ratio, caller="CostAnalysis.at")

    def metrics_by_model(self) -> dict[str, dict[str, float]]:
        """Flat, sortable metrics per model, for MLflow (``extra_metrics``).

        Names, with ``{L}`` the ratio label (``1to20`` for ``r = 1/20``):

        - honest policy: ``{m}_{L}`` for ``m`` in ``relative_value,
          value_vs_nothing, oracle_value_share, cost_per_year, threshold``
          (for the latest origin), ``threshold_median, warnings_per_year,
          hits_per_year, expected_hits_per_year, false_alarms_per_hit``;
        - other policies: ``{m}_{L}_in_sample`` (``relative_value,
          value_vs_nothing, oracle_value_share, cost_per_year, threshold``) and
          ``{m}_{L}_bayes`` (``relative_value, value_vs_nothing,
          cost_per_year``);
        - rules ``top{k}`` (capacity), ``top30`` and ``ewp4pct``:
          ``{rule}_{m}`` for the counts ``warnings_per_year, hits_per_year,
          misses_per_year, false_alarms_per_year, false_alarms_per_hit`` and
          ``{rule}_{m}_{L}`` for ``cost_per_year, value_vs_nothing``;
        - ``onsets_per_year``: scored forecast windows with an onset per origin year (the
          unit every cost counts; with a window of h years one onset lies in up to h
          windows, so this is not onset events per year, design 0011).

        Oracle shares appear only when an oracle model was analysed. NaN
        values are kept (the tracker drops non-finite values). Keys sorted.
        """
        wanted = self.results[
            np.isclose(
                self.results["cost_ratio"].to_numpy()[:, None],
                np.asarray(self.metric_ratios)[None, :],
                rtol=1e-9,
                atol=0.0,
            ).any(axis=1)
        ]
        has_oracle = ORACLE in set(self.results["model"])
        out: dict[str, dict[str, float]] = {}
        for model, rows in wanted.groupby("model", sort=True):
            metrics: dict[str, float] = {}
            for row in rows.itertuples(index=False):
                label = row.label
                if row.policy == "honest":
                    names = {f"{m}_{label}": m for m in _HONEST_METRICS}
                    metrics["onsets_per_year"] = float(row.onsets_per_year)
                elif row.policy in _OTHER_POLICY_METRICS:
                    names = {
                        f"{m}_{label}_{row.policy}": m for m in _OTHER_POLICY_METRICS[row.policy]
                    }
                else:
                    names = {f"{row.policy}_{m}": m for m in _RULE_COUNTS}
                    names.update({f"{row.policy}_{m}_{label}": m for m in _RULE_METRICS})
                for name, column in names.items():
                    if column == "oracle_value_share" and not has_oracle:
                        continue
                    metrics[name] = float(getattr(row, column))
            out[str(model)] = dict(sorted(metrics.items()))
        return out

    def curves_by_model(self) -> dict[str, list[tuple[str, int, float]]]:
        """Value curves as MLflow step series: ``(name, step, value)`` with ``step = round(1/r)``.

        Names: ``value_curve/{relative_value, value_vs_nothing, cost_per_year,
        threshold, oracle_value_share}`` (honest policy),
        ``value_curve/relative_value_in_sample``,
        ``value_curve/value_vs_nothing_in_sample`` and
        ``decision_curve/net_benefit`` (threshold probability ``1/step``).
        One value per step (the first ratio that rounds to it); NaN values
        are left out.
        """
        out: dict[str, list[tuple[str, int, float]]] = {}
        has_oracle = ORACLE in set(self.results["model"])
        for model, rows in self.results.groupby("model", sort=True):
            series: list[tuple[str, int, float]] = []
            for name, policy in _CURVE_METRICS.items():
                if name == "oracle_value_share" and not has_oracle:
                    continue
                column = name.removesuffix("_in_sample")
                part = rows[rows["policy"] == policy].sort_values("cost_ratio", ascending=False)
                series += _steps(f"value_curve/{name}", part["cost_ratio"], part[column])
            curve = self.decision_curves[self.decision_curves["model"] == model]
            curve = curve.sort_values("threshold", ascending=False)
            series += _steps(
                "decision_curve/net_benefit", curve["threshold"], curve["net_benefit_model"]
            )
            out[str(model)] = series
        return out

    def figures(self, out_dir: str | Path) -> list[Path]:
        """Write ``value_curves.png`` and ``decision_curves.png`` into ``out_dir``; return paths."""
        from forecast.decision._figures import decision_curve_figure, value_curve_figure

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths = []
        for name, figure in (
            ("value_curves.png", value_curve_figure(self.results, data_end=self.data_end)),
            ("decision_curves.png", decision_curve_figure(self.decision_curves)),
        ):
            figure.savefig(out / name, dpi=110)
            paths.append(out / name)
        return paths


def _rows_at(results: pd.DataFrame, cost_ratio: float, *, caller: str) -> pd.DataFrame:
    """Rows whose cost ratio equals ``cost_ratio`` (to ``1e-9`` relative); raise if none."""
    ratios = results["cost_ratio"].to_numpy(dtype=float)
    match = np.isclose(ratios, float(cost_ratio), rtol=1e-9, atol=0.0)
    if not match.any():
        raise input_error(
            f"{caller}: cost ratio {cost_ratio!r} was not analysed "
            f"(analysed: 1:{1 / ratios.max():g} ... 1:{1 / ratios.min():g})",
            fix="pass it in costs.cost_ratios to cost_analysis (or forecast costs --cost-ratio)",
        )
    return results[match].reset_index(drop=True)


DECISION_TABLE_RATIOS: tuple[float, ...] = tuple(NAMED_COST_RATIOS.values())
"""Cost ratios of :func:`decision_table` by default: 1:10, 1:20, 1:50."""


def decision_table(
    costs: CostAnalysis | pd.DataFrame, cost_ratios: Sequence[float] | None = None
) -> pd.DataFrame:
    """The decision table of a cost analysis: every model and policy at a few cost ratios.

    A view of :func:`cost_analysis`, never a recomputation: the rows of
    ``costs`` whose cost ratio is in ``cost_ratios``, so that a report shows
    exactly the numbers of the run's ``costs.csv``. ``threshold`` is the
    honest threshold of the latest origin (``threshold_median``: the median
    over scored origins); policies are :data:`POLICIES` followed by the rules
    (``top{capacity}``, ``top30``, ``ewp4pct``).

    Parameters
    ----------
    costs : CostAnalysis or pandas.DataFrame
        The analysis, or its table (:meth:`CostAnalysis.table`, ``costs.csv``).
    cost_ratios : sequence of float, optional
        Ratios ``r = C / (e L)`` to show, each analysed; default 1:10, 1:20, 1:50.

    Returns
    -------
    pandas.DataFrame
        The columns of ``costs.csv``; rows by model, then cost ratio (in the
        order given), then policy.

    Raises
    ------
    ForecastInputError
        If ``costs`` is not a cost analysis table or a ratio was not analysed.
    """
    table = costs.results if isinstance(costs, CostAnalysis) else costs
    missing = [c for c in TABLE_COLUMNS if c not in getattr(table, "columns", ())]
    if not isinstance(table, pd.DataFrame) or missing:
        raise input_error(
            f"decision_table: costs must be a CostAnalysis or its table (costs.csv); "
            f"missing columns {missing}",
            fix="run cost_analysis(forecasts, costs, horizon=...) and pass its result",
        )
    ratios = DECISION_TABLE_RATIOS if cost_ratios is None else tuple(cost_ratios)
    rows = pd.concat(
        [
            _rows_at(table, r, caller="decision_table").assign(_ratio=i)
            for i, r in enumerate(ratios)
        ],
        ignore_index=True,
    )
    rules = sorted(set(rows["policy"]) - set(POLICIES))
    order = {name: i for i, name in enumerate((*POLICIES, *rules))}
    rows["_policy"] = rows["policy"].map(order)
    rows = rows.sort_values(["model", "_ratio", "_policy"], kind="stable")
    return rows.drop(columns=["_ratio", "_policy"]).reset_index(drop=True)


def _steps(name: str, ratios: pd.Series, values: pd.Series) -> list[tuple[str, int, float]]:
    seen: set[int] = set()
    out = []
    for r, v in zip(ratios.to_numpy(), values.to_numpy(dtype=float)):
        step = round(1.0 / r)
        if step in seen or not np.isfinite(v):
            continue
        seen.add(step)
        out.append((name, step, float(v)))
    return out


def cost_analysis(
    forecasts: pd.DataFrame,
    costs: object = None,
    *,
    horizon: int | None,
    data_end: int | None = None,
    n_grid: int = 25,
    min_events: int = 1,
) -> CostAnalysis:
    """Cost of acting on each model's warnings across cost ratios, with rules and oracle share.

    Costs are in units of the loss ``L = 1`` of an unprevented onset; acting
    costs ``C = r e`` with cost ratio ``r = C / (e L)``. Only forecasts with a
    fully observed outcome window are scored: ``year + horizon <= data_end``
    (:func:`forecast.outcomes.window_observed`; other rows are treated as
    unknown everywhere, also as threshold history).
    A decision ``d`` on a country-year with outcome ``y`` costs
    ``d C + y L (1 - e d)``.

    For each model and ratio ``r`` in :func:`cost_ratio_grid` (integer odds
    1:2 ... 1:200, plus 1:10, 1:20, 1:50 and the spec's ratios) and each
    policy (:data:`POLICIES` and the rules):

    - ``honest``: each origin ``T``'s threshold minimises the realised cost on
      forecasts from earlier origins whose outcome was known at ``T`` (rule of
      :func:`rolling_thresholds`; ``r`` without history); ``threshold`` is
      the one for the latest origin (to use now), ``threshold_median`` the
      median over scored origins;
    - ``in_sample``: one threshold minimising the cost on the scored rows
      themselves (optimistic);
    - ``bayes``: ``r`` (optimal for calibrated probabilities);
    - rules: ``top{capacity}`` (warn on the ``capacity`` highest each year),
      ``top30`` (EWP list) and ``ewp4pct`` (EWP ``p >= 0.04``), whose
      warnings do not depend on ``r``.

    Threshold policies warn at most ``capacity`` times per (origin, year).
    Reported per year (``years`` = scored (origin, year) rounds): warnings,
    hits, misses, false alarms, ``false_alarms_per_hit = FA / hits`` (NaN
    without hits), ``expected_hits = sum_{warned} p``, ``cost_per_year``,
    ``cost_nothing_per_year = onsets L / years``; ``relative_value``
    (Richardson 2000, reference: better of always/never acting) and
    ``value_vs_nothing = (E_nothing - E) / (E_nothing - E_perfect)``
    (see :func:`relative_value`); ``oracle_value_share = value_vs_nothing /
    value_vs_nothing(oracle)`` for the same policy and ratio (NaN if the
    oracle's value is <= 0 or there is no ``oracle`` model): the share of
    the savings over doing nothing that the true probabilities achieve.

    Parameters
    ----------
    forecasts : pandas.DataFrame
        Backtest forecast table: ``unit, year, origin, model, probability,
        outcome`` (NaN when unknown), optionally ``horizon``.
    costs : CostSpec-like, optional
        Object with ``effectiveness`` in (0, 1], ``capacity`` (int >= 1 or
        None) and ``cost_ratios`` (each in (0, 1)); default
        ``forecast.experiment.CostSpec()``.
    horizon : int or None
        Years after ``year`` until the outcome is known; None reads the
        ``horizon`` column.
    data_end : int, optional
        Last data year. Default: :func:`forecast.outcomes.scorable_end` (the
        largest ``year + horizon`` with a known 0), never later than the truth.
    n_grid : int, default 25
        Log-spaced points of the grid before rounding the odds to integers.
    min_events : int, default 1
        Fewest past onsets to fit an honest threshold.

    Returns
    -------
    CostAnalysis
    """
    start = time.perf_counter()
    if costs is None:
        from forecast.experiment import CostSpec

        costs = CostSpec()
    effectiveness, capacity, spec_ratios = _check_costs(costs)
    for name, value, low in (("n_grid", n_grid, 2), ("min_events", min_events, 0)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise input_error(
                f"cost_analysis: {name} must be an integer >= {low}, got {value!r}",
                fix=f"pass e.g. {name}={25 if name == 'n_grid' else 1}",
            )
    frame = check_forecast_table(forecasts, horizon, caller="cost_analysis")
    if data_end is None:
        data_end = scorable_end(frame, caller="cost_analysis")
    elif isinstance(data_end, bool) or not isinstance(data_end, (int, np.integer)):
        raise input_error(
            f"cost_analysis: data_end must be a year, got {data_end!r}",
            fix="pass the last year of the data, e.g. 2024",
        )
    frame.loc[~window_observed(frame, data_end=int(data_end)), "outcome"] = np.nan
    ratios = cost_ratio_grid(n=n_grid, extra=spec_ratios)
    metric_ratios = tuple(sorted({*NAMED_COST_RATIOS.values(), *spec_ratios}, reverse=True))
    rules = _rules(capacity)
    tables, thresholds, curves = [], [], []
    for model, rows in frame.groupby("model", sort=True):
        table, honest, curve = _model_frames(
            rows, ratios, effectiveness, capacity, int(min_events), rules
        )
        thresholds.append(honest.assign(model=model))
        if table is not None and curve is not None:
            tables.append(table.assign(model=model))
            curves.append(curve.assign(model=model))
    if not tables:
        raise input_error(
            f"cost_analysis: no forecast has a known outcome with year + horizon <= {data_end}",
            column="outcome",
            fix="include origins whose outcome windows have closed",
        )
    results = pd.concat(tables, ignore_index=True)
    results["odds"] = 1.0 / results["cost_ratio"]
    results["label"] = [cost_ratio_label(r) for r in results["cost_ratio"]]
    results["effectiveness"] = effectiveness
    results["capacity"] = capacity
    results["oracle_value_share"] = _oracle_share(results)
    first = ["model"]
    return CostAnalysis(
        results=results[list(TABLE_COLUMNS)],
        thresholds=pd.concat(thresholds, ignore_index=True)[
            first
            + [
                "origin",
                "cost_ratio",
                "threshold",
                "threshold_source",
                "n_history",
                "n_history_events",
            ]
        ],
        decision_curves=pd.concat(curves, ignore_index=True).pipe(
            lambda c: c[first + [x for x in c.columns if x != "model"]]
        ),
        effectiveness=effectiveness,
        capacity=capacity,
        horizon=horizon,
        data_end=int(data_end),
        metric_ratios=metric_ratios,
        rules=tuple(rules),
        seconds=time.perf_counter() - start,
    )


def _oracle_share(results: pd.DataFrame) -> np.ndarray:
    """``value_vs_nothing / value_vs_nothing(oracle)`` per (policy, cost ratio); NaN if <= 0."""
    oracle = results[results["model"] == ORACLE]
    if oracle.empty:
        return np.full(len(results), np.nan)
    ref = oracle.set_index(["policy", "cost_ratio"])["value_vs_nothing"]
    keys = pd.MultiIndex.from_frame(results[["policy", "cost_ratio"]])
    denominator = ref.reindex(keys).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(
            denominator > 0, results["value_vs_nothing"].to_numpy() / denominator, np.nan
        )
