"""Leakage guard: changing source data dated after t never changes panel rows <= t."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forecast._errors import ForecastInputError
from forecast.features import build_from_tables, build_panel, load_feature_set, load_tables

DATA = Path(
    os.environ.get("FORECAST_DATA_DIR")
    or Path(__file__).resolve().parents[2].parent / "shared" / "data"
)
UNITS = [2, 100, 490, 530, 700, 775]  # USA, Colombia, DR Congo, Ethiopia, Afghanistan, Myanmar
FS = load_feature_set("ewp-2025-plus")  # extends ewp-2025-honest: covers both sets


@pytest.fixture(scope="module")
def world() -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    tables = {
        name: (t if name == "episodes" else t[t["unit"].isin(UNITS)].reset_index(drop=True))
        for name, t in load_tables(FS, DATA).items()
    }
    return tables, build_from_tables(FS, tables).frame


def _perturb(table: pd.DataFrame, t: int, how: str, rng: np.random.Generator) -> pd.DataFrame:
    later = table["year"] > t
    if how == "drop":
        return table[~later].reset_index(drop=True)
    if how == "add":
        extra = table[table["year"] == table["year"].max()].assign(year=lambda f: f["year"] + 1)
        return pd.concat([table, extra], ignore_index=True)
    out = table.copy()
    for column in out.columns.drop(["unit", "year"]):
        if pd.api.types.is_numeric_dtype(out[column]):
            noise = rng.integers(0, 2, int(later.sum())).astype(out[column].dtype, copy=False)
            out.loc[later, column] = noise
    return out


def _new_episode(events: pd.DataFrame, t: int, unit: int) -> pd.DataFrame:
    row = events.iloc[[0]].copy()
    row["startyear"], row["endyear"], row["mk_event_code"] = t + 1, np.nan, f"test{t}"
    for column in (
        "mk_location_cow",
        "mk_location_inheritor1",
        "mk_repsonsible_state_cow",
        "mk_repsonsible_state_inheritor1",
    ):
        row[column] = unit
    return pd.concat([events, row], ignore_index=True)


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    t=st.integers(1960, 2022),
    dataset=st.sampled_from(
        sorted(
            FS_DATASETS := [
                "base",
                "battledeaths",
                "coups",
                "epr",
                "hief",
                "iccpr",
                "maddison",
                "regions",
                "un_imr",
                "vdem",
                "wdi",
                "episodes",
            ]
        )
    ),
    how=st.sampled_from(["values", "drop", "add"]),
    seed=st.integers(0, 2**16),
)
@pytest.mark.realdata
def test_rows_up_to_t_do_not_change(world, t: int, dataset: str, how: str, seed: int) -> None:
    tables, before = world
    changed = dict(tables)
    rng = np.random.default_rng(seed)
    if dataset == "episodes":
        changed["episodes"] = _new_episode(tables["episodes"], t, UNITS[seed % len(UNITS)])
    else:
        changed[dataset] = _perturb(tables[dataset], t, how, rng)
    after = build_from_tables(FS, changed).frame
    columns = ["ccode", "year", "ewp_name", *FS.features]
    old = before.loc[before["year"] <= t, columns].reset_index(drop=True)
    new = after.loc[after["year"] <= t, columns].reset_index(drop=True)
    pd.testing.assert_frame_equal(old, new)


SYNTH = """\
name: synth-lags
skeleton: synthetic
indicators:
  - {name: mk_onset, role: outcome, source: synthetic.mk_onset}
  - {name: growth_lag2, source: synthetic.gdppc_growth, kind: structural, publication_lag: 2,
     transforms: [{rolling_mean: {window: 3}}, {change: {years: 1}}]}
  - {name: coups_5, source: synthetic.coup_attempt, kind: trigger, publication_lag: 1,
     transforms: [{rolling_sum: {window: 5}}, {interaction: {with: repression_cf}}]}
  - {name: repression_cf, source: synthetic.repression, kind: structural,
     missing: {carry_forward: 2}, transforms: [{years_since: {never: 99}}]}
  - {name: imputed, source: synthetic.population_log2, kind: structural,
     transforms: [{impute_regression_past: {predictor: repression_cf}}]}
"""


@settings(max_examples=15, deadline=None)
@given(t=st.integers(1961, 2023), seed=st.integers(0, 2**16))
def test_custom_spec_with_publication_lags(tmp_path_factory, t: int, seed: int) -> None:
    path = tmp_path_factory.getbasetemp() / "synth.yaml"
    path.write_text(SYNTH)
    fs = load_feature_set(path)
    tables = load_tables(fs)
    units = sorted(tables["synthetic"]["unit"].unique())[:12]
    base = tables["synthetic"][tables["synthetic"]["unit"].isin(units)]
    before = build_from_tables(fs, {"synthetic": base}).frame
    changed = _perturb(base, t, "values", np.random.default_rng(seed))
    after = build_from_tables(fs, {"synthetic": changed}).frame
    keep = ["unit", "year", *fs.features]
    pd.testing.assert_frame_equal(
        before.loc[before["year"] <= t, keep], after.loc[after["year"] <= t, keep]
    )


def test_publication_lag_shifts_source(tmp_path: Path) -> None:
    path = tmp_path / "lag.yaml"
    path.write_text(
        "name: lag\nskeleton: synthetic\nindicators:\n"
        "  - {name: g, source: synthetic.gdppc_growth, kind: structural, "
        "publication_lag: 2}\n"
    )
    panel = build_panel(path)
    raw = load_tables(load_feature_set(path))["synthetic"].set_index(["unit", "year"])
    for (unit, year), value in panel.frame.set_index(["unit", "year"])["g"].head(200).items():
        expected = raw["gdppc_growth"].get((unit, year - 2), np.nan)
        assert (np.isnan(value) and np.isnan(expected)) or value == expected


def test_replication_spec_is_refused_without_flag(tmp_path: Path) -> None:
    text = (Path(FS.path).parent / "ewp-2025.yaml").read_text()
    path = tmp_path / "ewp-copy.yaml"
    path.write_text(text.replace("replication: true", "replication: false"))
    with pytest.raises(
        ForecastInputError,
        match=r"ewp-copy.yaml:\d+: indicator "
        r"'popsize.log2': transform 'impute_regression' looks ahead",
    ):
        build_panel(path, data_dir=DATA)
