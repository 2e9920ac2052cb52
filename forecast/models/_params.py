"""A model's parameters against its declared constraints, checked before any fit.

Constraints are scikit-learn's (``_parameter_constraints``: a list per parameter of
``Interval``, ``StrOptions``, ``None``, a type, ...); every number, also inside lists and
mappings, must be finite. A failure is one line naming the parameter, the value and what is
valid, at the spec line of the parameter when a spec document is given.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from numbers import Real
from typing import Any

from forecast._spec_schema import KeyPath, SpecDocument

__all__ = ["Constraints", "check_params"]

#: Parameter name -> list of scikit-learn constraints (any one will do) or "no_validation".
Constraints = Mapping[str, Any]


def _non_finite(value: Any) -> bool:
    """Whether ``value`` is, or holds, a number that is NaN or infinite."""
    if isinstance(value, Real) and not isinstance(value, bool):
        return not math.isfinite(float(value))
    if isinstance(value, dict):
        return any(_non_finite(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_non_finite(v) for v in value)
    return False


def check_params(
    owner: str,
    params: Mapping[str, Any],
    constraints: Constraints,
    *,
    doc: SpecDocument | None = None,
    path: KeyPath = (),
) -> None:
    """Refuse non-finite numbers in ``params`` and values outside their ``constraints``.

    Parameters
    ----------
    owner : str
        The model, e.g. ``"model 'xgboost'"`` (the source of errors without ``doc``).
    params : mapping
        Parameter name -> value; names without a constraint are checked for finiteness only.
    constraints : mapping
        Name -> list of scikit-learn constraints, or ``"no_validation"``.
    doc, path : SpecDocument and key path, optional
        The spec and the key path of ``params`` in it, for errors with its file and line.

    Raises
    ------
    ForecastInputError
        ``<source>: <path>.<name>: <constraint>, got <value>; valid: ...; fix: ...``.
    """
    from sklearn.utils._param_validation import Interval, make_constraint

    doc = doc if doc is not None else SpecDocument(dict(params), owner)
    for key, value in params.items():
        if _non_finite(value):
            raise doc.error(
                (*path, key),
                "must be a finite number",
                value,
                valid="numbers other than nan and inf",
                fix=f"give {key} a finite value, or leave it out for the default",
            )
        rules = constraints.get(key, "no_validation")
        if rules == "no_validation":
            continue
        made = [make_constraint(rule) for rule in rules]
        flag = isinstance(value, bool)  # true/false is no number here, as in a spec's schema
        if any(r.is_satisfied_by(value) for r in made if not (flag and isinstance(r, Interval))):
            continue
        valid = " or ".join(str(rule) for rule in made if not rule.hidden)
        number = isinstance(value, Real) and not isinstance(value, bool)
        raise doc.error(
            (*path, key),
            "out of range" if number else "not an accepted value",
            value,
            valid=valid,
            fix=f"use {valid}, or leave {key} out for the default",
        )
