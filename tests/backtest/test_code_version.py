"""The cache's code version covers every module the fit kernel imports (a static walk)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import forecast
from forecast.backtest._cache import code_version, import_closure, source_version

ROOT = Path(forecast.__file__).parent


def test_the_closure_holds_the_kernel_and_what_the_recalibrators_use():
    files = {p.relative_to(ROOT).as_posix() for p in import_closure(ROOT)}
    assert {"backtest/_task.py", "_math.py", "calibration/_calibrators.py"} <= files
    assert {"models/_logit.py", "__init__.py", "backtest/__init__.py"} <= files
    assert "reports/_track.py" not in files  # reports never make a fit's result
    assert code_version() == source_version(ROOT, forecast.__version__)


def test_changing_any_module_of_the_closure_changes_the_version(tmp_path):
    copy = tmp_path / "forecast"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns("__pycache__"))
    before = source_version(copy, "1")
    closure = import_closure(copy)
    for file in closure:
        text = file.read_bytes()
        file.write_bytes(text + b"\n# edited\n")
        assert source_version(copy, "1") != before, file
        file.write_bytes(text)
    outside = copy / "reports" / "_track.py"
    outside.write_bytes(outside.read_bytes() + b"\n# edited\n")
    assert source_version(copy, "1") == before
    assert source_version(copy, "2") != before


_FIT_EVERY_MODEL = """
import json, sys
import numpy as np
from dataclasses import asdict
from forecast.backtest._task import fit_predict
from forecast.experiment import ModelSpec
from forecast.models import META_MODELS, model_names

rng = np.random.default_rng(0)
X = rng.normal(size=(300, 3))
y = (rng.random(300) < 0.2).astype(float)
years = np.repeat(np.arange(1990, 2020), 10)
specs = [ModelSpec(n, n, {}) for n in model_names() if n not in META_MODELS]
specs.append(ModelSpec("logit", "recal", {}, "platt", 5))
for spec in specs:
    fit_predict(X, y, None, years, X[:5], asdict(spec), 0)
print(json.dumps(sorted(m.__file__ for n, m in sys.modules.items()
                        if n.split(".")[0] == "forecast" and getattr(m, "__file__", None))))
"""


def test_every_module_a_fit_imports_is_in_the_closure():
    env = {**os.environ, "PYTHONPATH": str(ROOT.parent)}
    done = subprocess.run(
        [sys.executable, "-c", _FIT_EVERY_MODEL], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    imported = {Path(f).resolve() for f in json.loads(done.stdout.splitlines()[-1])}
    assert imported <= {p.resolve() for p in import_closure(ROOT)}
