"""Storage: schema and migrations, the event log, group commit, and the repositories.

SQLite (WAL) embedded, PostgreSQL by URL; nothing here knows care or factories.
"""

from vigil.store.appender import SqlLogAppender
from vigil.store.audit import AuditEntry, AuditRepository
from vigil.store.database import WalCheckpointer, open_engine
from vigil.store.dead_letters import DeadLetterRecord, DeadLetterRepository
from vigil.store.documents import DocumentRepository, DocumentVersion, StoredDocument
from vigil.store.event_log import (
    Accepted,
    AppendJob,
    DeadLetter,
    DeadLetterUndecodable,
    EventLog,
    LogPage,
    LogRecord,
    Undecodable,
)
from vigil.store.operator_state import (
    Checkpoint,
    CheckpointJob,
    FindingRepository,
    FindingRow,
    OperatorStateRepository,
    SqlCheckpointStore,
)
from vigil.store.projections import ConditionRepository, ProjectionRepository
from vigil.store.registry import DeviceRef, RegistryRepository
from vigil.store.tokens import TokenRecord, TokenRepository
from vigil.store.writer import GroupCommitWriter, WriteJob

__all__ = [
    "Accepted",
    "AppendJob",
    "AuditEntry",
    "AuditRepository",
    "Checkpoint",
    "CheckpointJob",
    "ConditionRepository",
    "DeadLetter",
    "DeadLetterRecord",
    "DeadLetterRepository",
    "DeadLetterUndecodable",
    "DeviceRef",
    "DocumentRepository",
    "DocumentVersion",
    "EventLog",
    "FindingRepository",
    "FindingRow",
    "GroupCommitWriter",
    "LogPage",
    "LogRecord",
    "OperatorStateRepository",
    "ProjectionRepository",
    "RegistryRepository",
    "SqlCheckpointStore",
    "SqlLogAppender",
    "StoredDocument",
    "TokenRecord",
    "TokenRepository",
    "Undecodable",
    "WalCheckpointer",
    "WriteJob",
    "open_engine",
]
