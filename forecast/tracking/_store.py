"""Reaching an MLflow store: the URI, a bounded reachability check, experiments, batches.

The one place that knows MLflow's failure modes: an HTTP server that is down (MLflow retries
for minutes by default: the check here takes seconds), a SQLite store that is read-only or
whose folder is missing, and two first runs creating a fresh SQLite store at once (a file lock
serialises the schema migration).
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from forecast._errors import input_error

__all__ = [
    "BATCH",
    "BUSY_TIMEOUT_MS",
    "EXPERIMENT_KIND",
    "check_store",
    "client",
    "default_tracking_uri",
    "experiment_id",
    "log_batched",
    "refuse_foreign_active_run",
    "sqlite_path",
]

BATCH = 900
"""Metrics per ``log_batch`` call (MLflow accepts at most 1000)."""

EXPERIMENT_KIND = ("mlflow.experimentKind", "custom_model_development")
"""Experiment tag that makes MLflow 3's UI open the runs table, not the GenAI overview."""

CHECK_TIMEOUT = 5.0
"""Seconds the reachability check of an HTTP store may take."""

BUSY_TIMEOUT_MS = 5000
"""Milliseconds a statement on a SQLite store waits for a lock held by another process
(MLflow sets 20 s per session, and a locked store then takes minutes to give up)."""

_MLFLOW_BUSY = "PRAGMA busy_timeout = 20000;"

_HTTP_LIMITS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "30",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
}


def default_tracking_uri() -> str:
    """``$MLFLOW_TRACKING_URI`` or a SQLite store ``mlflow.db`` in the working directory."""
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{Path.cwd() / 'mlflow.db'}"


def sqlite_path(uri: str) -> Path | None:
    """The database file of a ``sqlite:///`` URI, else None."""
    return (
        Path(uri.removeprefix("sqlite:///")).expanduser() if uri.startswith("sqlite:///") else None
    )


def _short_busy_timeout(conn, cursor, statement, parameters, context, executemany):
    if statement == _MLFLOW_BUSY:
        statement = f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS};"
    return statement, parameters


def _bound_sqlite_waits() -> None:
    """Make MLflow's SQLite sessions wait :data:`BUSY_TIMEOUT_MS` for a lock, and keep its
    per-statement tracebacks off stderr (a failure reaches the caller as one exception)."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    if not event.contains(Engine, "before_cursor_execute", _short_busy_timeout):
        event.listen(Engine, "before_cursor_execute", _short_busy_timeout, retval=True)
    _quiet_sqlalchemy()


def client(uri: str) -> Any:
    """An ``MlflowClient`` for tracking and registry at ``uri``, with bounded HTTP retries
    and bounded SQLite lock waits."""
    for key, value in _HTTP_LIMITS.items():
        os.environ.setdefault(key, value)
    if sqlite_path(uri) is not None:
        _bound_sqlite_waits()
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def _unreachable(uri: str, reason: str, fix: str):
    return input_error(f"cannot reach tracking URI {uri!r} ({reason})", fix=fix)


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    import fcntl

    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _quiet_sqlalchemy() -> None:
    for name in ("alembic", "sqlalchemy"):
        logging.getLogger(name).setLevel(logging.ERROR)
    logging.getLogger("mlflow.store.db.utils").setLevel(logging.CRITICAL)


def check_store(uri: str, *, create: bool = True) -> None:
    """Fail fast, in one line naming ``uri``, when the store cannot be used.

    SQLite: the folder must exist and be writable, and so must an existing database file;
    a fresh store is created (schema migrated) under a file lock, so concurrent first runs
    both succeed. HTTP(S): the server must answer within :data:`CHECK_TIMEOUT` seconds.
    With ``create=False`` a missing SQLite file is an error (reading needs a store).
    """
    fix = "start the tracking server or pass another --tracking-uri"
    path = sqlite_path(uri)
    if path is not None:
        folder = path.parent
        if not path.is_file() and not create:
            raise input_error(
                f"no MLflow store at {uri!r} (file {path} does not exist)",
                fix="pass the --tracking-uri used by `forecast backtest`",
            )
        if not folder.is_dir():
            raise _unreachable(
                uri,
                f"folder {folder} does not exist",
                "create the folder or pass another --tracking-uri",
            )
        writable = os.access(path, os.W_OK) if path.is_file() else os.access(folder, os.W_OK)
        if create and not writable:
            raise _unreachable(
                uri,
                f"{path if path.is_file() else folder} is read-only",
                "make it writable or pass another --tracking-uri",
            )
        _quiet_sqlalchemy()
        try:
            lock = _file_lock(folder / f".{path.name}.lock")
            lock.__enter__()
        except OSError as error:
            raise _unreachable(
                uri,
                f"{folder} is not writable ({error.strerror})",
                "make it writable or pass another --tracking-uri",
            ) from None
        try:
            _search(uri, fix)
        finally:
            lock.__exit__(None, None, None)
        return
    if uri.startswith(("http://", "https://")):
        start = time.monotonic()
        try:
            with urllib.request.urlopen(uri.rstrip("/") + "/health", timeout=CHECK_TIMEOUT):
                pass
        except urllib.error.HTTPError:
            pass  # it answered: a server without /health is still a server
        except (OSError, ValueError) as error:
            reason = getattr(error, "reason", error)
            raise _unreachable(
                uri, f"{reason}; gave up after {time.monotonic() - start:.1f} s", fix
            ) from None
    _search(uri, fix)


def _search(uri: str, fix: str) -> None:
    try:
        client(uri).search_experiments(max_results=1)
    except Exception as error:  # any backend failure means unreachable
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise _unreachable(uri, message[:200], fix) from None


def experiment_id(mlflow_client: Any, name: str) -> str:
    """Id of experiment ``name``, created (tagged as model training) when missing."""
    found = mlflow_client.get_experiment_by_name(name)
    if found is None:
        try:
            return mlflow_client.create_experiment(name, tags=dict([EXPERIMENT_KIND]))
        except Exception:  # created meanwhile by a concurrent run
            found = mlflow_client.get_experiment_by_name(name)
            if found is None:
                raise
    if found.tags.get(EXPERIMENT_KIND[0]) is None:
        mlflow_client.set_experiment_tag(found.experiment_id, *EXPERIMENT_KIND)
    return found.experiment_id


def refuse_foreign_active_run(handed_over: str | None, action: str) -> None:
    """Refuse to log while another MLflow run is active in this process (except the run that
    ``mlflow run`` handed over through ``MLFLOW_RUN_ID``)."""
    import mlflow

    active = mlflow.active_run()
    if active is not None and active.info.run_id != handed_over:
        raise input_error(
            f"an MLflow run ({active.info.run_id}) is already active in this process",
            fix=f"call mlflow.end_run() before {action}",
        )


def log_batched(mlflow_client: Any, run_id: str, metrics: Sequence[Any]) -> None:
    """Log ``metrics`` (``mlflow.entities.Metric``) in batches of :data:`BATCH`."""
    for start in range(0, len(metrics), BATCH):
        mlflow_client.log_batch(run_id, metrics=list(metrics[start : start + BATCH]))
