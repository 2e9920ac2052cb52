"""Backtests on a real Dask cluster: scheduler and workers are separate processes.

The module starts ``dask scheduler`` and two ``dask worker`` processes on localhost (random
free port, one thread each) and stops them in a finalizer, whatever the tests do.
"""

from __future__ import annotations

import contextlib
import dataclasses
import ipaddress
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from forecast._errors import ForecastInputError
from forecast.backtest import ProcessCluster, TLSFiles, run_backtest
from forecast.backtest._cluster import CONNECT_SECONDS
from forecast.cli import main
from forecast.experiment import experiment_from_dict
from forecast.panel import Panel

START_SECONDS = 60  # bounded wait for processes to start and workers to register

SPEC = {
    "name": "cluster",
    "dataset": "synthetic-world",
    "dataset_options": {"n_countries": 60},
    "horizon": 2,
    "origins": {"first": 2012, "last": 2017},
    "min_train_years": 10,
    "seed": 3,
    "models": [
        {"name": "elastic_net", "params": {"n_alphas": 6}},
        {"name": "random_forest", "params": {"n_estimators": 60}},
    ],
}
CONFIG = experiment_from_dict(SPEC)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class Cluster:
    """The test's scheduler and worker processes, with their log files."""

    def __init__(self, logs: Path):
        self.logs = logs
        self.port = _free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.processes: dict[str, subprocess.Popen] = {}

    def spawn(self, name: str, *args: str) -> subprocess.Popen:
        env = {**os.environ, "DASK_LOGGING__DISTRIBUTED": "warning"}
        with (self.logs / f"{name}.log").open("w") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "dask", *args], env=env, stdout=log, stderr=log
            )
        self.processes[name] = process
        return process

    def add_worker(self, name: str) -> subprocess.Popen:
        # No nanny: the process is the worker itself, so SIGKILL kills the worker.
        return self.spawn(
            name, "worker", self.address, "--nthreads", "1", "--no-nanny", "--name", name,
            "--host", "127.0.0.1", "--dashboard-address", "127.0.0.1:0", "--no-dashboard",
        )  # fmt: skip

    def client(self):
        from distributed import Client

        return Client(self.address, timeout=10, set_as_default=False)

    def wait_for(self, names: set[str]) -> dict[str, str]:
        """Worker name -> address, once every one of ``names`` has registered."""
        deadline = time.monotonic() + START_SECONDS
        with self.client() as client:
            while True:
                workers = client.scheduler_info(n_workers=-1)["workers"]
                by_name = {str(w["name"]): address for address, w in workers.items()}
                if names <= set(by_name):
                    return by_name
                dead = [n for n, p in self.processes.items() if p.poll() is not None]
                assert not dead and time.monotonic() < deadline, self.log_tail(dead)
                time.sleep(0.1)

    def log_tail(self, names: list[str]) -> str:
        tails = [f"{n}: {(self.logs / f'{n}.log').read_text()[-1500:]}" for n in names]
        return "cluster did not start in time; " + " | ".join(tails)

    def stop(self) -> None:
        """Workers first: a worker whose scheduler is gone can hang on closing."""
        processes = list(self.processes.values())
        for group in (processes[1:], processes[:1]):
            for process in group:
                if process.poll() is None:
                    process.terminate()
            for process in group:
                try:
                    process.wait(15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    running = Cluster(tmp_path_factory.mktemp("dask-logs"))
    try:
        running.spawn(
            "scheduler", "scheduler", "--host", "127.0.0.1", "--port", str(running.port),
            "--dashboard-address", "127.0.0.1:0", "--no-dashboard",
        )  # fmt: skip
        deadline = time.monotonic() + START_SECONDS
        while not _answers(running.port):
            assert running.processes["scheduler"].poll() is None, running.log_tail(["scheduler"])
            assert time.monotonic() < deadline, running.log_tail(["scheduler"])
            time.sleep(0.1)
        for name in ("w0", "w1"):
            running.add_worker(name)
        running.wait_for({"w0", "w1"})
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def loky_forecasts() -> pd.DataFrame:
    return run_backtest(CONFIG, n_jobs=2, backend="loky").forecasts


def _spy(monkeypatch, method: str) -> list[tuple[tuple, dict]]:
    from distributed import Client

    calls: list[tuple[tuple, dict]] = []
    original = getattr(Client, method)

    def spy(self, *args, **kwargs):
        calls.append((args, kwargs))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Client, method, spy)
    return calls


