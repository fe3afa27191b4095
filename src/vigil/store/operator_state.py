"""Operator checkpoints and findings: what lets the engine restart exactly where it was."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future

import msgspec
from sqlalchemy import Connection, Engine, func, select

from vigil.engine.projection_rows import Projection
from vigil.engine.records import Accepted, Checkpoint, FindingRow, LogRecord, Undecodable
from vigil.engine.seams import AfterCommit, CheckpointBatch, CommitHook
from vigil.store.event_log import AppendJob, DeadLetterUndecodable, EventLog
from vigil.store.projections import write_projections
from vigil.store.schema import derived_marks, findings, operator_checkpoints, operator_state
from vigil.store.upsert import upsert, upsert_rows
from vigil.store.writer import GroupCommitWriter

__all__ = [
    "Checkpoint",
    "CheckpointJob",
    "FindingRepository",
    "FindingRow",
    "OperatorStateRepository",
    "SqlCheckpointStore",
]


class CheckpointJob:
    """What one pass of the runtime produced, in one transaction of the writer: derived
    events appended to the log (with the marks that keep a replay from appending them
    again), findings, projection rows, dead letters for log rows no operator can read,
    and, when it is time, checkpoints.

    Every part is an upsert or guarded by its mark, so the same job can be written
    again after a failure with the same result."""

    def __init__(
        self,
        checkpoints: Sequence[Checkpoint],
        new_findings: Sequence[FindingRow],
        *,
        projections: Sequence[Projection] = (),
        derived: Sequence[Accepted] = (),
        marks: Mapping[str, int] | None = None,
        log: EventLog | None = None,
        on_commit: Callable[[list[LogRecord]], None] | None = None,
        after_commit: Callable[[], None] | None = None,
        undecodable: Sequence[Undecodable] = (),
    ) -> None:
        self.checkpoints = checkpoints
        self._dead = DeadLetterUndecodable(undecodable) if undecodable else None
        self.after_commit = after_commit
        self.findings = new_findings
        self.projections = projections
        self.marks = dict(marks or {})
        self._append = (
            AppendJob(log, derived, on_commit=on_commit) if derived and log is not None else None
        )

    def write(self, connection: Connection) -> list[LogRecord]:
        records = self._append.write(connection) if self._append is not None else []
        if self._dead is not None:
            self._dead.write(connection)
        if self.marks:
            upsert_rows(
                connection,
                derived_marks,
                ("operator", "offset"),
                sorted(self.marks.items()),
                keys=("operator",),
                update=("offset",),
            )
        upsert(
            connection,
            findings,
            [msgspec.structs.asdict(f) for f in self.findings],
            keys=("id",),
        )
        if self.projections:
            write_projections(connection, self.projections)
        for checkpoint in self.checkpoints:
            # Plain tuples of str and bytes: no per-value type processing for the
            # thousands of keys a checkpoint can carry.
            upsert_rows(
                connection,
                operator_state,
                ("operator", "tenant", "key", "state"),
                [(checkpoint.operator, t, k, s) for t, k, s in checkpoint.keys],
                keys=("operator", "tenant", "key"),
                update=("state",),
            )
            upsert_rows(
                connection,
                operator_checkpoints,
                ("operator", "offset", "runtime_state"),
                [(checkpoint.operator, checkpoint.offset, checkpoint.runtime_state)],
                keys=("operator",),
                update=("offset", "runtime_state"),
            )

        return records

    def committed(self, result: list[LogRecord]) -> None:
        if self._append is not None:
            self._append.committed(result)
        if self.after_commit is not None:
            self.after_commit()

    def rolled_back(self) -> None:
        if self._append is not None:
            self._append.rolled_back()


class OperatorStateRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def load(self, operator: str) -> tuple[int, bytes | None, list[tuple[str, str, bytes]]]:
        """The operator's last checkpoint: offset, runtime state, and every key's state."""
        with self.engine.connect() as connection:
            row = connection.execute(
                select(operator_checkpoints.c.offset, operator_checkpoints.c.runtime_state).where(
                    operator_checkpoints.c.operator == operator
                )
            ).first()
            if row is None:
                return 0, None, []
            keys = connection.execute(
                select(operator_state.c.tenant, operator_state.c.key, operator_state.c.state).where(
                    operator_state.c.operator == operator
                )
            ).all()
        return row[0], row[1], [tuple(k) for k in keys]  # type: ignore[misc]

    def derived_marks(self) -> dict[str, int]:
        """Per operator, the input offset up to which its derived events are logged."""
        with self.engine.connect() as connection:
            return dict(connection.execute(select(derived_marks)).all())  # type: ignore[arg-type]


class SqlCheckpointStore(OperatorStateRepository):
    """The engine's checkpoint store (``vigil.engine.seams.CheckpointStore``) on SQL.

    Reads on connections of its own; writes each batch as one job of the group-commit
    writer, so a batch's checkpoints, findings, projections and derived events (into
    ``log``) commit in one transaction with whatever else the writer groups with them.

    ``side_writer``: a second writer, on a connection of its own, for the batches that
    append nothing to the log (most of them). A checkpoint of thousands of keys then
    commits beside the log's appends instead of in front of them, which is what kept
    ingest's p99 on PostgreSQL in the hundreds of milliseconds. Its order is safe: the
    runtime sends a batch only once the one before it is committed, and a batch only
    refers to log records already committed. SQLite has one writer at a time anyway,
    so there it is left out."""

    def __init__(
        self,
        engine: Engine,
        *,
        log: EventLog,
        writer: GroupCommitWriter,
        side_writer: GroupCommitWriter | None = None,
    ) -> None:
        super().__init__(engine)
        self.log = log
        self.writer = writer
        self.side_writer = side_writer

    def commit(
        self,
        batch: CheckpointBatch,
        *,
        on_commit: CommitHook | None = None,
        after_commit: AfterCommit = None,
    ) -> Future[list[LogRecord]]:
        appends = bool(batch.derived or batch.undecodable)
        writer = self.writer if appends or self.side_writer is None else self.side_writer
        return writer.submit(
            CheckpointJob(
                batch.checkpoints,
                batch.findings,
                projections=batch.projections,
                derived=batch.derived,
                marks=batch.marks,
                log=self.log,
                on_commit=on_commit,
                after_commit=after_commit,
                undecodable=batch.undecodable,
            )
        )


class FindingRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def recent(
        self,
        tenant: str,
        *,
        entity: str | None = None,
        kind: str | None = None,
        since: float | None = None,
        limit: int = 100,
    ) -> list[FindingRow]:
        """Newest first: of one entity, of one kind, from ``since`` (each if given)."""
        query = select(findings).where(findings.c.tenant == tenant)
        if entity is not None:
            query = query.where(findings.c.entity == entity)
        if kind is not None:
            query = query.where(findings.c.kind == kind)
        if since is not None:
            query = query.where(findings.c.time >= since)
        query = query.order_by(findings.c.time.desc(), findings.c.id).limit(limit)
        with self.engine.connect() as connection:
            return [FindingRow(**row) for row in connection.execute(query).mappings()]

    def all_ids(self, tenant: str) -> list[str]:
        with self.engine.connect() as connection:
            return list(
                connection.execute(
                    select(findings.c.id).where(findings.c.tenant == tenant).order_by(findings.c.id)
                ).scalars()
            )

    def count(self, tenant: str) -> int:
        with self.engine.connect() as connection:
            return connection.execute(
                select(func.count()).select_from(findings).where(findings.c.tenant == tenant)
            ).scalar_one()
