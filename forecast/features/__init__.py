"""Feature builders: declarative YAML feature sets -> leakage-safe country-year panels.

>>> from forecast.features import build_panel, load_feature_set
>>> panel = build_panel(load_feature_set("ewp-2025-honest"))   # doctest: +SKIP

The shipped specs are package data (``forecast/_data/features/``, one YAML file per set;
the repository's top-level ``features/`` links there); see ``docs/features.md``.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from forecast._errors import input_error
from forecast.features._agreement import agreement_table
from forecast.features._build import build_from_tables, build_panel, load_tables
from forecast.features._display import Display, format_value
from forecast.features._spec import (
    RISK_FACTORS,
    FeatureSet,
    Indicator,
    MissingPolicy,
    SourceRef,
    TransformStep,
    parse_feature_set,
)
from forecast.features._transforms import (
    Grid,
    Transform,
    get_transform,
    register_transform,
    transform_names,
)

__all__ = [
    "RISK_FACTORS",
    "Display",
    "FeatureSet",
    "Grid",
    "Indicator",
    "MissingPolicy",
    "SourceRef",
    "Transform",
    "TransformStep",
    "agreement_table",
    "build_from_tables",
    "build_panel",
    "feature_set_dir",
    "feature_set_names",
    "format_value",
    "get_transform",
    "load_feature_set",
    "load_tables",
    "register_transform",
    "transform_names",
]


def feature_set_dir() -> Path:
    """The folder holding the shipped specs (package data ``forecast/_data/features``)."""
    return Path(str(resources.files("forecast").joinpath("_data", "features")))


def feature_set_names() -> list[str]:
    """Names of the shipped feature sets (YAML file stems in :func:`feature_set_dir`)."""
    return sorted(p.stem for p in feature_set_dir().glob("*.yaml"))


def load_feature_set(name_or_path: str | Path) -> FeatureSet:
    """Load and validate a feature set by name (see :func:`feature_set_names`) or YAML path."""
    candidate = Path(name_or_path)
    if candidate.suffix in {".yaml", ".yml"} or candidate.is_file():
        return parse_feature_set(candidate)
    path = feature_set_dir() / f"{name_or_path}.yaml"
    if not path.is_file():
        raise input_error(
            f"unknown feature set {str(name_or_path)!r}; valid names: "
            f"{', '.join(feature_set_names())}",
            fix="use a listed name or pass the path of a YAML spec",
        )
    return parse_feature_set(path)
