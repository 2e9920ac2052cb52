"""The report's first screen: the recommended model by the rule of design 0011, and why.

The model is :func:`forecast.choice.recommend_model` of the run's spec (the rule reads the
spec only, so the report, the risk list and the MLflow alias agree); this module words the
numbers the report has already computed for it (bootstrap intervals, paired differences, the
track record, the run's costs) and shows the hindsight-best model as a reference.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecast.choice import ModelChoice, recommend_model
from forecast.metrics import BootstrapResult, PairedDifference
from forecast.panel import COUNTRY, UnitNoun
from forecast.reports import _sections as sec
from forecast.reports._figures import ORACLE
from forecast.reports._html import esc
from forecast.reports._templates import Markup, render
from forecast.reports._track import pct, sig, track_record_sentence, within

__all__ = [
    "VERDICT_RULE",
    "Candidate",
    "model_choice",
    "verdict_html",
    "verdict_order",
]

VERDICT_RULE = (
    "Rule, fixed before the data were seen (docs/design/0011): the recommended model is the "
    "spec's default_model if it names one; else its first stacked or selected model (which "
    "chooses at each origin from what that origin knew), in its history-recalibrated copy when "
    "the spec recalibrates it; else its first model. The backtest's scores do not choose it. "
    "The hindsight-best (highest pooled ROC AUC of this very backtest) is a reference only: no "
    "forecaster could have chosen it at any origin. A model is worse than the baseline when its "
    "95% paired country-bootstrap interval of the AUC difference is wholly below 0; a "
    "difference is distinguishable from noise when its 95% interval excludes 0. Calibration is "
    "judged on fixed forecast bins (<1%, 1-3%, 3-10%, 10-30%, >=30%): the forecasts of a bin are "
    "calibrated when the 90% interval of the bin's observed onset rate contains its mean "
    "forecast."
)


@dataclass(frozen=True)
class Candidate:
    """One model's numbers: pooled AUC and O/E with intervals, and its paired AUC difference
    against the baseline (None for the baseline, or without shared rows)."""

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


def model_choice(ctx: sec.Context) -> ModelChoice:
    """:func:`forecast.choice.recommend_model` of the run: its spec (a run without one: its
    models in order), pooled AUCs (for the hindsight-best) and costs."""
    spec = dict(ctx.spec)
    if not spec.get("models"):
        spec["models"] = [m for m in ctx.models if m != ORACLE]
    aucs = pd.DataFrame(
        [(c.model, c.auc.estimate) for c in candidates_of(ctx)], columns=["model", "roc_auc"]
    )
    return recommend_model(spec, metrics=aucs, costs=_costs(ctx))


def verdict_order(ctx: sec.Context) -> list[str]:
    """The scored models: the recommended first, then by pooled AUC (highest first, then
    by name), the oracle last."""
    cands = candidates_of(ctx)
    chosen = model_choice(ctx).recommended if cands else None
    by_auc = sorted(cands, key=lambda c: (-_finite(c.auc.estimate), c.model))
    order = [c.model for c in by_auc if c.model == chosen]
    order += [c.model for c in by_auc if c.model != chosen]
    return order + [m for m in ctx.scored_models if m not in order]


def _finite(x: float) -> float:
    return float(x) if np.isfinite(x) else -math.inf


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
    c: Candidate, choice: ModelChoice, baseline: str, alone: bool, noun: UnitNoun = COUNTRY
) -> str:
    auc = c.auc
    text = (
        f"The rule picks it because {esc(choice.reason)}. Pooled ROC AUC "
        f"<b>{sig(auc.estimate)}</b> ({_ci(auc.lower, auc.upper)})."
    )
    d = c.vs_baseline
    if alone:
        text += " It is the only model that could be scored."
    elif c.model == baseline:
        text += " It is the baseline itself."
    elif d is None:
        text += (
            f" No paired comparison with the baseline {esc(baseline)} (it has no scored "
            "rows in common with onsets and non-onsets)."
        )
    else:
        verdict = (
            "distinguishable from noise"
            if c.distinguishable
            else f"<b>within noise</b> of the baseline {esc(baseline)}: the bootstrap cannot "
            "tell the two apart"
        )
        if c.shown_worse:
            verdict += f"; it is <b>worse</b> than the baseline {esc(baseline)}"
        text += (
            f" {_against(d, c.rows_vs_baseline, baseline, word='Against', noun=noun)}, {verdict}."
        )
    return text


def _hindsight(choice: ModelChoice, cands: dict[str, Candidate]) -> str:
    best = choice.hindsight_best
    if best is None or best == choice.recommended or best not in cands:
        return (
            "The recommended model also has the highest pooled ROC AUC of this backtest."
            if best == choice.recommended
            else ""
        )
    auc = cands[best].auc
    return (
        f"{esc(best)} has the highest pooled ROC AUC of this very backtest, "
        f"<b>{sig(auc.estimate)}</b> ({_ci(auc.lower, auc.upper)}): a choice made with the "
        "numbers being reported, which no forecaster could have made at any origin, shown as "
        "a reference, never the recommendation."
    )


def _calibration(
    c: Candidate,
    windows: int,
    events: int | None,
    horizon: int | None,
    bins: pd.DataFrame,
) -> str:
    """Observed/expected in the large, then calibration where the list is read: the fixed
    bins (:func:`forecast.calibration.fixed_bin_reliability`), the 10-30% bin first."""
    oe = c.observed_expected
    seen = (
        f"{events} onsets observed in the scored years; its {windows} forecast windows with an "
        f"onset (one onset lies in up to {horizon} windows)"
        if events is not None
        else f"{windows} forecast windows with an onset"
    )
    if np.isfinite(oe.estimate) and oe.estimate > 0:
        large = (
            f"{seen} where its forecasts expected {_word(windows / oe.estimate)}: "
            f"observed/expected <b>{sig(oe.estimate)}</b> ({_ci(oe.lower, oe.upper)}), the "
            "total only."
        )
    else:
        large = "Observed/expected is undefined for this model."
    parts = []
    for r in bins.itertuples(index=False):
        if r.n == 0:
            continue
        if r.lower <= r.mean_forecast <= r.upper:
            word = "the interval contains the mean forecast: calibrated there"
        elif r.mean_forecast > r.upper:
            word = "<b>forecasts too high there</b>"
        else:
            word = "<b>forecasts too low there</b>"
        parts.append(
            (
                r.bin,
                f"forecasts of {esc(r.bin)} (n = {r.n:,}) averaged {sec._pct(r.mean_forecast)} and "
                f"{sec._pct(r.observed_rate)} of them were followed by an onset (90% interval "
                f"{sec._pct(r.lower)} to {sec._pct(r.upper)}): {word}",
            )
        )
    key = [text for b, text in parts if b == "10-30%"]
    if key:
        list_read = "Where the list is read, its " + key[0] + "."
    else:
        list_read = "It made no forecasts of 10-30%, so the list's upper range cannot be checked."
    others = [text for b, text in parts if b != "10-30%" and "there</b>" in text]
    if others:
        list_read += " Also: " + "; ".join(others) + "."
    return f"{large} {list_read}"


def _odds(ratio: float) -> str:
    odds = 1 / ratio
    return f"{round(odds):d}" if abs(odds - round(odds)) < 1e-6 else sig(odds)


def _ratio_label(ratio: float) -> str:
    return f"1:{_odds(ratio)}"


def _word(value: float) -> str:
    """A number in a sentence: three significant digits without trailing zeros."""
    text = sig(value)
    return text.rstrip("0").rstrip(".") if "." in text else text


def _costs(ctx: sec.Context) -> pd.DataFrame | None:
    """The run's cost analysis table; None when the run has none and cannot make one."""
    f = ctx.data.forecasts
    if ctx.data.costs is None and not {"origin", "horizon"} <= set(f.columns):
        return None
    return sec._run_costs(ctx)


