"""The country-year panel: one validated type that every other part consumes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from forecast._errors import input_error

__all__ = [
    "COUNTRY",
    "FIRST_YEAR",
    "LAST_YEAR",
    "FeatureKind",
    "Panel",
    "UnitNoun",
    "calendar_years",
    "validate_panel",
    "year_gaps",
]

FeatureKind = Literal["structural", "trigger", "mitigating", "history", "other"]

FIRST_YEAR, LAST_YEAR = 1, 9999
"""The years a panel may hold (a typo such as 20024 or 1e9 is refused, not backtested)."""


@dataclass(frozen=True)
class UnitNoun:
    """What a panel's units are called in policy-facing text ("country", "cell", ...).

    A feature set declares it as ``unit_noun: cell`` (plural by adding "s") or
    ``unit_noun: {singular: district, plural: districts}``; the default is
    :data:`COUNTRY`.

    Attributes
    ----------
    singular, plural : str
        Lower-case words, e.g. ``"country"`` and ``"countries"``.
    """

    singular: str
    plural: str

    @classmethod
    def parse(cls, value: object, *, source: str) -> UnitNoun:
        """A noun from a spec or provenance value: a word, ``{singular, plural}`` or a
        :class:`UnitNoun`; errors name ``source`` (e.g. ``path:line``)."""
        if isinstance(value, UnitNoun):
            return value
        if isinstance(value, str):
            value = {"singular": value}
        if isinstance(value, dict) and set(value) <= {"singular", "plural"}:
            singular = value.get("singular")
            plural = value.get("plural", f"{singular}s" if isinstance(singular, str) else None)
            words = (singular, plural)
            if all(isinstance(w, str) and w.strip() and "\n" not in w for w in words):
                return cls(str(singular).strip(), str(plural).strip())
        raise input_error(
            f"unit_noun must be a word or {{singular: ..., plural: ...}}, got {value!r}",
            source=source,
            fix="write e.g. unit_noun: cell, or unit_noun: {singular: district, plural: districts}",
        )

    @property
    def title(self) -> str:
        """The singular with a capital, for a column header ("Cell")."""
        return self.singular[:1].upper() + self.singular[1:]

    @property
    def years(self) -> str:
        """The panel's rows in words ("country-years", "cell-years")."""
        return f"{self.singular}-years"

    def as_dict(self) -> dict[str, str]:
        """``{singular, plural}``, as written to a run's provenance."""
        return {"singular": self.singular, "plural": self.plural}


COUNTRY = UnitNoun("country", "countries")
"""The default unit noun: panels of states."""


def calendar_years(values: pd.Series) -> np.ndarray:
    """True where a value is a whole year in ``FIRST_YEAR..LAST_YEAR`` (numbers or text)."""
    years = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        return (years == np.round(years)) & (years >= FIRST_YEAR) & (years <= LAST_YEAR)


def _offending(frame: pd.DataFrame, mask: np.ndarray, unit: str, year: str) -> list[str]:
    rows = frame.loc[mask, [unit, year]].head(5)
    return [f"{u}/{y}" for u, y in zip(rows[unit], rows[year])] + (
        [f"... {int(mask.sum()) - 5} more"] if mask.sum() > 5 else []
    )


