"""The model comparison report: one self-contained HTML file from a backtest output directory."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from forecast._errors import input_error
from forecast.reports import _figures as figs
from forecast.reports import _sections as sec
from forecast.reports._html import esc, page

__all__ = ["N_BOOT_MAX", "RunData", "build_report", "load_run"]

N_BOOT_MAX = 1000
"""Most bootstrap replicates the report draws (more are capped, with a note on the page)."""

REQUIRED = ("unit", "year", "model", "probability", "outcome")


@dataclass
class RunData:
    """The files of one backtest output directory; optional ones are None when absent."""

    run_dir: Path
    forecasts: pd.DataFrame
    scores: pd.DataFrame | None = None
    metrics: pd.DataFrame | None = None
    ewp_metrics: pd.DataFrame | None = None
    onsets: pd.DataFrame | None = None
    spec_text: str | None = None
    provenance: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)


def _read_optional(path: Path, reader) -> Any:
    if not path.is_file():
        return None
    try:
        return reader(path)
    except Exception as error:  # a broken optional file must name itself
        raise input_error(f"cannot read {path.name} ({type(error).__name__}: {error})",
                          source=str(path), fix="re-run the backtest or delete the broken file"
                          ) from error


def load_run(run_dir: str | Path) -> RunData:
    """Read a backtest output directory (``forecasts.parquet`` required, the rest optional).

    Raises
    ------
    ForecastInputError
        If the directory or ``forecasts.parquet`` is missing, a required column is
        missing, or an optional file exists but cannot be read.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise input_error(f"run directory {str(run_dir)!r} does not exist",
                          fix="pass the --out directory of `forecast backtest`")
    path = run_dir / "forecasts.parquet"
    if not path.is_file():
        raise input_error(f"{str(run_dir)!r} has no forecasts.parquet",
                          source=str(run_dir),
                          fix="pass the --out directory of a finished `forecast backtest`")
    forecasts = _read_optional(path, pd.read_parquet)
    missing = [c for c in REQUIRED if c not in forecasts.columns]
    if missing:
        raise input_error(f"forecasts.parquet lacks column(s) {missing}; it has "
                          f"{list(forecasts.columns)}", source=str(path),
                          fix="write forecasts with unit, year, model, probability, outcome")
    if forecasts.empty:
        raise input_error("forecasts.parquet has no rows", source=str(path),
                          fix="re-run the backtest")
    forecasts = forecasts.copy()
    forecasts["unit"] = forecasts["unit"].astype(str)
    forecasts["model"] = forecasts["model"].astype(str)
    data = RunData(run_dir, forecasts)
    data.scores = _read_optional(run_dir / "scores.csv", pd.read_csv)
    data.metrics = _read_optional(run_dir / "metrics.csv", pd.read_csv)
    data.ewp_metrics = _read_optional(run_dir / "ewp_metrics.csv", pd.read_csv)
    onsets = _read_optional(run_dir / "onsets.parquet", pd.read_parquet)
    if onsets is not None and {"unit", "year", "onset"} <= set(onsets.columns):
        data.onsets = onsets.assign(unit=onsets["unit"].astype(str))
    data.spec_text = _read_optional(run_dir / "experiment.yaml",
                                    lambda p: p.read_text(encoding="utf-8"))
    data.provenance = _read_optional(run_dir / "provenance.json",
                                     lambda p: json.loads(p.read_text(encoding="utf-8")))
    return data


def _models(forecasts: pd.DataFrame) -> list[str]:
    names = sorted(set(forecasts["model"]))
    return [m for m in names if m != figs.ORACLE] + ([figs.ORACLE] if figs.ORACLE in names else [])


def _baseline(models: list[str], baseline: str | None) -> str:
    candidates = [m for m in models if m != figs.ORACLE]
    if baseline is None:
        if not candidates:
            raise input_error("forecasts.parquet holds only the oracle",
                              fix="include at least one fitted model")
        return candidates[0]
    if baseline not in models:
        raise input_error(f"baseline model {baseline!r} is not in the forecasts; models: {models}",
                          fix="pass --baseline with one of the listed models")
    return baseline


def _check_n_boot(n_boot: int) -> int:
    if isinstance(n_boot, bool) or not isinstance(n_boot, int | np.integer) or n_boot < 1:
        raise input_error(f"build_report: 'n_boot' must be an integer >= 1, got {n_boot!r}",
                          fix="pass e.g. n_boot=300")
    return int(min(n_boot, N_BOOT_MAX))


