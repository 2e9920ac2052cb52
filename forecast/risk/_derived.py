"""Which indicators derive from which, read from the feature set's transform chains.

A feature set already says how each indicator is built: a source (``dataset.column`` or
another indicator) and a chain of transforms. Two indicators built from the same source column
move together (this year's battle deaths and the worst year of the last five), and an
indicator built from another by ``change`` moves with it. No extra declaration is needed:
:func:`derived_moves` reads the chains.

* ``rolling_max`` of the source followed by the same element-wise steps as the set indicator:
  the new value is ``max(old, new value of the set indicator)`` (the steps are monotone;
  ``fill`` and ``set_value``, hand corrections of past unit-years, are left out of the
  comparison).
* ``change`` of the set indicator (``source: {indicator: ...}``): shifts by the same amount.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["derived_moves", "root_entry", "root_source", "same_source"]

_ELEMENTWISE = ("fill", "log2", "sqrt", "power", "scale", "set_value")
_IGNORED = ("fill", "set_value")  # fill missing values; hand corrections of past unit-years


def root_entry(info: Mapping[str, Any], name: str) -> tuple[Any, list[Any]]:
    """The indicator ``name`` is ultimately built from a source column by (following
    ``source: {indicator: ...}`` links), and the transform steps from that column; ``None``
    when the chain does not reach a source column."""
    steps: list[Any] = []
    entry: Any = info.get(name)
    seen: set[str] = set()
    while getattr(entry, "source", None) is not None and entry.name not in seen:
        seen.add(entry.name)
        steps = list(entry.transforms) + steps
        if not entry.source.indicator:
            return entry, steps
        entry = info.get(entry.source.indicator)
    return None, steps


def root_source(info: Mapping[str, Any], name: str) -> tuple[str | None, list[Any]]:
    """``('dataset.column', steps)``: the source column ``name`` is built from and the
    transform steps from it (:func:`root_entry`)."""
    entry, steps = root_entry(info, name)
    if entry is None:
        return None, steps
    return f"{entry.source.dataset}.{entry.source.column}", steps


def same_source(info: Mapping[str, Any], features: list[str]) -> dict[str, list[str]]:
    """Per feature, the other features built from the same source column."""
    roots = {f: root_source(info, f)[0] for f in features}
    return {
        f: [g for g in features if g != f and root and roots[g] == root]
        for f, root in roots.items()
    }


def _tail(steps: list[Any]) -> tuple[tuple[str, tuple], ...] | None:
    """The element-wise steps (names and parameters) or None when another kind is there."""
    if any(s.name not in _ELEMENTWISE for s in steps):
        return None
    return tuple((s.name, tuple(sorted(s.params.items()))) for s in steps if s.name not in _IGNORED)


def derived_moves(info: Mapping[str, Any], features: list[str], name: str) -> dict[str, str]:
    """Features that move when ``name`` is set, and how: ``'max'`` (the new value is the
    larger of the old one and ``name``'s new value) or ``'shift'`` (moves by the same
    amount as ``name``). See the module docstring."""
    root, steps = root_source(info, name)
    own = _tail(steps)
    moves: dict[str, str] = {}
    for other in features:
        if other == name or getattr(info.get(other), "source", None) is None:
            continue
        entry = info[other]
        if entry.source.indicator == name and entry.transforms:
            first = entry.transforms[0]
            if first.name == "change" and first.params.get("years", 1) == 1:
                moves[other] = "shift"
            continue
        other_root, other_steps = root_source(info, other)
        if root is None or other_root != root or own is None or not other_steps:
            continue
        if other_steps[0].name == "rolling_max" and _tail(other_steps[1:]) == own:
            moves[other] = "max"
    return moves
