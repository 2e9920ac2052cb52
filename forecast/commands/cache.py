"""``forecast cache``: what the backtest task cache holds, and clearing it."""

from __future__ import annotations

import argparse
import math

import click

from forecast._errors import input_error
from forecast.commands._common import Group, cache_dir

__all__ = ["cache"]


def _size(n_bytes: int) -> str:
    """``1536`` -> ``'1.5 kB'`` (decimal units)."""
    if n_bytes < 1000:
        return f"{n_bytes} bytes"
    value = n_bytes / 1000
    for unit in ("kB", "MB"):
        if value < 1000:
            return f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"


cache = Group(
    "cache",
    short_help="inspect or clear the backtest task cache",
    help="The task cache holds one file per fitted (origin, model) task of a "
    "backtest, keyed by a hash of its data, spec, seed and code version. "
    "Unreadable entries are recomputed by the next backtest.",
)


def _cache(args: argparse.Namespace):
    from forecast.backtest import TaskCache, default_cache_dir

    return TaskCache(args.cache_dir or default_cache_dir())


@cache.command(
    "info", short_help="folder, entries, size, oldest and newest entry, unreadable entries"
)
@cache_dir
@click.option(
    "--check", is_flag=True, help="open every entry to count the unreadable ones (slower)"
)
def _info(args: argparse.Namespace) -> int:
    cache = _cache(args)
    info = cache.info(check=args.check)
    how = "every entry opened" if info.checked else "quick check; --check opens every entry"
    if info.unreadable:
        how += "; the next backtest recomputes them"
    lines = [f"folder:      {info.directory}"]
    if not info.directory.is_dir():
        lines.append("entries:     0 (the folder does not exist yet)")
    else:
        lines.append(f"entries:     {info.entries} ({_size(info.bytes)})")
        if info.oldest is not None and info.newest is not None:
            lines.append(f"oldest:      {info.oldest:%Y-%m-%d %H:%M:%S}")
            lines.append(f"newest:      {info.newest:%Y-%m-%d %H:%M:%S}")
        lines.append(f"unreadable:  {info.unreadable} ({how})")
        if info.leftovers:
            lines.append(
                f"leftovers:   {info.leftovers} temporary file(s) of interrupted "
                "writes (`forecast cache clear` removes them)"
            )
    print("\n".join(lines))
    return 0


@cache.command("clear", short_help="remove the cache entries")
@cache_dir
@click.option(
    "--older-than",
    type=float,
    metavar="DAYS",
    help="remove only entries written more than DAYS days ago",
)
def _clear(args: argparse.Namespace) -> int:
    days = args.older_than
    if days is not None and not (math.isfinite(days) and days >= 0):
        raise input_error(
            f"--older-than must be a number of days >= 0, got {days}",
            fix="pass e.g. --older-than 30, or leave it out to clear everything",
        )
    cache = _cache(args)
    count, size = cache.clear(older_than_days=days)
    age = "" if days is None else f" written more than {days:g} day(s) ago"
    kept = "" if days is None else f"; {len(cache.entries())} kept"
    print(f"removed {count} entries{age} ({_size(size)}) from {cache.directory}{kept}")
    return 0
