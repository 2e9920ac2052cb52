"""The model comparison report: one self-contained HTML file from a backtest output directory."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from forecast._errors import input_error
from forecast.reports import _figures as figs
from forecast.reports import _sections as sec
from forecast.reports._templates import Markup, render
from forecast.reports._track import track_record_html
from forecast.reports._verdict import model_choice, verdict_html, verdict_order
from forecast.run import RunArtifacts

__all__ = ["N_BOOT_MAX", "build_report", "load_run"]

N_BOOT_MAX = 1000
"""Most bootstrap replicates the report draws (more are capped, with a note on the page)."""


def load_run(run_dir: str | Path) -> RunArtifacts:
    """Read a backtest run folder: :meth:`forecast.run.RunArtifacts.read`."""
    return RunArtifacts.read(run_dir)


def _models(forecasts: pd.DataFrame) -> list[str]:
    names = sorted(pd.unique(forecasts["model"]))
    return [m for m in names if m != figs.ORACLE] + ([figs.ORACLE] if figs.ORACLE in names else [])


def _baseline(models: list[str], baseline: str | None, spec: dict | None = None) -> str:
    candidates = [m for m in models if m != figs.ORACLE]
    if baseline is None:  # the spec's evaluation.baseline, as the backtest job passes it
        baseline = ((spec or {}).get("evaluation") or {}).get("baseline")
        baseline = baseline if baseline in candidates else None
    if baseline is None:
        if not candidates:
            raise input_error(
                "forecasts.parquet holds only the oracle", fix="include at least one fitted model"
            )
        return candidates[0]
    if baseline not in models:
        raise input_error(
            f"baseline model {baseline!r} is not in the forecasts; models: {models}",
            fix="pass --baseline with one of the listed models",
        )
    return baseline


def _check_n_boot(n_boot: int) -> int:
    if isinstance(n_boot, bool) or not isinstance(n_boot, int | np.integer) or n_boot < 1:
        raise input_error(
            f"build_report: 'n_boot' must be an integer >= 1, got {n_boot!r}",
            fix="pass e.g. n_boot=300",
        )
    return int(min(n_boot, N_BOOT_MAX))


def build_report(
    run: RunArtifacts | str | Path,
    out_path: str | Path | None = None,
    *,
    baseline: str | None = None,
    cost_ratios: Sequence[float] | None = None,
    effectiveness: float | None = None,
    n_boot: int = 300,
    seed: int = 0,
) -> Path:
    """Write a self-contained HTML report comparing the models of one backtest.

    Parameters
    ----------
    run : RunArtifacts or path
        The run (or its folder, read with :meth:`RunArtifacts.read`). The report renders
        what the run holds: its metrics, its cost analysis (``costs``), its onsets.
    out_path : path, optional
        Where to write the HTML; default ``report.html`` in the run folder.
    baseline : str, optional
        Model that paired differences (and the verdict) are taken against; default the
        spec's ``evaluation.baseline``, else the first non-oracle model by name.
    cost_ratios : sequence of float, optional
        Cost ratios ``r = C / (e L)`` of the decision table; default 1:10,
        1:20, 1:50. The value curve spans 1:200..1:2 plus these.
    effectiveness : float, optional
        Share ``e`` of the loss that acting on a warning prevents, as the reader assumes it;
        the report renders the run's own cost analysis and notes when this differs.
    n_boot : int
        Bootstrap replicates (countries resampled); capped at :data:`N_BOOT_MAX`.
    seed : int
        Seed of the bootstrap.

    Returns
    -------
    Path
        The written HTML file. It has no scripts and loads nothing: figures
        are embedded PNGs (base64) with alt text, and it prints on A4. It opens with the
        verdict (the model recommended by the rule of ``docs/design/0011-one-model-story.md``,
        :func:`forecast.choice.recommend_model`) and the track record of past lists;
        the details follow in collapsible sections.
    """
    start = time.perf_counter()
    data = run if isinstance(run, RunArtifacts) else RunArtifacts.read(run)
    models = _models(data.forecasts)
    base = _baseline(models, baseline, data.spec)
    boot = _check_n_boot(n_boot)
    if boot < n_boot:
        data.notes.append(f"Bootstrap replicates capped at {boot} (asked for {n_boot}).")
    ratios = list(sec.DEFAULT_COST_RATIOS if cost_ratios is None else cost_ratios)
    if not ratios or any(not (0 < float(r) < 1) for r in ratios):
        raise input_error(
            f"build_report: cost ratios must be in (0, 1), got {ratios!r}",
            fix="pass e.g. cost_ratios=[0.1, 0.05, 0.02]",
        )
    ctx = sec.Context(
        data=data,
        models=models,
        baseline=base,
        n_boot=boot,
        seed=seed,
        cost_ratios=[float(r) for r in ratios],
        effectiveness=None if effectiveness is None else float(effectiveness),
    )
    if ctx.scored_models:
        lead = ("verdict", "Verdict", verdict_html(ctx))
        ranked = verdict_order(ctx)
        leading = [m for m in ranked if m != figs.ORACLE][:3]
        ratio = model_choice(ctx).cost_ratio
        ctx.highlight = ranked[0]
        parts = [
            (
                "track-record",
                f"Track record: how past top-{ctx.top_k} lists fared",
                track_record_html(
                    ctx.track, focus=ranked[0], models=ranked, unit_noun=ctx.unit_noun
                ),
            ),
            (
                "spread",
                "Latest forecasts across the leading models",
                sec.spread_section(ctx, leading),
            ),  # noqa: E501
            ("metrics", "Headline metrics with uncertainty", sec.metrics_section(ctx)),
            ("paired", f"Differences against the baseline ({base})", sec.paired_section(ctx)),
            ("discrimination", "ROC and precision-recall curves", sec.discrimination_section(ctx)),
            (
                "calibration",
                "Calibration where the list is read",
                sec.calibration_section(ctx, leading),
            ),
            ("catch", "Warning lists: onsets caught by the top k", sec.catch_section(ctx)),
            ("thresholds", "Precision and recall at thresholds", sec.threshold_section(ctx)),
            ("value", "Costs and value of acting on warnings", sec.value_section(ctx, ratio)),
            ("per-year", "Performance per year", sec.per_year_section(ctx)),
            ("onsets", "Onsets and each model's prior rank", sec.onsets_section(ctx)),
            ("overview", "Experiment and data", sec.overview(ctx)),
            ("tasks", "Backtest tasks", sec.tasks_section(ctx)),
        ]
    else:  # nothing scorable is a result: say why instead of drawing empty figures
        lead = ("metrics", "Nothing could be scored", sec.unscored_section(ctx))
        parts = [
            ("overview", "Experiment and data", sec.overview(ctx)),
            ("tasks", "Backtest tasks", sec.tasks_section(ctx)),
        ]

    def block(key: str, title: str, html: str) -> dict:
        return {"key": key, "title": title, "html": Markup(html)}

    title = f"Model comparison: {ctx.experiment_name}"
    target = out_path if out_path is not None else data.report_path
    if target is None:
        raise input_error(
            "build_report: the run has no folder to write report.html into", fix="pass out_path="
        )
    out = Path(target)
    out.parent.mkdir(parents=True, exist_ok=True)
    html = render(
        "report.html.j2",
        title=title,
        subtitle=ctx.subtitle,
        lead=block(*lead),
        parts=[block(*p) for p in parts],
        seconds=time.perf_counter() - start,
        name=data.name,
        notes=data.notes,
    )
    out.write_text(html, encoding="utf-8")
    return out
