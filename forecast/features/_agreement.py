"""Cell-by-cell agreement between a rebuilt panel and a reference (upstream) panel."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from forecast._errors import input_error
from forecast.panel import Panel

__all__ = ["REFERENCE_FILE", "agreement_table"]

REFERENCE_FILE = "ewp-2025/prepared2024predictors-2025-09-03.csv"


def agreement_table(
    panel: Panel,
    reference: pd.DataFrame | str | Path,
    *,
    unit: str = "ccode",
    year: str = "year",
    rtol: float = 1e-6,
    columns: list[str] | None = None,
) -> pd.DataFrame:
    """Per-column share of reference country-year cells that the rebuilt panel matches.

    A cell matches when both values are missing, or, for a binary column (reference
    values all in {0, 1}), when the values are equal, or, for a continuous column, when
    ``|a - b| <= rtol * max(|b|, 1e-12)`` (relative difference below ``rtol``).
    Reference rows absent from the panel count as mismatches.

    Formula: ``share = (1/N) * sum_i match_i`` over the N reference rows.

    Returns
    -------
    DataFrame with columns ``column``, ``type`` (binary/continuous), ``cells``,
    ``matches``, ``share``, ``ref_missing``, ``ours_missing``, sorted by ``share``.
    """
    if not isinstance(reference, pd.DataFrame):
        reference = pd.read_csv(reference)
    for key in (unit, year):
        if key not in reference.columns:
            raise input_error(
                "reference lacks key column",
                column=key,
                fix="pass unit= and year= naming the reference keys",
            )
    ours = panel.frame.rename(columns={panel.unit: unit, panel.year: year})
    columns = columns or [c for c in [*panel.features, *panel.outcomes] if c in reference]
    merged = reference[[unit, year, *columns]].merge(
        ours[[unit, year, *columns]],
        on=[unit, year],
        how="left",
        suffixes=("", "__ours"),
        indicator=True,
    )
    present = (merged["_merge"] == "both").to_numpy()
    records = []
    for column in columns:
        ref = pd.to_numeric(merged[column], errors="coerce").to_numpy(dtype=float)
        got = pd.to_numeric(merged[f"{column}__ours"], errors="coerce").to_numpy(dtype=float)
        binary = bool(np.isin(ref[~np.isnan(ref)], [0.0, 1.0]).all())
        both_na = np.isnan(ref) & np.isnan(got)
        with np.errstate(invalid="ignore"):
            if binary:
                close = ref == got
            else:
                close = np.abs(got - ref) <= rtol * np.maximum(np.abs(ref), 1e-12)
        match = (both_na | close) & present
        records.append(
            (
                column,
                "binary" if binary else "continuous",
                len(ref),
                int(match.sum()),
                float(match.mean()),
                int(np.isnan(ref).sum()),
                int(np.isnan(got).sum()),
            )
        )
    table = pd.DataFrame(
        records,
        columns=["column", "type", "cells", "matches", "share", "ref_missing", "ours_missing"],
    )
    return table.sort_values(["share", "column"], kind="stable").reset_index(drop=True)