def validate_panel(
    frame: pd.DataFrame,
    *,
    unit: str,
    year: str,
    features: list[str],
    outcomes: list[str],
    source: str = "panel",
) -> pd.DataFrame:
    """Check a country-year frame and return a clean copy.

    Constraints: the key columns exist; years are integers (int dtype, or floats/strings that
    are whole numbers are refused so that a silent conversion never hides a typo) in
    ``FIRST_YEAR..LAST_YEAR``; ``(unit, year)`` is unique; there is a feature, and feature
    columns are numeric and finite (or missing); outcome columns hold only 0, 1 or missing.
    Every violation raises :class:`~forecast.ForecastInputError` with one line naming the
    source, column, first offending rows (as ``unit/year``) and the fix.

    The copy is sorted by (unit, year) with a fresh index; years become int64 and outcomes
    float64. Features keep their numeric dtype: float32 stays float32 (a lean panel stays
    lean), ints, bools and float64 are left as they are. A categorical unit column stays
    categorical, its categories sorted and limited to the units present, so that the sort
    order is that of the unit ids. The copy shares memory with ``frame`` until either is
    written (pandas copy-on-write), and a frame already in order is not sorted again.
    """
    if frame.empty:
        raise input_error("the panel has no rows", source=source, fix="check the file is not empty")
    if not features:
        raise input_error(
            "the panel has no feature columns",
            source=source,
            fix="declare at least one feature (an indicator with role: feature)",
        )
    missing = [c for c in (unit, year, *features, *outcomes) if c not in frame.columns]
    if missing:
        raise input_error(
            f"missing column(s) {missing}",
            source=source,
            fix=f"add them or correct the names (found: {', '.join(map(str, frame.columns[:15]))})",
        )
    if not pd.api.types.is_integer_dtype(frame[year]):
        sample = frame[year].head(3).tolist()
        raise input_error(
            f"years must be integers, got dtype {frame[year].dtype} (e.g. {sample})",
            source=source,
            column=year,
            fix="store years as whole numbers such as 1994",
        )
    outside = ~calendar_years(frame[year])
    if outside.any():
        first = frame.loc[outside, year].tolist()[0]
        raise input_error(
            f"years must be in {FIRST_YEAR}..{LAST_YEAR}, got {first!r}",
            source=source,
            column=year,
            rows=_offending(frame, outside, unit, year),
            fix="correct the years (e.g. 20024 for 2024)",
        )
    frame = _sorted_categories(frame, unit)
    if frame[unit].isna().any():
        rows = frame.index[frame[unit].isna()].tolist()
        raise input_error(
            "unit identifiers are missing",
            source=source,
            column=unit,
            rows=rows,
            fix="fill or drop rows without a unit",
        )
    in_order = _in_key_order(frame[unit], frame[year])
    dup = (
        np.zeros(len(frame), dtype=bool)
        if in_order
        else frame.duplicated([unit, year], keep=False).to_numpy()
    )
    if dup.any():
        raise input_error(
            "duplicate (unit, year) rows",
            source=source,
            column=f"{unit}, {year}",
            rows=_offending(frame, dup, unit, year),
            fix="keep one row per unit and year",
        )
    for column in features:
        dtype = frame[column].dtype
        if not (pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)):
            bad = pd.to_numeric(frame[column], errors="coerce").isna() & frame[column].notna()
            raise input_error(
                f"feature values must be numeric, got dtype {frame[column].dtype}",
                source=source,
                column=column,
                rows=_offending(frame, bad.to_numpy(), unit, year),
                fix="recode text values as numbers or declare the column categorical (one-hot)",
            )
        if pd.api.types.is_integer_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
            continue  # cannot hold infinity
        values = frame[column].to_numpy()
        infinite = np.isinf(values if values.dtype.kind == "f" else values.astype(float))
        if infinite.any():
            raise input_error(
                "feature values must be finite numbers or missing, got infinity",
                source=source,
                column=column,
                rows=_offending(frame, infinite, unit, year),
                fix="leave unknown values empty (a log of 0 needs an offset: log2: {offset: 1})",
            )
    for column in outcomes:
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = (values.isna() & frame[column].notna()) | ~(values.isin([0, 1]) | values.isna())
        if bad.any():
            raise input_error(
                "outcome values must be 0, 1 or missing",
                source=source,
                column=column,
                rows=_offending(frame, bad.to_numpy(), unit, year),
                fix="recode the outcome as 0/1 and leave unknown outcomes empty",
            )
    clean = frame.copy(deep=False)  # copy-on-write: no data is copied until written
    clean[year] = clean[year].astype("int64")
    for column in outcomes:
        clean[column] = pd.to_numeric(clean[column]).astype("float64")
    if not in_order:
        clean = clean.sort_values([unit, year], kind="stable")
    return clean.reset_index(drop=True)


