"""Dask on this machine: connect to a scheduler, or run a scheduler and worker processes."""

from __future__ import annotations

import contextlib
import ipaddress
import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from forecast._errors import input_error

__all__ = ["CONNECT_SECONDS", "ProcessCluster", "TLSFiles", "connect", "require_distributed"]

CONNECT_SECONDS = 5.0
"""How long a scheduler address may take to answer before the backtest fails."""

NO_WORKERS_SECONDS = 60.0
"""How long a backtest waits for a scheduler without workers to get one."""

_EXTRA = "pip install 'atrocity-forecast[dask]'"


def require_distributed(what: str = "the dask backend") -> Any:
    """The ``distributed`` module, or a one-line error naming the extra that installs it."""
    try:
        import distributed
    except ImportError as error:
        raise input_error(
            f"{what} needs Dask distributed, which is not installed", fix=_EXTRA
        ) from error
    return distributed


def connect(scheduler: str | None) -> Any:
    """A :class:`distributed.Client` of ``scheduler``, or of a new in-process cluster.

    Parameters
    ----------
    scheduler : str or None
        Address of a running scheduler (``tcp://host:port``, printed by ``forecast cluster
        up`` or ``dask scheduler``); None starts an in-process cluster of threads.

    Raises
    ------
    ForecastInputError
        Dask distributed is not installed, the scheduler does not answer within
        :data:`CONNECT_SECONDS`, or it has no worker after :data:`NO_WORKERS_SECONDS`; a
        ``tls://`` scheduler without certificates in Dask's configuration.
    """
    distributed = require_distributed()
    if scheduler is None:
        return distributed.Client(processes=False, dashboard_address=None, set_as_default=False)
    _check_scheduler_address(scheduler)
    if scheduler.strip().startswith("tls://"):
        security = distributed.Security()  # from Dask's configuration
        if not (security.tls_ca_file and security.tls_client_cert):
            raise input_error(
                f"the scheduler {scheduler} needs TLS and no certificate is configured",
                fix="set DASK_DISTRIBUTED__COMM__TLS__CA_FILE, "
                "DASK_DISTRIBUTED__COMM__TLS__CLIENT__CERT and "
                "DASK_DISTRIBUTED__COMM__TLS__CLIENT__KEY to the CA, certificate and key files",
            )
    try:
        client = distributed.Client(scheduler, timeout=CONNECT_SECONDS, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as error:
        raise input_error(
            f"no Dask scheduler answers at {scheduler!r} within {CONNECT_SECONDS:g} s "
            f"({type(error).__name__})",
            fix="start one with `forecast cluster up --workers N` and pass the address it "
            "prints, or check the address and the network",
        ) from error
    try:
        client.wait_for_workers(1, timeout=NO_WORKERS_SECONDS)
    except TimeoutError as error:
        client.close()
        raise input_error(
            f"the Dask scheduler at {scheduler} has no worker after {NO_WORKERS_SECONDS:g} s",
            fix=f"start workers with `dask worker {scheduler}` (or use `forecast cluster up`)",
        ) from error
    return client


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def _port_free(host: str, port: int) -> bool:
    with socket.socket(_family(host), socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers do: a port
        try:  # that recent connections keep in TIME_WAIT is free, one that is listened on is not
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _free_port(host: str) -> int:
    with socket.socket(_family(host), socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


_PROTOCOLS = ("tcp", "tls", "inproc", "ucx", "ws", "wss")
"""Dask comm protocols a scheduler address may name (``tcp`` when none is given)."""
_HOST_PORT = re.compile(r"^(?P<host>[^\s/:]+|\[[0-9a-fA-F:]+\]):(?P<port>\d+)$")


def _check_scheduler_address(address: str) -> None:
    """A one-line error for an address that is not ``[protocol://]host:port``, and, for TCP,
    for a port where nothing listens (checked with a plain socket, so no Dask client is
    left half-open)."""
    text = address.strip() if isinstance(address, str) else ""
    protocol, _, rest = text.rpartition("://")
    found = _HOST_PORT.match(rest) if protocol in ("", "tcp", "tls") else None
    if (
        protocol not in ("", *_PROTOCOLS)
        or not rest
        or (protocol in ("", "tcp", "tls") and not found)
    ):
        raise input_error(
            f"{address!r} is not a Dask scheduler address",
            fix="pass tcp://HOST:PORT, as printed by `forecast cluster up` or `dask scheduler`",
        )
    if found is not None and protocol in ("", "tcp"):
        host, port = found["host"].strip("[]"), int(found["port"])
        deadline = time.monotonic() + CONNECT_SECONDS
        fix = (
            "start one with `forecast cluster up --workers N` and pass the address it "
            "prints, or check the address and the network"
        )
        while not _answers(host, port):
            if time.monotonic() > deadline:
                raise input_error(
                    f"no Dask scheduler answers at {address!r} within {CONNECT_SECONDS:g} s "
                    "(nothing listens on that port)",
                    fix=fix,
                )
            time.sleep(0.2)
        if not _greets(host, port, max(deadline - time.monotonic(), 1.0)):
            raise input_error(
                f"no Dask scheduler answers at {address!r} within {CONNECT_SECONDS:g} s "
                "(something accepts the connection but does not speak Dask)",
                fix=fix,
            )


def _answers(host: str, port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
        return True
    return False


def _greets(host: str, port: int, seconds: float) -> bool:
    """Whether the server at ``host:port`` sends its first bytes within ``seconds`` of the
    connection, as a Dask server sends its handshake at once (Dask's own client waits for
    it without a deadline)."""
    with contextlib.suppress(OSError), socket.create_connection((host, port), seconds) as sock:
        sock.settimeout(seconds)
        return bool(sock.recv(1))
    return False


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: the child gets SIGTERM when the process that started it dies (even by SIGKILL)."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _check_memory_limit(value: str) -> None:
    if value == "auto":
        return
    with contextlib.suppress(ValueError):
        float(value)
        return
    from dask.utils import parse_bytes

    try:
        parse_bytes(value)
    except ValueError as error:
        raise input_error(
            f"--memory-limit must be 'auto', a fraction of the machine's memory or a size, "
            f"got {value!r}",
            fix="e.g. --memory-limit 4GB (per worker) or 0.25",
        ) from error


@dataclass(frozen=True)
class TLSFiles:
    """Mutual TLS for a cluster (Dask's security): the CA that signed every certificate,
    and this machine's certificate and private key (PEM files). The scheduler and workers
    accept only peers whose certificate the CA signed, and clients must present one."""

    ca_file: Path
    cert: Path
    key: Path

    def _options(self) -> tuple[tuple[str, Path], ...]:
        """``(flag, file)`` of the ``dask scheduler`` / ``dask worker`` options (and ours)."""
        return (
            ("--tls-ca-file", self.ca_file),
            ("--tls-cert", self.cert),
            ("--tls-key", self.key),
        )

    def check(self) -> None:
        """A one-line error naming the first file that does not exist."""
        for flag, path in self._options():
            if not Path(path).is_file():
                raise input_error(f"{flag} {path} does not exist", fix=f"pass a PEM file to {flag}")

    def flags(self) -> list[str]:
        """The ``dask scheduler`` / ``dask worker`` options."""
        return [text for flag, path in self._options() for text in (flag, str(path))]

    def security(self) -> Any:
        """A :class:`distributed.Security` for a client of the cluster."""
        from distributed import Security

        return Security(
            tls_ca_file=str(self.ca_file),
            tls_client_cert=str(self.cert),
            tls_client_key=str(self.key),
            require_encryption=True,
        )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class ProcessCluster:
    """A Dask scheduler and ``workers`` worker processes on this machine.

    The processes are ``python -m dask scheduler`` and ``python -m dask worker ADDRESS`` of
    this Python (each worker under a nanny, which restarts it if it dies). Every socket they
    listen on is on ``127.0.0.1`` unless ``listen`` names another address; the dashboard and
    the workers' HTTP servers stay on ``127.0.0.1`` even then. On Linux they stop when the
    process that started them dies.

    A Dask scheduler and its workers run whatever code a client sends. Listening on a
    network therefore needs ``tls`` (only holders of a certificate signed by its CA can
    connect), or ``insecure=True`` to run code for anyone who can reach the address.

    Parameters
    ----------
    workers : int
        Number of worker processes.
    threads_per_worker : int, default 1
        Threads per worker (one fit per thread).
    port : int, default 8786
        Scheduler port; 0 picks a free one.
    memory_limit : str, default 'auto'
        Memory per worker (``'4GB'``, a fraction such as ``'0.25'``, or ``'auto'``).
    dashboard_port : int, default 8787
        Dashboard port (needs bokeh); a free one when it is taken.
    listen : str, default '127.0.0.1'
        The address the scheduler and workers listen on (an IP address of this machine, or
        ``0.0.0.0`` for every interface).
    tls : TLSFiles or None
        Mutual TLS; required when ``listen`` is not a loopback address, unless ``insecure``.
    insecure : bool, default False
        Listen on a network without TLS: whoever reaches the address runs any code as the
        user who started the cluster.

    Attributes
    ----------
    address : str
        ``tcp://127.0.0.1:PORT`` (``tls://`` with ``tls``), once started.
    dashboard_link : str or None
        The dashboard's URL, or None without bokeh.
    """

    local = "127.0.0.1"
    """Where the dashboard and the workers' HTTP servers listen, whatever ``listen`` is."""

    def __init__(
        self,
        workers: int,
        *,
        threads_per_worker: int = 1,
        port: int = 8786,
        memory_limit: str = "auto",
        dashboard_port: int = 8787,
        listen: str = "127.0.0.1",
        tls: TLSFiles | None = None,
        insecure: bool = False,
    ):
        self.host = listen
        self.tls = tls
        self.insecure = insecure
        self.workers = workers
        self.threads_per_worker = threads_per_worker
        self.port = port
        self.memory_limit = memory_limit
        self.dashboard_port = dashboard_port
        self.address = ""
        self.dashboard_link: str | None = None
        self._scheduler: subprocess.Popen | None = None
        self._workers: list[subprocess.Popen] = []

    def _validate(self) -> None:
        require_distributed("`forecast cluster`")
        for what, flag, value in (
            ("the number of workers", "--workers", self.workers),
            ("the threads per worker", "--threads-per-worker", self.threads_per_worker),
        ):
            if not isinstance(value, int) or value < 1:
                raise input_error(
                    f"{what} ({flag}) must be an integer >= 1, got {value!r}",
                    fix=f"e.g. {flag} 2",
                )
        self._check_listen()
        if not 0 <= self.port <= 65535:
            raise input_error(
                f"the port (--port) must be in 0..65535, got {self.port}",
                fix="e.g. --port 8786, or --port 0 for a free one",
            )
        if self.port and not _port_free(self.host, self.port):
            raise input_error(
                f"port {self.port} is taken on {self.host} (another scheduler or server uses it)",
                fix="pass another --port, or --port 0 for a free one, or stop what uses it",
            )
        _check_memory_limit(self.memory_limit)

    def _check_listen(self) -> None:
        if self.tls is not None:
            self.tls.check()
        elif not (_is_loopback(self.host) or self.insecure):
            raise input_error(
                f"listening on {self.host} runs code for whoever can connect to it, and "
                "the cluster has no TLS",
                fix="pass --tls-ca-file, --tls-cert and --tls-key (only holders of a "
                "certificate signed by that CA can connect), or --insecure-no-tls on a "
                "network where you trust everyone",
            )
        with contextlib.suppress(OSError), socket.socket(_family(self.host)) as probe:
            probe.bind((self.host, 0))
            return
        raise input_error(
            f"cannot listen on {self.host!r}: it is not an address of this machine",
            fix="pass one of this machine's IP addresses to --listen, or 0.0.0.0 for all",
        )

    def _spawn(self, *args: str) -> subprocess.Popen:
        env = {
            **os.environ,
            "DASK_LOGGING__DISTRIBUTED": os.environ.get("DASK_LOGGING__DISTRIBUTED", "warning"),
        }
        return subprocess.Popen(
            [sys.executable, "-m", "dask", *args],
            env=env,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C reaches this process only: it stops them in order
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )

    def start(self, timeout: float = 60.0) -> ProcessCluster:
        """Start the scheduler, then the workers; return once every worker has registered.

        Raises
        ------
        ForecastInputError
            Dask is not installed, the port is taken, an option is invalid, or the cluster
            is not up within ``timeout`` seconds (everything started is stopped).
        """
        self._validate()
        port = self.port or _free_port(self.host)
        protocol = "tls" if self.tls else "tcp"
        host = f"[{self.host}]" if ":" in self.host else self.host
        self.address = f"{protocol}://{host}:{port}"
        tls = self.tls.flags() if self.tls else []
        # The HTTP server (health, metrics; the dashboard with bokeh) runs even without bokeh,
        # by default on every interface.
        free = _port_free(self.local, self.dashboard_port)
        dashboard_port = self.dashboard_port if free else _free_port(self.local)
        dashboard = ["--dashboard-address", f"{self.local}:{dashboard_port}"]
        try:
            import bokeh  # noqa: F401
        except ImportError:
            dashboard.append("--no-dashboard")
        else:
            self.dashboard_link = f"http://{self.local}:{dashboard_port}/status"
        deadline = time.monotonic() + timeout
        try:
            self._scheduler = self._spawn(
                "scheduler", "--host", self.host, "--port", str(port), "--protocol", protocol,
                *dashboard, *tls,
            )  # fmt: skip
            while not _answers(self.host, port):
                self._check_alive(deadline, "the scheduler", timeout)
                time.sleep(0.1)
            self._workers = [
                self._spawn(
                    "worker",
                    self.address,
                    "--nthreads",
                    str(self.threads_per_worker),
                    "--memory-limit",
                    self.memory_limit,
                    "--name",
                    f"forecast-{i}",
                    "--host",  # the worker and its nanny
                    self.host,
                    "--dashboard-address",  # the worker's HTTP server
                    f"{self.local}:0",
                    "--no-dashboard",
                    *tls,
                )
                for i in range(self.workers)
            ]
            self._wait_for_workers(deadline, timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _check_alive(self, deadline: float, what: str, timeout: float) -> None:
        for process in [self._scheduler, *self._workers]:
            if process is not None and process.poll() is not None:
                command = " ".join(map(str, list(process.args)[2:]))  # type: ignore[arg-type]
                raise input_error(
                    f"{what} did not start: `{command}` exited with code {process.returncode}",
                    fix="read its error above",
                )
        if time.monotonic() > deadline:
            raise input_error(
                f"{what} did not start within {timeout:g} s",
                fix="retry when the machine is less busy, or start fewer workers",
            )

    def _wait_for_workers(self, deadline: float, timeout: float) -> None:
        from distributed import Client

        security = self.tls.security() if self.tls else None
        with Client(
            self.address, timeout=CONNECT_SECONDS, security=security, set_as_default=False
        ) as client:
            while len(client.scheduler_info(n_workers=-1)["workers"]) < self.workers:
                self._check_alive(deadline, f"{self.workers} workers", timeout)
                time.sleep(0.2)

    def alive(self) -> tuple[bool, int]:
        """Whether the scheduler runs, and how many worker processes (nannies) run."""
        scheduler = self._scheduler is not None and self._scheduler.poll() is None
        return scheduler, sum(w.poll() is None for w in self._workers)

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the workers, then the scheduler: SIGTERM, then SIGKILL after ``timeout`` s."""
        for group in (self._workers, [self._scheduler] if self._scheduler else []):
            running = [p for p in group if p.poll() is None]
            for process in running:
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(signal.SIGTERM)
            end = time.monotonic() + timeout
            for process in running:
                try:
                    process.wait(max(end - time.monotonic(), 0.1))
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        self._workers, self._scheduler = [], None

    def __enter__(self) -> ProcessCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
