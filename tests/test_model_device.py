"""``device`` and ``threads`` of the boosting models: resolved once, recorded, same numbers."""

import numpy as np
import pytest

from forecast import ForecastInputError
from forecast.experiment import load_experiment
from forecast.models import _device, build_model, compute_record, fit_estimator, resolve_device
from forecast.models._checks import contract_data

SPEC = """name: device-check
dataset: synthetic-world
origins: {{first: 2000, last: 2001}}
models:
  - name: xgboost
    params: {{device: {device}, threads: 2, n_estimators: 20}}
  - name: hist_gradient_boosting
    params: {{threads: 2, max_iter: 20}}
"""


@pytest.fixture
def gpus(monkeypatch):
    """Pretend this machine has ``n`` visible GPUs (and xgboost's CUDA build, unless told)."""

    def set_count(n: int, *, cuda_build: bool = True) -> None:
        monkeypatch.setattr(_device, "gpu_count", lambda: n)
        monkeypatch.setattr(_device, "cuda_build", lambda: cuda_build)

    return set_count


def _proba(name, params):
    X, y, years = contract_data(seed=3)
    model = fit_estimator(build_model(name, params), X, y, years=years)
    return model.predict_proba(X)[:, 1]


@pytest.mark.parametrize(
    "name, params",
    [
        ("xgboost", {"n_estimators": 30}),
        ("hist_gradient_boosting", {"max_iter": 30}),
        ("xgboost_tuned", {"max_rounds": 40, "min_rounds": 5}),
    ],
)
def test_threads_and_cpu_device_leave_the_forecasts_bit_identical(name, params):
    plain = _proba(name, params)
    threaded = _proba(name, {**params, "threads": 2, "device": "cpu"})
    np.testing.assert_array_equal(plain, threaded)


def test_auto_resolves_to_cuda_only_when_a_gpu_is_visible(gpus):
    gpus(0)
    assert resolve_device("xgboost", "auto") == "cpu"
    gpus(1)
    assert resolve_device("xgboost", "auto") == "cuda"
    assert resolve_device("hist_gradient_boosting", "auto") == "cpu"  # no GPU build
    assert resolve_device("xgboost", "cuda:1") == "cuda:1"


def test_a_cpu_only_xgboost_build_never_takes_the_gpu(gpus):
    gpus(1, cuda_build=False)
    assert resolve_device("xgboost", "auto") == "cpu"
    with pytest.raises(ForecastInputError, match=r"CUDA build.*fix: pip uninstall xgboost-cpu"):
        resolve_device("xgboost", "cuda")


def test_cuda_build_reads_the_installed_xgboost():
    import xgboost

    _device.cuda_build.cache_clear()
    assert _device.cuda_build() is bool(xgboost.build_info().get("USE_CUDA", False))


def test_the_spec_records_the_resolved_device(tmp_path, gpus):
    gpus(0)
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC.format(device="auto"))
    config = load_experiment(path)
    assert config.models[0].params["device"] == "cpu"  # what the cache key and MLflow see
    assert compute_record(config.models) == {
        "xgboost": {"device": "cpu", "threads": 2},
        "hist_gradient_boosting": {"device": "cpu", "threads": 2},
    }
    gpus(2)
    assert load_experiment(path).models[0].params["device"] == "cuda"


def test_cuda_without_a_gpu_is_a_one_line_spec_error(tmp_path, gpus):
    gpus(0)
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC.format(device="cuda"))
    with pytest.raises(ForecastInputError) as error:
        load_experiment(path)
    message = str(error.value)
    assert "\n" not in message
    assert f"{path}:6" in message and "needs a CUDA GPU" in message and "device: auto" in message


@pytest.mark.parametrize(
    "name, params, expected",
    [
        ("xgboost", {"device": "tpu"}, "device must be cpu, cuda, cuda:N or auto"),
        ("hist_gradient_boosting", {"device": "cuda"}, "has no GPU build"),
        ("xgboost", {"threads": 0}, "threads must be a positive integer"),
        ("hist_gradient_boosting", {"threads": "two"}, "threads must be a positive integer"),
    ],
)
def test_bad_device_or_threads_are_refused(name, params, expected, gpus):
    gpus(1)
    with pytest.raises(ForecastInputError, match=expected):
        build_model(name, params)


def test_gpu_count_honours_cuda_visible_devices(monkeypatch):
    _device.gpu_count.cache_clear()
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    try:
        assert _device.gpu_count() == 0
    finally:
        _device.gpu_count.cache_clear()