def _sorted_categories(frame: pd.DataFrame, unit: str) -> pd.DataFrame:
    """A categorical ``unit`` with its used categories in sorted order (a lazy copy)."""
    values = frame[unit]
    if not isinstance(values.dtype, pd.CategoricalDtype):
        return frame
    categories = values.cat.categories
    used = np.zeros(len(categories), dtype=bool)
    codes = values.cat.codes.to_numpy()
    used[codes[codes >= 0]] = True
    if used.all() and categories.is_monotonic_increasing and not values.cat.ordered:
        return frame
    kept = categories[used].sort_values()
    frame = frame.copy(deep=False)  # copy-on-write: the caller's frame is left alone
    frame[unit] = values.cat.set_categories(kept, ordered=False)
    return frame


def _in_key_order(units: pd.Series, years: pd.Series) -> bool:
    """True when the rows are strictly increasing in (unit, year): sorted, no duplicates."""
    if len(units) < 2:
        return True
    if isinstance(units.dtype, pd.CategoricalDtype):  # categories sorted (above)
        u = units.cat.codes.to_numpy()
    elif pd.api.types.is_numeric_dtype(units.dtype) or pd.api.types.is_string_dtype(units.dtype):
        u = units.to_numpy()
    else:
        return False  # mixed objects: let sort_values order them
    y = years.to_numpy()
    try:
        after, same = u[1:] > u[:-1], u[1:] == u[:-1]
    except TypeError:  # values that do not compare (e.g. ints and text)
        return False
    return bool(np.all(after | (same & (y[1:] > y[:-1]))))


def year_gaps(frame: pd.DataFrame, *, unit: str = "unit", year: str = "year") -> pd.DataFrame:
    """Per-unit gaps: units whose years are not consecutive, with the missing years.

    Returns a DataFrame with columns ``unit``, ``first_year``, ``last_year``, ``n_missing``
    and ``missing_years`` (only units with at least one gap).
    """
    span = frame.groupby(unit, sort=True, observed=True)[year].agg(["min", "max", "count"])
    gappy = span.index[(span["max"] - span["min"] + 1).to_numpy() != span["count"].to_numpy()]
    rows = frame[frame[unit].isin(gappy)]
    records = []
    for name, years in rows.groupby(unit, sort=True, observed=True)[year]:
        present = np.sort(years.to_numpy())
        expected = np.arange(present[0], present[-1] + 1)
        absent = np.setdiff1d(expected, present)
        if absent.size:
            records.append(
                (name, int(present[0]), int(present[-1]), int(absent.size), absent.tolist())
            )
    return pd.DataFrame(
        records, columns=["unit", "first_year", "last_year", "n_missing", "missing_years"]
    )


