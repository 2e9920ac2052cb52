"""Risk tiers from a decision rule, and what each tier has meant in the backtest."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from forecast._errors import input_error
from forecast.experiment import ExperimentConfig
from forecast.panel import COUNTRY, Panel, UnitNoun
from forecast.risk._fit import backtest_forecasts, rank_units

__all__ = [
    "TierRule",
    "backtest_list_forecasts",
    "backtest_tier_meanings",
    "tier_meanings",
    "tier_rule_from_config",
]

_TOP_WORDS = ("highest", "high", "raised", "notable")


@dataclass(frozen=True)
class TierRule:
    """Tiers of a ranked list: the top ``k`` of each year, then a probability threshold.

    A unit of rank ``r`` (1 = highest risk that year) and probability ``p`` is in the first
    tier whose condition holds: ``r <= top[0]``, ``r <= top[1]``, ..., ``p >= threshold``,
    else ``lower``. The default is the Early Warning Project's rule: the top-30 list (with the
    top 10 singled out) and the 4% threshold.

    Parameters
    ----------
    top : tuple of int
        Increasing list lengths, at most four.
    threshold : float or None
        Probability cut-off of the ``elevated`` tier; None for no such tier.
    """

    top: tuple[int, ...] = (10, 30)
    threshold: float | None = 0.04

    def __post_init__(self) -> None:
        top = tuple(self.top)
        if (
            not top
            or len(top) > len(_TOP_WORDS)
            or any(
                isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1 for k in top
            )
            or list(top) != sorted(set(top))
        ):
            raise input_error(
                f"TierRule: 'top' must be 1 to 4 increasing list lengths >= 1, got {self.top!r}",
                fix="pass e.g. top=(10, 30)",
            )
        if self.threshold is not None and not 0 < float(self.threshold) < 1:
            raise input_error(
                f"TierRule: 'threshold' must be in (0, 1), got {self.threshold!r}",
                fix="pass e.g. threshold=0.04 or None",
            )

    @property
    def labels(self) -> list[str]:
        """Tier names, highest first, e.g. ``highest (top 10)`` ... ``lower``."""
        names = [f"{word} (top {k})" for word, k in zip(_TOP_WORDS, self.top)]
        if self.threshold is not None:
            names.append(f"elevated (>= {100 * float(self.threshold):g}%)")
        return [*names, "lower"]

    def assign(self, rank: np.ndarray, probability: np.ndarray) -> np.ndarray:
        """Tier label of each row from its within-year ``rank`` and ``probability``."""
        rank = np.asarray(rank)
        probability = np.asarray(probability, dtype=float)
        labels = self.labels
        out = np.full(rank.shape, labels[-1], dtype=object)
        done = np.zeros(rank.shape, dtype=bool)
        for label, k in zip(labels, self.top):
            hit = ~done & (rank <= k)
            out[hit], done = label, done | hit
        if self.threshold is not None:
            out[~done & (probability >= float(self.threshold))] = labels[len(self.top)]
        return out


def tier_rule_from_config(config: ExperimentConfig) -> TierRule:
    """The default rule of an experiment: the top ``min(top_k)`` and the top ``capacity``
    (``costs.capacity``, else ``max(top_k)``) of each year, then the EWP 4% threshold."""
    from forecast.decision import EWP_THRESHOLD

    ks = tuple(config.top_k) or (10, 30)
    longest = config.costs.capacity or max(ks)
    return TierRule(tuple(sorted({min(ks), int(longest)})), EWP_THRESHOLD.threshold)


def _window_words(horizon: int) -> str:
    return "the next year" if horizon == 1 else f"{horizon} years" if horizon > 2 else "two years"


def tier_meanings(
    forecasts: pd.DataFrame,
    rule: TierRule,
    *,
    horizon: int,
    known_by: int | None = None,
    unit_noun: UnitNoun = COUNTRY,
) -> pd.DataFrame:
    """What each tier has meant: the share of listed units with an onset within the horizon.

    Every origin's forecasts are ranked within the origin (all units listed that year, as in a
    published list) and tiered by ``rule``. Only rows whose outcome is known count, and, with
    ``known_by``, only origins whose window closed by then (``origin + horizon <= known_by``),
    so a list for year ``Y`` uses only outcomes known in ``Y``.

    Rate of tier ``g``: ``r_g = onsets_g / n_g`` over its known country-years; ``1 in N`` with
    ``N = round(1 / r_g)``.

    Parameters
    ----------
    forecasts : DataFrame
        Backtest forecasts of one model: ``unit``, ``origin``, ``probability``, ``outcome``
        (NaN = unknown).
    unit_noun : UnitNoun
        What the units are called in ``meaning`` (``Panel.unit_noun``; default "country").

    Returns
    -------
    DataFrame
        One row per tier: ``tier``, ``n``, ``onsets``, ``rate``, ``one_in``, ``first_origin``,
        ``last_origin``, ``meaning`` (a sentence for the reader).
    """
    missing = [c for c in ("unit", "origin", "probability", "outcome") if c not in forecasts]
    if missing:
        raise input_error(
            f"tier_meanings: forecasts lack column(s) {missing}",
            fix="pass a backtest forecast table (BacktestResult.forecasts)",
        )
    frame = forecasts[["unit", "origin", "probability", "outcome"]].copy()
    frame["rank"] = 0
    for index in frame.groupby("origin", sort=True).groups.values():
        block = frame.loc[index]
        frame.loc[index, "rank"] = rank_units(
            block["unit"].to_numpy(), block["probability"].to_numpy()
        )
    frame["tier"] = rule.assign(frame["rank"].to_numpy(), frame["probability"].to_numpy())
    known = frame["outcome"].notna()
    if known_by is not None:
        known &= frame["origin"] + horizon <= known_by
    scored = frame[known]
    rows = []
    for label in rule.labels:
        block = scored[scored["tier"] == label]
        n, onsets = len(block), int(block["outcome"].sum())
        rate = onsets / n if n else np.nan
        span = f"{int(block['origin'].min())}-{int(block['origin'].max())}" if n else ""
        if n == 0:
            text = (
                f"In the backtest no {unit_noun.singular}-year with a known outcome fell in "
                "this tier."
            )
        elif onsets == 0:
            text = (
                f"None of the {n} {unit_noun.years} listed at this level in the backtest "
                f"({span}) had an onset within {_window_words(horizon)}."
            )
        else:
            text = (
                f"Of {unit_noun.plural} listed at this level in the backtest ({span}), about 1 in "
                f"{max(1, round(1 / rate))} had an onset within {_window_words(horizon)} "
                f"({onsets} of n = {n} {unit_noun.years}, {100 * rate:.1f}%)."
            )
        rows.append(
            {
                "tier": label,
                "n": n,
                "onsets": onsets,
                "rate": rate,
                "one_in": round(1 / rate) if onsets else np.nan,
                "first_origin": block["origin"].min() if n else np.nan,
                "last_origin": block["origin"].max() if n else np.nan,
                "meaning": text,
            }
        )
    return pd.DataFrame(rows)


def backtest_tier_meanings(
    config: ExperimentConfig,
    *,
    model_label: str,
    panel: Panel,
    year: int,
    rule: TierRule | None = None,
    cache_dir: Path | None = None,
    n_jobs: int = 1,
) -> pd.DataFrame:
    """Backtest ``model_label`` (cached) and compute :func:`tier_meanings` for a list of ``year``.

    Only the experiment's origins whose outcome window closed by ``year`` are run
    (``origin <= year - horizon``); the fits are shared with, and cached like, a full backtest
    of the experiment (``cache_dir``; None = no cache). The forecasts are those of
    :func:`backtest_list_forecasts` (call it once and :func:`tier_meanings` to reuse them).
    """
    forecasts = backtest_list_forecasts(
        config, model_label=model_label, panel=panel, year=year, cache_dir=cache_dir, n_jobs=n_jobs
    )
    return tier_meanings(
        forecasts,
        rule or tier_rule_from_config(config),
        horizon=config.horizon,
        known_by=year,
        unit_noun=panel.unit_noun,
    )


def backtest_list_forecasts(
    config: ExperimentConfig,
    *,
    model_label: str,
    panel: Panel,
    year: int,
    cache_dir: Path | None = None,
    n_jobs: int = 1,
) -> pd.DataFrame:
    """The past lists of ``model_label`` for a list of ``year``: its backtest forecasts at the
    experiment's origins whose outcome window closed by ``year`` (cached; no origin = empty)."""
    from forecast.backtest import RollingOrigin

    splitter = RollingOrigin.from_config(config)
    try:
        origins = [
            o
            for o in splitter.origin_years(panel.frame[panel.year].to_numpy())
            if o + config.horizon <= year
        ]
    except ValueError:  # no trainable origin at all
        origins = []
    if not origins:
        return pd.DataFrame(columns=["unit", "origin", "probability", "outcome"])
    return backtest_forecasts(
        config, model_label, panel, origins, cache_dir=cache_dir, n_jobs=n_jobs
    )