def test_a_process_cluster_gives_the_loky_forecasts_and_gets_the_panel_once(
    cluster, loky_forecasts, monkeypatch
):
    scatters, submits = _spy(monkeypatch, "scatter"), _spy(monkeypatch, "submit")
    result = run_backtest(CONFIG, backend="dask", scheduler=cluster.address)
    pd.testing.assert_frame_equal(loky_forecasts, result.forecasts, check_exact=True)

    n_rows = len(result.annual_onsets)
    [(scattered, options)] = scatters  # one scatter for the whole run, to every worker
    X = scattered[0][0]
    assert options["broadcast"] is True and X.shape[0] == n_rows  # the whole design matrix
    fits = result.execution.fits
    assert fits == len(submits) == 12 and (result.scores["status"] == "ok").all()
    for args, kwargs in submits:  # a task refers to the panel, it does not carry slices
        assert not any(isinstance(a, np.ndarray) for a in args)
        assert kwargs["retries"] == 3
    execution = result.execution
    assert execution.backend == "dask" and execution.workers == 2
    assert execution.shared_bytes >= X.nbytes
    assert execution.task_bytes / fits < 2_000 < execution.sliced_bytes / fits


def test_a_worker_killed_mid_run_is_replaced_and_nothing_changes(cluster, loky_forecasts, tmp_path):
    # A run cancels its futures when it ends, and the scheduler tells every client: wait until
    # an earlier run's tasks (the same keys as this run's) are gone, or this run's futures
    # can be cancelled as they are submitted (seen on a loaded machine).
    deadline = time.monotonic() + START_SECONDS
    with cluster.client() as client:
        while client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks)):
            assert time.monotonic() < deadline, "an earlier run's tasks stay on the scheduler"
            time.sleep(0.2)
    cluster.add_worker("victim")
    victim = cluster.wait_for({"w0", "w1", "victim"})["victim"]
    killed: list[str] = []
    finished = threading.Event()

    def kill_once_a_result_is_in_and_the_victim_fits() -> None:
        with cluster.client() as client:
            while not finished.is_set():
                busy = client.processing(workers=[victim]).get(victim, [])
                if any(tmp_path.glob("*.npz")) and any(str(k).startswith("fit-") for k in busy):
                    cluster.processes["victim"].send_signal(signal.SIGKILL)
                    killed.extend(map(str, busy))
                    return
                time.sleep(0.02)

    watcher = threading.Thread(target=kill_once_a_result_is_in_and_the_victim_fits)
    watcher.start()
    try:
        result = run_backtest(CONFIG, backend="dask", scheduler=cluster.address, cache_dir=tmp_path)
    finally:
        finished.set()
        watcher.join()
    assert killed, "the victim was never killed while fitting"
    assert cluster.processes["victim"].wait(10) == -signal.SIGKILL
    pd.testing.assert_frame_equal(loky_forecasts, result.forecasts, check_exact=True)
    assert len(list(tmp_path.glob("*.npz"))) == 12  # every result cached as it arrived


def test_a_scheduler_that_does_not_answer_fails_fast_before_the_data_is_read(monkeypatch):
    import forecast.data

    def read(*args, **kwargs):
        raise AssertionError("the data was read before the scheduler answered")

    monkeypatch.setattr(forecast.data, "load_dataset", read)
    monkeypatch.setattr("forecast.backtest._cluster.CONNECT_SECONDS", 1.0)
    address = f"tcp://127.0.0.1:{_free_port()}"  # nothing listens there
    start = time.monotonic()
    with pytest.raises(
        ForecastInputError,
        match=rf"^no Dask scheduler answers at '{address}' within 1 s .*; fix: start one with "
        r"`forecast cluster up --workers N`",
    ):
        run_backtest(CONFIG, backend="dask", scheduler=address)
    assert time.monotonic() - start < 5


def test_a_port_that_accepts_but_never_answers_is_a_one_line_error_within_seconds(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(SPEC))
    with socket.socket() as silent:  # the kernel accepts connections; nobody answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        address = f"tcp://127.0.0.1:{silent.getsockname()[1]}"
        out = str(tmp_path / "run")
        argv = ["backtest", str(spec), "--scheduler", address, "--no-track", "--out", out]
        timed = (  # the connection alone (not the imports of a loaded machine), then the CLI
            "import sys, time\n"
            "from forecast._errors import ForecastInputError\n"
            "from forecast.backtest._cluster import connect\n"
            "from forecast.cli import main\n"
            "import distributed\n"
            "start = time.monotonic()\n"
            "try:\n"
            f"    connect({address!r})\n"
            "except ForecastInputError:\n"
            "    print(time.monotonic() - start)\n"
            f"sys.exit(main({argv!r}))\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", timed], capture_output=True, text=True, timeout=120
        )
    assert done.returncode == 2, done.stderr[-2000:]
    assert done.stderr.splitlines() == [
        f"forecast: error: no Dask scheduler answers at '{address}' within 5 s (something "
        "accepts the connection but does not speak Dask); fix: start one with `forecast "
        "cluster up --workers N` and pass the address it prints, or check the address and "
        "the network"
    ]
    assert float(done.stdout) < CONNECT_SECONDS + 2


