"""The tables. Every table has a tenant column and every query filters on it.

Times are seconds since the Unix epoch (float): event time from the device,
``received`` from the platform's clock at the edge.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = 128
LogOffset = BigInteger().with_variant(Integer(), "sqlite")

tenants = Table(
    "tenants",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("name", Text, nullable=False),
    Column("kind", String(16), nullable=False),
)

entities = Table(
    "entities",
    metadata,
    # The database numbers entities and devices (an identity column in PostgreSQL,
    # AUTOINCREMENT in SQLite: a number is never handed out twice, even after a delete).
    Column("number", Integer, Identity(), primary_key=True),
    Column("tenant", String(ID), nullable=False),
    Column("id", String(ID), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("name", Text, nullable=False),
    Column("parent", String(ID)),
    Column("attributes", JSON, nullable=False),
    UniqueConstraint("tenant", "id"),
    Index("ix_entities_tenant_kind_name", "tenant", "kind", "name"),
    Index("ix_entities_tenant_parent", "tenant", "parent"),
    sqlite_autoincrement=True,
)

devices = Table(
    "devices",
    metadata,
    Column("number", Integer, Identity(), primary_key=True),
    Column("tenant", String(ID), nullable=False),
    Column("id", String(ID), nullable=False),
    Column("entity", String(ID), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("location", String(64)),
    Column("metrics", JSON, nullable=False),
    Column("heartbeat", Float),
    Column("removed", Boolean, nullable=False, server_default=false()),
    UniqueConstraint("tenant", "id"),
    Index("ix_devices_tenant_entity", "tenant", "entity"),
    sqlite_autoincrement=True,
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("tenant", String(ID), nullable=False, index=True),
    Column("name", Text, nullable=False),
    Column("role", String(16), nullable=False),
    Column("secret_hash", String(128), nullable=False),
    Column("created", Float, nullable=False),
    Column("revoked", Boolean, nullable=False, default=False),
)

event_log = Table(
    "event_log",
    metadata,
    # INTEGER in SQLite, so that the offset is the rowid itself rather than a second index.
    Column("offset", LogOffset, primary_key=True, autoincrement=False),
    Column("tenant", String(ID), nullable=False),
    Column("entity_number", Integer, nullable=False),
    Column("device_number", Integer, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("type", String(16), nullable=False),
    Column("time", Float, nullable=False),
    Column("received", Float, nullable=False),
    Column("metric", String(64)),
    Column("value", Float),
    Column("body", Text, nullable=False),
    Index("ix_event_log_time", "time"),
)
"""The durable log: an event is acknowledged only once its row is committed.

``offset`` orders the log; operators consume it in that order and checkpoint the
offset they reached. ``body`` is the whole event (JSON) for replay.
Entities and devices are referred to by their integer ``number``. There is no
per-entity index: one costs more than half of the insert rate, and what pages
need per entity (latest values, trends) lives in operator state.
"""

device_sequences = Table(
    "device_sequences",
    metadata,
    Column("tenant", String(ID), primary_key=True),
    Column("device", String(ID), primary_key=True),
    Column("last_seq", BigInteger, nullable=False),
)
"""Highest sequence number accepted per device, as of ``log_marks['sequences']``:
what makes re-sent readings idempotent across restarts. Written every few
seconds rather than per batch; on start the log after the mark fills the gap."""

log_marks = Table(
    "log_marks",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("offset", LogOffset, nullable=False),
)
"""How far into the log a derived table is complete."""

dead_letters = Table(
    "dead_letters",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("tenant", String(ID), index=True),
    Column("received", Float, nullable=False),
    Column("transport", String(16), nullable=False),
    Column("source", Text),
    Column("reason", String(32), nullable=False),
    Column("detail", Text, nullable=False),
    Column("device", String(ID)),
    Column("raw", LargeBinary),
)
"""Rejected input with its reason. ``tenant`` is null when the sender could not be identified."""
Index("ix_dead_letters_tenant_source", dead_letters.c.tenant, dead_letters.c.source)

dead_letter_counts = Table(
    "dead_letter_counts",
    metadata,
    Column("tenant", String(ID), primary_key=True),
    Column("source", Text, primary_key=True),
    Column("reason", String(32), primary_key=True),
    Column("count", BigInteger, nullable=False),
)
"""Dead letters removed by retention, counted, so that counts by reason cover all time.
``tenant`` and ``source`` are ``""`` where the dead letter had none."""

operator_state = Table(
    "operator_state",
    metadata,
    Column("operator", String(64), primary_key=True),
    Column("tenant", String(ID), primary_key=True),
    Column("key", String(ID), primary_key=True),
    Column("state", LargeBinary, nullable=False),
)

operator_checkpoints = Table(
    "operator_checkpoints",
    metadata,
    Column("operator", String(64), primary_key=True),
    Column("offset", BigInteger, nullable=False),
    Column("runtime_state", LargeBinary, nullable=False),
)

findings = Table(
    "findings",
    metadata,
    Column("id", String(160), primary_key=True),
    Column("tenant", String(ID), nullable=False),
    Column("entity", String(ID), nullable=False),
    Column("operator", String(64), nullable=False),
    Column("kind", String(48), nullable=False),
    Column("time", Float, nullable=False),
    Column("offset", BigInteger, nullable=False),
    Column("message", Text, nullable=False),
    Column("data", JSON, nullable=False),
    Index("ix_findings_tenant_time", "tenant", "time"),
    Index("ix_findings_entity", "tenant", "entity", "time"),
)
"""Durable operator outputs. The id is derived from (operator, input offset, index),
so outputs re-produced after a crash replace nothing and duplicate nothing."""

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("tenant", String(ID), nullable=False, index=True),
    Column("time", Float, nullable=False),
    Column("actor", String(64), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", Text, nullable=False),
)

documents = Table(
    "documents",
    metadata,
    Column("tenant", String(ID), primary_key=True),
    Column("kind", String(64), primary_key=True),
    Column("key", String(ID), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("time", Float, nullable=False),
    Column("actor", String(64), nullable=False),
    Column("action", String(64), nullable=False),
    Column("summary", Text, nullable=False),
    Column("body", LargeBinary, nullable=False),
)
"""A domain's records that people change and that no operator derives from the log (a
day's carer plan): every version kept, the newest is the one pages show. Opaque to the
store: ``body`` is the domain's own encoding."""

