"""Each package's ``__init__`` is its public surface: an honest, sorted ``__all__``."""

from __future__ import annotations

import importlib
import pkgutil
import re
from types import ModuleType

import pytest

import vigil


def _packages() -> list[str]:
    """Every package (a folder with an ``__init__.py``) whose ``__init__`` sets ``__all__``."""
    names = [vigil.__name__]
    for info in pkgutil.walk_packages(vigil.__path__, prefix="vigil."):
        if info.ispkg and ".migrations" not in info.name:
            names.append(info.name)
    return sorted(n for n in names if "__all__" in vars(importlib.import_module(n)))


PACKAGES = _packages()


def isort_key(name: str) -> tuple[int, list[object]]:
    """The order ruff's RUF022 keeps ``__all__`` in: CONSTANTS, then Classes, then the rest,
    each in natural order (``x2`` before ``x10``).

    >>> sorted(["load", "Activity", "DATASETS", "x10", "x2"], key=isort_key)
    ['DATASETS', 'Activity', 'load', 'x2', 'x10']
    """
    if len(name) > 1 and name.isupper():
        category = 0
    elif name[:1].isupper():
        category = 1
    else:
        category = 2
    natural = [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]
    return category, natural


def _exported(name: str) -> tuple[ModuleType, list[str]]:
    module = importlib.import_module(name)
    return module, list(module.__dict__["__all__"])


def test_packages_are_found() -> None:
    """The walk sees the subpackages that export, so the checks below are not vacuous."""
    assert {"vigil.security", "vigil.monitoring", "vigil.testing"} <= set(PACKAGES)


@pytest.mark.parametrize("name", PACKAGES)
def test_all_is_sorted(name: str) -> None:
    """``__all__`` is sorted (ruff's isort-style order), so additions land in one place."""
    _, exported = _exported(name)
    assert exported == sorted(exported, key=isort_key)


@pytest.mark.parametrize("name", PACKAGES)
def test_all_has_no_duplicates(name: str) -> None:
    """No name is exported twice."""
    _, exported = _exported(name)
    duplicates = sorted({n for n in exported if exported.count(n) > 1})
    assert duplicates == []


@pytest.mark.parametrize("name", PACKAGES)
def test_all_names_resolve(name: str) -> None:
    """Every exported name exists on the package (``from pkg import *`` cannot fail)."""
    module, exported = _exported(name)
    assert all(isinstance(n, str) for n in exported)
    missing = [n for n in exported if not hasattr(module, n)]
    assert missing == []
