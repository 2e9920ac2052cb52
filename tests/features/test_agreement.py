"""The faithful ewp-2025 rebuild agrees with the upstream panel, column by column."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from forecast.features import agreement_table, build_panel
from forecast.features._agreement import REFERENCE_FILE

pytestmark = pytest.mark.realdata

DATA = Path(
    os.environ.get("FORECAST_DATA_DIR")
    or Path(__file__).resolve().parents[2].parent / "shared" / "data"
)

# Measured agreement floors (share of the 9,463 reference cells) for columns below 1.0;
# every other column must match every cell. Reasons:
FLOORS = {
    # upstream codes the windows of 2023/2024 as 0; we leave censored windows missing
    "mk_onset_1or2": (0.9644, "censored 2023-2024 windows are missing, not 0"),
    # the Kosovo 1998-99 episode lists Kosovo (347) as location inheritor; upstream's base
    # file does not pass it on (17 cells, 2008-2024)
    "mk_ever": (0.9982, "Kosovo inherits the 1998-99 episode here, not upstream"),
    # onset_within gives 0 (not missing) in the last year of a unit that left the system
    # (5 cells: 265/1989, 315/1992, 678/1989, 680/1989, 817/1975)
    "mk_onset_1": (0.9994, "exited units' last year is 0 (no onset possible), not missing"),
}


@pytest.fixture(scope="module")
def table():
    panel = build_panel("ewp-2025", data_dir=DATA)
    return agreement_table(panel, DATA / REFERENCE_FILE).set_index("column")


def test_every_reference_column_is_rebuilt(table) -> None:
    assert len(table) == 42  # 38 predictors + 4 outcomes
    assert (table["cells"] == 9463).all()


def test_agreement_floors(table) -> None:
    for column, row in table.iterrows():
        floor = FLOORS.get(column, (1.0, ""))[0]
        assert row["share"] >= floor - 1e-9, (column, row["share"], FLOORS.get(column))
    below = set(table.index[table["share"] < 0.99])
    assert below <= {"mk_onset_1or2"}


def test_agreement_is_an_independent_cell_count(table) -> None:
    import numpy as np
    import pandas as pd

    panel = build_panel("ewp-2025", data_dir=DATA)
    ref = pd.read_csv(DATA / REFERENCE_FILE)
    merged = ref.merge(panel.frame, on=["ccode", "year"], suffixes=("", "_o"))
    a, b = merged["un_imr_sqrt"].to_numpy(), merged["un_imr_sqrt_o"].to_numpy()
    hand = sum(
        (np.isnan(x) and np.isnan(y)) or abs(x - y) <= 1e-6 * abs(x) for x, y in zip(a, b)
    ) / len(a)
    assert table.loc["un_imr_sqrt", "share"] == pytest.approx(hand)
    censored = merged["year"] >= 2023
    assert merged.loc[censored & (merged["mk_onset_1or2_o"] != 1), "mk_onset_1or2_o"].isna().all()
