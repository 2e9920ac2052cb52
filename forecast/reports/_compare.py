"""Compare runs (e.g. two experiments) on their common rows: one self-contained HTML page.

Rows are common when every run scored them (design 0002: fully observed window, outcome
known) for the same unit, year and horizon, with the same outcome. On those rows each model
of each run is scored, and pairs of models are compared by the paired cluster
bootstrap (:func:`forecast.metrics.paired_difference`): the same model label across runs
against the first run, and the best model of each run against the first run's best.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from forecast._errors import input_error
from forecast.metrics import PairedDifference, bootstrap_metric, get_metric, paired_difference
from forecast.panel import UnitNoun
from forecast.reports import _figures as figs
from forecast.reports import _sections as sec
from forecast.reports._html import esc, figure_html, table_html
from forecast.reports._report import _check_n_boot, _models
from forecast.reports._templates import Markup, render
from forecast.reports._track import sig
from forecast.run import RunArtifacts

__all__ = ["PAIR_COLUMNS", "common_rows", "compare_runs", "compare_table"]

KEYS = ["unit", "year", "horizon"]
PAIR_METRICS = ("roc_auc", "brier")
_NAMES = {"roc_auc": "ROC AUC", "brier": "Brier score"}


@dataclass
class _Run:
    label: str
    data: RunArtifacts
    known: pd.DataFrame  # scored rows with a horizon column


def _scored(data: RunArtifacts) -> pd.DataFrame:
    """The run's scored rows (the report's rule, :attr:`Context.known`) with a horizon."""
    models = _models(data.forecasts)
    ctx = sec.Context(
        data=data,
        models=models,
        baseline=models[0],
        n_boot=1,
        seed=0,
        cost_ratios=[],
        effectiveness=None,
    )
    known = ctx.known.copy()
    if "horizon" not in known.columns:
        known["horizon"] = data.horizon if data.horizon is not None else -1
    known["horizon"] = known["horizon"].astype(int)
    known["year"] = known["year"].astype(int)
    onsets = data.onsets
    if onsets is not None and "cow_code" in onsets.columns:
        codes = onsets[["unit", "year", "cow_code"]].drop_duplicates(["unit", "year"])
        codes = pd.DataFrame(
            {
                "_key": codes["unit"].astype(str).to_numpy(),
                "year": codes["year"].astype(int).to_numpy(),
                "cow_code": codes["cow_code"].to_numpy(),
            }
        )
        known = (  # the unit column keeps its type: runs without codes still match by it
            known.assign(_key=known["unit"].astype(str))
            .merge(codes, on=["_key", "year"], how="left")
            .drop(columns="_key")
        )
    return known


def _on_cow_codes(runs: list[_Run]) -> bool:
    """Key every run's rows by COW code when each run knows its units' codes.

    Runs of the same states may name their units differently (EWP country names, COW
    codes); their recorded codes (``cow_code`` of the run's onsets) make the rows meet.
    A row whose code is unknown keeps its own unit id.
    """
    if not all("cow_code" in run.known.columns for run in runs):
        return False
    for run in runs:
        code = run.known["cow_code"]
        as_code = "cow " + code.astype("Int64").astype(str)
        run.known["unit"] = as_code.where(code.notna(), run.known["unit"].astype(str))
    return True


def _noun(runs: Sequence[RunArtifacts]) -> UnitNoun:
    """The runs' unit noun when they all agree ("country" by default), else "unit"."""
    nouns = {run.unit_noun for run in runs}
    return nouns.pop() if len(nouns) == 1 else UnitNoun("unit", "units")


def _labels(runs: Sequence[RunArtifacts], labels: Sequence[str] | None) -> list[str]:
    if labels is not None:
        if len(labels) != len(runs) or len(set(labels)) != len(labels):
            raise input_error(
                f"compare_runs: need {len(runs)} distinct labels, got {labels!r}",
                fix="pass one distinct label per run, or none",
            )
        return [str(x) for x in labels]
    names = [r.name for r in runs]
    out = []
    for i, (name, run) in enumerate(zip(names, runs)):
        label = name
        if names.count(name) > 1:
            folder = run.run_dir.name if run.run_dir is not None else ""
            label = f"{name} ({folder})" if folder and folder != name else f"{name} #{i + 1}"
        while label in out:
            label = f"{label} #{i + 1}"
        out.append(label)
    return out


def common_rows(known: Sequence[pd.DataFrame]) -> tuple[pd.DataFrame, list[dict[str, int]]]:
    """Keys ``unit, year, horizon`` scored in every table with the same outcome.

    Returns the common keys with their ``outcome`` and, per table, the counts ``scored``
    (distinct keys), ``common`` and ``outcome_differs`` (keys in every table whose outcome
    is not the same everywhere; left out).
    """
    per = [k.drop_duplicates(KEYS)[[*KEYS, "outcome"]] for k in known]
    merged = per[0].rename(columns={"outcome": "outcome_0"})
    for i, frame in enumerate(per[1:], start=1):
        merged = merged.merge(frame.rename(columns={"outcome": f"outcome_{i}"}), on=KEYS)
    outcomes = merged[[f"outcome_{i}" for i in range(len(per))]].to_numpy(float)
    same = (outcomes == outcomes[:, :1]).all(axis=1)
    common = merged.loc[same, KEYS].assign(outcome=outcomes[same, 0])
    counts = [
        {"scored": len(frame), "common": int(same.sum()), "outcome_differs": int((~same).sum())}
        for frame in per
    ]
    return common.sort_values(KEYS).reset_index(drop=True), counts


def _overlap(runs: list[_Run]) -> str:
    """Which of unit, year and horizon the runs' scored rows fail to share, with examples."""
    parts = []
    for key, what in (("unit", "units"), ("year", "years"), ("horizon", "horizons")):
        sets = [set(run.known[key].astype(str)) for run in runs]
        shared = set.intersection(*sets)
        examples = ", ".join(
            f"{run.label}: {sorted(values)[0]!r}" for run, values in zip(runs, sets) if values
        )
        some = len(shared) < min(len(values) for values in sets)
        parts.append(f"{len(shared)} {what} in common" + (f" ({examples})" if some else ""))
    return "; ".join(parts)


def _entry_rows(run: _Run, model: str, common: pd.DataFrame) -> pd.DataFrame:
    part = run.known[run.known["model"] == model][[*KEYS, "probability"]]
    return common.merge(part, on=KEYS)


def _pooled(rows: pd.DataFrame, n_boot: int, seed: int, k: int) -> dict[str, object]:
    out: dict[str, object] = {"rows": len(rows), "onsets": int(rows["outcome"].sum())}
    for metric in ("roc_auc", "brier", "observed_expected"):
        res = bootstrap_metric(rows, metric, cluster="unit", n_boot=n_boot, seed=seed)
        out[metric] = res
    out["recall"] = get_metric("recall_at_k", k=k)(
        rows["outcome"].to_numpy(float),
        rows["probability"].to_numpy(float),
        groups=rows["year"].to_numpy(),
    )
    return out


def _pair(
    a: pd.DataFrame, b: pd.DataFrame, n_boot: int, seed: int
) -> tuple[int, dict[str, PairedDifference]] | None:
    both = a.merge(b[[*KEYS, "probability"]], on=KEYS, suffixes=("_a", "_b"))
    y = both["outcome"].to_numpy(float)
    if not 0 < y.sum() < y.size:
        return None
    return len(both), {
        m: paired_difference(
            y,
            both["probability_a"].to_numpy(float),
            both["probability_b"].to_numpy(float),
            clusters=both["unit"].to_numpy(),
            metric=m,
            n_boot=n_boot,
            seed=seed,
        )
        for m in PAIR_METRICS
    }


def _pairs(
    runs: list[_Run], entries: dict[tuple[str, str], dict], models: dict[str, list[str]]
) -> list[tuple[tuple[str, str], tuple[str, str], str]]:
    """(first, second, why) pairs: same model label across runs against the first run, then
    each run's best model (highest AUC on the common rows) against the first run's best."""
    ref = runs[0].label
    out = []
    for run in runs[1:]:
        for model in models[run.label]:
            if model != figs.ORACLE and model in models[ref]:
                out.append(((run.label, model), (ref, model), "same model"))

    def best(label: str) -> str | None:
        scored = [
            (m, entries[(label, m)]["roc_auc"].estimate)
            for m in models[label]
            if m != figs.ORACLE and (label, m) in entries
        ]
        return max(scored, key=lambda t: (t[1], t[0]))[0] if scored else None

    ref_best = best(ref)
    for run in runs[1:]:
        run_best = best(run.label)
        if ref_best is None or run_best is None:
            continue
        pair = ((run.label, run_best), (ref, ref_best))
        if all(p[:2] != pair for p in out):
            out.append((*pair, "best of each run"))
        else:
            out = [(*p[:2], "same model; best of each run") if p[:2] == pair else p for p in out]
    return out


def _name(entry: tuple[str, str]) -> str:
    return f"{entry[0]} / {entry[1]}"


def _distinguishable(d: PairedDifference) -> bool:
    return bool(np.isfinite(d.lower) and np.isfinite(d.upper) and (d.lower > 0 or d.upper < 0))


def _bottom_line(results: list, noun: UnitNoun) -> str:
    """One sentence: which pairs differ beyond noise in ROC AUC, led by the best of each run."""
    ranked = sorted(results, key=lambda r: ("best" not in r[2], -abs(r[4]["roc_auc"].estimate)))
    apart = [r for r in ranked if _distinguishable(r[4]["roc_auc"])]
    head = ranked[0]
    auc = head[4]["roc_auc"]
    lead = (
        f"{_name(head[0])} against {_name(head[1])}: ROC AUC {sig(auc.estimate, sign=True)} "
        f"(95% CI {sig(auc.lower, sign=True)} to {sig(auc.upper, sign=True)}) on {head[3]:,} "
        f"{noun.years}"
    )
    if not apart:
        return (
            f"Bottom line: no pair of the {len(results)} compared differs beyond noise in ROC "
            f"AUC ({lead}); the runs rank {noun.plural} equally well within the bootstrap's "
            "resolution."
        )
    better = "; ".join(
        f"{_name(a if d['roc_auc'].estimate > 0 else b)} over "
        f"{_name(b if d['roc_auc'].estimate > 0 else a)}"
        for a, b, _, _, d in apart[:3]
    )
    more = f" and {len(apart) - 3} more" if len(apart) > 3 else ""
    return (
        f"Bottom line: {len(apart)} of the {len(results)} pairs differ beyond noise in ROC AUC "
        f"({better}{more}); {lead}."
    )


def _runs_table(runs: list[_Run], counts: list[dict[str, int]], noun: UnitNoun) -> str:
    rows = []
    for run, count in zip(runs, counts):
        prov = run.data.provenance or {}
        rows.append(
            {
                "run": run.label,
                "experiment": run.data.name,
                "from": str(run.data.run_dir) if run.data.run_dir is not None else "",
                "dataset": prov.get("dataset") or run.data.spec.get("dataset", ""),
                "data sha256": str(prov.get("dataset_sha256") or prov.get("sha256") or "")[:12],
                "code version": prov.get("code_version", ""),
                "models": ", ".join(_models(run.data.forecasts)),
                "data end": "–" if run.data.data_end is None else str(run.data.data_end),
                f"scored {noun.years}": f"{count['scored']:,}",
                "common": f"{count['common']:,}",
                "outcome differs (left out)": f"{count['outcome_differs']:,}",
            }
        )
    return table_html(pd.DataFrame(rows))


def _entries_table(entries: dict[tuple[str, str], dict], k: int) -> str:
    rows, classes = [], []
    for (label, model), e in entries.items():
        auc, brier, oe = e["roc_auc"], e["brier"], e["observed_expected"]
        rows.append(
            {
                "run / model": _name((label, model)),
                "rows": f"{e['rows']:,}",
                "onsets": str(e["onsets"]),
                "ROC AUC (95% CI)": f"{sig(auc.estimate)} ({sig(auc.lower)}–{sig(auc.upper)})",
                "Brier (95% CI)": f"{sig(brier.estimate)} ({sig(brier.lower)}–{sig(brier.upper)})",
                "observed / expected": f"{sig(oe.estimate)} ({sig(oe.lower)}–{sig(oe.upper)})",
                f"recall top {k}": sig(e["recall"]),
            }
        )
        classes.append("oracle" if model == figs.ORACLE else "")
    return table_html(pd.DataFrame(rows), row_classes=classes, table_class="figures")


PAIR_COLUMNS = (
    "first_run",
    "first_model",
    "second_run",
    "second_model",
    "why",
    "metric",
    "rows",
    "first",
    "second",
    "difference",
    "lower",
    "upper",
    "p_value",
    "distinguishable",
)
"""Columns of :func:`compare_table`: one row per (pair, metric)."""


def _pairs_frame(
    results: list[tuple[tuple[str, str], tuple[str, str], str, int, dict[str, PairedDifference]]],
) -> pd.DataFrame:
    rows = [
        (
            *first,
            *second,
            why,
            metric,
            n,
            d.estimate_a,
            d.estimate_b,
            d.estimate,
            d.lower,
            d.upper,
            d.p_value,
            _distinguishable(d),
        )
        for first, second, why, n, diffs in results
        for metric, d in ((m, diffs[m]) for m in PAIR_METRICS)
    ]
    return pd.DataFrame(rows, columns=list(PAIR_COLUMNS))


def _pairs_table(pairs: pd.DataFrame) -> str:
    rows = [
        {
            "first − second (pair)": f"{_name((r.first_run, r.first_model))} − "
            f"{_name((r.second_run, r.second_model))} ({r.why})",
            "metric": _NAMES[r.metric],
            "rows": f"{r.rows:,}",
            "first": sig(r.first),
            "second": sig(r.second),
            "difference (95% CI)": f"{sig(r.difference, sign=True)} "
            f"({sig(r.lower, sign=True)} to "
            f"{sig(r.upper, sign=True)})",
            "p-value": sig(r.p_value, 2),
            "distinguishable?": "yes" if r.distinguishable else "no",
        }
        for r in pairs.itertuples(index=False)
    ]
    return table_html(pd.DataFrame(rows), table_class="figures pairs")


@dataclass
class _Comparison:
    """Everything the comparison page shows, computed once."""

    items: list[_Run]
    noun: UnitNoun
    by_code: bool
    common: pd.DataFrame
    counts: list[dict[str, int]]
    k: int
    boot: int
    entries: dict[tuple[str, str], dict]
    results: list[tuple[tuple[str, str], tuple[str, str], str, int, dict[str, PairedDifference]]]

    @property
    def pairs(self) -> pd.DataFrame:
        return _pairs_frame(self.results)


def _compare(
    runs: Sequence[RunArtifacts | str | Path],
    *,
    labels: Sequence[str] | None,
    models: Sequence[str] | None,
    n_boot: int,
    seed: int,
) -> _Comparison:
    if len(runs) < 2:
        raise input_error(
            f"compare_runs: need at least two runs, got {len(runs)}",
            fix="pass two or more run folders (or --run ids)",
        )
    boot = _check_n_boot(n_boot)
    datas = [r if isinstance(r, RunArtifacts) else RunArtifacts.read(r) for r in runs]
    items = [_Run(label, data, _scored(data)) for label, data in zip(_labels(datas, labels), datas)]
    noun = _noun(datas)
    by_code = _on_cow_codes(items)
    available = {run.label: _models(run.data.forecasts) for run in items}
    if models is not None:
        unknown = sorted(set(models) - {m for ms in available.values() for m in ms})
        if unknown:
            raise input_error(
                f"compare_runs: model(s) {unknown} are in none of the runs",
                fix="pass labels from: "
                + ", ".join(sorted({m for ms in available.values() for m in ms})),
            )
        available = {k: [m for m in ms if m in models] for k, ms in available.items()}
    common, counts = common_rows([run.known for run in items])
    if common.empty or not 0 < common["outcome"].sum() < len(common):
        raise input_error(
            "compare_runs: the runs share no scored rows with onsets and "
            f"non-onsets (same unit, year and horizon, same outcome): "
            f"{_overlap(items)}",
            fix="compare runs of the same outcome and horizon over overlapping "
            "years, whose units are named alike",
        )
    k = int(min(sec.TOP_K, common.groupby("year").size().min()))
    rows = {
        (run.label, m): _entry_rows(run, m, common) for run in items for m in available[run.label]
    }
    entries = {
        key: _pooled(r, boot, seed, k) for key, r in rows.items() if 0 < r["outcome"].sum() < len(r)
    }
    results = []
    for first, second, why in _pairs(items, entries, available):
        if first in entries and second in entries:
            paired = _pair(rows[first], rows[second], boot, seed)
            if paired is not None:
                results.append((first, second, why, *paired))
    return _Comparison(items, noun, by_code, common, counts, k, boot, entries, results)


def compare_table(
    runs: Sequence[RunArtifacts | str | Path],
    *,
    labels: Sequence[str] | None = None,
    models: Sequence[str] | None = None,
    n_boot: int = 300,
    seed: int = 0,
) -> pd.DataFrame:
    """The paired differences of :func:`compare_runs` as a table (the page renders it).

    Parameters are those of :func:`compare_runs`. Pairs: the same model label in each run
    against the first run, then each run's best model (highest ROC AUC on the common rows)
    against the first run's best.

    Returns
    -------
    DataFrame
        One row per (pair, metric), columns :data:`PAIR_COLUMNS`: ``first_run``,
        ``first_model``, ``second_run``, ``second_model``, ``why``, ``metric`` (``roc_auc``,
        ``brier``), ``rows`` (common rows both forecast), ``first``, ``second``,
        ``difference`` (first − second), its 95% interval ``lower``/``upper`` (paired cluster
        bootstrap, :func:`forecast.metrics.paired_difference`), ``p_value`` and
        ``distinguishable`` (the interval excludes 0).
    """
    return _compare(runs, labels=labels, models=models, n_boot=n_boot, seed=seed).pairs


def compare_runs(
    runs: Sequence[RunArtifacts | str | Path],
    out_path: str | Path,
    *,
    labels: Sequence[str] | None = None,
    models: Sequence[str] | None = None,
    n_boot: int = 300,
    seed: int = 0,
) -> Path:
    """Write one HTML page comparing the models of several runs on their common rows.

    Parameters
    ----------
    runs : sequence of RunArtifacts or run folders
        Two or more runs (read with :meth:`RunArtifacts.read`); the first is the reference.
    out_path : path
        Where to write the HTML.
    labels : sequence of str, optional
        A name per run; default the experiment name (with the folder when two share it).
    models : sequence of str, optional
        Model labels to compare; default all.
    n_boot, seed
        Bootstrap replicates (countries resampled, capped at 1000) and seed.

    Returns
    -------
    Path
        The written page: self-contained (no scripts, figures embedded).

    Raises
    ------
    ForecastInputError
        If fewer than two runs are given, the runs share no scored row, or ``models`` names
        a model no run has.
    """
    c = _compare(runs, labels=labels, models=models, n_boot=n_boot, seed=seed)
    items, noun, common, results, entries = c.items, c.noun, c.common, c.results, c.entries
    k, boot = c.k, c.boot
    years = f"{int(common['year'].min())}–{int(common['year'].max())}"
    horizons = ", ".join(str(h) for h in sorted(common["horizon"].unique()))
    lead = (
        f'<p class="lead">{len(items)} runs on their <strong>{len(common):,}</strong> common '
        f"{noun.years} ({common['unit'].nunique()} {noun.plural}, data years {years}, "
        f"horizon {horizons}; {int(common['outcome'].sum())} with an onset).</p>"
    )
    if results:
        lead += f'<p class="bottom-line"><strong>{esc(_bottom_line(results, noun))}</strong></p>'
        lead += _pairs_table(c.pairs)
    else:
        lead += '<p class="note">No pair of models could be compared on the common rows.</p>'
    lead += (
        '<p class="note rule">Common rows: scored in every run (fully observed outcome '
        "window, design 0002) for the same unit, year and horizon, with the same outcome"
        + (
            " (units matched by their Correlates of War codes, which every run records). "
            if c.by_code
            else ". "
        )
        + "Pairs: the same model label in each run against the first run, and each run's "
        "best model (highest ROC AUC on the common rows) against the first run's best. "
        f"Difference = first − second on the rows both forecast; paired cluster bootstrap "
        f"({boot} replicates, {noun.plural} resampled with all their years, seed {seed}); "
        "distinguishable from noise when the 95% interval excludes 0. For the Brier "
        "score lower is better.</p>"
    )
    details = []
    if results:
        fig = figs.difference_figure(
            [f"{_name(a)} − {_name(b)}" for a, b, *_ in results],
            [d["roc_auc"].estimate for *_, d in results],
            [d["roc_auc"].lower for *_, d in results],
            [d["roc_auc"].upper for *_, d in results],
            metric="ROC AUC",
        )
        alt = (
            "Paired ROC AUC differences with 95% intervals: "
            + "; ".join(
                f"{_name(a)} minus {_name(b)} {sig(d['roc_auc'].estimate, sign=True)}"
                for a, b, _, _, d in results
            )
            + "."
        )
        caption = "Each row: the first model minus the second on the common rows both forecast."
        details.append(
            (
                "differences",
                "Paired differences (ROC AUC)",
                figure_html(fig, alt=alt, fig_id="fig-differences", caption=caption),
            )
        )
    details.append(
        (
            "models",
            "Every model on the common rows",
            _entries_table(entries, k)
            + f'<p class="note">Recall top {k}: share of onsets among each year\'s '
            f"{k} highest forecasts of the common rows.</p>",
        )
    )
    details.append(("runs", "Runs and common rows", _runs_table(items, c.counts, noun)))
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    html = render(
        "compare.html.j2",
        title="Run comparison: " + " vs ".join(run.label for run in items),
        subtitle=f"reference: {items[0].label}",
        lead=Markup(lead),
        parts=[{"key": key, "title": t, "html": Markup(h)} for key, t, h in details],
    )
    out.write_text(html, encoding="utf-8")
    return out
