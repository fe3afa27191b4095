"""engine v2: projections, conditions, derived marks

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 06:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("entities", schema=None) as batch_op:
        batch_op.create_index("ix_entities_tenant_kind_name", ["tenant", "kind", "name"])
        batch_op.create_index("ix_entities_tenant_parent", ["tenant", "parent"])
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.create_index("ix_devices_tenant_entity", ["tenant", "entity"], unique=False)
    op.create_table(
        "derived_marks",
        sa.Column("operator", sa.String(length=64), nullable=False),
        sa.Column("offset", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.PrimaryKeyConstraint("operator", name=op.f("pk_derived_marks")),
    )
    op.create_table(
        "latest_values",
        sa.Column("tenant", sa.String(length=128), nullable=False),
        sa.Column("entity", sa.String(length=128), nullable=False),
        sa.Column("device", sa.String(length=128), nullable=False),
        sa.Column("metric", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("time", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint(
            "tenant", "entity", "device", "metric", name=op.f("pk_latest_values")
        ),
    )
    op.create_table(
        "history_buckets",
        sa.Column("tenant", sa.String(length=128), nullable=False),
        sa.Column("entity", sa.String(length=128), nullable=False),
        sa.Column("resolution", sa.Integer(), nullable=False),
        sa.Column("device", sa.String(length=128), nullable=False),
        sa.Column("metric", sa.String(length=64), nullable=False),
        sa.Column("start", sa.Float(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("min", sa.Float(), nullable=False),
        sa.Column("max", sa.Float(), nullable=False),
        sa.Column("sum", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant",
            "entity",
            "resolution",
            "device",
            "metric",
            "start",
            name=op.f("pk_history_buckets"),
        ),
    )
    with op.batch_alter_table("history_buckets", schema=None) as batch_op:
        batch_op.create_index("ix_history_buckets_retention", ["resolution", "start"])
    op.create_table(
        "conditions",
        sa.Column("tenant", sa.String(length=128), nullable=False),
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("entity", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=48), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("route", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("opened", sa.Float(), nullable=False),
        sa.Column("updated", sa.Float(), nullable=False),
        sa.Column("acknowledged", sa.Float(), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=64), nullable=True),
        sa.Column("assignee", sa.String(length=64), nullable=True),
        sa.Column("escalations", sa.Integer(), nullable=False),
        sa.Column("escalate_at", sa.Float(), nullable=True),
        sa.Column("closed", sa.Float(), nullable=True),
        sa.Column("outcome", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("tenant", "id", name=op.f("pk_conditions")),
    )
    with op.batch_alter_table("conditions", schema=None) as batch_op:
        batch_op.create_index("ix_conditions_queue", ["tenant", "status", "opened"])
        batch_op.create_index("ix_conditions_entity", ["tenant", "entity", "opened"])
    op.create_table(
        "condition_events",
        sa.Column("tenant", sa.String(length=128), nullable=False),
        sa.Column("condition", sa.String(length=200), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("time", sa.Float(), nullable=False),
        sa.Column("what", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "condition", "number", name=op.f("pk_condition_events")),
    )


def downgrade() -> None:
    op.drop_table("condition_events")
    op.drop_table("conditions")
    op.drop_table("history_buckets")
    op.drop_table("latest_values")
    op.drop_table("derived_marks")
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.drop_index("ix_devices_tenant_entity")
    with op.batch_alter_table("entities", schema=None) as batch_op:
        batch_op.drop_index("ix_entities_tenant_parent")
        batch_op.drop_index("ix_entities_tenant_kind_name")
