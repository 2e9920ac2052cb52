"""Track record of warning lists: how each origin's published top-k list fared in its window."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecast._errors import input_error
from forecast._validation import check_k
from forecast.metrics._table import check_forecast_table
from forecast.metrics._topk import group_ranks
from forecast.outcomes import scorable_end, window_observed
from forecast.run import check_horizon

__all__ = ["TrackRecord", "track_record"]

_LIST_KEYS = ["model", "origin", "year"]


@dataclass(frozen=True)
class TrackRecord:
    """Past lists and what followed them (:func:`track_record`).

    Attributes
    ----------
    lists : DataFrame
        One row per (model, origin) list whose outcome window is observed: ``model``,
        ``origin``, ``year`` (the data year of the forecasts; the origin in a backtest),
        ``window_start``, ``window_end`` (years ``year + 1 .. year + horizon``), ``scored``
        (units with a known outcome), ``listed`` (of them, on the top-``k`` list),
        ``listed_onsets`` (listed units with an onset in the window), ``onsets`` (units with
        an onset in the window), ``precision = listed_onsets / listed`` and
        ``recall = listed_onsets / onsets`` (NaN without onsets).
    tiers : DataFrame
        One row per (model, origin, tier): the list keys, ``tier`` (``top 10``, ``11–30``,
        ..., ``rest``), ``first_rank``, ``last_rank`` (NaN for the rest), ``n`` (scored units
        in the tier), ``onsets`` and ``rate = onsets / n``.
    k, cuts, horizon, data_end
        The list length, the tier cut points (ranks), the window length and the last data
        year that decided which windows are observed.
    events : DataFrame or None
        Onsets counted as events (when :func:`track_record` was given the annual onsets): one
        row per model, ``onset_events`` (unit-years with an onset inside a scored list's
        window), ``caught_events`` (of them, those whose unit was in the top ``k`` of a list
        whose window holds the onset), ``event_recall``, ``outcome_years`` (years inside the
        scored windows) and ``events_per_year = onset_events / outcome_years``.
    """

    lists: pd.DataFrame
    tiers: pd.DataFrame
    k: int
    cuts: tuple[int, ...]
    horizon: int
    data_end: int
    events: pd.DataFrame | None = None

    def summary(self) -> pd.DataFrame:
        """One row per model, pooled over its lists.

        Columns ``model``, ``lists``, ``first_origin``, ``last_origin``, ``listed``,
        ``listed_onsets``, ``onsets``, ``precision`` (share of listed units with an onset),
        ``recall`` (share of onsets that were listed), ``rest`` (scored units not listed),
        ``rest_onsets``, ``rest_rate`` and ``lift = precision / rest_rate``. These counts are
        list-windows: an onset inside the windows of two lists counts for each. With
        :attr:`events`, also ``onset_events``, ``caught_events`` and ``event_recall`` (each
        onset once).
        """
        columns = [
            "model",
            "lists",
            "first_origin",
            "last_origin",
            "listed",
            "listed_onsets",
            "onsets",
            "precision",
            "recall",
            "rest",
            "rest_onsets",
            "rest_rate",
            "lift",
        ]
        if self.lists.empty:
            return pd.DataFrame(columns=columns)
        out = (
            self.lists.groupby("model", sort=False)
            .agg(
                lists=("origin", "size"),
                first_origin=("origin", "min"),
                last_origin=("origin", "max"),
                listed=("listed", "sum"),
                listed_onsets=("listed_onsets", "sum"),
                onsets=("onsets", "sum"),
                scored=("scored", "sum"),
            )
            .reset_index()
        )
        out["precision"] = _ratio(out["listed_onsets"], out["listed"])
        out["recall"] = _ratio(out["listed_onsets"], out["onsets"])
        out["rest"] = out.pop("scored") - out["listed"]
        out["rest_onsets"] = out["onsets"] - out["listed_onsets"]
        out["rest_rate"] = _ratio(out["rest_onsets"], out["rest"])
        out["lift"] = _ratio(out["precision"], out["rest_rate"])
        if self.events is not None:
            out = out[columns].merge(self.events, on="model", how="left")
            return out.fillna({"onset_events": 0, "caught_events": 0, "outcome_years": 0})
        return out[columns]

    def tier_summary(self) -> pd.DataFrame:
        """One row per (model, tier), pooled over origins: ``model``, ``tier``,
        ``first_rank``, ``last_rank``, ``n``, ``onsets``, ``rate``."""
        if self.tiers.empty:
            return pd.DataFrame(
                columns=["model", "tier", "first_rank", "last_rank", "n", "onsets", "rate"]
            )
        out = (
            self.tiers.groupby(["model", "tier", "first_rank"], sort=False, dropna=False)
            .agg(last_rank=("last_rank", "first"), n=("n", "sum"), onsets=("onsets", "sum"))
            .reset_index()
        )
        out["rate"] = _ratio(out["onsets"], out["n"])
        return out[["model", "tier", "first_rank", "last_rank", "n", "onsets", "rate"]]


def _ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    num = numerator.to_numpy(dtype=float)
    den = denominator.to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return pd.Series(
            np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan), index=numerator.index
        )


def _cuts(k: int, tiers: Sequence[int] | None) -> tuple[int, ...]:
    given = (10,) if tiers is None else tuple(tiers)
    for cut in given:
        check_k(cut, caller="track_record", name="tiers")
    if tiers is None:
        given = tuple(c for c in given if c < k)
    return tuple(sorted({*(int(c) for c in given), k}))


def _tier_labels(cuts: tuple[int, ...]) -> list[tuple[str, int, float]]:
    labels, first = [], 1
    for cut in cuts:
        labels.append((f"top {cut}" if first == 1 else f"{first}–{cut}", first, float(cut)))
        first = cut + 1
    return [*labels, ("rest", first, np.nan)]


def _horizon(frame: pd.DataFrame, horizon: int | None) -> int:
    if horizon is not None:
        check_k(horizon, caller="track_record", name="horizon")
    found = check_horizon(frame, horizon, caller="track_record", stated_by="horizon")
    if found is None:
        raise input_error(
            "track_record: one horizon is needed, the table has no 'horizon' column",
            fix="pass horizon=<years until the outcome is known>",
        )
    return found


def _onset_events(
    frame: pd.DataFrame, listed: np.ndarray, onsets: pd.DataFrame, horizon: int
) -> pd.DataFrame:
    """Per model: onset events inside the scored lists' windows and those caught.

    ``frame`` holds the scored list rows (``model``, ``unit``, ``year``), ``listed`` marks the
    rows in the top k; ``onsets`` has ``unit``, ``year``, ``onset`` (annual, 0/1)."""
    events = onsets.loc[onsets["onset"] == 1, ["unit", "year"]].astype({"unit": str})
    events = events.drop_duplicates().assign(year=lambda e: e["year"].astype(int))
    rows = frame[["model", "unit", "year"]].astype({"unit": str, "year": int})
    rows = rows.assign(listed=listed)
    windows = pd.concat(  # (model, unit, t, listed) for t in the window year+1 .. year+h
        [rows.assign(year=rows["year"] + lag) for lag in range(1, horizon + 1)]
    )
    covered = windows.merge(events, on=["unit", "year"])
    per_event = covered.groupby(["model", "unit", "year"], sort=False)["listed"].any()
    out = per_event.groupby(level="model", sort=False).agg(["size", "sum"]).reset_index()
    out.columns = ["model", "onset_events", "caught_events"]
    years = windows.groupby("model", sort=False)["year"].nunique().rename("outcome_years")
    out = years.reset_index().merge(out, on="model", how="left").fillna(0)
    out = out.astype({"onset_events": int, "caught_events": int, "outcome_years": int})
    out["event_recall"] = _ratio(out["caught_events"], out["onset_events"])
    out["events_per_year"] = _ratio(out["onset_events"], out["outcome_years"])
    return out[
        [
            "model",
            "onset_events",
            "caught_events",
            "event_recall",
            "outcome_years",
            "events_per_year",
        ]
    ]


def track_record(
    forecasts: pd.DataFrame,
    *,
    horizon: int | None = None,
    data_end: int | None = None,
    k: int = 30,
    tiers: Sequence[int] | None = None,
    onsets: pd.DataFrame | None = None,
) -> TrackRecord:
    r"""How the lists a backtest issued at each origin fared: the track record of a top-k list.

    The forecasts a model made at origin ``T`` are the list it would have published at
    ``T``. Each list ranks all units forecast at ``T`` (ties by row order,
    :func:`forecast.metrics.top_k_mask`); it is judged on its own outcome window
    ``T+1 .. T+h`` once that window is fully observed (``year + horizon <= data_end``,
    :func:`forecast.outcomes.observed_windows`), on the units whose outcome is known.

    For list ``T`` and tier ``g`` (ranks ``a..b``):

    .. math::
        n_{T,g} = \#\{i \in T : a \le r_i \le b,\ y_i \text{ known}\}, \quad
        \mathrm{rate}_{T,g} = \frac{\sum_{i \in T,g} y_i}{n_{T,g}}

    and for the list itself (ranks ``1..k``) precision = listed onsets / listed, recall =
    listed onsets / onsets in the window.

    Parameters
    ----------
    forecasts : DataFrame
        Forecast table (:func:`forecast.run.check_forecasts`): ``unit``, ``year``, ``model``,
        ``probability``, ``outcome`` (NaN = unknown), and ``origin`` (default: the year).
    horizon : int, optional
        Window length in years; None reads the table's single ``horizon``.
    data_end : int, optional
        Last data year; None infers it with :func:`forecast.outcomes.scorable_end`.
    k : int, default 30
        Length of the list (the Early Warning Project publishes 30).
    tiers : sequence of int, optional
        Rank cut points of the tiers inside and below the list; ``k`` is always one.
        Default: top 10, ranks 11..k, the rest.
    onsets : DataFrame, optional
        Annual onsets (``unit``, ``year``, ``onset`` 0/1, e.g. the run's ``onsets``): adds
        :attr:`TrackRecord.events`, which counts each onset once. An onset at ``(u, t)`` is
        inside list ``T``'s window when ``T < t <= T + h``, and caught when ``u`` was in the
        top ``k`` of such a list.

    Returns
    -------
    TrackRecord
        Per-list and per-tier counts; :meth:`TrackRecord.summary` pools them per model.

    Raises
    ------
    ForecastInputError
        If the table breaks the forecast schema, ``k``, a tier or the horizon is not an
        integer >= 1, or the data end cannot be inferred (no known 0).

    Notes
    -----
    An onset within the windows of two lists (horizon 2: the lists of ``Y-2`` and ``Y-1``
    for an onset in ``Y``) counts once for each list; pooled counts are list-windows.
    """
    k = check_k(k, caller="track_record")
    cuts = _cuts(k, tiers)
    extra = [c for c in ("origin", "horizon") if c in getattr(forecasts, "columns", ())]
    frame = check_forecast_table(forecasts, caller="track_record", extra=extra)
    frame = frame.reset_index(drop=True)
    h = _horizon(frame, horizon)
    if "origin" not in frame.columns:
        frame["origin"] = frame["year"]
    if data_end is None:
        data_end = scorable_end(frame, horizon=h, caller="track_record")
    codes = frame.groupby(_LIST_KEYS, sort=False).ngroup().to_numpy()
    p = frame["probability"].to_numpy(float)
    tier = np.zeros(len(frame), dtype=np.intp)
    rank = group_ranks(p, codes)  # the order of top_k_mask, computed once for every cut
    for cut in cuts:  # nested masks (one stable order): the tier is how many cuts it misses
        tier += rank >= cut
    labels = _tier_labels(cuts)
    listed_tiers = cuts.index(k) + 1
    scored = window_observed(frame, horizon=h, data_end=int(data_end)) & frame["outcome"].notna()
    rows = frame.loc[scored, _LIST_KEYS + ["outcome"]].assign(tier=tier[scored.to_numpy()])
    rows["outcome"] = rows["outcome"].astype(float)
    counts = rows.groupby([*_LIST_KEYS, "tier"], sort=True)["outcome"].agg(["size", "sum"])
    keys = rows[_LIST_KEYS].drop_duplicates().sort_values(_LIST_KEYS)
    grid = pd.MultiIndex.from_tuples(
        [(*key, t) for key in keys.itertuples(index=False, name=None) for t in range(len(labels))],
        names=[*_LIST_KEYS, "tier"],
    )
    counts = counts.reindex(grid, fill_value=0).reset_index()
    counts = counts.rename(columns={"size": "n", "sum": "onsets"})
    counts["onsets"] = counts["onsets"].astype(int)
    counts["n"] = counts["n"].astype(int)
    per_tier = counts.assign(
        first_rank=[labels[t][1] for t in counts["tier"]],
        last_rank=[labels[t][2] for t in counts["tier"]],
        rate=_ratio(counts["onsets"], counts["n"]),
        tier=[labels[t][0] for t in counts["tier"]],
        on_list=counts["tier"] < listed_tiers,
    )
    on_list = per_tier["on_list"]
    lists = per_tier.assign(
        listed=per_tier["n"].where(on_list, 0), listed_onsets=per_tier["onsets"].where(on_list, 0)
    )
    lists = lists.groupby(_LIST_KEYS, sort=False)[["n", "listed", "listed_onsets", "onsets"]]
    lists = lists.sum().rename(columns={"n": "scored"}).reset_index()
    lists.insert(3, "window_start", lists["year"] + 1)
    lists.insert(4, "window_end", lists["year"] + h)
    lists["precision"] = _ratio(lists["listed_onsets"], lists["listed"])
    lists["recall"] = _ratio(lists["listed_onsets"], lists["onsets"])
    tier_table = per_tier[
        [*_LIST_KEYS, "tier", "first_rank", "last_rank", "n", "onsets", "rate"]
    ].reset_index(drop=True)
    events = None
    if onsets is not None:
        keep = scored.to_numpy()
        events = _onset_events(frame.loc[keep], rank[keep] < k, onsets, h)
    return TrackRecord(
        lists=lists.reset_index(drop=True),
        tiers=tier_table,
        k=k,
        cuts=cuts,
        horizon=h,
        data_end=int(data_end),
        events=events,
    )
