"""Recorded data sets for ``vigil replay``: ADL homes and Vigil's own JSON-lines streams.

Each ADL reader turns a data set's sensor intervals into readings (1.0 when a
sensor starts firing, 0.0 when it stops) for one home of one tenant, with a
catalog to register first and the activity labels as ground truth.

Timestamps in the ADL files are local time without a zone; they are read as UTC,
so times of day are preserved as written.

>>> sorted(DATASETS)
['kasteren', 'ordonez']
"""

from vigil.datasets.home import KIND_METRICS, Activity, RecordedHome
from vigil.datasets.jsonl import read_jsonl, write_jsonl
from vigil.datasets.kasteren import read_kasteren
from vigil.datasets.ordonez import read_ordonez
from vigil.datasets.registry import DATASETS, DIRECTORIES, find_adl_root, load_dataset

__all__ = [
    "DATASETS",
    "DIRECTORIES",
    "KIND_METRICS",
    "Activity",
    "RecordedHome",
    "find_adl_root",
    "load_dataset",
    "read_jsonl",
    "read_kasteren",
    "read_ordonez",
    "write_jsonl",
]
