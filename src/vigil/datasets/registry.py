"""Named recorded data sets, and where to find them without being told.

``vigil replay kasteren`` should work from a checkout next to the shared data
directory (``<somewhere>/main`` beside ``<somewhere>/shared/data/adl``), whether
it runs from the repository or from an installed package.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from vigil.datasets.home import RecordedHome
from vigil.datasets.kasteren import read_kasteren
from vigil.datasets.ordonez import read_ordonez
from vigil.errors import ConfigurationError

ADL_DIRECTORY: Final = Path("shared", "data", "adl")

DATASETS: Final[dict[str, Callable[..., RecordedHome]]] = {
    "kasteren": read_kasteren,
    "ordonez": read_ordonez,
}
"""Data-set name -> reader taking ``(path, *, tenant, entity=..., shift_to=...)``."""

DIRECTORIES: Final[dict[str, str]] = {
    "kasteren": "kasteren_house_a",
    "ordonez": "ordonez_a",
}
"""Data-set name -> its directory under ``shared/data/adl``."""


def find_adl_root(*starts: Path) -> Path:
    """The first ``shared/data/adl`` beside the working directory, the package, or an ancestor.

    Raises ``ConfigurationError`` listing every place looked at.
    """
    tried: list[Path] = []
    for start in starts or (Path.cwd(), Path(__file__)):
        here = Path(start).resolve()
        if here.is_file():  # a module's own path: look from its folder
            here = here.parent
        for folder in (here, *here.parents):
            candidate = folder / ADL_DIRECTORY
            if candidate in tried:
                continue
            tried.append(candidate)
            if candidate.is_dir():
                return candidate
    looked = ", ".join(str(p) for p in tried)
    raise ConfigurationError(f"no {ADL_DIRECTORY} directory found; looked for: {looked}")


def load_dataset(name: str, path: Path | None = None, **kw: Any) -> RecordedHome:
    """Read the data set ``name`` from ``path``, or from its standard place if ``path`` is None.

    Keyword arguments go to the reader (``tenant`` is required; ``entity``,
    ``shift_to`` and ``keep_time_of_day`` are optional).
    """
    reader = DATASETS.get(name)
    if reader is None:
        known = ", ".join(sorted(DATASETS))
        raise ConfigurationError(f"unknown data set {name!r}; known: {known}")
    if path is None:
        path = find_adl_root() / DIRECTORIES[name]
        if not path.is_dir():
            raise ConfigurationError(f"data set {name!r} not found: no directory {path}")
    return reader(Path(path), **kw)
