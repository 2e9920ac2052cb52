"""One backtest run's files: the run folder layout, written atomically and read back."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from forecast._errors import input_error
from forecast.panel import COUNTRY, UnitNoun
from forecast.run._schema import check_forecasts, check_horizon

__all__ = ["FIGURES", "RUN_FILES", "RUN_MARKERS", "RunArtifacts", "enclosing_run", "is_run_folder"]

RUN_FILES: dict[str, str] = {
    "forecasts": "forecasts.parquet",
    "scores": "scores.csv",
    "onsets": "onsets.parquet",
    "metrics": "metrics.csv",
    "ewp_metrics": "ewp_metrics.csv",
    "costs": "costs.csv",
    "spec_text": "experiment.yaml",
    "provenance": "provenance.json",
}
"""Attribute -> file name of a run folder; only ``forecasts.parquet`` is required."""

RUN_MARKERS: tuple[str, ...] = ("forecasts.parquet", "provenance.json")
"""Files that mark a folder as a run (``costs.csv`` is in every run but also a cost output)."""

REPORT = "report.html"
FIGURES = ("value_curves.png", "decision_curves.png")
"""Cost figures written beside ``costs.csv`` when a report or a tracker uses them; no reader
needs them (the report draws its own from ``costs.csv``)."""


def is_run_folder(path: Path | str) -> bool:
    """Whether ``path`` is a run folder (it holds one of :data:`RUN_MARKERS`)."""
    path = Path(path)
    return path.is_dir() and any((path / name).is_file() for name in RUN_MARKERS)


def enclosing_run(path: Path | str) -> Path | None:
    """The run folder that ``path`` is, or lies inside of; None when there is none."""
    path = Path(path).absolute()
    return next((p for p in (path, *path.parents) if is_run_folder(p)), None)


def _reader(name: str):
    if name.endswith(".parquet"):
        return pd.read_parquet
    if name.endswith(".csv"):
        return pd.read_csv
    if name.endswith(".json"):
        return lambda p: json.loads(Path(p).read_text(encoding="utf-8"))
    return lambda p: Path(p).read_text(encoding="utf-8")


_FIX = "re-run the backtest into this folder or delete the broken file"


def _read(path: Path) -> Any:
    try:
        value = _reader(path.name)(path)
        if path.name.endswith(".yaml"):
            import yaml

            loaded = yaml.safe_load(value)
            if not isinstance(loaded, dict | None):
                raise ValueError(f"a mapping of keys is needed, got {type(loaded).__name__}")
    except Exception as error:  # a broken file must name itself, in one line
        first = str(error).splitlines()[0] if str(error) else ""
        raise input_error(
            f"cannot read {path.name} ({type(error).__name__}: {first[:160]})",
            source=str(path),
            fix=_FIX,
        ) from None
    if path.name.endswith(".json") and not isinstance(value, dict):
        raise input_error(
            f"{path.name} must hold a JSON object, got a {type(value).__name__}",
            source=str(path),
            fix=_FIX,
        )
    return value


@dataclass
class RunArtifacts:
    """The files of one backtest run, as tables; the one owner of the run folder layout.

    ``forecasts`` (required; the forecast-table schema of :func:`forecast.run.check_forecasts`),
    ``scores`` (per origin x model), ``onsets`` (per unit-year onsets of the data), ``metrics``
    (pooled per model), ``ewp_metrics``, ``costs`` (the cost analysis table of
    :class:`forecast.decision.CostAnalysis`), ``spec_text`` (the experiment YAML) and
    ``provenance``; optional ones are None when absent. :meth:`write` writes them (plus the
    report and cost figures, by the caller) into a folder; :meth:`read` reads one back.
    """

    forecasts: pd.DataFrame
    scores: pd.DataFrame | None = None
    onsets: pd.DataFrame | None = None
    metrics: pd.DataFrame | None = None
    ewp_metrics: pd.DataFrame | None = None
    costs: pd.DataFrame | None = None
    spec_text: str | None = None
    provenance: dict[str, Any] | None = None
    run_dir: Path | None = None
    notes: list[str] = field(default_factory=list)

    # -- derived --------------------------------------------------------------------------
    @property
    def spec(self) -> dict[str, Any]:
        """The experiment spec as a dict (``{}`` when the run has none)."""
        import yaml

        if not self.spec_text:
            return {}
        loaded = yaml.safe_load(self.spec_text)
        return loaded if isinstance(loaded, dict) else {}

    @property
    def name(self) -> str:
        """The experiment's name (provenance, spec, else the folder name)."""
        name = (self.provenance or {}).get("experiment") or self.spec.get("name")
        return str(name or (self.run_dir.name if self.run_dir else "backtest"))

    @property
    def horizon(self) -> int | None:
        """Years until an outcome is known, the one answer for every reader of the run.

        The provenance's ``horizon`` (else the spec's), checked against every forecast row's
        ``horizon`` (:func:`forecast.run.check_horizon`); else the rows' single horizon; None
        when nothing records one.

        Raises
        ------
        ForecastInputError
            One line when the provenance (or spec) and the forecasts disagree.
        """
        stated, by = (self.provenance or {}).get("horizon"), RUN_FILES["provenance"]
        if stated is None:
            stated, by = self.spec.get("horizon"), RUN_FILES["spec_text"]
        folder = self.run_dir if self.run_dir is not None else Path(".")
        return check_horizon(
            self.forecasts,
            stated,
            caller="run",
            source=str(folder / RUN_FILES["forecasts"]),
            stated_by=f"{by} horizon",
        )

    @property
    def outcome(self) -> str | None:
        """The outcome column the run forecasts (e.g. ``mk_onset``), the one answer for every
        reader: the provenance's ``outcome``, which must agree with the spec's; None when
        neither records one (runs written before provenance kept it read the spec's).

        Raises
        ------
        ForecastInputError
            One line when the provenance and the spec name different outcomes.
        """
        stated, spec = (self.provenance or {}).get("outcome"), self.spec.get("outcome")
        if stated is not None and spec is not None and str(stated) != str(spec):
            folder = self.run_dir if self.run_dir is not None else Path(".")
            raise input_error(
                f"{RUN_FILES['provenance']} says outcome {stated!r}, "
                f"{RUN_FILES['spec_text']} says {spec!r}",
                source=str(folder / RUN_FILES["provenance"]),
                column="outcome",
                fix="re-run the backtest rather than editing its files",
            )
        found = stated if stated is not None else spec
        return None if found is None else str(found)

    @property
    def unit_noun(self) -> UnitNoun:
        """What the run's units are called: provenance ``unit_noun``, else "country"."""
        value = (self.provenance or {}).get("unit_noun")
        if value is None:
            return COUNTRY
        where = f"{self.run_dir / 'provenance.json'}" if self.run_dir else "provenance"
        return UnitNoun.parse(value, source=where)

    @property
    def data_end(self) -> int | None:
        """Last year of data (the latest year of ``onsets``), None when unknown."""
        if self.onsets is None or not len(self.onsets) or "year" not in self.onsets:
            return None
        return int(self.onsets["year"].max())

    @property
    def report_path(self) -> Path | None:
        return self.run_dir / REPORT if self.run_dir is not None else None

    # -- files ----------------------------------------------------------------------------
    def write(self, folder: Path | str) -> dict[str, Path]:
        """Write every present table into ``folder`` (use inside
        :func:`forecast.run.staged_output` for an all-or-nothing folder); return the paths."""
        import yaml

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        paths: dict[str, Path] = {}
        for attribute, name in RUN_FILES.items():
            value = getattr(self, attribute)
            if value is None:
                continue
            path = folder / name
            if isinstance(value, pd.DataFrame):
                if name.endswith(".csv"):
                    value.to_csv(path, index=False)
                else:
                    value.to_parquet(path, index=False)
            elif name.endswith(".json"):
                path.write_text(json.dumps(value, indent=2, default=str), encoding="utf-8")
            elif name.endswith(".yaml") and not isinstance(value, str):
                path.write_text(yaml.safe_dump(value, sort_keys=False), encoding="utf-8")
            else:
                path.write_text(str(value), encoding="utf-8")
            paths[attribute] = path
        self.run_dir = folder
        return paths

    @classmethod
    def read(cls, run_dir: Path | str) -> RunArtifacts:
        """Read a run folder (``forecasts.parquet`` required, the rest optional).

        Raises
        ------
        ForecastInputError
            If the folder or ``forecasts.parquet`` is missing, the forecasts break the
            schema, an optional file exists but cannot be read (``experiment.yaml`` not a
            YAML mapping, ``provenance.json`` not a JSON object), or the recorded horizon
            disagrees with the forecasts' (:attr:`horizon`).
        """
        run_dir = Path(run_dir)
        if not run_dir.is_dir():
            raise input_error(
                f"run folder {str(run_dir)!r} does not exist",
                fix="pass the --out folder of `forecast backtest` as --run-dir",
            )
        path = run_dir / RUN_FILES["forecasts"]
        if not path.is_file():
            raise input_error(
                f"run folder {str(run_dir)!r} has no {path.name} ({path.name} not found)",
                fix="pass the --out folder of a finished `forecast backtest`",
            )
        forecasts = check_forecasts(_read(path), caller="forecasts.parquet", source=str(path))
        forecasts["unit"] = forecasts["unit"].astype(str)
        values: dict[str, Any] = {}
        for attribute, name in RUN_FILES.items():
            if attribute != "forecasts" and (run_dir / name).is_file():
                values[attribute] = _read(run_dir / name)
        onsets = values.get("onsets")
        if onsets is not None:
            values["onsets"] = (
                onsets.assign(unit=onsets["unit"].astype(str))
                if {"unit", "year", "onset"} <= set(onsets.columns)
                else None
            )
        run = cls(forecasts=forecasts, run_dir=run_dir, **values)
        run.horizon  # noqa: B018 -- provenance and forecasts must agree for every reader
        run.outcome  # noqa: B018 -- and provenance and spec on what was forecast
        return run

    def result(self) -> Any:
        """The finished backtest this run folder holds, to log it later
        (:func:`forecast.tracking.log_run`): the spec re-validated from ``experiment.yaml``,
        the forecasts, scores and onsets, the dataset and code version of the provenance.

        Raises
        ------
        ForecastInputError
            If the folder lacks a file the backtest wrote (one line naming them).
        """
        from forecast.backtest import BacktestResult
        from forecast.experiment import load_experiment

        needed = ("scores", "onsets", "spec_text", "provenance")
        missing = [RUN_FILES[name] for name in needed if getattr(self, name) is None]
        if missing or self.run_dir is None:
            raise input_error(
                f"run folder {str(self.run_dir)!r} lacks {', '.join(missing) or 'a folder'}",
                fix="pass the --out folder of a finished `forecast backtest`",
            )
        provenance = self.provenance or {}
        forecasts = self.forecasts.copy()
        forecasts.attrs["code_version"] = str(provenance.get("code_version", ""))
        return BacktestResult(
            config=load_experiment(self.run_dir / RUN_FILES["spec_text"]),
            panel_name=str(provenance.get("dataset", "")),
            forecasts=forecasts,
            scores=self.scores,
            dataset_digest=str(provenance.get("dataset_sha256", "")),
            annual_onsets=self.onsets,
            unit_noun=self.unit_noun,
        )

    @classmethod
    def fetch(cls, run_id: str, tracker: Any, dst: Path | str) -> RunArtifacts:
        """Download a tracked run's files into ``dst`` with ``tracker.fetch_run`` and read
        them (see :class:`forecast.tracking.Tracker`)."""
        return cls.read(tracker.fetch_run(run_id, Path(dst), names=tuple(RUN_FILES.values())))
