"""Bringing a database to the current schema with Alembic."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from vigil.store.database import translate

MIGRATIONS = Path(__file__).with_name("migrations")


def _config(connection: object) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    try:
        with engine.begin() as connection:
            command.upgrade(_config(connection), revision)
    except SQLAlchemyError as err:
        raise translate(err, "migrating the database") from err


def revision(engine: Engine, message: str) -> None:
    """Write a new migration from the difference between the database and ``schema``."""
    with engine.begin() as connection:
        command.revision(_config(connection), message=message, autogenerate=True)


def current(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head() -> str | None:
    return ScriptDirectory.from_config(_config(None)).get_current_head()
