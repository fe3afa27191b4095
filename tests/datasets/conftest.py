"""Shared fixtures: the reference ADL data, read once per session, or a clear skip."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from vigil.datasets import DIRECTORIES, RecordedHome, find_adl_root, load_dataset
from vigil.errors import ConfigurationError

TENANT = "north-council"
DATA_LINE = re.compile(r"^(\d{1,2}-[A-Za-z]{3}-\d{4}|\d{4}-\d{2}-\d{2}) ")
SENSE_FILES = {"kasteren": "kasterenSenseData.txt", "ordonez": "OrdonezA_Sensors.txt"}
LABEL_FILES = {"kasteren": "kasterenActData.txt", "ordonez": "OrdonezA_ADLs.txt"}


def count_data_lines(path: Path) -> int:
    """Lines that start with a date: counted independently of the readers' parsing."""
    text = path.read_text(encoding="latin-1")
    return sum(1 for line in text.splitlines() if DATA_LINE.match(line))


def locate_adl_root(*starts: Path, in_ci: bool | None = None) -> Path:
    """The reference data, or a skip saying where it was looked for; under ``CI=true``
    a failure instead, because there the data must be present."""
    if in_ci is None:
        in_ci = os.environ.get("CI") == "true"
    try:
        return find_adl_root(*starts)
    except ConfigurationError as err:
        message = f"reference ADL data not available: {err}"
        if in_ci:
            pytest.fail(message + " (CI=true: the data-set tests must run)")
        pytest.skip(message)


@pytest.fixture(scope="session")
def adl_root() -> Path:
    return locate_adl_root(Path.cwd(), Path(__file__))


@pytest.fixture
def locate_adl():  # type: ignore[no-untyped-def]
    """``locate_adl_root``, for the tests of how the data is found."""
    return locate_adl_root


@pytest.fixture(scope="session", params=sorted(DIRECTORIES))
def name(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="session")
def homes(adl_root: Path) -> dict[str, RecordedHome]:
    return {n: load_dataset(n, adl_root / d, tenant=TENANT) for n, d in DIRECTORIES.items()}


@pytest.fixture(scope="session")
def home(homes: dict[str, RecordedHome], name: str) -> RecordedHome:
    return homes[name]
