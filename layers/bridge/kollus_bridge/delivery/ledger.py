"""The sync ledger's data: where each completion's delivery to the LMS stands, as the table keeps it.

`store.ledger` keeps it and `sync` acts on it; this module holds data only, so the store can import it
without the sync machinery.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from kollus_bridge.progress.ports import Record


class SyncState(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


@dataclass(frozen=True)
class SyncLedger:
    """Where a record's delivery to the LMS stands."""

    state: SyncState | None = None
    attempts: int = 0
    next_attempt_at: int | None = None
    last_attempt_at: int | None = None
    last_status: int | None = None
    last_error: str | None = None
    delivered_at: int | None = None
    message_id: str | None = None
    completion_sent: bool = False
    progress_sent: str | None = None


@dataclass(frozen=True)
class StoredRecord(Record):
    """A record with where its delivery stands."""

    ledger: SyncLedger = SyncLedger()


@dataclass(frozen=True)
class StoredLedgerEntry:
    """A ledger listing's row (read from the ledger index, without the record's progress)."""

    client_user_id: str
    media_content_key: str
    completed_at: int | None
    ledger: SyncLedger


@dataclass(frozen=True)
class Message:
    kind: str  # progress.completed | progress.updated
    message_id: str
    body: bytes
    progress: str


@dataclass(frozen=True)
class Attempt:
    """What the LMS answered (status None: no answer at all)."""

    status: int | None
    retry_after: str | None = None
    excerpt: str = ""
    error: str | None = None


@dataclass(frozen=True)
class Sent:
    message: Message
    status: int | None
