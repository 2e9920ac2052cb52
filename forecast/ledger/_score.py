"""Score issued editions against the outcomes known today.

An onset is an event: a unit-year with an onset. An edition with window ``[a, b]`` is
scored when every year ``a..b`` is in the outcome data; otherwise it is pending, and the
onsets already seen in its observed years are listed with their ranks. A listed unit's
outcome is 1 when it had an onset in any window year (AUC, Brier and O/E read that); the
onset counts (all, in the top 10, in the top 30) count events, by the unit's rank as issued.
Intervals are percentile intervals of a bootstrap that resamples countries (clusters), as
in :mod:`forecast.metrics`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from forecast._errors import input_error
from forecast.ledger._store import Edition, EditionRecord, make_edition
from forecast.metrics import bootstrap_metrics, paired_difference
from forecast.metrics._bootstrap import _interval as percentile_interval
from forecast.metrics._bootstrap import resample_weights
from forecast.panel import Panel

__all__ = ["LedgerScore", "backtest_editions", "outcome_table", "score_editions"]

METRICS = ("roc_auc", "brier", "observed_expected")
TOP = (10, 30)
_ONSET = {"any": "onset_any", "state-led": "onset_state"}


def _state_led_onsets(root: Path | None) -> set[tuple[int, int]]:
    """(COW code, start year) of the state-led episodes of the EWP episode list."""
    from forecast.data import load_manifest, verify_file

    path = verify_file(load_manifest("ewp-2025"), "mk-events-master-list-2025.xlsx", root)
    events = pd.read_excel(path, sheet_name="mk_events")
    led = events["State-Led or Non-State-Led"].astype(str).str.strip() == "State-Led"
    located = events.loc[led, ["mk_location_cow", "startyear"]].dropna()
    return {(345 if int(c) == 340 else int(c), int(y)) for c, y in located.to_numpy()}


def outcome_table(panel: Panel, *, outcome: str = "mk_onset", state_led: bool = False):
    """The outcomes to score against: ``unit``, ``code`` (COW, or missing), ``year``,
    ``onset_any`` and ``onset_state`` (state-led onsets from the EWP episode list when
    ``state_led``, else missing).

    Parameters
    ----------
    panel : Panel
        The outcome panel (e.g. ``load_dataset("ewp-2025")``); its last year is the last
        observed year.
    outcome : str
        The annual onset column.
    state_led : bool
        Also read the state-led onsets (needs the ``ewp-2025`` episode list).
    """
    frame = panel.frame
    if outcome not in frame.columns:
        raise input_error(
            f"the panel has no onset column {outcome!r}", source=panel.name, fix="pass outcome="
        )
    if getattr(panel, "unit_system", None) == "cow":
        code = frame[panel.unit]
    else:
        code = frame["ccode"] if "ccode" in frame.columns else pd.Series(pd.NA, index=frame.index)
    out = pd.DataFrame(
        {
            "unit": frame[panel.unit].astype(str),
            "code": pd.to_numeric(code, errors="coerce").astype("Int64"),
            "year": frame[panel.year].astype(int),
            "onset_any": frame[outcome].astype(float),
            "onset_state": np.nan,
        }
    )
    if state_led:
        led = _state_led_onsets(None)
        pairs = zip(out["code"].fillna(-1).astype(int), out["year"], strict=True)
        out["onset_state"] = [float(p in led) for p in pairs]
    return out.reset_index(drop=True)


@dataclass(frozen=True)
class LedgerScore:
    """How the editions fared.

    Attributes
    ----------
    editions : DataFrame
        One row per edition: status (``scored``, ``pending`` or why not), units, onsets,
        AUC, Brier, O/E (with interval bounds), onsets in the top 10 and top 30.
    onsets : DataFrame
        One row per onset (event) in an edition's window: the unit, year, its rank and
        probability on the list (missing when the list does not hold the unit), and whether
        the window is observed.
    pooled : DataFrame
        Per source and target, over the issued editions whose window is observed.
    paired : DataFrame
        Differences of AUC and Brier between editions of different sources for the same
        data year, target and window (country-cluster bootstrap).
    movement : DataFrame
        How far a data year's list moved between two lists of the same source (issued and
        re-run, or an issued list and the backtest of its model): Spearman rank correlation
        and top-30 overlap.
    last_year : int
        Last year of the outcome data.
    """

    editions: pd.DataFrame
    onsets: pd.DataFrame
    pooled: pd.DataFrame
    paired: pd.DataFrame
    movement: pd.DataFrame
    last_year: int
    level: float = 0.95
    rows: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)


def _key(edition: Edition, outcomes: pd.DataFrame) -> str:
    has_codes = edition.table["code"].notna().all() and outcomes["code"].notna().any()
    return "code" if has_codes else "unit"


def _scored_rows(edition: Edition, outcomes: pd.DataFrame, key: str, years: list[int]):
    """The listed units with an outcome row in ``years``: y (any onset), events, p, rank."""
    column = _ONSET[edition.record.target]
    window = outcomes[outcomes["year"].isin(years)]
    by = window.groupby(key)[column]
    truth = pd.DataFrame({"y": by.max(), "events": by.sum()}).reset_index()
    listed = edition.table.drop_duplicates(key)
    return listed.merge(truth, on=key, how="inner"), window


def _top_share(rows: pd.DataFrame, k: int, n_boot: int, seed: int, level: float):
    """Share of events ranked <= k, with a country-cluster bootstrap interval (the replicate
    weights and percentile interval of :mod:`forecast.metrics`)."""
    events = rows["events"].to_numpy(float)
    hit = events * (rows["rank"].to_numpy() <= k)
    if events.sum() == 0:
        return float("nan"), float("nan"), float("nan")
    clusters = np.unique(rows["cluster"].astype(str), return_inverse=True)[1].astype(np.intp)
    weights = resample_weights(clusters, None, n_boot, np.random.default_rng(seed))
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = (weights @ hit) / (weights @ events)
    return float(hit.sum() / events.sum()), *percentile_interval(shares, level)


def _metrics(rows: pd.DataFrame, n_boot: int, seed: int, level: float) -> dict[str, float]:
    y, p = rows["y"].to_numpy(float), rows["probability"].to_numpy(float)
    out: dict[str, float] = {}
    if 0 < y.sum() < len(y):
        boot = bootstrap_metrics(
            (y, p),
            list(METRICS),
            clusters=rows["cluster"].astype(str).to_numpy(),
            n_boot=n_boot,
            level=level,
            seed=seed,
        )
        for name, result in boot.items():
            out[name], out[f"{name}_lower"], out[f"{name}_upper"] = (
                result.estimate,
                result.lower,
                result.upper,
            )
    share, low, high = _top_share(rows, 30, n_boot, seed, level)
    out.update(top30_share=share, top30_share_lower=low, top30_share_upper=high)
    return out


def _score_one(edition: Edition, outcomes: pd.DataFrame, last_year: int, n_boot, seed, level):
    r = edition.record
    key = _key(edition, outcomes)
    a, b = r.window
    seen = [y for y in range(a, b + 1) if y <= last_year]
    row: dict[str, object] = {
        "edition_id": r.edition_id,
        "edition": r.label,
        "source": r.source,
        "kind": r.kind,
        "model": r.model,
        "data_year": r.data_year,
        "window": f"{a}-{b}",
        "target": r.target,
        "units": len(edition.table),
        "unmatched": len(r.unmatched),
        "unmatched_units": "; ".join(r.unmatched),
    }
    column = _ONSET[r.target]
    if outcomes[column].isna().all():
        row["status"] = f"no {r.target} outcome in the data"
        return row, pd.DataFrame(), pd.DataFrame()
    rows, window = _scored_rows(edition, outcomes, key, seen)
    status = (
        "scored"
        if b <= last_year
        else (f"pending (observed {seen[0]}-{seen[-1]})" if seen else "pending")
    )
    rows = rows.assign(edition_id=r.edition_id, cluster=rows[key].astype(str))
    events = window[window[column] == 1][["unit", "code", "year"]]
    ranks = edition.table.drop_duplicates(key).set_index(key)[["rank", "probability", "name"]]
    events = events.join(ranks, on=key)
    events = events.assign(
        edition_id=r.edition_id,
        edition=r.label,
        listed=events["rank"].notna(),
        observed=b <= last_year,
    )
    row.update(
        status=status,
        scored_units=len(rows),
        onsets=int(events["listed"].sum()),
        unlisted_onsets=int((~events["listed"]).sum()),
        **{f"top{k}": int((events["rank"] <= k).sum()) for k in TOP},
    )
    if seen:  # listed units without an outcome in the window: named, not scored
        gone = edition.table[~edition.table[key].isin(rows[key])]
        row["unscored_units"] = "; ".join(f"{n} (no outcome data)" for n in gone["name"])
    if b <= last_year:
        row.update(brier_base=float(rows["y"].mean()) if len(rows) else np.nan)
        row.update(_metrics(rows, n_boot, seed, level))
    return row, rows, events


def distinct_onsets(events: pd.DataFrame, edition_ids: pd.Series) -> int:
    """Listed onset events (unit-years) of these editions, each counted once."""
    if not len(events):
        return 0
    mine = events[events["edition_id"].isin(edition_ids) & events["listed"].astype(bool)]
    return int(len(mine.drop_duplicates(["unit", "year"])))


def _pooled(
    rows: pd.DataFrame, table: pd.DataFrame, events: pd.DataFrame, n_boot, seed, level
) -> pd.DataFrame:
    scored = table[table["status"] == "scored"]
    issued = scored[scored["kind"] == "issued"]
    windows = set(zip(issued["data_year"], issued["window"], issued["target"], strict=True))
    same = np.array(
        [w in windows for w in zip(*(scored[c] for c in ("data_year", "window", "target")))],
        dtype=bool,
    )
    scored = scored[(scored["kind"] == "issued") | ((scored["kind"] == "backtest") & same)]
    out = []
    for (source, target), group in scored.groupby(["source", "target"], sort=True):
        sub = rows[rows["edition_id"].isin(group["edition_id"])]
        entry = {
            "source": source,
            "models": ", ".join(sorted(set(group["model"]))),
            "target": target,
            "editions": len(group),
            "data_years": ", ".join(str(y) for y in sorted(group["data_year"])),
            "units": len(sub),
            "onsets": int(group["onsets"].sum()),
            # an onset is an event (a unit-year): one seen by several lists counts once here
            "distinct_onsets": distinct_onsets(events, group["edition_id"]),
            **{f"top{k}": int(group[f"top{k}"].sum()) for k in TOP},
        }
        entry.update(_metrics(sub, n_boot, seed, level))
        out.append(entry)
    return pd.DataFrame(out)


def _paired(editions, outcomes, table, n_boot, seed, level) -> pd.DataFrame:
    """Paired differences per data year, and pooled over the years each pair of sources
    shares (re-runs left out of the pool)."""
    status = table.set_index("edition_id")["status"]
    scored = [e for e in editions if status[e.record.edition_id] == "scored"]
    out: list[dict[str, Any]] = []
    pools: dict[Any, Any] = {}
    for ea, eb in combinations(scored, 2):
        ra, rb = ea.record, eb.record
        if (ra.source, ra.data_year, ra.window, ra.target) == (rb.source, *_when(rb)) or (
            _when(ra) != _when(rb)
        ):
            continue
        key = "code" if _key(ea, outcomes) == _key(eb, outcomes) == "code" else "unit"
        years = list(range(ra.window[0], ra.window[1] + 1))
        rows_a, _ = _scored_rows(ea, outcomes, key, years)
        rows_b, _ = _scored_rows(eb, outcomes, key, years)
        both = rows_a.merge(rows_b[[key, "probability"]], on=key, suffixes=("_a", "_b"))
        if not 0 < both["y"].sum() < len(both):
            continue
        out += _differences(both, key, ra.data_year, ra.label, rb.label, n_boot, seed, level)
        if "rerun" not in (ra.kind, rb.kind):
            pair = (ra.source, ra.model, rb.source, rb.model, ra.target, key)
            pools.setdefault(pair, []).append(both)
    for (sa, ma, sb, mb, target, key), frames in pools.items():
        if len(frames) > 1:
            both = pd.concat(frames, ignore_index=True)
            a, b = f"{sa} {ma} ({target}, {len(frames)} lists)", f"{sb} {mb}"
            out += _differences(both, key, "pooled", a, b, n_boot, seed, level)
    return pd.DataFrame(out)


def _when(record: EditionRecord) -> tuple:
    return record.data_year, record.window, record.target


def _differences(both, key, data_year, label_a, label_b, n_boot, seed, level) -> list[dict]:
    out = []
    for metric in ("roc_auc", "brier"):
        d = paired_difference(
            both["y"].to_numpy(float),
            both["probability_a"],
            both["probability_b"],
            clusters=both[key].astype(str).to_numpy(),
            metric=metric,
            n_boot=n_boot,
            level=level,
            seed=seed,
        )
        out.append(
            {
                "data_year": data_year,
                "a": label_a,
                "b": label_b,
                "metric": metric,
                "units": len(both),
                "units_with_onset": int(both["y"].sum()),
                "value_a": d.estimate_a,
                "value_b": d.estimate_b,
                "difference": d.estimate,
                "lower": d.lower,
                "upper": d.upper,
                "p_value": d.p_value,
            }
        )
    return out


def _moves(a: EditionRecord, b: EditionRecord) -> bool:
    if a.data_year != b.data_year or a.edition_id == b.edition_id:
        return False
    if a.source == b.source:
        return a.kind != b.kind or a.issued != b.issued
    return {a.kind, b.kind} == {"issued", "backtest"} and a.model == b.model


def _movement(editions: list[Edition], outcomes: pd.DataFrame) -> pd.DataFrame:
    out = []
    for ea, eb in combinations(editions, 2):
        if not _moves(ea.record, eb.record):
            continue
        if ea.record.kind != "issued" and eb.record.kind == "issued":
            ea, eb = eb, ea
        key = "code" if _key(ea, outcomes) == _key(eb, outcomes) == "code" else "unit"
        a = ea.table.drop_duplicates(key).set_index(key)
        b = eb.table.drop_duplicates(key).set_index(key)
        common = a.index.intersection(b.index)
        top_a = set(a.index[a["rank"] <= 30])
        top_b = set(b.index[b["rank"] <= 30])
        out.append(
            {
                "data_year": ea.record.data_year,
                "from": ea.record.label,
                "to": eb.record.label,
                "common_units": len(common),
                "spearman": float(
                    a.loc[common, "probability"].rank().corr(b.loc[common, "probability"].rank())
                ),
                "top30_overlap": len(top_a & top_b),
            }
        )
    return pd.DataFrame(out)


def score_editions(
    editions: list[Edition],
    outcomes: pd.DataFrame,
    *,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> LedgerScore:
    """Score every edition whose window is observed in ``outcomes``; list the others as
    pending with the onsets seen so far.

    Parameters
    ----------
    editions : list of Edition
        From a :class:`~forecast.ledger.Ledger`, :func:`~forecast.ledger.dataset_editions`
        or :func:`backtest_editions`.
    outcomes : DataFrame
        :func:`outcome_table` of the outcome panel; its last year is the last observed.
    n_boot, level, seed : optional
        Bootstrap replicates, interval level and seed.

    Returns
    -------
    LedgerScore
    """
    if not editions:
        raise input_error(
            "no editions to score",
            fix="record a list (forecast risklist), import one (forecast ledger import) or "
            "pass --dataset ewp-editions",
        )
    last_year = int(outcomes["year"].max())
    rows, all_rows, all_events = [], [], []
    for edition in editions:
        row, scored, events = _score_one(edition, outcomes, last_year, n_boot, seed, level)
        rows.append(row)
        all_rows.append(scored)
        all_events.append(events)
    table = pd.DataFrame(rows)
    scored_rows = pd.concat(all_rows, ignore_index=True)
    onsets = pd.concat(all_events, ignore_index=True)
    return LedgerScore(
        editions=table,
        onsets=onsets,
        pooled=_pooled(scored_rows, table, onsets, n_boot, seed, level)
        if len(scored_rows)
        else pd.DataFrame(),
        paired=_paired(editions, outcomes, table, n_boot, seed, level),
        movement=_movement(editions, outcomes),
        last_year=last_year,
        level=level,
        rows=scored_rows,
    )


def backtest_editions(
    run_dir: str | Path,
    *,
    model: str | None = None,
    years: list[int] | None = None,
) -> list[Edition]:
    """Pseudo-real-time editions of a backtest run: its forecasts at origin = data year.

    One edition per data year in ``years`` (default: every origin of the run), made by
    ``model`` (default: the run's recommended model), with window ``Y+1..Y+horizon``.
    """
    from forecast import Backtest
    from forecast.choice import recommend_model

    run = Backtest.load(run_dir)
    label = model or recommend_model(run.config).recommended
    forecasts = run.forecasts[run.forecasts["model"] == label]
    if forecasts.empty:
        raise input_error(
            f"the run has no forecasts of model {label!r}",
            source=str(run_dir),
            fix=f"pass one of {sorted(run.forecasts['model'].unique())}",
        )
    horizon = int(run.config.horizon)
    wanted = sorted(forecasts["year"].unique()) if years is None else sorted(set(years))
    out = []
    for year in wanted:
        rows = forecasts[(forecasts["year"] == year) & (forecasts["origin"] == year)]
        if rows.empty:
            continue
        table = pd.DataFrame(
            {
                "unit": rows["unit"].astype(str),
                "code": pd.to_numeric(rows["unit"], errors="coerce").astype("Int64"),
                "probability": rows["probability"],
            }
        )
        record = EditionRecord(
            source="backtest",
            model=label,
            data_year=int(year),
            window=(int(year) + 1, int(year) + horizon),
            kind="backtest",
            data_digest=str(run.provenance.get("dataset_digest", "")),
            code_version=str(run.provenance.get("code_version", "")),
            issued=str(run.provenance.get("created", "")) or "backtest",
            name=f"backtest {label} {year}",
            note=f"pseudo-real-time: run {run_dir}, origin {year}",
        )
        out.append(make_edition(record, table))
    return out