def cost_row(ctx: sec.Context, model: str, ratio: float) -> pd.Series | None:
    """The run's cost analysis row (honest policy) of ``model`` at ``ratio``; None if absent."""
    costs = _costs(ctx)
    if costs is None:
        return None
    match = costs[
        (costs["model"] == model)
        & (costs["policy"] == "honest")
        & np.isclose(costs["cost_ratio"].astype(float), ratio, rtol=1e-9, atol=0)
    ]
    return None if match.empty else match.iloc[0]


def _events(ctx: sec.Context, model: str) -> pd.Series | None:
    """``model``'s onset events (:attr:`forecast.metrics.TrackRecord.events`), if counted."""
    track = ctx.track
    if track is None or track.events is None:
        return None
    rows = track.events[track.events["model"] == model]
    return None if rows.empty else rows.iloc[0]


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
    events = _events(ctx, model)
    onsets = (
        f"(of {_word(row['onsets_per_year'])} forecast windows with an onset a year"
        + ("" if events is None else f"; {_word(events['events_per_year'])} onsets a year")
        + ")"
    )
    return (
        f"At cost ratio {label} (a warning costs 1/{_odds(ratio)} of the loss that acting "
        f"on it would prevent; threshold chosen at each origin from outcomes known then"
        f"{cap}): <b>{_word(row['warnings_per_year'])}</b> warnings a year, "
        f"<b>{_word(row['hits_per_year'])}</b> of them followed by an onset {onsets}; value "
        f"<b>{sig(value)}</b> on a scale where doing nothing is 0 and perfect foresight 1: "
        f"{judged}."
    )


