"""No network contact that nobody asked for.

A tracked backtest and a risk list printed to PDF run under ``strace`` (every ``connect()``
of every process they start) in an environment like a user's: MLflow sends usage reports
unless it sees a CI or pytest variable, so the watched commands run without them. No
``connect()`` may go outside loopback; the tracking store is a SQLite file.
"""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

SPEC = {
    "name": "offline",
    "dataset": "synthetic-world",
    "dataset_options": {"n_countries": 40},
    "horizon": 2,
    "origins": {"first": 2022, "last": 2023},
    "min_train_years": 10,
    "seed": 7,
    "models": ["logit"],
}

# Variables by which MLflow (mlflow.telemetry.utils) decides that it runs in CI or a test,
# where it sends nothing; and the switches under test.
# (The first test checks that this list is complete enough.)
_NOT_A_USER = (
    "CI", "PYTEST_CURRENT_TEST", "GITHUB_ACTIONS", "CIRCLECI", "GITLAB_CI", "JENKINS_URL",
    "TRAVIS", "TF_BUILD", "BITBUCKET_BUILD_NUMBER", "CODEBUILD_BUILD_ARN", "BUILDKITE",
    "TEAMCITY_VERSION", "CLOUD_RUN_EXECUTION", "RUNBOT_HOST_URL", "RUNBOT_BUILD_NAME",
    "RUNBOT_WORKER_ID", "MLFLOW_DISABLE_TELEMETRY", "DO_NOT_TRACK", "MLFLOW_TRACKING_URI",
)  # fmt: skip

_CONNECT = re.compile(
    r"connect\(\d+, \{sa_family=AF_INET6?, .*?"
    r'(?:inet_addr\("(?P<v4>[^"]+)"\)|inet_pton\(AF_INET6, "(?P<v6>[^"]+)")'
    r".*\)\s*=\s*(?P<result>-?\d+)\s*(?P<errno>\w*)"
)
# A connect() that the kernel refused before sending anything: no route, no source address
# (what the browser's probes get in its network namespace of its own).
_NOTHING_SENT = {"ENETUNREACH", "EADDRNOTAVAIL"}


def _user_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in _NOT_A_USER}


def _outside_loopback(trace_files: list[Path]) -> list[str]:
    """Every connect() line to an IPv4/IPv6 address outside 127.0.0.0/8 and ::1."""
    found = []
    for path in trace_files:
        for line in path.read_text(errors="replace").splitlines():
            match = _CONNECT.search(line)
            if match is None:
                if "connect(" in line and "AF_INET" in line:
                    found.append(f"unparsed: {line}")
                continue
            address = ipaddress.ip_address(match["v4"] or match["v6"])
            mapped = getattr(address, "ipv4_mapped", None)
            if (mapped or address).is_loopback or match["errno"] in _NOTHING_SENT:
                continue
            found.append(line)
    return found


def _watched(command: list[str], trace: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    strace = shutil.which("strace")
    assert strace, "strace is needed (apt-get install strace)"
    trace.mkdir()
    done = subprocess.run(
        [strace, "-f", "-ff", "-qq", "-e", "trace=connect", "-e", "signal=none",
         "-o", str(trace / "pid"), *command],
        env=_user_env(), cwd=cwd, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def _telemetry_disabled(*imports: str) -> str:
    code = f"{''.join(f'import {m}; ' for m in imports)}" + (
        "from mlflow.telemetry.utils import is_telemetry_disabled; print(is_telemetry_disabled())"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=_user_env(), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_mlflow_sends_reports_in_a_users_environment_and_not_once_forecast_is_imported():
    assert _telemetry_disabled() == "False"  # the watched commands below run like a user's
    assert _telemetry_disabled("forecast.tracking") == "True"
    assert _telemetry_disabled("forecast.cli") == "True"


@pytest.mark.slow
@pytest.mark.browser
def test_a_tracked_backtest_and_a_printed_risk_list_connect_to_nothing_outside_loopback(
    tmp_path,
):
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(SPEC))
    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    forecast = [sys.executable, "-m", "forecast.cli"]
    common = ["--tracking-uri", store, "--cache-dir", str(tmp_path / "cache"), "--n-jobs", "1"]
    backtest = _watched(
        [*forecast, "backtest", str(spec), "--out", str(tmp_path / "run"), *common],
        tmp_path / "backtest-trace",
        tmp_path,
    )
    risklist = _watched(
        [*forecast, "risklist", str(spec), "--out", str(tmp_path / "risk"), "--no-backtest",
         *common],
        tmp_path / "risklist-trace",
        tmp_path,
    )  # fmt: skip
    assert "tracked: run" in backtest.stdout and (tmp_path / "mlflow.db").is_file()
    assert (tmp_path / "risk" / "risklist.pdf").stat().st_size > 0, risklist.stdout
    traces = sorted((tmp_path / "backtest-trace").iterdir()) + sorted(
        (tmp_path / "risklist-trace").iterdir()
    )
    assert len(traces) > 10  # every thread and process of both commands was watched
    assert _outside_loopback(traces) == []


def test_the_trace_reader_finds_connections_outside_loopback(tmp_path):
    trace = tmp_path / "pid.1"
    trace.write_text(
        'connect(5, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("10.0.0.53")}, '
        "16) = 0\n"
        'connect(6, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("127.0.0.1")}, '
        "16) = -1 ECONNREFUSED (Connection refused)\n"
        "connect(7, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), "
        'inet_pton(AF_INET6, "2001:4860:4860::8888", &sin6_addr), sin6_scope_id=0}, 28) = -1 '
        "EADDRNOTAVAIL (Cannot assign requested address)\n"
        "connect(8, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), "
        'inet_pton(AF_INET6, "2001:4860:4860::8888", &sin6_addr), sin6_scope_id=0}, 28) = 0\n'
        "connect(9, {sa_family=AF_INET6, sin6_port=htons(80), sin6_flowinfo=htonl(0), "
        'inet_pton(AF_INET6, "::ffff:127.0.0.1", &sin6_addr), sin6_scope_id=0}, 28) = 0\n'
        'connect(3, {sa_family=AF_UNIX, sun_path="/run/x"}, 110) = 0\n'
    )
    found = _outside_loopback([trace])
    assert [line.split(",")[0] for line in found] == ["connect(5", "connect(8"]
