"""The declared dependencies are the used ones: none unused, none missing."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "vigil"
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]

IMPORT_NAMES = {
    "paho-mqtt": "paho",
    "protobuf": "google",
    "pydantic-settings": "pydantic_settings",
}
"""Distribution name -> the module it is imported as, where they differ."""

USED_INDIRECTLY = {
    "uvicorn": "imported by vigil.commands only when serving",
    "psycopg": "SQLAlchemy's driver for postgresql+psycopg:// URLs",
    "jinja2": "Starlette's templates",
    "python-multipart": "FastAPI's Form() parsing of the alert pages' form posts",
}


def _name(requirement: str) -> str:
    return re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0].lower()


def _imported_top_level() -> set[str]:
    found: set[str] = set()
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module.split(".")[0])
    return found


def test_every_runtime_dependency_is_imported() -> None:
    """Each package in ``dependencies`` is imported by ``src/vigil`` (or is listed, with
    the reason, as used through another package): ``aiomqtt`` was declared and unused."""
    imported = _imported_top_level()
    unused = [
        name
        for name in map(_name, PROJECT["dependencies"])
        if IMPORT_NAMES.get(name, name.replace("-", "_")) not in imported
        and name not in USED_INDIRECTLY
    ]
    assert unused == []


def test_numpy_is_declared_where_src_imports_it() -> None:
    """NumPy is a runtime dependency exactly when ``src/vigil`` imports it (the visit
    planner's matrices do); ``aiomqtt`` stays out."""
    runtime = {_name(r) for r in PROJECT["dependencies"]}
    assert ("numpy" in runtime) == ("numpy" in _imported_top_level())
    assert "aiomqtt" not in runtime