def _caught(ctx: sec.Context, model: str) -> str:
    """``caught / onsets (share)`` of ``model``'s past top-k lists, each onset once."""
    events = _events(ctx, model)
    if events is not None and events["onset_events"]:
        return (
            f"{int(events['caught_events'])} / {int(events['onset_events'])} "
            f"({pct(events['event_recall'])})"
        )
    if events is None and ctx.track is not None:  # no annual onsets: list-windows, labelled
        s = ctx.track.summary().set_index("model")
        if model in s.index and s.loc[model, "onsets"]:
            r = s.loc[model]
            return f"{int(r['listed_onsets'])} / {int(r['onsets'])} list-windows"
    return "–"


def _ranking_rows(ctx: sec.Context, order: list[str], choice: ModelChoice, ratio: float) -> list:
    """One row of the ranking table per model (the oracle, when scored, last)."""
    cands = {c.model: c for c in candidates_of(ctx)}
    rows = []
    for model in order:
        boot = ctx.boot[model]
        c = cands.get(model)
        d = c.vs_baseline if c is not None else None
        status = "ceiling, not a model" if model == ORACLE else ""
        if model != ORACLE:
            status = ", ".join(
                word
                for word, on in (
                    ("recommended", model == choice.recommended),
                    ("hindsight-best (reference)", model == choice.hindsight_best),
                    ("worse than the baseline", c is not None and c.shown_worse),
                    ("baseline", model == ctx.baseline),
                )
                if on
            )
        cost = cost_row(ctx, model, ratio)
        rows.append(
            {
                "model": model,
                "cls": "oracle"
                if model == ORACLE
                else "focus"
                if model == choice.recommended
                else "",
                "auc": _cell(boot["roc_auc"]),
                "diff": None if d is None else _cell(d, sign=True),
                "apart": "–" if d is None or c is None else ("yes" if c.distinguishable else "no"),
                "oe": _cell(boot["observed_expected"]),
                "caught": _caught(ctx, model),
                "value": "–" if cost is None else sig(cost["value_vs_nothing"]),
                "status": status or "–",
            }
        )
    return rows


def _cell(x: BootstrapResult | PairedDifference, *, sign: bool = False) -> dict:
    return {"estimate": x.estimate, "lower": x.lower, "upper": x.upper, "sign": sign}


def verdict_html(ctx: sec.Context) -> str:
    """The first screen: the recommended model (design 0011), said first when acting on it
    is worth less than doing nothing; why, its lists, calibration, costs; the hindsight-best
    as a reference; the rule."""
    cands = candidates_of(ctx)
    if not cands:
        return '<p class="lead">No recommendation: only the oracle could be scored.</p>'
    choice = model_choice(ctx)
    chosen = choice.recommended
    order = verdict_order(ctx)
    ratio = choice.cost_ratio
    horizon = ctx.data.horizon
    event = (
        "a new mass killing" if ctx.spec.get("outcome", "mk_onset") == "mk_onset" else "an onset"
    )
    outcome = f"{event} {within(horizon)}" if horizon else event
    by_model = {x.model: x for x in cands}
    c = by_model.get(chosen)
    if c is None:
        items = [
            (
                "Not scored",
                f"The rule picks it because {esc(choice.reason)}, but this run has no scored "
                f"forecasts of {esc(chosen)}; the table shows the models it has.",
            )
        ]
    else:
        y, _ = ctx.arrays(chosen)
        events = _events(ctx, chosen)
        track = (
            esc(track_record_sentence(ctx.track, chosen, ctx.unit_noun))
            if ctx.track is not None
            else "Not available: the forecasts have no single horizon."
        )
        items = [
            ("Why", _why(c, choice, ctx.baseline, len(cands) == 1, ctx.unit_noun)),
            (f"Top-{ctx.top_k} lists", track),
            (
                "Calibration",
                _calibration(
                    c,
                    int(y.sum()),
                    None if events is None else int(events["onset_events"]),
                    horizon,
                    sec.fixed_bins(ctx, chosen),
                ),
            ),
            ("Acting on warnings", _acting(ctx, chosen, ratio)),
        ]
    hindsight = _hindsight(choice, by_model)
    if hindsight:
        items.append(("Hindsight-best, a reference", hindsight))
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
    return render(
        "report_verdict.html.j2",
        warning=choice.warning() if choice.below_nothing else "",
        chosen=chosen,
        outcome=outcome,
        items=[(k, Markup(v)) for k, v in items],
        head=head,
        rows=_ranking_rows(ctx, order, choice, ratio),
        rule=_rule(ctx.unit_noun),
        n_boot=ctx.n_boot,
        seed=ctx.seed,
        sig=sig,
    )