@dataclass(frozen=True)
class Panel:
    """A validated country-year panel.

    Attributes
    ----------
    frame : DataFrame
        Sorted by (unit, year); unique keys; integer years.
    unit, year : str
        Key column names.
    features : list of str
        Numeric predictor columns.
    outcomes : list of str
        0/1/missing outcome columns (e.g. the annual onset indicator).
    kinds : dict
        Feature -> kind (structural, trigger, mitigating, history, other).
    name : str
        Dataset name (for provenance).
    extra : list of str
        Other kept columns (e.g. the oracle's ``true_probability``, a region label).
    unit_system : str or None
        ``'cow'`` when the unit ids are Correlates of War codes (names come from the state
        system, :func:`forecast.risk.unit_names`); None for any other ids.
    unit_label : str or None
        Column of ``extra`` holding each unit's display name (e.g. ``ewp_name``).
    unit_noun : UnitNoun
        What the units are called in risk lists and reports (default :data:`COUNTRY`).
    unit_code : str or None
        Column of ``extra`` holding each row's Correlates of War code, when the unit ids are
        not the codes themselves (e.g. ``ccode`` beside EWP country names); see
        :meth:`cow_codes`.
    windows : dict of str to (int, int)
        The outcome columns that are already windows, with the years ahead they cover (e.g.
        ``{"mk_onset_1or2": (1, 2)}``: an onset in ``t+1`` or ``t+2``); every other outcome
        is an annual event. A window is never trained on as an experiment's ``outcome:``
        (:func:`forecast.outcomes.training_target`).
    """

    frame: pd.DataFrame
    unit: str
    year: str
    features: list[str]
    outcomes: list[str]
    kinds: dict[str, str] = field(default_factory=dict)
    name: str = "panel"
    extra: list[str] = field(default_factory=list)
    unit_system: str | None = None
    unit_label: str | None = None
    unit_noun: UnitNoun = COUNTRY
    unit_code: str | None = None
    windows: dict[str, tuple[int, int]] = field(default_factory=dict)

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        *,
        unit: str = "unit",
        year: str = "year",
        features: list[str],
        outcomes: list[str],
        kinds: dict[str, str] | None = None,
        name: str = "panel",
        extra: list[str] | None = None,
        unit_system: str | None = None,
        unit_label: str | None = None,
        unit_noun: UnitNoun = COUNTRY,
        unit_code: str | None = None,
        windows: dict[str, tuple[int, int]] | None = None,
        source: str | None = None,
    ) -> Panel:
        """Validate ``frame`` (see :func:`validate_panel`; errors name ``source``, default
        ``name``) and wrap it; ``windows`` names the outcomes that are windows."""
        clean = validate_panel(
            frame, unit=unit, year=year, features=features, outcomes=outcomes, source=source or name
        )
        if unit_label is not None and unit_label not in clean.columns:
            raise input_error(
                f"unit_label {unit_label!r} is not a column of the panel",
                source=name,
                fix="name a kept label column, or omit unit_label",
            )
        if unit_code is not None and unit_code not in clean.columns:
            raise input_error(
                f"unit_code {unit_code!r} is not a column of the panel",
                source=name,
                fix="name a kept column of COW codes, or omit unit_code",
            )
        if stray := sorted(set(windows or {}) - set(outcomes)):
            raise input_error(
                f"windows name column(s) {stray} that are not outcomes",
                source=name,
                fix=f"declare windows of outcome columns only ({outcomes})",
            )
        return cls(
            clean,
            unit,
            year,
            list(features),
            list(outcomes),
            dict(kinds or {}),
            name,
            list(extra or []),
            unit_system,
            unit_label,
            unit_noun,
            unit_code,
            dict(windows or {}),
        )

    def design_matrix(self, rows: np.ndarray | None = None) -> np.ndarray:
        """The features as one array (all rows, or ``rows``): float32 when every feature is
        float32, else float64. The backtest and the risk list fit on exactly this array,
        so a risk list equals the backtest's forecast bit for bit on any panel."""
        features = self.frame[self.features]
        single = len(self.features) > 0 and all(d == np.float32 for d in features.dtypes)
        X = features.to_numpy(dtype=np.float32 if single else np.float64)
        return X if rows is None else X[rows]  # row-major rows, as the backtest slices them

    def cow_codes(self) -> pd.Series | None:
        """Each row's Correlates of War code (float, NaN where unknown), or None.

        The unit ids themselves for a COW-coded panel (``unit_system='cow'``), else the
        ``unit_code`` column; None when the panel has neither. Runs record them, so runs
        whose units are named differently (EWP names, COW codes) can be compared.
        """
        if self.unit_system == "cow":
            column = self.frame[self.unit]
        elif self.unit_code is not None:
            column = self.frame[self.unit_code]
        else:
            return None
        return pd.to_numeric(column.astype("object"), errors="coerce").astype(float)

    @property
    def n_units(self) -> int:
        return int(self.frame[self.unit].nunique())

    @property
    def years(self) -> tuple[int, int]:
        return int(self.frame[self.year].min()), int(self.frame[self.year].max())

    def gaps(self) -> pd.DataFrame:
        """Per-unit year gaps (see :func:`year_gaps`)."""
        return year_gaps(self.frame, unit=self.unit, year=self.year)

    def summary(self) -> dict[str, object]:
        """Rows, units, years, outcome counts and missingness by feature."""
        first, last = self.years
        out: dict[str, object] = {
            "name": self.name,
            "rows": len(self.frame),
            "units": self.n_units,
            "first_year": first,
            "last_year": last,
            "units_with_gaps": len(self.gaps()),
        }
        for column in self.outcomes:
            values = self.frame[column]
            out[f"{column}_events"] = int((values == 1).sum())
            out[f"{column}_missing"] = int(values.isna().sum())
        out["missing_share"] = {c: float(self.frame[c].isna().mean()) for c in self.features}
        return out
