"""``forecast cluster up``: a Dask scheduler and workers for ``backtest --backend dask``."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import time
from collections.abc import Iterator
from typing import Any

import click

from forecast._errors import input_error
from forecast.commands._common import PATH, Group, options

__all__ = ["cluster"]

_DESCRIPTION = """\
Start a Dask scheduler and N worker processes on this machine (this Python; each worker
under a nanny that restarts it if it dies), print the scheduler's address and dashboard,
and stay in the foreground until Ctrl-C or SIGTERM, which stop the workers, then the
scheduler. Run backtests on it from another terminal:

\b
  forecast backtest SPEC --backend dask --scheduler tcp://127.0.0.1:8786

The panel is sent to each worker once; a task carries its rows and its model spec, and a
task whose worker dies is rerun on another. Results are bit-identical to the loky backend
and share its task cache.

The scheduler and workers run whatever code a client sends them. They listen on 127.0.0.1
only, unless --listen names another address: then whoever can connect to it runs code as
you, so --listen needs mutual TLS (--tls-ca-file, --tls-cert, --tls-key: only holders of a
certificate signed by that CA connect), or --insecure-no-tls. The dashboard stays on
127.0.0.1 (reach it from elsewhere with an SSH tunnel).
"""

_EPILOG = """\
several machines: `forecast cluster up --listen THIS_IP --tls-ca-file CA --tls-cert CERT
--tls-key KEY` here, then, from the same Python environment with atrocity-forecast[dask]
installed on every machine:

\b
  dask worker tls://THIS_IP:8786 --nthreads 1 --tls-ca-file CA --tls-cert CERT --tls-key KEY
  DASK_DISTRIBUTED__COMM__TLS__CA_FILE=CA DASK_DISTRIBUTED__COMM__TLS__CLIENT__CERT=CERT \\
  DASK_DISTRIBUTED__COMM__TLS__CLIENT__KEY=KEY \\
    forecast backtest SPEC --backend dask --scheduler tls://THIS_IP:8786

A Dask scheduler runs whatever code its clients send: without TLS, expose it to no one.
"""


_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@contextlib.contextmanager
def _on_stop(handler: Any) -> Iterator[None]:
    """Ctrl-C and SIGTERM handled by ``handler`` in the block: ``_interrupt`` raises
    KeyboardInterrupt (even when a shell started this process in the background with Ctrl-C
    ignored); ``signal.SIG_IGN`` ignores them (a clean stop is not cut short)."""
    previous = {s: signal.signal(s, handler) for s in _STOP_SIGNALS}
    try:
        yield
    finally:
        for number, old in previous.items():
            signal.signal(number, old)


def _watch(cluster) -> None:
    """Return never: fail when the scheduler or every worker exits, warn when one does."""
    running = cluster.workers
    while True:
        time.sleep(0.5)
        scheduler, now = cluster.alive()
        if not scheduler or now == 0:
            what = "the scheduler" if not scheduler else "every worker process"
            raise input_error(
                f"{what} exited; the cluster is stopped",
                fix="read the error above, then run `forecast cluster up` again",
            )
        if now < running:
            print(
                f"forecast: warning: {cluster.workers - now} of {cluster.workers} worker "
                "processes exited; the cluster goes on with the others",
                file=sys.stderr,
                flush=True,
            )
            running = now


_TLS = (
    ("--tls-ca-file", "the CA that signed every certificate of the cluster and its clients"),
    ("--tls-cert", "this machine's certificate"),
    ("--tls-key", "this machine's private key"),
)
cluster = Group("cluster", short_help="a local Dask cluster for `backtest --backend dask`")


@cluster.command(
    "up",
    short_help="start a Dask scheduler and N workers here; Ctrl-C stops them",
    help=_DESCRIPTION,
    epilog=_EPILOG,
)
@click.option("--workers", type=int, required=True, metavar="N", help="worker processes")
@click.option(
    "--threads-per-worker",
    type=int,
    default=1,
    metavar="T",
    help="threads per worker, one fit each (default 1)",
)
@click.option(
    "--port",
    type=int,
    default=8786,
    metavar="P",
    help="scheduler port (default 8786; 0 picks a free one)",
)
@click.option(
    "--listen",
    default="127.0.0.1",
    metavar="ADDRESS",
    help="listen on ADDRESS, an IP of this machine (0.0.0.0: every interface), instead "
    "of 127.0.0.1. The cluster runs code for whoever connects: needs the --tls-* files "
    "or --insecure-no-tls",
)
@options(*(click.option(f, type=PATH, metavar="PEM", help=f"mutual TLS: {w}") for f, w in _TLS))
@click.option(
    "--insecure-no-tls",
    is_flag=True,
    help="with --listen, accept connections without TLS: whoever reaches ADDRESS runs "
    "any code as you",
)
@click.option(
    "--memory-limit",
    default="auto",
    metavar="SIZE",
    help="memory per worker, e.g. 4GB or 0.25 (of the machine); default auto",
)
def _up(args: argparse.Namespace) -> int:
    from forecast.backtest import ProcessCluster, TLSFiles

    tls_files = (args.tls_ca_file, args.tls_cert, args.tls_key)
    if any(tls_files) and not all(tls_files):
        raise input_error(
            "TLS needs --tls-ca-file, --tls-cert and --tls-key together",
            fix="pass all three PEM files, or none",
        )
    cluster = ProcessCluster(
        args.workers,
        threads_per_worker=args.threads_per_worker,
        port=args.port,
        memory_limit=args.memory_limit,
        listen=args.listen,
        tls=TLSFiles(*tls_files) if all(tls_files) else None,
        insecure=args.insecure_no_tls,
    )
    try:
        with _on_stop(_interrupt):
            cluster.start()
            threads = f"{args.threads_per_worker} thread{'s' * (args.threads_per_worker > 1)}"
            print(f"scheduler  {cluster.address}")
            print(f"dashboard  {cluster.dashboard_link or 'none (pip install bokeh for one)'}")
            print(
                f"workers    {args.workers} x {threads}; run backtests with: forecast backtest "
                f"SPEC --backend dask --scheduler {cluster.address}"
            )
            if cluster.tls is not None:
                print(
                    "clients    need TLS files: set DASK_DISTRIBUTED__COMM__TLS__CA_FILE, "
                    "..._CLIENT__CERT and ..._CLIENT__KEY (see --help)"
                )
            elif args.insecure_no_tls:
                print(
                    f"forecast: warning: no TLS: whoever can connect to {cluster.address} "
                    "runs any code as you",
                    file=sys.stderr,
                )
            print("Ctrl-C stops the cluster", flush=True)
            _watch(cluster)
    except KeyboardInterrupt:
        pass
    finally:
        with _on_stop(signal.SIG_IGN):
            cluster.stop()
    print("cluster stopped (workers, then scheduler)", flush=True)
    return 0
