"""The README's "add an indicator" example builds, and the new column is what it says."""

import re
from pathlib import Path

import numpy as np
import pytest

from forecast.features import build_panel, feature_set_dir, load_feature_set

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.realdata
def test_readme_indicator_example_builds(tmp_path):
    readme = (ROOT / "README.md").read_text()
    block = re.search(
        r"```yaml\n(  - name: battledeaths\.max5yr\.log2.*?)```", readme, re.DOTALL
    ).group(1)
    spec = tmp_path / "with-new-indicator.yaml"
    spec.write_text(
        f"extends: {feature_set_dir() / 'ewp-2025-honest.yaml'}\n"
        "name: readme-example\nreplication: false\nindicators:\n" + block
    )
    panel = build_panel(load_feature_set(spec))
    frame = panel.frame
    assert "battledeaths.max5yr.log2" in panel.features
    assert panel.kinds["battledeaths.max5yr.log2"] == "trigger"
    # Oracle: the 5-year max of log2(deaths + 1) equals log2(5-year max of deaths + 1).
    deaths = np.exp2(frame["battledeaths.log2"]) - 1
    expected = np.log2(
        deaths.groupby(frame["ccode"]).transform(lambda s: s.rolling(5, min_periods=1).max()) + 1
    )
    np.testing.assert_allclose(frame["battledeaths.max5yr.log2"], expected, atol=1e-9)
