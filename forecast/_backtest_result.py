"""The result object at the centre: :func:`backtest` returns a :class:`Backtest`.

A :class:`Backtest` holds one backtest's forecasts, scores, metrics, cost analysis, config,
data digest and provenance (its stored form is :class:`forecast.run.RunArtifacts`, written by
:meth:`Backtest.save` and read by :meth:`Backtest.load`). Every analysis is an accessor that
returns data (a DataFrame or a dataclass); nothing here prints or returns exit codes.

>>> import forecast
>>> bt = forecast.backtest("experiments/synthetic-default.yaml")  # doctest: +SKIP
>>> bt.metrics()  # doctest: +SKIP
>>> bt.risk_list()  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import datetime
import inspect
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from forecast._errors import input_error
from forecast.experiment import ExperimentConfig, experiment_from_dict, load_experiment
from forecast.run import RUN_MARKERS, RunArtifacts, check_output_dir, staged_output

if TYPE_CHECKING:
    from forecast.backtest import BacktestResult, BacktestSummary
    from forecast.decision import CostAnalysis
    from forecast.panel import Panel
    from forecast.risk import CountryProfile, LatestForecast, WhatIf
    from forecast.tracking import TrackedRun

__all__ = ["Backtest", "backtest", "estimator_entry"]

"""Files that mark a folder as an earlier run (a ``save`` folder may then be replaced)."""

Spec = str | Path | Mapping[str, Any] | ExperimentConfig


def _plain(value: Any) -> bool:
    """A value a spec can hold (and a cache key hash): YAML scalars, lists and mappings."""
    if value is None or isinstance(value, bool | int | float | str):
        return True
    if isinstance(value, list | tuple):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    return False


def estimator_entry(estimator: Any, label: str | None = None) -> dict[str, Any]:
    """The spec entry of a scikit-learn classifier instance: model ``sklearn`` with its
    dotted ``class`` and the parameters that differ from the class defaults.

    Each fit builds a fresh estimator from this entry (a clone), so the instance is never
    fitted; the entry is plain YAML, so it is written to the run's ``experiment.yaml`` and
    hashed into the task cache key. ``random_state`` left at its default takes the spec's seed.

    Raises
    ------
    ForecastInputError
        If the estimator has no ``get_params``/``predict_proba``, or a changed parameter is
        not a plain value (e.g. a nested estimator).
    """
    cls = type(estimator)
    if not (hasattr(estimator, "get_params") and hasattr(estimator, "predict_proba")):
        raise input_error(
            f"model {estimator!r} is not a scikit-learn classifier with predict_proba",
            fix="pass a registered model name, a spec entry or a probabilistic classifier",
        )
    defaults = {
        name: p.default
        for name, p in inspect.signature(cls.__init__).parameters.items()
        if p.default is not inspect.Parameter.empty
    }
    params = {
        key: value
        for key, value in estimator.get_params(deep=False).items()
        if key not in defaults or not _same(value, defaults[key])
    }
    odd = sorted(key for key, value in params.items() if not _plain(value))
    if odd:
        raise input_error(
            f"model {cls.__name__}: parameter(s) {odd} are not plain values "
            f"(got {type(params[odd[0]]).__name__})",
            fix="pass an estimator whose parameters are numbers, strings, lists or None, or "
            "register a factory with forecast.register_model and name it",
        )
    return {
        "name": "sklearn",
        "label": label or cls.__name__,
        "params": {"class": _class_path(cls), **params},
    }


def _class_path(cls: type) -> str:
    """``package.module.Class``, by the shortest public module that exports the class
    (``sklearn.ensemble.RandomForestClassifier``, not ``sklearn.ensemble._forest...``)."""
    import importlib

    parts = cls.__module__.split(".")
    for end in range(1, len(parts)):
        module = ".".join(parts[:end])
        if any(p.startswith("_") for p in parts[:end]):
            break
        try:
            if getattr(importlib.import_module(module), cls.__qualname__, None) is cls:
                return f"{module}.{cls.__qualname__}"
        except ImportError:
            continue
    return f"{cls.__module__}.{cls.__qualname__}"


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b) and type(a) is type(b)
    except Exception:  # arrays and the like: not a default
        return False


def _entries(models: Sequence[Any]) -> list[Any]:
    """Spec ``models`` entries from names, mappings and estimator instances (unique labels)."""
    out: list[Any] = []
    taken: set[str] = set()
    for model in models:
        if isinstance(model, str | Mapping):
            entry: Any = dict(model) if isinstance(model, Mapping) else model
        else:
            entry = estimator_entry(model)
            base, n = entry["label"], 1
            while entry["label"] in taken:
                n += 1
                entry["label"] = f"{base}_{n}"
        label = entry if isinstance(entry, str) else entry.get("label", entry.get("name"))
        taken.add(str(label))
        out.append(entry)
    return out


def _config(spec: Spec, models: Sequence[Any] | None) -> ExperimentConfig:
    """The validated config of ``spec`` (path, dict or config), its models replaced by
    ``models`` when given."""
    if isinstance(spec, ExperimentConfig) and models is None:
        return spec
    if isinstance(spec, Mapping) and "models" in spec and models is None:
        models = spec["models"]
    if models is None:
        return load_experiment(spec)  # type: ignore[arg-type]
    if isinstance(spec, ExperimentConfig):
        raw, source = dict(spec.raw), spec.source
    elif isinstance(spec, Mapping):
        raw, source = dict(spec), "<dict>"
    else:
        config = load_experiment(spec)
        raw, source = dict(config.raw), config.source
    raw["models"] = _entries(list(models))
    return experiment_from_dict(raw, source=source)


def backtest(
    spec: Spec,
    *,
    models: Sequence[Any] | None = None,
    panel: Panel | None = None,
    n_jobs: int = 1,
    backend: str = "loky",
    scheduler: str | None = None,
    cache_dir: Path | str | None = None,
    progress: bool = False,
) -> Backtest:
    """Backtest an experiment on a rolling origin and score it: the :class:`Backtest`.

    Parameters
    ----------
    spec : path, dict or ExperimentConfig
        The experiment: a YAML file (``experiments/*.yaml``), the same keys as a dict, or a
        config from :func:`forecast.load_experiment`.
    models : sequence, optional
        Replaces the spec's models: registered names (``"logit"``), spec entries
        (``{"name": "xgboost", "params": {...}}``) or scikit-learn classifier instances
        (see :func:`estimator_entry`; labelled by their class name). Instances may also
        stand in a dict spec's ``models``.
    panel : Panel, optional
        The data; default the spec's dataset or feature set.
    n_jobs, backend, scheduler : optional
        Where the fits run (see :func:`forecast.backtest.run_backtest`); results do not
        depend on them.
    cache_dir : path, optional
        Task cache (None = no cache); re-runs with the same data and models are instant.
    progress : bool
        Show a progress bar while fitting.

    Returns
    -------
    Backtest

    Raises
    ------
    ForecastInputError
        On an invalid spec (before any data is read) or when every task failed.
    """
    from forecast.backtest import ORACLE, run_backtest, summarize
    from forecast.decision import cost_analysis

    config = _config(spec, models)
    start = time.perf_counter()
    result = run_backtest(
        config,
        panel=panel,
        n_jobs=n_jobs,
        backend=backend,
        scheduler=scheduler,
        cache_dir=None if cache_dir is None else Path(cache_dir),
        progress=progress,
    )
    seconds = time.perf_counter() - start
    if not (result.forecasts["model"] != ORACLE).any():
        first = result.failed.iloc[0] if len(result.failed) else None
        raise input_error(
            "every task failed"
            + (
                f" (first: {first['model']} at origin {first['origin']}: {first['error']})"
                if first is not None
                else ""
            ),
            source=config.source,
            fix="fix the model or data named in the error (a training "
            "window without onsets cannot be fitted); nothing in --out was changed",
        )
    summary = summarize(result)
    analysis = None
    if summary.note is None:  # nothing scorable is a result: NaN metrics and the reason
        analysis = cost_analysis(
            result.forecasts,
            config.costs,
            horizon=config.horizon,
            data_end=int(result.annual_onsets["year"].max()),
        )
    artifacts = _artifacts(result, summary, None if analysis is None else analysis.table())
    return Backtest(
        config,
        artifacts,
        seconds=seconds,
        _result=result,
        _summary=summary,
        _analysis=analysis,
        _panel=panel,
        _options={"n_jobs": n_jobs, "cache_dir": cache_dir},
    )


def _artifacts(result: BacktestResult, summary: Any, costs: pd.DataFrame | None) -> RunArtifacts:
    """The run folder's tables of a finished backtest (see :class:`forecast.run.RunArtifacts`)."""
    import yaml

    from forecast.models import compute_record
    from forecast.panel import COUNTRY

    config = result.config
    provenance = {
        **({"note": summary.note} if summary.note else {}),
        "experiment": config.name,
        "spec": config.source,
        "dataset": result.panel_name,
        "dataset_sha256": result.dataset_digest,
        "code_version": result.forecasts.attrs.get("code_version", ""),
        "outcome": config.outcome,
        "horizon": config.horizon,
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }
    if result.unit_noun != COUNTRY:  # the default is not written: older runs read the same
        provenance["unit_noun"] = result.unit_noun.as_dict()
    if result.execution is not None:  # where the fits ran and what was shipped to run them
        provenance["execution"] = dataclasses.asdict(result.execution)
    if compute := compute_record(config.models):  # device and threads of the boosting models
        provenance["compute"] = compute
    return RunArtifacts(
        forecasts=result.forecasts,
        scores=result.scores,
        onsets=result.annual_onsets,
        metrics=summary.pooled,
        ewp_metrics=summary.ewp,
        costs=costs,
        spec_text=yaml.safe_dump(config.raw, sort_keys=False),
        provenance=provenance,
    )


def _data(run: Any) -> RunArtifacts:
    """The stored form of a :class:`Backtest`, a :class:`RunArtifacts` or a run folder."""
    if isinstance(run, Backtest):
        return run.artifacts
    return run if isinstance(run, RunArtifacts) else RunArtifacts.read(run)


@dataclass(eq=False)
class Backtest:
    """One scored backtest: made by :func:`backtest`, stored by :meth:`save`, read by
    :meth:`load`.

    Attributes
    ----------
    config : ExperimentConfig
        The validated experiment.
    artifacts : RunArtifacts
        The stored form: forecasts, scores, onsets, metrics, cost table, spec, provenance.
    seconds : float
        Wall time of the fits (0 for a loaded run).
    """

    config: ExperimentConfig
    artifacts: RunArtifacts
    seconds: float = 0.0
    _result: BacktestResult | None = field(default=None, repr=False)
    _summary: BacktestSummary | None = field(default=None, repr=False)
    _analysis: CostAnalysis | None = field(default=None, repr=False)
    _panel: Panel | None = field(default=None, repr=False)
    _options: dict[str, Any] = field(default_factory=dict, repr=False)
    _latest: dict[tuple[str, int | None], LatestForecast] = field(default_factory=dict, repr=False)

    def __repr__(self) -> str:
        origins = self.forecasts["origin"].nunique() if "origin" in self.forecasts else 0
        models = [m.label for m in self.config.models]
        where = f", run_dir={str(self.run_dir)!r}" if self.run_dir is not None else ""
        return f"Backtest({self.config.name!r}, {origins} origins, models={models}{where})"

    # -- what the run holds ------------------------------------------------------------------
    @property
    def forecasts(self) -> pd.DataFrame:
        """One row per (unit, year, model) (the forecast-table schema, ``forecasts.parquet``)."""
        return self.artifacts.forecasts

    @property
    def scores(self) -> pd.DataFrame:
        """One row per (origin, model): fit time, rows, status, error, warnings, AUC, Brier."""
        return self.artifacts.scores if self.artifacts.scores is not None else pd.DataFrame()

    @property
    def failed(self) -> pd.DataFrame:
        """The tasks (rows of :attr:`scores`) that failed; empty when all ran."""
        scores = self.scores
        return scores[scores["status"] != "ok"] if "status" in scores else scores

    @property
    def provenance(self) -> dict[str, Any]:
        """Experiment, spec, dataset and its sha256, code version, horizon, time, execution."""
        return dict(self.artifacts.provenance or {})

    @property
    def dataset_digest(self) -> str:
        """sha256 of the panel the backtest ran on."""
        return str(self.provenance.get("dataset_sha256", ""))

    @property
    def note(self) -> str | None:
        """Why nothing could be scored (then every metric is NaN), else None."""
        return self.provenance.get("note")

    @property
    def run_dir(self) -> Path | None:
        """The folder the run was saved to or loaded from, else None."""
        return self.artifacts.run_dir

    @property
    def result(self) -> BacktestResult:
        """The engine's :class:`forecast.backtest.BacktestResult` (rebuilt for a loaded run)."""
        if self._result is None:
            from forecast.backtest import BacktestResult

            forecasts = self.forecasts.copy()
            forecasts.attrs["code_version"] = self.provenance.get("code_version", "")
            self._result = BacktestResult(
                self.config,
                str(self.provenance.get("dataset", self.config.dataset)),
                forecasts,
                self.scores,
                self.dataset_digest,
                self.artifacts.onsets if self.artifacts.onsets is not None else pd.DataFrame(),
                None,
                self.artifacts.unit_noun,
            )
        return self._result

    @property
    def summary(self) -> BacktestSummary:
        """Pooled, per-year, EWP, curve and reliability tables (recomputed for a loaded run)."""
        if self._summary is None:
            from forecast.backtest import summarize

            self._summary = summarize(self.result)
        return self._summary

    @property
    def panel(self) -> Panel:
        """The data (loaded on first use for a run that was not given one; checked against
        the run's dataset digest)."""
        if self._panel is None:
            from forecast.backtest import dataset_digest, load_panel

            panel = load_panel(self.config)
            digest = dataset_digest(panel.frame)
            if self.dataset_digest and digest != self.dataset_digest:
                raise input_error(
                    f"the data of {self.config.dataset!r} changed since the backtest "
                    f"(sha256 {digest[:12]}, run {self.dataset_digest[:12]})",
                    source=str(self.run_dir or self.config.source),
                    fix="re-run the backtest on the current data",
                )
            self._panel = panel
        return self._panel

    # -- analyses ----------------------------------------------------------------------------
    def metrics(self) -> pd.DataFrame:
        """Pooled metrics, one row per model (``metrics.csv``): AUC, AP, Brier, BSS, O/E,
        calibration, ECE, top-k recall/precision, counts, gaps to the oracle."""
        metrics = self.artifacts.metrics
        if metrics is None:
            return pd.DataFrame(columns=["model"])
        return metrics.infer_objects()  # a copy; all-NaN columns are float, as read back

    def costs(
        self,
        *,
        capacity: int | None | str = "spec",
        cost_ratios: Sequence[float] | None = None,
        effectiveness: float | None = None,
    ) -> CostAnalysis:
        """The cost of acting on each model's warnings (:func:`forecast.decision.cost_analysis`).

        Without arguments, the run's own analysis (its ``table()`` is ``costs.csv``);
        ``capacity`` (warnings per year, None = no limit), ``cost_ratios`` or
        ``effectiveness`` redo it with those assumptions instead of the spec's.

        Raises
        ------
        ForecastInputError
            When nothing could be scored.
        """
        from forecast.decision import cost_analysis

        if self.note is not None:
            raise input_error(
                f"no cost analysis: nothing scored ({self.note})",
                fix="backtest origins whose outcome windows close within the data",
            )
        changes: dict[str, Any] = {}
        if capacity != "spec":
            changes["capacity"] = capacity
        if cost_ratios is not None:
            changes["cost_ratios"] = tuple(float(r) for r in cost_ratios)
        if effectiveness is not None:
            changes["effectiveness"] = float(effectiveness)
        if not changes and self._analysis is not None:
            return self._analysis
        analysis = cost_analysis(
            self.forecasts,
            dataclasses.replace(self.config.costs, **changes),
            horizon=self.config.horizon,
            data_end=self.artifacts.data_end,
        )
        if not changes:
            self._analysis = analysis
        return analysis

    def choice(self) -> Any:
        """The recommended model and why (:func:`forecast.choice.recommend_model` on this
        run's metrics and cost table)."""
        from forecast.choice import recommend_model

        return recommend_model(self.config, metrics=self.metrics(), costs=self.artifacts.costs)

    def compare(
        self,
        *others: Backtest | RunArtifacts | str | Path,
        labels: Sequence[str] | None = None,
        models: Sequence[str] | None = None,
        n_boot: int = 300,
        seed: int = 0,
    ) -> pd.DataFrame:
        """Paired differences against this run on the runs' common rows (the table of
        ``forecast compare``; :func:`forecast.reports.compare_table`)."""
        from forecast.reports import compare_table

        runs = [self.artifacts, *(_data(other) for other in others)]
        return compare_table(runs, labels=labels, models=models, n_boot=n_boot, seed=seed)

    def _latest_fit(self, model: str | None, year: int | None) -> LatestForecast:
        from forecast.risk import fit_latest

        label = model or self.config.models[0].label
        if (label, year) not in self._latest:
            self._latest[(label, year)] = fit_latest(
                self.config, model_label=label, panel=self.panel, year=year
            )
        return self._latest[(label, year)]

    def risk_list(
        self, year: int | None = None, model: str | None = None, *, ledger: str | Path | None = None
    ) -> pd.DataFrame:
        """The risk list for data year ``year`` (default the last) by ``model`` (default the
        spec's first): one row per unit, ranked, with tiers whose meaning comes from this
        backtest's forecasts of the model, drivers and changes in words
        (:func:`forecast.risk.build_risklist`). With ``ledger`` (a folder, e.g.
        :func:`forecast.ledger.ledger_dir`) the list is recorded there as an edition."""
        from forecast.risk import build_risklist, tier_meanings, tier_rule_from_config

        latest = self._latest_fit(model, year)
        rule = tier_rule_from_config(self.config)
        past = self.forecasts[self.forecasts["model"] == latest.spec.label]
        meanings = tier_meanings(
            past,
            rule,
            horizon=self.config.horizon,
            known_by=latest.year,
            unit_noun=self.panel.unit_noun,
        )
        risk = build_risklist(latest, meanings=meanings, rule=rule)
        if ledger is not None:
            from forecast.ledger import record_risklist

            record_risklist(ledger, latest, risk)
        return risk

    def profile(
        self, unit: str | int, *, model: str | None = None, years: int = 20
    ) -> CountryProfile:
        """``unit``'s risk over the last ``years`` lists, its drivers and last change
        (:func:`forecast.risk.country_profile`)."""
        from forecast.risk import country_profile

        return country_profile(
            self.config,
            unit=unit,
            model_label=model,
            panel=self.panel,
            years=years,
            latest=self._latest_fit(model, None),
            cache_dir=self._options.get("cache_dir"),
            n_jobs=int(self._options.get("n_jobs", 1)),
        )

    def whatif(
        self, unit: str | int, changes: Mapping[str, float], *, model: str | None = None
    ) -> WhatIf:
        """``unit``'s risk on the latest list if the indicators in ``changes`` took those
        values, and each trigger's effect alone (:func:`forecast.risk.what_if`)."""
        from forecast.risk import what_if

        return what_if(self.config, unit=unit, values=changes, latest=self._latest_fit(model, None))

    # -- storage, report, tracking -----------------------------------------------------------
    def save(self, folder: str | Path, *, report: bool = True, figures: bool | None = None) -> Path:
        """Write the run folder as one transaction; return it.

        The tables (:class:`forecast.run.RunArtifacts`), the cost figures
        (:data:`forecast.run.FIGURES`; by default only with the report) and ``report.html``
        are written into a staging folder that replaces ``folder`` only when complete.
        ``folder`` must be empty, new or an earlier run.
        """
        out = check_output_dir(folder, markers=RUN_MARKERS)
        draw = report if figures is None else figures
        analysis = None if self.note is not None else self.costs()
        with staged_output(out, markers=RUN_MARKERS) as stage:
            self.artifacts.write(stage)
            if analysis is not None and draw:
                # the PNGs go with the report and into MLflow; a run folder without them
                # still renders a full report later (`forecast report` draws its own)
                analysis.figures(stage)
            if report:
                self.report(stage / "report.html")
        self.artifacts.run_dir = out
        return out

    @classmethod
    def load(cls, folder: str | Path) -> Backtest:
        """Read a run folder written by :meth:`save` (or ``forecast backtest --out``)."""
        artifacts = RunArtifacts.read(folder)
        source = str(Path(folder) / "experiment.yaml")
        if not artifacts.spec:
            raise input_error(
                "the run folder has no experiment spec",
                source=source,
                fix="load a folder written by forecast.backtest(...).save or forecast backtest",
            )
        return cls(experiment_from_dict(artifacts.spec, source=source), artifacts)

    def report(self, path: str | Path | None = None, **options: Any) -> Path:
        """Render the HTML report of this run (:func:`forecast.reports.build_report`; it
        renders the run's tables, never recomputes them); default ``report.html`` in the
        run folder. ``options`` go to ``build_report`` (``baseline``, ``n_boot``, ...)."""
        from forecast.reports import build_report

        if path is None and self.run_dir is None:
            raise input_error(
                "Backtest.report: the run is not saved, so it has no report.html",
                fix="pass a path, e.g. bt.report('report.html'), or bt.save(folder) first",
            )
        options.setdefault("baseline", self.config.baseline)
        return build_report(self.artifacts, path, **options)

    def log(self, tracker: Any = None) -> TrackedRun:
        """Track the run (parent run, one nested run per model, the cost analysis) with
        ``tracker`` (default an MLflow store: the spec's ``tracking.uri``, else
        ``$MLFLOW_TRACKING_URI``, else ``sqlite:///mlflow.db``); return where: the parent
        run id and the store. The saved folder's files are attached when the run was saved.

        Raises
        ------
        forecast.tracking.TrackingError
            The store failed: one line naming it and ``forecast track --run-dir``, which logs
            the saved folder later."""
        from forecast.tracking import TrackedRun

        if tracker is None:
            from forecast.tracking import MlflowTracker

            tracker = MlflowTracker.for_job(None, self.config.tracking_uri)
            tracker.check()
        from forecast.tracking import log_run

        analysis = self.costs() if self.note is None else None
        run_id = log_run(tracker, self.result, self.summary, self.artifacts, analysis)
        return TrackedRun(str(run_id), str(tracker.uri))
