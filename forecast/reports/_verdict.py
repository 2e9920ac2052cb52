"""The report's first screen: the recommended model by a stated rule, and why.

The rule (``docs/design/0009-report-verdict.md``, written before it was run on data) is
:data:`VERDICT_RULE`; :func:`recommend` applies it to numbers the report has already
computed (bootstrap intervals, paired differences, the track record, the run's costs).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecast.metrics import BootstrapResult, PairedDifference
from forecast.panel import COUNTRY, UnitNoun
from forecast.reports import _sections as sec
from forecast.reports._figures import ORACLE
from forecast.reports._html import esc
from forecast.reports._track import pct, sig, track_record_sentence, within

__all__ = [
    "AUC_TIE",
    "VERDICT_RULE",
    "Candidate",
    "headline_cost_ratio",
    "recommend",
    "verdict_html",
]

AUC_TIE = 0.005
"""Models within this pooled ROC AUC of the best eligible one are tied."""

VERDICT_RULE = (
    "Rule, fixed before the data were seen (docs/design/0009): among the scored models (the "
    "oracle excluded), recommend the one with the highest pooled ROC AUC among those whose "
    "95% paired country-bootstrap interval of the AUC difference against the baseline is not "
    f"wholly below 0 (not shown worse). Models within {AUC_TIE} AUC of it are tied; ties go to "
    "the better calibrated in the large (observed/expected closest to 1), then to the "
    "baseline, then by name. A difference is distinguishable from noise when its 95% interval "
    "excludes 0."
)


@dataclass(frozen=True)
class Candidate:
    """One model's numbers for the rule: pooled AUC and O/E with intervals, and its paired
    AUC difference against the baseline (None for the baseline, or without shared rows)."""

    model: str
    auc: BootstrapResult
    observed_expected: BootstrapResult
    vs_baseline: PairedDifference | None = None
    rows_vs_baseline: int = 0

    @property
    def shown_worse(self) -> bool:
        """The whole 95% interval of (model - baseline) AUC is below 0."""
        d = self.vs_baseline
        return d is not None and bool(np.isfinite(d.upper)) and d.upper < 0

    @property
    def distinguishable(self) -> bool:
        """The 95% interval of the difference against the baseline excludes 0."""
        d = self.vs_baseline
        return (
            d is not None
            and bool(np.isfinite(d.lower) and np.isfinite(d.upper))
            and (d.lower > 0 or d.upper < 0)
        )

    @property
    def miscalibration(self) -> float:
        """``|log(O/E)|``; infinite when O/E is not a positive number."""
        oe = self.observed_expected.estimate
        return abs(math.log(oe)) if np.isfinite(oe) and oe > 0 else math.inf


def recommend(candidates: Sequence[Candidate], baseline: str) -> tuple[str, list[str], set[str]]:
    """Apply :data:`VERDICT_RULE`.

    Returns
    -------
    (model, order, tied)
        The recommended model; all candidates in the rule's order (recommended first, then
        the other eligible ones by AUC, then those shown worse by AUC); the models tied with
        the recommended one (within :data:`AUC_TIE`).
    """
    if not candidates:
        raise ValueError("recommend: no candidate models")
    by_auc = sorted(candidates, key=lambda c: (-_finite(c.auc.estimate), c.model))
    eligible = [c for c in by_auc if not c.shown_worse]
    best = _finite(eligible[0].auc.estimate)
    tied = [c for c in eligible if _finite(c.auc.estimate) >= best - AUC_TIE - 1e-12]
    chosen = min(tied, key=lambda c: (c.miscalibration, c.model != baseline, c.model))
    order = (
        [chosen] + [c for c in eligible if c is not chosen] + [c for c in by_auc if c.shown_worse]
    )
    return chosen.model, [c.model for c in order], {c.model for c in tied} - {chosen.model}


def _finite(x: float) -> float:
    return float(x) if np.isfinite(x) else -math.inf


def headline_cost_ratio(spec: dict) -> float:
    """The spec's cost ratio: the median of ``costs.cost_ratios`` (the higher middle one for
    an even count), else 1:20."""
    ratios = sorted(
        (float(r) for r in ((spec.get("costs") or {}).get("cost_ratios") or ())), reverse=True
    )
    return ratios[(len(ratios) - 1) // 2] if ratios else 1 / 20


def candidates_of(ctx: sec.Context) -> list[Candidate]:
    """The rule's candidates from the report's computed numbers (oracle excluded)."""
    out = []
    for model in ctx.scored_models:
        if model == ORACLE:
            continue
        rows, paired = ctx.paired.get(model, (0, {}))
        out.append(
            Candidate(
                model,
                ctx.boot[model]["roc_auc"],
                ctx.boot[model]["observed_expected"],
                paired.get("roc_auc"),
                rows,
            )
        )
    return out


def _rule(noun: UnitNoun) -> str:
    """:data:`VERDICT_RULE` with the run's units in the bootstrap's name."""
    return VERDICT_RULE.replace("paired country-bootstrap", f"paired {noun.singular}-bootstrap")


def _ci(lower: float, upper: float, *, sign: bool = False) -> str:
    return f"95% CI {sig(lower, sign=sign)} to {sig(upper, sign=sign)}"


def _against(
    d: PairedDifference,
    rows: int,
    baseline: str,
    *,
    word: str = "against",
    noun: UnitNoun = COUNTRY,
) -> str:
    return (
        f'<span class="paired">{word} the baseline {esc(baseline)}: '
        f"<b>{sig(d.estimate, sign=True)}</b> AUC ({_ci(d.lower, d.upper, sign=True)}) on "
        f"the {rows:,} {noun.years} both forecast</span>"
    )


def _why(
    c: Candidate,
    baseline: str,
    alone: bool,
    tied: list[Candidate],
    runner_up: Candidate | None,
    noun: UnitNoun = COUNTRY,
) -> str:
    auc = c.auc
    top = all(c.auc.estimate >= t.auc.estimate for t in tied)
    text = (
        f"{'Highest' if top else f'Within {AUC_TIE} of the highest'} pooled ROC AUC among "
        f"the models not shown worse than the baseline: <b>{sig(auc.estimate)}</b> "
        f"({_ci(auc.lower, auc.upper)})."
    )
    if tied:
        others = ", ".join(f"{esc(t.model)} ({sig(t.auc.estimate)})" for t in tied)
        text += (
            f" Tied within {AUC_TIE} AUC with {others}; chosen as the better calibrated "
            "(observed/expected closer to 1)."
        )
    d = c.vs_baseline
    if alone:
        text += " It is the only model that could be scored."
    elif c.model == baseline:
        text += " It is the baseline itself: no other model ranks above it by the rule."
        if runner_up is not None and runner_up.vs_baseline is not None:
            word = "distinguishable" if runner_up.distinguishable else "not distinguishable"
            against = _against(
                runner_up.vs_baseline, runner_up.rows_vs_baseline, baseline, noun=noun
            )
            text += f" The next, {esc(runner_up.model)}, {against}, {word} from noise."
    elif d is None:
        text += (
            f" No paired comparison with the baseline {esc(baseline)} (it has no scored "
            "rows in common with onsets and non-onsets)."
        )
    else:
        verdict = (
            "distinguishable from noise"
            if c.distinguishable
            else f"<b>not distinguishable from noise</b>: the baseline {esc(baseline)} is as "
            "good within the bootstrap's resolution"
        )
        text += (
            f" {_against(d, c.rows_vs_baseline, baseline, word='Against', noun=noun)}, {verdict}."
        )
    return text


def _calibration(c: Candidate, onsets: int) -> str:
    oe = c.observed_expected
    if not np.isfinite(oe.estimate) or oe.estimate <= 0:
        return "Observed/expected is undefined for this model."
    expected = onsets / oe.estimate
    if np.isfinite(oe.lower) and np.isfinite(oe.upper) and oe.lower <= 1 <= oe.upper:
        word = "calibrated in the large (the interval contains 1)"
    elif oe.estimate < 1:
        word = f"its forecasts run too high (about {sig(1 / oe.estimate, 2)} times the onsets seen)"
    else:
        word = (
            f"its forecasts run too low (onsets about {sig(oe.estimate, 2)} times those expected)"
        )
    return (
        f"{onsets} onsets observed where its forecasts expected {_word(expected)}: "
        f"observed/expected <b>{sig(oe.estimate)}</b> ({_ci(oe.lower, oe.upper)}), {word}."
    )


def _odds(ratio: float) -> str:
    odds = 1 / ratio
    return f"{round(odds):d}" if abs(odds - round(odds)) < 1e-6 else sig(odds)


def _ratio_label(ratio: float) -> str:
    return f"1:{_odds(ratio)}"


def _word(value: float) -> str:
    """A number in a sentence: three significant digits without trailing zeros."""
    text = sig(value)
    return text.rstrip("0").rstrip(".") if "." in text else text


def cost_row(ctx: sec.Context, model: str, ratio: float) -> pd.Series | None:
    """The run's cost analysis row (honest policy) of ``model`` at ``ratio``; None if absent."""
    f = ctx.data.forecasts
    if ctx.data.costs is None and not {"origin", "horizon"} <= set(f.columns):
        return None
    costs = sec._run_costs(ctx)
    match = costs[
        (costs["model"] == model)
        & (costs["policy"] == "honest")
        & np.isclose(costs["cost_ratio"].astype(float), ratio, rtol=1e-9, atol=0)
    ]
    return None if match.empty else match.iloc[0]


