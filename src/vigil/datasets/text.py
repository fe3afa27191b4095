"""Line handling shared by the ADL text readers: encodings, CRLF, ragged tabs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from vigil.errors import ConfigurationError


def data_file(path: Path, name: str) -> Path:
    """``path`` may be the data-set directory or any file in it; find ``name`` there."""
    directory = path.parent if path.is_file() else path
    found = directory / name
    if not found.is_file():
        raise ConfigurationError(f"no {name} in {directory}")
    return found


def read_lines(path: Path) -> Iterator[tuple[int, str]]:
    """Numbered lines without CR/LF or trailing blanks.

    Latin-1 because the READMEs are (and it never fails to decode); the data lines
    themselves are ASCII.
    """
    text = path.read_text(encoding="latin-1")
    for number, line in enumerate(text.splitlines(), start=1):
        yield number, line.rstrip()
