"""Datasets: the embedded synthetic world and downloadable real data (EWP 2025).

>>> from forecast.data import load_dataset
>>> panel = load_dataset("synthetic-world")        # doctest: +SKIP
"""

from __future__ import annotations

from forecast.data._registry import DatasetInfo, dataset_info, dataset_names, load_dataset
from forecast.data._store import data_dir, fetch, load_manifest

__all__ = ["DatasetInfo", "data_dir", "dataset_info", "dataset_names", "fetch", "load_dataset",
           "load_manifest"]
