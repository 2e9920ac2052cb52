"""Sections of the model comparison report: numbers from the library, then HTML.

Each ``*_section(ctx)`` returns an HTML fragment; all numbers come from
:mod:`forecast.metrics`, :mod:`forecast.calibration` and :mod:`forecast.decision`.
The report renders the run: the scored rows are those of
:func:`forecast.outcomes.observed_windows`, and the cost section shows the run's
cost analysis (``costs.csv``), never a second computation of it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from forecast._errors import ForecastInputError
from forecast.calibration import fixed_bin_reliability, interval_coverage
from forecast.decision import (
    EWP_THRESHOLD,
    EWP_TOP30,
    NAMED_COST_RATIOS,
    cost_analysis,
    decision_curve,
    decision_curve_figure,
    decision_table,
    value_curve_figure,
)
from forecast.metrics import (
    BootstrapResult,
    PairedDifference,
    TrackRecord,
    bootstrap_metrics,
    evaluate_forecasts,
    ewp_pooled_rows,
    get_metric,
    onset_ranks,
    paired_difference,
    paired_from_bootstraps,
    threshold_counts,
    track_record,
)
from forecast.outcomes import observed_windows
from forecast.panel import COUNTRY, UnitNoun
from forecast.reports import _figures as figs
from forecast.reports._html import esc, figure_html, fmt, table_html
from forecast.reports._templates import Markup, render

FORECAST_COLUMNS = ("unit", "year", "model", "probability", "outcome")
DEFAULT_COST_RATIOS = tuple(NAMED_COST_RATIOS.values())
CI_METRICS = ("roc_auc", "average_precision", "brier", "observed_expected")
PAIRED_METRICS = ("roc_auc", "brier")
THRESHOLDS = (0.01, 0.02, EWP_THRESHOLD.threshold, 0.1, 0.2)
TOP_K = EWP_TOP30.k
_NAMES = {
    "roc_auc": "ROC AUC",
    "average_precision": "Average precision",
    "brier": "Brier score",
    "observed_expected": "Observed / expected",
}


@dataclass
class Context:
    """What every section needs: the run's files, the model order and the settings."""

    data: Any
    models: list[str]
    baseline: str
    n_boot: int
    seed: int
    cost_ratios: list[float]
    effectiveness: float | None
    cache: dict[str, Any] = field(default_factory=dict)
    highlight: str | None = None
    """The recommended model, drawn thicker and labelled in every figure."""

    def unit_names(self, units: pd.Series, years: pd.Series | int) -> pd.Series:
        """Display names of ``units`` in ``years``: a run whose units are state codes (its
        onsets carry ``cow_code``) names them by :class:`forecast.statesystem.StateSystem`;
        other units (already names), or codes it does not list, stay as they are."""
        units = pd.Series(np.asarray(units)).reset_index(drop=True)
        onsets = self.data.onsets
        numeric = pd.to_numeric(units, errors="coerce")
        if onsets is None or "cow_code" not in onsets.columns or numeric.isna().any():
            return units.astype(str)
        codes = onsets.drop_duplicates("unit").set_index("unit")["cow_code"]
        mapped = units.astype(str).map(codes)
        from forecast.statesystem import StateSystem

        names = StateSystem.load().names("cow", mapped.fillna(-1), years)
        return names.where(names.notna(), units.astype(str)).astype(str)

    @cached_property
    def known(self) -> pd.DataFrame:
        """The scored rows: outcome known and the whole window observed
        (:func:`forecast.outcomes.observed_windows`; data end = the last year of the
        run's onsets, else inferred from the known outcomes)."""
        f = self.data.forecasts
        if "horizon" in f.columns:
            if self.data.data_end is None and not (f["outcome"] == 0).any():
                f = f.iloc[:0]  # no known 0: no window can be shown to be fully observed
            else:
                f = observed_windows(f, data_end=self.data.data_end)
        return f[f["outcome"].notna()].reset_index(drop=True)

    def arrays(self, model: str) -> tuple[np.ndarray, np.ndarray]:
        part = self.rows(model)
        return part["outcome"].to_numpy(float), part["probability"].to_numpy(float)

    @cached_property
    def scored_models(self) -> list[str]:
        """Models with both onsets and non-onsets among their scored rows."""
        out = []
        for m in self.models:
            y, _ = self.arrays(m)
            if 0 < y.sum() < y.size:
                out.append(m)
        return out

    @cached_property
    def scored_arrays(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """(outcomes, probabilities) of each scored model; empty when none can be scored."""
        return {m: self.arrays(m) for m in self.scored_models}

    @property
    def spec(self) -> dict[str, Any]:
        """The run's experiment spec (``{}`` when absent)."""
        return self.data.spec

    @property
    def unit_noun(self) -> UnitNoun:
        """What the run's units are called (its provenance; default "country")."""
        return getattr(self.data, "unit_noun", COUNTRY)

    @property
    def experiment_name(self) -> str:
        return self.data.name

    @property
    def subtitle(self) -> str:
        f = self.data.forecasts
        prov = self.data.provenance or {}
        dataset = prov.get("dataset") or prov.get("dataset_name") or self.spec.get("dataset", "")
        bits = [
            f"dataset {dataset}" if dataset else "",
            f"forecast years {int(f['year'].min())}–{int(f['year'].max())}",
            f"{len(self.models)} models (baseline {self.baseline})",
        ]
        return "; ".join(b for b in bits if b)

    @cached_property
    def prior_ranks(self) -> pd.DataFrame:
        """Each onset with each model's best rank among the forecasts made before it.

        With ``onsets.parquet``: EWP pooling, onset year Y ranked by forecasts from
        years Y-1..Y-h (h = horizon). Without it: ranks of the rows with outcome 1.
        """
        f = self.data.forecasts
        onsets = self.data.onsets
        if onsets is not None:
            horizon = int(f["horizon"].mode().iloc[0]) if "horizon" in f.columns else 2
            rows = ewp_pooled_rows(
                f[["unit", "year", "model", "probability"]],
                onsets.rename(columns={"onset": "mk_onset"}),
                lags=tuple(range(1, max(horizon, 1) + 1)),
            )
            hits = rows[rows["mk_onset"] == 1]
            wide = hits.pivot(
                index=["unit", "year"], columns="model", values=["min_rank", "max_probability"]
            )
            out = pd.DataFrame(index=wide.index)
            for m in self.models:
                out[f"rank_{m}"] = wide.get(("min_rank", m), np.nan)
                out[f"probability_{m}"] = wide.get(("max_probability", m), np.nan)
            out = out.reset_index().sort_values(["year", "unit"], kind="stable")
            out.attrs["kind"] = (
                "annual onsets in year Y, ranked by forecasts from Y-1..Y-"
                f"{max(horizon, 1)} (best rank, EWP pooling)"
            )
            return out.reset_index(drop=True)
        out = onset_ranks(f[list(FORECAST_COLUMNS)])
        out.attrs["kind"] = "rows with outcome 1, ranked within their forecast year"
        return out

    @cached_property
    def top_k(self) -> int:
        """The EWP list length (30), or fewer when a year has fewer scored units."""
        sizes = self.known.groupby(["model", "year"]).size()
        return int(min(TOP_K, sizes.min())) if len(sizes) else TOP_K

    @cached_property
    def units_per_year(self) -> int:
        f = self.data.forecasts
        return int(f.groupby(["model", "year"]).size().max())

    @cached_property
    def boot(self) -> dict[str, dict[str, BootstrapResult]]:
        """Each scored model's :data:`CI_METRICS` with cluster-bootstrap intervals (units
        resampled), computed once for the headline table and the verdict."""
        return {
            model: bootstrap_metrics(
                self.rows(model), CI_METRICS, cluster="unit", n_boot=self.n_boot, seed=self.seed
            )
            for model in self.scored_models
        }

    def rows(self, model: str) -> pd.DataFrame:
        """The scored rows of ``model`` (:attr:`known`), split once for all sections."""
        if "rows" not in self.cache:
            self.cache["rows"] = dict(tuple(self.known.groupby("model", sort=False)))
        return self.cache["rows"].get(model, self.known.iloc[:0])

    @cached_property
    def paired(self) -> dict[str, tuple[int, dict[str, PairedDifference]]]:
        """Model minus baseline for each scored model (not the baseline) that shares scored
        rows with onsets and non-onsets with it: (rows, {metric: paired difference})."""
        base = self.rows(self.baseline)[["unit", "year", "outcome", "probability"]]
        out: dict[str, tuple[int, dict[str, PairedDifference]]] = {}
        for model in self.scored_models:
            if model == self.baseline:
                continue
            other = self.rows(model)[["unit", "year", "outcome", "probability"]]
            if self.baseline in self.boot and _same_rows(base, other):
                # the same rows in the same order: both bootstraps saw the same replicates
                out[model] = (
                    len(base),
                    {
                        metric: paired_from_bootstraps(
                            self.boot[model][metric], self.boot[self.baseline][metric]
                        )
                        for metric in PAIRED_METRICS
                    },
                )
                continue
            both = base.merge(
                other.drop(columns="outcome"), on=["unit", "year"], suffixes=("_base", "_model")
            )
            y = both["outcome"].to_numpy(float)
            if not 0 < y.sum() < y.size:
                continue
            out[model] = (
                len(both),
                {
                    metric: paired_difference(
                        y,
                        both["probability_model"].to_numpy(float),
                        both["probability_base"].to_numpy(float),
                        clusters=both["unit"].to_numpy(),
                        metric=metric,
                        n_boot=self.n_boot,
                        seed=self.seed,
                    )
                    for metric in PAIRED_METRICS
                },
            )
        return out

    @cached_property
    def track(self) -> TrackRecord | None:
        """How each origin's top-k list fared (:func:`forecast.metrics.track_record`);
        None when the forecasts carry no horizon."""
        f = self.data.forecasts
        horizon = self.data.horizon
        if horizon is None and "horizon" not in f.columns:
            return None
        if "horizon" in f.columns and f["horizon"].nunique() > 1:
            return None
        return track_record(
            f, horizon=horizon, data_end=self.data.data_end, k=self.top_k, onsets=self.data.onsets
        )


def _same_rows(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    """The same (unit, year) rows with the same outcomes, in the same order."""
    return len(a) == len(b) and all(
        np.array_equal(a[c].to_numpy(), b[c].to_numpy()) for c in ("unit", "year", "outcome")
    )


def _ci(value: float, lower: float, upper: float, digits: int = 3) -> str:
    return f"{fmt(value, digits)} ({fmt(lower, digits)}–{fmt(upper, digits)})"


def _missing(what: str) -> str:
    return f'<p class="note">Not available: {esc(what)}.</p>'


def overview(ctx: Context) -> str:
    data = ctx.data
    f = data.forecasts
    known = ctx.known
    facts: list[tuple[str, Any]] = [
        ("experiment", ctx.experiment_name),
        ("models", ", ".join(ctx.models)),
        ("baseline for comparisons", ctx.baseline),
        (
            "forecast years (data year of each forecast)",
            f"{int(f['year'].min())}–{int(f['year'].max())}",
        ),
        ("units", f["unit"].nunique()),
        ("forecasts (rows, all models)", len(f)),
        (
            "scored forecasts per model (outcome known)",
            int(known.groupby("model").size().max()) if len(known) else 0,
        ),
        ("unknown outcomes (not yet observed, never scored)", int(f["outcome"].isna().sum())),
    ]
    if "origin" in f.columns:
        span = f"{int(f['origin'].min())}–{int(f['origin'].max())} ({f['origin'].nunique()})"
        facts.append(("origins", span))
    if "horizon" in f.columns:
        facts.append(("horizon (years)", ", ".join(str(h) for h in sorted(f["horizon"].unique()))))
    if figs.ORACLE in ctx.models:
        facts.append(
            ("oracle", ("the true probabilities of the simulated world (a ceiling, not a model)"))
        )
    provenance = [
        (k, v if isinstance(v, str | int | float) else json.dumps(v, default=str))
        for k, v in (data.provenance or {}).items()
    ]
    return render(
        "report_overview.html.j2", facts=facts, provenance=provenance, spec_text=data.spec_text
    )


def metrics_section(ctx: Context) -> str:
    rows, classes = [], []
    oracle_auc = np.nan
    if figs.ORACLE in ctx.scored_models:
        y, p = ctx.arrays(figs.ORACLE)
        oracle_auc = get_metric("roc_auc")(y, p)
    for model in ctx.scored_models:
        part = ctx.rows(model)
        row: dict[str, Any] = {"model": model, "n": len(part), "onsets": int(part["outcome"].sum())}
        for metric in CI_METRICS:
            res = ctx.boot[model][metric]
            row[f"{_NAMES[metric]} (95% CI)"] = _ci(res.estimate, res.lower, res.upper)
        row[f"recall top {ctx.top_k}"] = get_metric("recall_at_k", k=ctx.top_k)(
            part["outcome"].to_numpy(float),
            part["probability"].to_numpy(float),
            groups=part["year"].to_numpy(),
        )
        if np.isfinite(oracle_auc):
            auc = ctx.boot[model]["roc_auc"].estimate
            row["AUC gap to oracle"] = auc - oracle_auc
        rows.append(row)
        classes.append("oracle" if model == figs.ORACLE else "")
    if not rows:
        return _missing("no model has both onsets and non-onsets among its scored forecasts")
    html = [table_html(pd.DataFrame(rows), row_classes=classes)]
    html.append(
        f'<p class="note">Intervals: percentile cluster bootstrap, {ctx.n_boot} replicates, '
        f"{ctx.unit_noun.plural} (units) resampled with all their years, seed {ctx.seed}. "
        "Brier = mean (p − y)²; observed / expected = Σy / Σp (1 = as many onsets as the "
        "forecasts expected, in total). "
        f"Recall top {ctx.top_k} = share of onsets among each year's {ctx.top_k} highest "
        "forecasts.</p>"
    )
    metrics = ctx.data.metrics
    if metrics is not None and "model" in metrics.columns:
        numeric = metrics.set_index("model").select_dtypes("number")
        wide = numeric.T.astype(object)
        counts = [m for m in wide.index if m.startswith("n_")]  # counts read as whole numbers
        wide.loc[counts] = wide.loc[counts].map(lambda v: v if pd.isna(v) else int(v))
        wide = wide.reset_index().rename(columns={"index": "metric"})
        html.append("<h3>All pooled metrics written by the backtest (metrics.csv)</h3>")
        html.append(table_html(wide))
    if ctx.data.ewp_metrics is not None:
        html.append("<h3>EWP pooled scoring (ewp_metrics.csv)</h3>")
        html.append(
            '<p class="note">Each outcome year scored once: a unit\'s risk is the '
            "maximum, its rank the best, of the forecasts made one and two years "
            "before.</p>"
        )
        html.append(table_html(ctx.data.ewp_metrics))
    return "".join(html)


def paired_section(ctx: Context) -> str:
    rows, classes = [], []
    for model, (n_rows, results) in ctx.paired.items():
        for metric in PAIRED_METRICS:
            res = results[metric]
            rows.append(
                {
                    "model": model,
                    "metric": _NAMES[metric],
                    "rows": n_rows,
                    "model value": res.estimate_a,
                    "baseline value": res.estimate_b,
                    "difference": res.estimate,
                    "95% CI": f"{fmt(res.lower)} to {fmt(res.upper)}",
                    "p-value": res.p_value,
                }
            )
            classes.append("oracle" if model == figs.ORACLE else "")
    if not rows:
        return _missing("no other model shares scored rows with onsets with the baseline")
    return (
        table_html(pd.DataFrame(rows), row_classes=classes)
        + '<p class="note">Difference = model − baseline on the rows both forecast; for the '
        "Brier score lower is better, so a negative difference favours the model. Paired "
        f"cluster bootstrap (both models scored on the same resampled {ctx.unit_noun.plural}); "
        "two-sided "
        "p-value for no difference (Hall & Wilson 1991).</p>"
    )


def discrimination_section(ctx: Context) -> str:
    data = ctx.scored_arrays
    if not data:
        return _missing("no model has both onsets and non-onsets")
    aucs = ", ".join(f"{m} {ctx.boot[m]['roc_auc'].estimate:.3f}" for m in data)
    alt = f"ROC and precision-recall curves of {len(data)} models. ROC AUC: {aucs}."
    gridded = [m for m, (_, p) in data.items() if figs.curve_thresholds(p) is not None]
    note = (
        f" Models with more than {figs.CURVE_POINTS:,} distinct forecasts ("
        + ", ".join(gridded)
        + f") are drawn at {figs.CURVE_POINTS:,} quantile thresholds of their forecasts."
        if gridded
        else ""
    )
    return figure_html(
        figs.roc_pr_figure(data, highlight=ctx.highlight),
        alt=alt,
        fig_id="fig-roc-pr",
        caption="Left: ROC curves; right: precision-recall curves, pooled over "
        "all scored forecasts. Thick black: the recommended model; dashed black: the oracle, "
        "if any." + note,
    )


CALIBRATION_LEVEL = 0.9
"""Level of the Wilson intervals of the fixed-bin reliability table."""


def fixed_bins(ctx: Context, model: str) -> pd.DataFrame:
    """:func:`forecast.calibration.fixed_bin_reliability` of ``model``'s scored rows."""
    key = f"fixed_bins:{model}"
    if key not in ctx.cache:
        ctx.cache[key] = fixed_bin_reliability(*ctx.arrays(model), level=CALIBRATION_LEVEL)
    return ctx.cache[key]


def _pct(x: float) -> str:
    return "–" if not np.isfinite(x) else f"{100 * x:.1f}%" if x < 0.1 else f"{100 * x:.0f}%"


def calibration_section(ctx: Context, leading: list[str]) -> str:
    """Reliability on the fixed bins a list is read in, for the leading models."""
    shown = [m for m in leading if m in ctx.scored_models]
    if not shown:
        return _missing("no model has scored forecasts")
    tables = {m: fixed_bins(ctx, m) for m in shown}
    rows = []
    for model, table in tables.items():
        for r in table.itertuples(index=False):
            covers = (
                "–"
                if r.n == 0
                else "yes"
                if r.lower <= r.mean_forecast <= r.upper
                else "no: forecasts too high"
                if r.mean_forecast > r.upper
                else "no: forecasts too low"
            )
            rows.append(
                {
                    "model": model,
                    "forecast bin": r.bin,
                    "forecasts": int(r.n),
                    "followed by an onset": int(r.events),
                    "mean forecast": _pct(r.mean_forecast),
                    "observed rate": _pct(r.observed_rate),
                    f"{CALIBRATION_LEVEL:.0%} interval": "–"
                    if r.n == 0
                    else f"{_pct(r.lower)} to {_pct(r.upper)}",
                    "interval covers the mean forecast?": covers,
                }
            )
    alt = "Observed onset rate against mean forecast in fixed bins; " + "; ".join(
        f"{m} 10-30%: {_pct(t.loc[t['bin'] == '10-30%', 'mean_forecast'].squeeze())} forecast, "
        f"{_pct(t.loc[t['bin'] == '10-30%', 'observed_rate'].squeeze())} observed"
        for m, t in tables.items()
    )
    html = [
        figure_html(
            figs.fixed_reliability_figure(tables, highlight=ctx.highlight, level=CALIBRATION_LEVEL),
            alt=alt,
            fig_id="fig-reliability",
            caption="Calibrated forecasts have their black tick (the bin's mean forecast) "
            "inside the coloured interval (the observed rate's).",
        ),
        render(
            "report_calibration.html.j2",
            models=shown,
            level=CALIBRATION_LEVEL,
            horizon=ctx.data.horizon,
            table=Markup(
                table_html(
                    pd.DataFrame(rows),
                    row_classes=["focus" if r["model"] == ctx.highlight else "" for r in rows],
                )
            ),
        ),
    ]
    f = ctx.data.forecasts
    if {"lower", "upper"} <= set(f.columns):
        rows = []
        for m in ctx.scored_models:
            part = ctx.known[
                (ctx.known["model"] == m) & ctx.known["lower"].notna() & ctx.known["upper"].notna()
            ]
            if len(part):
                cov = interval_coverage(part["outcome"], part["lower"], part["upper"], 10)
                rows.append(
                    {
                        "model": m,
                        "rows with an interval": len(part),
                        "mean width": float((part["upper"] - part["lower"]).mean()),
                        "empirical coverage": cov.coverage,
                    }
                )
        if rows:
            html.append("<h3>Probability intervals</h3>" + table_html(pd.DataFrame(rows)))
            html.append(
                '<p class="note">Coverage: share of rows whose interval contains the '
                "observed onset rate of their calibration bin (10 bins of the interval "
                "midpoint); compare with the intervals' stated level.</p>"
            )
    return "".join(html)


def _interval_level(ctx: Context) -> float:
    """Level of the run's probability intervals: the spec's ``history_recalibration.level``,
    else :func:`forecast.calibration.recalibrate_from_history`'s default."""
    import inspect

    from forecast.calibration import recalibrate_from_history

    given = (ctx.spec.get("history_recalibration") or {}).get("level")
    default = inspect.signature(recalibrate_from_history).parameters["level"].default
    return float(given if given is not None else default)


SPREAD_TOP = 10
"""Units of the latest list shown with their forecasts under each leading model."""


def spread_section(ctx: Context, leading: list[str]) -> str:
    """The latest year's top units (by the recommended model) under each leading model, and
    the range across them: model uncertainty next to the recommended model's own interval."""
    f = ctx.data.forecasts
    models = [m for m in leading if m in set(f["model"])]
    if not models:
        return _missing("no forecasts of the leading models")
    year = int(f["year"].max())
    latest = f[(f["year"] == year) & f["model"].isin(models)]
    if "origin" in latest.columns:  # the latest origin's forecast of that year
        latest = latest[latest["origin"] == latest.groupby("model")["origin"].transform("max")]
    wide = latest.pivot_table(index="unit", columns="model", values="probability")
    wide = wide.reindex(columns=models).sort_values(models[0], ascending=False).head(SPREAD_TOP)
    first = latest[latest["model"] == models[0]].set_index("unit")
    rows = []
    names = ctx.unit_names(pd.Series(wide.index), year)
    for name, (unit, probs) in zip(names, wide.iterrows(), strict=True):
        row = {ctx.unit_noun.singular: name}
        for m in models:
            row[m] = _pct(probs[m])
        if {"lower", "upper"} <= set(first.columns) and unit in first.index:
            lo, hi = first.loc[unit, "lower"], first.loc[unit, "upper"]
            row[f"{models[0]}: its own {_interval_level(ctx):.0%} interval"] = (
                "–" if pd.isna(lo) else f"{_pct(lo)} to {_pct(hi)}"
            )
        row["range across the models"] = f"{_pct(probs.min())} to {_pct(probs.max())}"
        rows.append(row)
    return render(
        "report_spread.html.j2",
        year=year,
        models=models,
        top=len(rows),
        table=Markup(table_html(pd.DataFrame(rows))),
    )


def catch_section(ctx: Context) -> str:
    ranks = ctx.prior_ranks
    series = {
        m: ranks[f"rank_{m}"].dropna().to_numpy(float)
        for m in ctx.models
        if f"rank_{m}" in ranks and ranks[f"rank_{m}"].notna().any()
    }
    if not series or len(ranks) == 0:
        return _missing("no onsets to rank")
    marks = (10, 20, 30)
    caught = ", ".join(f"{m} {np.mean(r <= ctx.top_k):.0%}" for m, r in series.items())
    alt = (
        f"Catch curves of {len(series)} models over k = 1 to {ctx.units_per_year}; share of "
        f"{len(ranks)} onsets caught in the top {ctx.top_k}: {caught}."
    )
    return figure_html(
        figs.catch_figure(series, ctx.units_per_year, marks, highlight=ctx.highlight),
        alt=alt,
        fig_id="fig-catch",
        caption=f"Onsets: {ranks.attrs.get('kind', '')}. A point (k, s): warning "
        "on the k highest-risk units every year would have caught the "
        "share s of onsets.",
    )


def threshold_section(ctx: Context) -> str:
    data = ctx.scored_arrays
    if not data:
        return _missing("no model has scored forecasts")
    years = max(ctx.known["year"].nunique(), 1)
    grid = np.geomspace(0.002, 0.6, 60)
    rows, curves, at = [], {}, {}
    for m, (y, p) in data.items():
        table = threshold_counts(y, p, thresholds=THRESHOLDS)
        for i, t in enumerate(THRESHOLDS):
            recall = float(table["recall"][i])
            name = f"{t:.0%}" + (" (EWP)" if t == EWP_THRESHOLD.threshold else "")
            rows.append(
                {
                    "model": m,
                    "threshold": name,
                    "warnings per year": float(table["warnings"][i]) / years,
                    "hits per year": recall * y.sum() / years,
                    "precision": float(table["precision"][i]),
                    "recall": recall,
                }
            )
            if t == EWP_THRESHOLD.threshold:
                at[m] = recall
        on_grid = threshold_counts(y, p, thresholds=grid)
        curves[m] = (on_grid["precision"], on_grid["recall"])
    alt = (
        "Precision and recall against the warning threshold; recall at the EWP 4% cut-off: "
        + ", ".join(f"{m} {v:.0%}" for m, v in at.items())
        + "."
    )
    return figure_html(
        figs.threshold_figure(curves, grid, EWP_THRESHOLD.threshold, highlight=ctx.highlight),
        alt=alt,
        fig_id="fig-thresholds",
        caption="Warn when the forecast is at or above the threshold.",
    ) + table_html(pd.DataFrame(rows))


def _run_costs(ctx: Context) -> pd.DataFrame:
    """The run's cost analysis table (``costs.csv``); for a run folder without one, the
    :func:`forecast.decision.cost_analysis` of its forecasts and spec, computed once."""
    if ctx.data.costs is not None:
        return ctx.data.costs
    if "costs" not in ctx.cache:
        from dataclasses import fields

        from forecast.experiment import CostSpec

        block = ctx.spec.get("costs") or {}
        given = {f.name: block[f.name] for f in fields(CostSpec) if f.name in block}
        if "cost_ratios" in given:
            given["cost_ratios"] = tuple(float(r) for r in given["cost_ratios"] or ())
        analysis = cost_analysis(
            ctx.data.forecasts,
            CostSpec(**given),
            horizon=ctx.data.horizon,
            data_end=ctx.data.data_end,
        )
        ctx.cache["costs"] = analysis.table()
    return ctx.cache["costs"]


_DECISION_COLUMNS = {
    "model": "model",
    "label": "cost ratio",
    "policy": "policy",
    "threshold": "threshold",
    "warnings_per_year": "warnings per year",
    "hits_per_year": "hits per year",
    "false_alarms_per_hit": "false alarms per hit",
    "expected_hits_per_year": "expected hits per year",
    "cost_per_year": "cost per year",
    "value_vs_nothing": "value vs nothing",
}
"""Columns of the report's decision table (``costs.csv`` name -> header)."""


def cost_sentence(ctx: Context, model: str, ratio: float) -> dict[str, Any] | None:
    """The numbers of the report's one-sentence cost summary, read from the run's cost
    table at ``ratio``: the top-``n`` rule's warnings per hit, the honest threshold for the
    latest origin and the units of the latest forecast year at or above it (``model``)."""
    costs = _run_costs(ctx)
    at = costs[(costs["model"] == model) & np.isclose(costs["cost_ratio"], ratio)]
    capacity = at["capacity"].iloc[0] if len(at) else np.nan
    top = at[at["policy"] == (f"top{int(capacity)}" if pd.notna(capacity) else "top30")]
    honest = at[at["policy"] == "honest"]
    if top.empty or honest.empty:
        return None
    top, honest = top.iloc[0], honest.iloc[0]
    f = ctx.data.forecasts
    year = int(f["year"].max())
    latest = f[(f["model"] == model) & (f["year"] == year)]
    if "origin" in latest.columns:
        latest = latest[latest["origin"] == latest["origin"].max()]
    flagged = latest[latest["probability"] >= honest["threshold"]].sort_values(
        "probability", ascending=False
    )
    hits = float(top["hits_per_year"])
    return {
        "model": model,
        "ratio": f"1:{round(1 / ratio):d}",
        "n": int(capacity) if pd.notna(capacity) else 30,
        "per_hit": float(top["warnings_per_year"]) / hits if hits > 0 else None,
        "hits": hits,
        "top_warnings": float(top["warnings_per_year"]),
        "threshold": float(honest["threshold"]),
        "year": year,
        "flagged": list(ctx.unit_names(flagged["unit"], year)),
        "warnings_per_year": float(honest["warnings_per_year"]),
        "effectiveness": float(honest["effectiveness"]),
        "capacity": None if pd.isna(capacity) else int(capacity),
    }


def value_section(ctx: Context, ratio: float | None = None) -> str:
    data = ctx.scored_arrays
    f = ctx.data.forecasts
    if not data:
        return _missing("no model has scored forecasts")
    if ctx.data.costs is None and not {"origin", "horizon"} <= set(f.columns):
        return _missing(
            "cost analysis (no costs.csv, and forecasts.parquet has no "
            "origin/horizon columns to compute it)"
        )
    costs = _run_costs(ctx)
    effectiveness = float(costs["effectiveness"].iloc[0])
    capacity = costs["capacity"].iloc[0]
    capacity_text = (
        "no capacity limit" if pd.isna(capacity) else f"at most {int(capacity)} warnings per year"
    )
    at_20 = costs[(costs["policy"] == "honest") & np.isclose(costs["cost_ratio"], 1 / 20)]
    shown = ", ".join(f"{m} {v:.2f}" for m, v in zip(at_20["model"], at_20["value_vs_nothing"]))
    summary = (
        cost_sentence(ctx, ctx.highlight, ratio)
        if ratio is not None and ctx.highlight is not None
        else None
    )
    html = [
        figure_html(
            value_curve_figure(costs, data_end=ctx.data.data_end, highlight=ctx.highlight),
            fig_id="fig-value",
            alt="Value of acting on warnings relative to doing nothing, against the "
            f"cost ratio; at 1:20 with honest thresholds: {shown}.",
            caption="V = (E_nothing − E) / (E_nothing − E_perfect) per year: 1 = "
            "perfect foresight, 0 = no better than never acting. Left: "
            "threshold chosen at each origin from outcomes known then; "
            "right: best threshold in hindsight (optimistic).",
        )
    ]
    thresholds = np.sort(costs["cost_ratio"].unique())
    curves = pd.concat(
        [decision_curve(y, p, thresholds).assign(model=m) for m, (y, p) in data.items()],
        ignore_index=True,
    )
    best = curves.groupby("model", sort=False)["net_benefit_model"].max()
    nb = ", ".join(f"{m} {v:.4f}" for m, v in best.items())
    html.append(
        figure_html(
            decision_curve_figure(curves, highlight=ctx.highlight),
            fig_id="fig-decision",
            alt=f"Decision curves: net benefit against threshold; maximum: {nb}.",
            caption="NB = TP/n − FP/n · t/(1 − t): onsets warned per unit-year, "
            "net of false alarms weighted by the threshold odds.",
        )
    )
    html.insert(
        0,
        render(
            "report_costs.html.j2",
            s=summary,
            horizon=ctx.data.horizon,
            noun=ctx.unit_noun,
            pct=_pct,
            effectiveness=effectiveness,
            capacity=capacity_text,
        ),
    )
    html.append(f"<h3>Decision table (effectiveness {effectiveness:g}, {capacity_text})</h3>")
    try:
        table = decision_table(costs, ctx.cost_ratios)
    except ForecastInputError as error:
        html.append(_missing(f"decision table at the requested cost ratios ({error})"))
        return "".join(html)
    order = {m: i for i, m in enumerate(ctx.models)}
    table = table.sort_values("model", key=lambda s: s.map(order), kind="stable")
    table = table.assign(label=table["label"].str.replace("to", ":", regex=False))
    html.append(
        table_html(
            table[list(_DECISION_COLUMNS)].rename(columns=_DECISION_COLUMNS),
            row_classes=["oracle" if m == figs.ORACLE else "" for m in table["model"]],
        )
    )
    if ctx.effectiveness is not None and not np.isclose(effectiveness, ctx.effectiveness):
        html.append(
            f'<p class="note">The run\'s cost analysis assumes effectiveness '
            f"{effectiveness:g}; the {ctx.effectiveness:g} asked for is not applied "
            "here (run <code>forecast costs</code> with <code>--effectiveness</code> "
            "for another assumption).</p>"
        )
    return "".join(html)


def per_year_section(ctx: Context) -> str:
    if not ctx.scored_models:
        return _missing("no model has scored forecasts")
    known = ctx.known[ctx.known["model"].isin(ctx.scored_models)]
    table = evaluate_forecasts(
        known[list(FORECAST_COLUMNS)],
        by="year",
        metrics=["roc_auc", get_metric("recall_at_k", k=ctx.top_k), "brier"],
    )
    per = table[~table["pooled"]]
    wide = per.pivot_table(
        index=["model", "year"], columns="metric", values="value", dropna=False
    ).reset_index()
    wide = wide.rename(columns={f"recall_at_k[k={ctx.top_k}]": f"recall_top{ctx.top_k}"})
    events = per.groupby(["model", "year"])["n_events"].first().reset_index()
    wide = wide.merge(events, on=["model", "year"])
    wide["model"] = pd.Categorical(wide["model"], ctx.scored_models, ordered=True)
    wide = wide.sort_values(["model", "year"])
    wide["model"] = wide["model"].astype(str)
    mean_auc = wide.groupby("model", sort=False)["roc_auc"].mean()
    alt = (
        f"ROC AUC and top-{ctx.top_k} recall per forecast year; mean yearly AUC: "
        + ", ".join(f"{m} {v:.3f}" for m, v in mean_auc.items())
        + "."
    )
    html = [
        figure_html(
            figs.per_year_figure(wide, ctx.top_k, highlight=ctx.highlight),
            alt=alt,
            fig_id="fig-per-year",
            caption="Years without an onset have no AUC or recall (gaps).",
        )
    ]
    auc = wide.pivot(index="year", columns="model", values="roc_auc")[ctx.scored_models]
    auc.insert(0, "onsets", wide.groupby("year")["n_events"].max().astype(int))
    html.append("<h3>ROC AUC per forecast year</h3>" + table_html(auc.reset_index()))
    return "".join(html)


def onsets_section(ctx: Context) -> str:
    ranks = ctx.prior_ranks
    if len(ranks) == 0:
        return _missing("no onsets in the scored period")
    names = ctx.unit_names(ranks["unit"], ranks["year"])
    rows = [
        {
            "name": name,
            "year": int(rec["year"]),
            "cells": [
                (
                    int(rank) if np.isfinite(rank := float(rec.get(f"rank_{m}", np.nan))) else None,
                    rec.get(f"probability_{m}", np.nan),
                )
                for m in ctx.models
            ],
        }
        for name, rec in zip(names, ranks.to_dict("records"), strict=True)
    ]
    summary = ", ".join(
        f"{m} {int((ranks[f'rank_{m}'] <= ctx.top_k).sum())}/{len(ranks)}"
        for m in ctx.models
        if f"rank_{m}" in ranks
    )
    return render(
        "report_onsets.html.j2",
        kind=ranks.attrs.get("kind", ""),
        k=ctx.top_k,
        summary=summary,
        noun=ctx.unit_noun.singular,
        models=ctx.models,
        rows=rows,
    )


def unscored_section(ctx: Context) -> str:
    """Why no metric could be computed (every model's scored rows lack onsets or
    non-onsets, or no outcome window has closed)."""
    note = (ctx.data.provenance or {}).get("note")
    if not note:
        known = ctx.known
        note = (
            f"no model has both onsets and non-onsets among its {len(known)} scored "
            "forecasts (fully observed outcome windows)"
        )
    return (
        f'<p class="verdict">Nothing could be scored: {esc(note)}.</p>'
        "<p>Every metric of this run is undefined (NaN in metrics.csv); the forecasts "
        "are kept. Score it again when more outcome years are in the data, or choose a "
        "shorter horizon.</p>"
    )


def tasks_section(ctx: Context) -> str:
    scores = ctx.data.scores
    if scores is None or "model" not in scores.columns:
        return _missing("scores.csv")
    html = []
    agg: dict[str, tuple[str, Any]] = (
        {"origins": ("origin", "nunique")} if "origin" in scores.columns else {}
    )
    if "fit_seconds" in scores.columns:
        agg["fit seconds (total)"] = ("fit_seconds", "sum")
    if "status" in scores.columns:
        agg["failed"] = ("status", lambda s: int((s != "ok").sum()))
    if agg:
        html.append(table_html(scores.groupby("model").agg(**agg).reset_index()))
    if "status" in scores.columns:
        failed = scores[scores["status"] != "ok"]
        if len(failed):
            cols = [c for c in ("model", "origin", "status", "error") if c in failed.columns]
            html.append("<h3>Failed tasks</h3>" + table_html(failed[cols]))
    if {"origin", "roc_auc"} <= set(scores.columns):
        by_origin = scores.pivot_table(index="origin", columns="model", values="roc_auc")
        html.append("<h3>ROC AUC per origin</h3>" + table_html(by_origin.reset_index()))
    return "".join(html)
