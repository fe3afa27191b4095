"""The engine's log appender (``vigil.engine.seams.LogAppender``) on SQL."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future

from vigil.engine.records import Accepted, LogRecord
from vigil.engine.seams import AuditRow, CommitHook
from vigil.store.audit import AuditedAppend
from vigil.store.event_log import EventLog
from vigil.store.writer import GroupCommitWriter


class SqlLogAppender:
    """Appends through the group-commit writer: events (and the audit rows of who
    caused them) in one transaction, the future resolved once it committed."""

    def __init__(self, log: EventLog, writer: GroupCommitWriter) -> None:
        self.log = log
        self.writer = writer

    @property
    def next_offset(self) -> int:
        return self.log.next_offset

    def append(
        self,
        events: Sequence[Accepted],
        *,
        audit: Sequence[AuditRow] = (),
        on_commit: CommitHook | None = None,
    ) -> Future[list[LogRecord]]:
        return self.writer.submit(AuditedAppend(self.log, events, audit, on_commit=on_commit))
