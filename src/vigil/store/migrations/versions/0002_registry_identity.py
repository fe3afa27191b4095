"""registry identity: the database numbers entities and devices

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04 06:55:00

``number`` becomes the primary key with an identity (PostgreSQL) or AUTOINCREMENT
(SQLite) instead of ``max(number) + 1`` in Python; ``(tenant, id)`` stays unique.
Each table is rebuilt and its rows copied with their numbers, which the event log
refers to; the identity then continues above the highest.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

COLUMNS = {
    "entities": lambda: [
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("parent", sa.String(length=128), nullable=True),
        sa.Column("attributes", sa.JSON(), nullable=False),
    ],
    "devices": lambda: [
        sa.Column("entity", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("location", sa.String(length=64), nullable=True),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("heartbeat", sa.Float(), nullable=True),
    ],
}


def _set_aside(table: str, constraints: tuple[str, ...]) -> None:
    op.rename_table(table, f"{table}_old")
    if op.get_bind().dialect.name == "postgresql":
        # Constraint (and index) names are per schema in PostgreSQL.
        for name in constraints:
            op.execute(f'ALTER TABLE "{table}_old" RENAME CONSTRAINT "{name}" TO "{name}_old"')


def _copy_back(table: str) -> None:
    names = ", ".join(f'"{c}"' for c in ("number", "tenant", "id", *_names(table)))
    op.execute(f'INSERT INTO "{table}" ({names}) SELECT {names} FROM "{table}_old"')
    op.drop_table(f"{table}_old")


def _names(table: str) -> list[str]:
    return [c.name for c in COLUMNS[table]()]


def upgrade() -> None:
    for table in ("entities", "devices"):
        _set_aside(table, (f"pk_{table}", f"uq_{table}_number"))
        op.create_table(
            table,
            sa.Column("number", sa.Integer(), sa.Identity(), nullable=False),
            sa.Column("tenant", sa.String(length=128), nullable=False),
            sa.Column("id", sa.String(length=128), nullable=False),
            *COLUMNS[table](),
            sa.PrimaryKeyConstraint("number", name=op.f(f"pk_{table}")),
            sa.UniqueConstraint("tenant", "id", name=op.f(f"uq_{table}_tenant_id")),
            sqlite_autoincrement=True,
        )
        _copy_back(table)
        if op.get_bind().dialect.name == "postgresql":
            op.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'number'), "
                f'COALESCE((SELECT MAX("number") FROM "{table}"), 0) + 1, false)'
            )


def downgrade() -> None:
    for table in ("entities", "devices"):
        _set_aside(table, (f"pk_{table}", f"uq_{table}_tenant_id"))
        op.create_table(
            table,
            sa.Column("tenant", sa.String(length=128), nullable=False),
            sa.Column("id", sa.String(length=128), nullable=False),
            sa.Column("number", sa.Integer(), nullable=False),
            *COLUMNS[table](),
            sa.PrimaryKeyConstraint("tenant", "id", name=op.f(f"pk_{table}")),
            sa.UniqueConstraint("number", name=op.f(f"uq_{table}_number")),
        )
        _copy_back(table)
