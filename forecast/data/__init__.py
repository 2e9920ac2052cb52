"""Datasets: the embedded synthetic world and downloadable real data (EWP 2025).

>>> from forecast.data import load_dataset
>>> panel = load_dataset("synthetic-world")        # doctest: +SKIP
"""

from __future__ import annotations

from forecast.data._files import read_table
from forecast.data._registry import (
    DatasetInfo,
    check_dataset_options,
    dataset_info,
    dataset_names,
    dataset_options,
    load_dataset,
)
from forecast.data._store import data_dir, data_mirror, fetch, load_manifest, verify_file

__all__ = [
    "DatasetInfo",
    "check_dataset_options",
    "data_dir",
    "data_mirror",
    "dataset_info",
    "dataset_names",
    "dataset_options",
    "fetch",
    "load_dataset",
    "load_manifest",
    "read_table",
    "verify_file",
]