def build_report(
    run_dir: str | Path,
    out_path: str | Path | None = None,
    *,
    baseline: str | None = None,
    cost_ratios: Sequence[float] | None = None,
    effectiveness: float = 0.5,
    n_boot: int = 300,
    seed: int = 0,
) -> Path:
    """Write a self-contained HTML report comparing the models of one backtest.

    Parameters
    ----------
    run_dir : path
        Backtest output directory: ``forecasts.parquet`` (required), and when
        present ``scores.csv``, ``metrics.csv``, ``ewp_metrics.csv``,
        ``onsets.parquet``, ``experiment.yaml``, ``provenance.json``.
    out_path : path, optional
        Where to write the HTML; default ``run_dir / "report.html"``.
    baseline : str, optional
        Model that paired differences are taken against; default the first
        non-oracle model in alphabetical order.
    cost_ratios : sequence of float, optional
        Cost ratios ``r = C / (e L)`` of the decision table; default 1:10,
        1:20, 1:50. The value curve spans 1:200..1:2 plus these.
    effectiveness : float
        Share ``e`` of the loss that acting on a warning prevents.
    n_boot : int
        Bootstrap replicates (countries resampled); capped at :data:`N_BOOT_MAX`.
    seed : int
        Seed of the bootstrap.

    Returns
    -------
    Path
        The written HTML file. It has no scripts and loads nothing: figures
        are embedded PNGs (base64) with alt text, and it prints on A4.
    """
    start = time.perf_counter()
    data = load_run(run_dir)
    models = _models(data.forecasts)
    base = _baseline(models, baseline)
    boot = _check_n_boot(n_boot)
    if boot < n_boot:
        data.notes.append(f"Bootstrap replicates capped at {boot} (asked for {n_boot}).")
    ratios = list(sec.DEFAULT_COST_RATIOS if cost_ratios is None else cost_ratios)
    if not ratios or any(not (0 < float(r) < 1) for r in ratios):
        raise input_error(f"build_report: cost ratios must be in (0, 1), got {ratios!r}",
                          fix="pass e.g. cost_ratios=[0.1, 0.05, 0.02]")
    ctx = sec.Context(data=data, models=models, baseline=base, n_boot=boot, seed=seed,
                      cost_ratios=[float(r) for r in ratios], effectiveness=float(effectiveness))
    parts = [
        ("overview", "Experiment and data", sec.overview(ctx)),
        ("metrics", "Headline metrics with uncertainty", sec.metrics_section(ctx)),
        ("paired", f"Differences against the baseline ({base})", sec.paired_section(ctx)),
        ("discrimination", "ROC and precision-recall curves", sec.discrimination_section(ctx)),
        ("calibration", "Calibration", sec.calibration_section(ctx)),
        ("catch", "Warning lists: onsets caught by the top k", sec.catch_section(ctx)),
        ("thresholds", "Precision and recall at thresholds", sec.threshold_section(ctx)),
        ("value", "Costs and value of acting on warnings", sec.value_section(ctx)),
        ("per-year", "Performance per year", sec.per_year_section(ctx)),
        ("onsets", "Onsets and each model's prior rank", sec.onsets_section(ctx)),
        ("tasks", "Backtest tasks", sec.tasks_section(ctx)),
    ]
    nav = "".join(f'<li><a href="#{key}">{esc(title)}</a></li>' for key, title, _ in parts)
    body = [f'<nav aria-label="Contents"><ol>{nav}</ol></nav>']
    body += [f'<section id="{key}"><h2>{esc(title)}</h2>{html}</section>'
             for key, title, html in parts]
    seconds = time.perf_counter() - start
    notes = "".join(f"<li>{esc(n)}</li>" for n in data.notes)
    body.append(f'<footer><p class="note">Generated by forecast.reports in {seconds:.1f} s '
                f"from {esc(data.run_dir.name)}.</p>"
                + (f'<ul class="note">{notes}</ul>' if notes else "") + "</footer>")
    title = f"Model comparison: {ctx.experiment_name}"
    out = Path(out_path) if out_path is not None else data.run_dir / "report.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page(title, "".join(body), subtitle=ctx.subtitle), encoding="utf-8")
    return out
