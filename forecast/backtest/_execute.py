"""Run a backtest's fits on joblib workers (loky, threading, sequential) or a Dask cluster.

Every fit reads the same panel arrays (design matrix, target, years) and the row positions
of its split. Those go to each worker once (a Dask scatter, a joblib memmap); a task
carries its cache key, the positions (joblib) or references to them (Dask) and its spec,
and slices where it runs, the very slices its cache key was computed from.
"""

from __future__ import annotations

import contextlib
import pickle
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from forecast._errors import input_error
from forecast.backtest._task import fit_predict

__all__ = ["Design", "Execution", "Executor", "Fit", "fit_rows", "open_executor", "task_arrays"]

RETRIES = 3
"""Times Dask reruns a task that raised. A task whose worker died is rerun on another worker
by the scheduler (up to its ``distributed.scheduler.allowed-failures``, 3 by default)."""

BACKENDS = ("loky", "threading", "sequential", "dask")

OnResult = Callable[[str, dict[str, Any]], None]


def recency_weights(years: np.ndarray, half_life: float | None) -> np.ndarray | None:
    """Weights ``0.5 ** ((max(years) - years) / half_life)``, or None without a half-life."""
    if not half_life:
        return None
    return np.power(0.5, (years.max() - years) / float(half_life))


def task_arrays(
    X: np.ndarray,
    target: np.ndarray,
    years: np.ndarray,
    train: np.ndarray,
    test: np.ndarray,
    half_life: float | None,
) -> list[np.ndarray | None]:
    """A fit's arrays: training features, target, recency weights and years; test features.

    The engine hashes them into the fit's cache key; :func:`fit_rows` fits on them.
    """
    years_train = years[train]
    return [
        np.asarray(X[train]),
        np.asarray(target[train]),
        recency_weights(years_train, half_life),
        np.asarray(years_train),
        np.asarray(X[test]),
    ]


def fit_rows(
    key: str,
    X: np.ndarray,
    target: np.ndarray,
    years: np.ndarray,
    train: np.ndarray,
    test: np.ndarray,
    spec: dict[str, Any],
    seed: int,
    half_life: float | None,
) -> tuple[str, dict[str, Any]]:
    """``(key, result)``: :func:`~forecast.backtest._task.fit_predict` on one split's rows."""
    X_train, y_train, w, years_train, X_test = task_arrays(X, target, years, train, test, half_life)
    return key, fit_predict(X_train, y_train, w, years_train, X_test, spec, seed)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Design:
    """The arrays every fit of a backtest slices.

    Attributes
    ----------
    X : ndarray of shape (n_rows, n_features)
        The panel's features, float32 when every feature column is float32, else float64.
    target, years : ndarray of shape (n_rows,)
    rows : tuple of (train, test) row positions, one per split
    half_life : float or None
        Of the recency weights.
    """

    X: np.ndarray
    target: np.ndarray
    years: np.ndarray
    rows: tuple[tuple[np.ndarray, np.ndarray], ...]
    half_life: float | None

    def arrays(self, split: int) -> list[np.ndarray | None]:
        """The :func:`task_arrays` of split number ``split``."""
        return task_arrays(self.X, self.target, self.years, *self.rows[split], self.half_life)


@dataclass(frozen=True)
class Fit:
    """One fit to run: its cache key, split number, spec, a name and its slices' bytes."""

    key: str
    split: int
    spec: dict[str, Any]
    name: str
    sliced_bytes: int


@dataclass(frozen=True)
class Execution:
    """How a backtest's fits ran and what was shipped to the workers to run them.

    Attributes
    ----------
    backend : str
        ``loky``, ``threading``, ``sequential`` or ``dask``.
    scheduler : str or None
        The Dask scheduler's address (None: in-process, or not Dask).
    workers : int
        Workers (joblib jobs, or Dask worker threads) when the fits started.
    fits : int
        Fits run (the others came from the cache).
    shared_bytes : int
        Sent once: the panel arrays (Dask also scatters the splits' row positions).
    task_bytes : int
        Carried by the tasks, summed over them: keys and specs (and, with joblib, the row
        positions; loky memmaps the large ones).
    sliced_bytes : int
        What the tasks would carry if each shipped its own training and test slices.
    """

    backend: str
    scheduler: str | None
    workers: int
    fits: int
    shared_bytes: int
    task_bytes: int
    sliced_bytes: int


def _small_bytes(fit: Fit, seed: int, half_life: float | None) -> int:
    return len(pickle.dumps((fit.key, fit.spec, seed, half_life)))