def _acting(ctx: sec.Context, model: str, ratio: float) -> str:
    row = cost_row(ctx, model, ratio)
    label = _ratio_label(ratio)
    if row is None:
        return f"Not available: the run's cost analysis has no honest policy at {label}."
    value = float(row["value_vs_nothing"])
    judged = (
        "better than doing nothing"
        if value > 0
        else "no better than doing nothing"
        if value == 0
        else "worse than doing nothing"
    )
    capacity = row.get("capacity")
    cap = "" if pd.isna(capacity) else f", at most {int(capacity)} a year"
    return (
        f"At cost ratio {label} (a warning costs 1/{_odds(ratio)} of the loss that acting "
        f"on it would prevent; threshold chosen at each origin from outcomes known then"
        f"{cap}): <b>{_word(row['warnings_per_year'])}</b> warnings a year, "
        f"<b>{_word(row['hits_per_year'])}</b> of them followed by an onset "
        f"(of {_word(row['onsets_per_year'])} onsets a year); value "
        f"<b>{sig(value)}</b> on a scale where doing nothing is 0 and perfect foresight 1: "
        f"{judged}."
    )


def _ranking_table(
    ctx: sec.Context, order: list[str], chosen: str, tied: set[str], ratio: float
) -> str:
    cands = {c.model: c for c in candidates_of(ctx)}
    summary = ctx.track.summary().set_index("model") if ctx.track is not None else None
    head = [
        "model",
        "pooled ROC AUC (95% CI)",
        f"difference vs {ctx.baseline} (95% CI)",
        "distinguishable from noise?",
        "observed / expected (95% CI)",
        f"top-{ctx.top_k} lists: onsets caught",
        f"value vs nothing at {_ratio_label(ratio)}",
        "by the rule",
    ]
    rows = []
    models = order + ([ORACLE] if ORACLE in ctx.scored_models else [])
    for model in models:
        boot = ctx.boot[model]
        auc, oe = boot["roc_auc"], boot["observed_expected"]
        c = cands.get(model)
        d = c.vs_baseline if c is not None else None
        if model == ORACLE:
            status = "ceiling, not a model"
        elif model == chosen:
            status = "recommended"
        elif c is not None and c.shown_worse:
            status = "shown worse"
        elif model in tied:
            status = "tied, less calibrated"
        else:
            status = "not shown worse"
        if model == ctx.baseline:
            status += " (baseline)"
        caught = "–"
        if summary is not None and model in summary.index and summary.loc[model, "onsets"]:
            s = summary.loc[model]
            caught = f"{int(s['listed_onsets'])} / {int(s['onsets'])} ({pct(s['recall'])})"
        cost = cost_row(ctx, model, ratio)
        rows.append(
            [
                esc(model),
                _with_ci(auc.estimate, auc.lower, auc.upper),
                "–" if d is None else _with_ci(d.estimate, d.lower, d.upper, sign=True),
                "–" if d is None else ("yes" if c is not None and c.distinguishable else "no"),
                _with_ci(oe.estimate, oe.lower, oe.upper),
                esc(caught),
                "–" if cost is None else sig(cost["value_vs_nothing"]),
                esc(status),
            ]
        )
    body = "".join(
        f'<tr class="{"oracle" if model == ORACLE else "focus" if model == chosen else ""}">'
        + "".join(f"<td>{v}</td>" for v in r)
        + "</tr>"
        for model, r in zip(models, rows)
    )
    header = "".join(f'<th scope="col">{esc(h)}</th>' for h in head)
    return (
        f'<table class="figures ranking"><thead><tr>{header}</tr></thead>'
        f"<tbody>{body}</tbody></table>"
    )