derived_marks = Table(
    "derived_marks",
    metadata,
    Column("operator", String(64), primary_key=True),
    Column("offset", LogOffset, nullable=False),
)
"""Per operator, the input offset up to which its derived events are in the log.
Written in the transaction that appends them: after a restart the operator re-derives
what followed its checkpoint, and what the log already holds is not appended again."""

latest_values = Table(
    "latest_values",
    metadata,
    Column("tenant", String(ID), primary_key=True),
    Column("entity", String(ID), primary_key=True),
    Column("device", String(ID), primary_key=True),
    Column("metric", String(64), primary_key=True),
    Column("value", Float),
    Column("text", Text),
    Column("time", Float, nullable=False),
    Column("unit", String(16)),
)
"""Projection: the newest value of every sensor, for pages."""

history_buckets = Table(
    "history_buckets",
    metadata,
    Column("tenant", String(ID), primary_key=True),
    Column("entity", String(ID), primary_key=True),
    Column("resolution", Integer, primary_key=True),
    Column("device", String(ID), primary_key=True),
    Column("metric", String(64), primary_key=True),
    Column("start", Float, primary_key=True),
    Column("count", Integer, nullable=False),
    Column("min", Float, nullable=False),
    Column("max", Float, nullable=False),
    Column("sum", Float, nullable=False),
    Index("ix_history_buckets_retention", "resolution", "start"),
)
"""Projection: downsampled history (1 min, 15 min, 1 h, 1 day), closed buckets only.
The key starts with (tenant, entity, resolution), so a chart reads one range."""

conditions = Table(
    "conditions",
    metadata,
    Column("tenant", String(ID), primary_key=True),
    Column("id", String(200), primary_key=True),
    Column("key", String(160), nullable=False),
    Column("entity", String(ID), nullable=False),
    Column("kind", String(48), nullable=False),
    Column("source", String(64), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("route", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("message", Text, nullable=False),
    Column("evidence", JSON, nullable=False),
    Column("opened", Float, nullable=False),
    Column("updated", Float, nullable=False),
    Column("acknowledged", Float),
    Column("acknowledged_by", String(64)),
    Column("assignee", String(64)),
    Column("escalations", Integer, nullable=False),
    Column("escalate_at", Float),
    Column("closed", Float),
    Column("outcome", String(64)),
    Index("ix_conditions_queue", "tenant", "status", "opened"),
    Index("ix_conditions_entity", "tenant", "entity", "opened"),
)
"""Projection: every alert, open and closed, as the condition tracker sees it."""

condition_events = Table(
    "condition_events",
    metadata,
    Column("tenant", String(ID), primary_key=True),
    Column("condition", String(200), primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("time", Float, nullable=False),
    Column("what", String(32), nullable=False),
    Column("actor", String(64)),
    Column("detail", Text, nullable=False),
)
"""Projection: each condition's history (raised, updated, acknowledged, escalated, ...)."""