class Executor:
    """Runs fits on one backend; a Dask client is connected on creation (fail fast)."""

    def __init__(self, backend: str, scheduler: str | None, n_jobs: int):
        if backend not in BACKENDS:
            raise input_error(
                f"unknown backend {backend!r}", fix=f"use one of {list(BACKENDS)} (default loky)"
            )
        from forecast.backtest._cluster import connect, require_distributed

        self.backend, self.scheduler, self.n_jobs = backend, scheduler, n_jobs
        self._client = None
        if backend == "dask":
            require_distributed()
            if scheduler is not None:
                self._client = connect(scheduler)  # an address that does not answer fails here

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def run(self, fits: list[Fit], design: Design, seed: int, on_result: OnResult) -> Execution:
        """Run ``fits``, calling ``on_result(key, result)`` as each one finishes."""
        run = self._run_dask if self.backend == "dask" else self._run_joblib
        workers, shared, task = run(fits, design, seed, on_result) if fits else (0, 0, 0)
        return Execution(
            backend=self.backend,
            scheduler=self.scheduler if self.backend == "dask" else None,
            workers=workers,
            fits=len(fits),
            shared_bytes=shared,
            task_bytes=task,
            sliced_bytes=sum(f.sliced_bytes for f in fits),
        )

    def _run_joblib(
        self, fits: list[Fit], design: Design, seed: int, on_result: OnResult
    ) -> tuple[int, int, int]:
        import joblib

        X, target, years, half_life = design.X, design.target, design.years, design.half_life
        with joblib.parallel_config(backend=self.backend):
            workers = 1 if self.backend == "sequential" else joblib.effective_n_jobs(self.n_jobs)
            runner = joblib.Parallel(n_jobs=self.n_jobs, return_as="generator_unordered")
            jobs = (
                joblib.delayed(fit_rows)(
                    f.key, X, target, years, *design.rows[f.split], f.spec, seed, half_life
                )
                for f in fits
            )
            for key, result in runner(jobs):
                on_result(key, result)
        shared = X.nbytes + target.nbytes + years.nbytes
        task = sum(
            _small_bytes(f, seed, half_life) + sum(r.nbytes for r in design.rows[f.split])
            for f in fits
        )
        return workers, shared, task

    def _run_dask(
        self, fits: list[Fit], design: Design, seed: int, on_result: OnResult
    ) -> tuple[int, int, int]:
        from distributed import KilledWorker, as_completed

        from forecast.backtest._cluster import connect

        if self._client is None:
            self._client = connect(None)  # in-process, started only when there is work
        client = self._client
        workers = sum(
            w["nthreads"] for w in client.scheduler_info(n_workers=-1)["workers"].values()
        )
        splits = sorted({f.split for f in fits})
        arrays = [design.X, design.target, design.years]
        arrays += [r for s in splits for r in design.rows[s]]
        # One scatter, to every worker: a worker that dies loses no data, and each of the many
        # tasks that read them refers to these futures instead of carrying its own slices.
        shared = client.scatter(arrays, broadcast=True, hash=False)
        X, target, years = shared[:3]
        rows = {s: (shared[3 + 2 * i], shared[4 + 2 * i]) for i, s in enumerate(splits)}
        futures = [
            client.submit(
                fit_rows,
                f.key,
                X,
                target,
                years,
                *rows[f.split],
                f.spec,
                seed,
                design.half_life,
                key=f"fit-{f.name}-{f.key[:16]}",
                retries=RETRIES,
            )
            for f in fits
        ]
        try:
            for _, (key, result) in as_completed(futures, loop=client.loop, with_results=True):
                on_result(key, result)
        except KilledWorker as error:
            raise input_error(
                f"the fit {error.task} died with every Dask worker that ran it (out of "
                "memory?); the fits that finished are cached",
                fix="give the workers more memory (`forecast cluster up --memory-limit`) or "
                "fewer threads each, then run again",
            ) from error
        finally:
            client.cancel([*futures, *shared])
        task = sum(_small_bytes(f, seed, design.half_life) for f in fits)
        return workers, sum(a.nbytes for a in arrays), task


@contextlib.contextmanager
def open_executor(backend: str, scheduler: str | None, *, n_jobs: int) -> Iterator[Executor]:
    """An :class:`Executor`, closed (its Dask client with it) on exit."""
    executor = Executor(backend, scheduler, n_jobs)
    try:
        yield executor
    finally:
        executor.close()
