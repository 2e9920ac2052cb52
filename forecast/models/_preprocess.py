"""Preprocessing that lives inside each model's pipeline (fit on training rows only)."""

from __future__ import annotations

from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

__all__ = ["linear_preprocessor", "tree_preprocessor"]


def linear_preprocessor() -> Pipeline:
    """Median imputation with missing-value indicators, then standardisation."""
    return Pipeline(
        [
            (
                "impute",
                SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
            ),
            ("scale", StandardScaler()),
        ]
    )


def tree_preprocessor() -> Pipeline:
    """Median imputation with missing-value indicators (trees need no scaling)."""
    return Pipeline(
        [
            (
                "impute",
                SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
            ),
        ]
    )