def _with_ci(estimate: float, lower: float, upper: float, *, sign: bool = False) -> str:
    """A table cell: the estimate, its 95% interval on a second, smaller line."""
    return (
        f'{sig(estimate, sign=sign)}<br><span class="ci">{sig(lower, sign=sign)} to '
        f"{sig(upper, sign=sign)}</span>"
    )


def verdict_html(ctx: sec.Context) -> str:
    """The first screen: recommended model, why, its lists, calibration, costs, the rule."""
    cands = candidates_of(ctx)
    if not cands:
        return '<p class="lead">No recommendation: only the oracle could be scored.</p>'
    chosen, order, tied = recommend(cands, ctx.baseline)
    c = next(x for x in cands if x.model == chosen)
    ratio = headline_cost_ratio(ctx.spec)
    y, _ = ctx.arrays(chosen)
    track = (
        esc(track_record_sentence(ctx.track, chosen, ctx.unit_noun))
        if ctx.track is not None
        else "Not available: the forecasts have no single horizon."
    )
    by_model = {x.model: x for x in cands}
    runner_up = by_model[order[1]] if len(order) > 1 else None
    tied_with = [by_model[m] for m in order if m in tied]
    items = [
        ("Why", _why(c, ctx.baseline, len(cands) == 1, tied_with, runner_up, ctx.unit_noun)),
        (f"Top-{ctx.top_k} lists", track),
        ("Calibration", _calibration(c, int(y.sum()))),
        ("Acting on warnings", _acting(ctx, chosen, ratio)),
    ]
    lis = "".join(f"<li><b>{esc(k)}.</b> {v}</li>" for k, v in items)
    horizon = ctx.data.horizon
    event = (
        "a new mass killing" if ctx.spec.get("outcome", "mk_onset") == "mk_onset" else "an onset"
    )
    outcome = f"{event} {within(horizon)}" if horizon else event
    return (
        f'<p class="lead">Recommended model: <strong class="model">{esc(chosen)}</strong>'
        f' <span class="note">for forecasting {esc(outcome)}, by the rule below</span></p>'
        f'<ul class="why">{lis}</ul>'
        + _ranking_table(ctx, order, chosen, tied, ratio)
        + f'<p class="note rule">{esc(_rule(ctx.unit_noun))} Intervals: {ctx.n_boot} bootstrap '
        f"replicates, seed {ctx.seed}. Pooled AUC on each model's fully observed outcome "
        "windows (design 0002).</p>"
    )
