"""Rolling-origin splitter: each forecast sees only its past, with the gap set by the horizon."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from sklearn.model_selection import BaseCrossValidator

from forecast._errors import format_rows, input_error

__all__ = ["RollingOrigin", "Split", "check_no_lookahead"]


@dataclass(frozen=True)
class Split:
    """One origin: train on rows ``train``, forecast rows ``test`` (positions in the frame)."""

    origin: int
    train: np.ndarray
    test: np.ndarray
    train_start: int
    train_end: int


def check_no_lookahead(train_years: np.ndarray, origin: int, horizon: int) -> None:
    """Fail when a training row's outcome window (t+1..t+h) reaches past the origin."""
    if len(train_years) and int(np.max(train_years)) + horizon > origin:
        raise RuntimeError(
            f"leakage: a training row of year {int(np.max(train_years))} has an outcome window "
            f"ending in {int(np.max(train_years)) + horizon}, after the origin {origin}"
        )


class RollingOrigin(BaseCrossValidator):
    """Rolling-origin (expanding or sliding window) backtest splitter.

    For each origin year ``T`` the forecast is made from the features of year ``T``; the model
    is trained only on rows whose outcome window ``t+1..t+h`` is fully observed by ``T``, i.e.
    ``t <= T - h``, and whose outcome is known. The gap follows from ``horizon``.

    A scikit-learn splitter: ``split(X, y, groups)`` yields ``(train, test)`` index arrays, so
    ``cross_val_score(model, X, y, cv=RollingOrigin(...))`` backtests ``model``; the years come
    from ``groups`` or from the ``year_column`` of a DataFrame ``X``. The backtest engine uses
    :meth:`origin_splits` (one :class:`Split` per origin, with its training window).

    Parameters
    ----------
    horizon : int, default 2
        Years in the outcome window.
    origins : list of int, optional
        Explicit origin years; else every year from ``first_origin`` to ``last_origin``
        (defaults: the first year with ``min_train_years`` of trainable history, and the last
        year of the data).
    window : {'expanding', 'sliding'}
    max_train_years : int, optional
        Length of the sliding window (required when ``window='sliding'``).
    min_train_years : int, default 10
        Minimum number of trainable years before an origin is used.
    source : str, optional
        Where the settings come from (the experiment spec), named by every error.
    year_column : str, default 'year'
        The column of a DataFrame ``X`` holding each row's year (:meth:`split` without
        ``groups``).
    """

    def __init__(
        self,
        horizon: int = 2,
        *,
        origins: list[int] | None = None,
        first_origin: int | None = None,
        last_origin: int | None = None,
        window: Literal["expanding", "sliding"] = "expanding",
        max_train_years: int | None = None,
        min_train_years: int = 10,
        source: str | None = None,
        year_column: str = "year",
    ):
        self.horizon = horizon
        self.origins = origins
        self.first_origin = first_origin
        self.last_origin = last_origin
        self.window = window
        self.max_train_years = max_train_years
        self.min_train_years = min_train_years
        self.source = source
        self.year_column = year_column

    @classmethod
    def from_config(cls, config, **overrides) -> RollingOrigin:
        """The splitter of an :class:`~forecast.experiment.ExperimentConfig` (``overrides``
        replace its settings, e.g. ``origins=[2024]``)."""
        settings = {
            "origins": list(config.origins) if config.origins else None,
            "first_origin": config.first_origin,
            "last_origin": config.last_origin,
            "window": config.window,
            "max_train_years": config.max_train_years,
            "min_train_years": config.min_train_years,
            "source": config.source,
        }
        settings.update(overrides)
        return cls(config.horizon, **settings)

    def _validate(self) -> None:
        if not isinstance(self.horizon, int) or self.horizon < 1:
            raise input_error(
                f"horizon must be an integer >= 1, got {self.horizon!r}",
                fix="set horizon: 2 (onset within two years)",
            )
        if self.window not in ("expanding", "sliding"):
            raise input_error(
                f"window must be 'expanding' or 'sliding', got {self.window!r}",
                fix="set window: expanding",
            )
        if self.window == "sliding" and not self.max_train_years:
            raise input_error(
                "a sliding window needs max_train_years",
                fix="set max_train_years: 20 (or use window: expanding)",
            )
        if self.min_train_years < 1:
            raise input_error(
                f"min_train_years must be >= 1, got {self.min_train_years!r}",
                fix="set min_train_years: 10",
            )

    def origin_years(self, years: np.ndarray) -> list[int]:
        """The origins used for data spanning ``years``.

        Explicit ``origins`` must be years of the data; they and a ``first_origin`` ..
        ``last_origin`` range are cut to the trainable years (from ``min(years) +
        min_train_years - 1 + horizon``), and at least one must remain.
        """
        self._validate()
        first_year, last_year = int(np.min(years)), int(np.max(years))
        earliest = first_year + self.min_train_years - 1 + self.horizon
        need = (
            f"with data {first_year}..{last_year}, horizon {self.horizon} and "
            f"min_train_years {self.min_train_years} an origin must be in "
            f"{earliest}..{last_year}"
        )
        fix = (
            f"choose origins in {earliest}..{last_year}"
            if earliest <= last_year
            else "lower min_train_years or the horizon (the data has too few years)"
        )
        if self.origins is not None:
            chosen = sorted({int(o) for o in self.origins})
            outside = [o for o in chosen if not first_year <= o <= last_year]
            if outside:
                raise input_error(
                    f"origins {format_rows(outside)} are outside the years of the data: {need}",
                    source=self.source,
                    fix=fix,
                )
            shown = format_rows(chosen)
        else:
            start = earliest if self.first_origin is None else int(self.first_origin)
            stop = last_year if self.last_origin is None else int(self.last_origin)
            chosen = list(range(max(start, earliest), min(stop, last_year) + 1))
            shown = f"{start}..{stop}"
        usable = [o for o in chosen if earliest <= o <= last_year]
        if not usable:
            raise input_error(
                f"no trainable origin among {shown}: {need}", source=self.source, fix=fix
            )
        return usable

    def origin_splits(
        self, frame: pd.DataFrame, *, year: str = "year", outcome: str
    ) -> Iterator[Split]:
        """Yield one :class:`Split` per origin (row positions into ``frame``).

        Training rows are those whose ``outcome`` is known. An origin without a row to forecast,
        or without a training row whose outcome is known, is an error naming it.
        """
        yield from self._splits(frame[year].to_numpy(), frame[outcome].notna().to_numpy())

    def split(self, X, y=None, groups=None, *, year: str | None = None, outcome=None):
        """Yield ``(train, test)`` row positions per origin (the scikit-learn splitter API).

        Parameters
        ----------
        X : DataFrame or array-like of shape (n, d)
            The rows; their years are ``groups`` if given, else ``X[year_column]``.
        y : array-like of shape (n,), optional
            Outcomes; rows where it is missing (NaN) are not trained on.
        groups : array-like of shape (n,), optional
            Each row's year.
        year, outcome : str, optional
            The engine's older panel form ``split(frame, year=, outcome=)``: yields
            :class:`Split` objects, as :meth:`origin_splits` (use that).
        """
        if outcome is not None:
            yield from self.origin_splits(X, year=year or self.year_column, outcome=outcome)
            return
        years = self._years(X, groups)
        known = np.ones(len(years), bool) if y is None else pd.notna(np.asarray(y))
        for one in self._splits(years, known):
            yield one.train, one.test

    def get_n_splits(self, X=None, y=None, groups=None, *, year: str | None = None) -> int:
        """The number of origins for the years of ``groups`` or of ``X`` (scikit-learn API)."""
        if X is None and groups is None:
            raise input_error(
                "RollingOrigin.get_n_splits needs the data's years to cut the origins",
                fix="pass X (a DataFrame with a year column) or groups (the years)",
            )
        if year is not None:  # the older form get_n_splits(frame, year=)
            groups = X[year]
        return len(self.origin_years(self._years(X, groups)))

    def _years(self, X, groups) -> np.ndarray:
        if groups is not None:
            return np.asarray(groups)
        if not isinstance(X, pd.DataFrame) or self.year_column not in X.columns:
            raise input_error(
                f"RollingOrigin needs each row's year: X has no column {self.year_column!r} "
                "and no groups were given",
                fix="pass groups=<the years>, or a DataFrame X with year_column",
            )
        return X[self.year_column].to_numpy()

    def _splits(self, years: np.ndarray, known: np.ndarray) -> Iterator[Split]:
        for origin in self.origin_years(years):
            end = origin - self.horizon
            length = self.max_train_years if self.window == "sliding" else None
            start = end - length + 1 if length is not None else int(years.min())
            train = np.flatnonzero((years <= end) & (years >= start) & known)
            test = np.flatnonzero(years == origin)
            if not len(train) or not len(test):
                what = (
                    f"no row of year {origin} to forecast"
                    if not len(test)
                    else f"no training row in {start}..{end} whose {self.horizon}-year outcome "
                    "window is known"
                )
                raise input_error(
                    f"origin {origin}: {what}",
                    source=self.source,
                    fix="choose other origins (or fill the data of those years)",
                )
            check_no_lookahead(years[train], origin, self.horizon)
            yield Split(origin, train, test, start, end)