@pytest.mark.parametrize("address", ["foo", "", "http://127.0.0.1:8786", "tcp://host"])
def test_a_malformed_scheduler_address_is_refused_at_once(address):
    start = time.monotonic()
    with pytest.raises(ForecastInputError, match=r"is not a Dask scheduler address; fix: pass"):
        run_backtest(CONFIG, backend="dask", scheduler=address)
    assert time.monotonic() - start < 1


def test_without_dask_the_backend_and_the_command_name_the_extra(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed fails
    extra = r"needs Dask distributed, which is not installed; fix: pip install 'atrocity-forecast\[dask\]'"
    with pytest.raises(ForecastInputError, match="^the dask backend " + extra):
        run_backtest(CONFIG, backend="dask")
    assert main(["cluster", "up", "--workers", "1", "--port", "0"]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert re.fullmatch("forecast: error: `forecast cluster` " + extra, line)


def test_cluster_up_on_a_taken_port_is_a_one_line_error(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["cluster", "up", "--workers", "1", "--port", str(port)]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith(f"forecast: error: port {port} is taken on 127.0.0.1")
    assert line.endswith(
        "fix: pass another --port, or --port 0 for a free one, or stop what uses it"
    )


def test_float32_features_make_a_float32_design_matrix(toy_panel):
    frame = toy_panel.frame.astype({f: "float32" for f in toy_panel.features})
    lean = Panel.from_frame(frame, features=toy_panel.features, outcomes=["mk_onset"], name="t")
    config = dataclasses.replace(
        experiment_from_dict({**SPEC, "models": ["logit"], "min_train_years": 5}),
        origins=(2000, 2005),
    )
    for panel, itemsize in ((toy_panel, 8), (lean, 4)):
        execution = run_backtest(config, panel=panel, backend="sequential").execution
        n = len(panel.frame)
        assert execution.shared_bytes == n * len(panel.features) * itemsize + 2 * n * 8


def test_a_scheduler_means_dask_and_loky_with_a_scheduler_is_an_error(capsys):
    argv = ["backtest", "spec.yaml", "--backend", "loky", "--scheduler", "tcp://127.0.0.1:1"]
    assert main(argv) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line == (
        "forecast: error: --scheduler tcp://127.0.0.1:1 needs --backend dask, got --backend "
        "loky; fix: drop --backend loky, or drop --scheduler to run here"
    )


def _read_line(stream, pattern: str, seconds: float) -> re.Match:
    """The first line of ``stream`` matching ``pattern``, read in a thread (bounded wait)."""
    found: list[re.Match] = []

    def read() -> None:
        for line in stream:
            if match := re.search(pattern, line):
                found.append(match)
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(seconds)
    assert found, f"no line matching {pattern!r} within {seconds} s"
    return found[0]


def _listening(*pids: int) -> list[tuple[str, int]]:
    """``(ip, port)`` of every listening TCP socket of the processes ``pids`` and their
    descendants."""
    import psutil

    roots = [psutil.Process(pid) for pid in pids]
    sockets = []
    for process in [*roots, *(p for root in roots for p in root.children(recursive=True))]:
        with contextlib.suppress(psutil.NoSuchProcess):
            sockets += [
                (c.laddr.ip, c.laddr.port)
                for c in process.net_connections(kind="inet")
                if c.status == psutil.CONN_LISTEN
            ]
    return sockets


def _loopback(ip: str) -> bool:
    address = ipaddress.ip_address(ip)
    return (getattr(address, "ipv4_mapped", None) or address).is_loopback


def test_cluster_up_listens_on_loopback_only_then_backtest_on_it_from_the_command_line(
    tmp_path, capsys
):
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump({**SPEC, "models": SPEC["models"][:1]}))
    up = subprocess.Popen(
        [sys.executable, "-m", "forecast.cli", "cluster", "up", "--workers", "2", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        address = _read_line(up.stdout, r"^scheduler\s+(tcp://127\.0\.0\.1:(\d+))$", 90)
        listening = _listening(up.pid)  # printed once every worker has registered
        # scheduler and its HTTP server; per worker: nanny, worker and its HTTP server
        assert len(listening) >= 2 + 2 * 3, listening
        assert [s for s in listening if not _loopback(s[0])] == []
        runs = {}
        for backend in ("loky", "dask"):
            out = tmp_path / backend
            flags = ["--backend", "dask", "--scheduler", address[1]]
            if backend == "loky":
                flags = ["--n-jobs", "2"]  # the default backend
            argv = ["backtest", str(spec), *flags, "--no-cache"]
            assert main([*argv, "--no-track", "--no-report", "--out", str(out)]) == 0
            runs[backend] = pd.read_parquet(out / "forecasts.parquet")
        pd.testing.assert_frame_equal(runs["loky"], runs["dask"], check_exact=True)
    finally:
        up.send_signal(signal.SIGTERM)
        try:
            rest, errors = up.communicate(timeout=40)
        except subprocess.TimeoutExpired:
            up.kill()
            raise
    assert up.returncode == 0, errors
    assert "Traceback" not in errors
    assert rest.rstrip().endswith("cluster stopped (workers, then scheduler)")
    assert not _answers(int(address[2]))  # the scheduler is gone


@pytest.mark.parametrize(
    ("flags", "error"),
    [
        (
            ["--listen", "0.0.0.0"],
            "listening on 0.0.0.0 runs code for whoever can connect to it, and the cluster "
            "has no TLS; fix: pass --tls-ca-file, --tls-cert and --tls-key (only holders of a "
            "certificate signed by that CA can connect), or --insecure-no-tls on a network "
            "where you trust everyone",
        ),
        (
            ["--listen", "0.0.0.0", "--tls-cert", "c.pem", "--tls-key", "k.pem"],
            "TLS needs --tls-ca-file, --tls-cert and --tls-key together; fix: pass all three "
            "PEM files, or none",
        ),
        (
            ["--listen", "0.0.0.0", "--tls-ca-file", "ca.pem", "--tls-cert", "c.pem",
             "--tls-key", "k.pem"],
            "--tls-ca-file ca.pem does not exist; fix: pass a PEM file to --tls-ca-file",
        ),
        (
            ["--listen", "192.0.2.1", "--insecure-no-tls"],  # TEST-NET-1: no machine's address
            "cannot listen on '192.0.2.1': it is not an address of this machine; fix: pass "
            "one of this machine's IP addresses to --listen, or 0.0.0.0 for all",
        ),
    ],
)  # fmt: skip
def test_cluster_up_on_a_network_needs_tls_or_the_insecure_flag(
    flags, error, capsys, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    assert main(["cluster", "up", "--workers", "1", "--port", "0", *flags]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line == f"forecast: error: {error}"


def _tls_files(folder: Path) -> TLSFiles:
    """A new CA and one certificate it signed (for 127.0.0.1), as PEM files in ``folder``."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    def name(text: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])

    now = datetime.datetime.now(datetime.UTC)

    def certificate(subject: str, key, issuer: str, signer, ca: bool) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(name(subject))
            .issuer_name(name(issuer))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            san = x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
            builder = builder.add_extension(san, critical=False)
        return builder.sign(signer, hashes.SHA256())

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    files = TLSFiles(folder / "ca.pem", folder / "cert.pem", folder / "key.pem")
    pem = serialization.Encoding.PEM
    files.ca_file.write_bytes(certificate("ca", ca_key, "ca", ca_key, True).public_bytes(pem))
    files.cert.write_bytes(certificate("node", key, "ca", ca_key, False).public_bytes(pem))
    files.key.write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return files


def test_a_tls_cluster_serves_holders_of_a_certificate_only(tmp_path, monkeypatch):
    import dask

    from forecast.backtest._cluster import connect

    files = _tls_files(tmp_path)
    (tmp_path / "other").mkdir()
    other = _tls_files(tmp_path / "other")  # signed by another CA

    def client_files(cert: Path, key: Path) -> dict[str, str]:
        return {
            "distributed.comm.tls.ca-file": str(files.ca_file),
            "distributed.comm.tls.client.cert": str(cert),
            "distributed.comm.tls.client.key": str(key),
        }

    with ProcessCluster(1, port=0, tls=files) as cluster:
        assert cluster.address.startswith("tls://127.0.0.1:")
        started = [p.pid for p in [cluster._scheduler, *cluster._workers] if p is not None]
        listening = _listening(*started)
        assert len(listening) >= 2 + 3 and not [s for s in listening if not _loopback(s[0])]
        with pytest.raises(ForecastInputError, match="needs TLS and no certificate is configured"):
            connect(cluster.address)
        with (
            dask.config.set(client_files(other.cert, other.key)),
            pytest.raises(ForecastInputError, match="^no Dask scheduler answers at"),
        ):
            connect(cluster.address)  # the scheduler refuses a certificate of another CA
        with (
            dask.config.set(client_files(files.cert, files.key)),
            connect(cluster.address) as client,
        ):
            assert client.submit(sum, [1, 2], pure=False).result(timeout=30) == 3
