"""The sync ledger's data: where each completion's delivery to the LMS stands, as the table keeps it.

`store.ledger` keeps it and `sync` acts on it; this module holds data only, so the store can import it
without the sync machinery.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

from kollus_bridge.content.ports import CatalogItem
from kollus_bridge.progress.ports import Record


class Subject(NamedTuple):
    """What a delivery is about: a learner's record (learner, media content key), or a catalog
    content (None, upload file key). It equals the plain tuple."""

    learner: str | None
    key: str


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
class StoredContent(CatalogItem):
    """A catalog entry with where the delivery of its `content.*` webhooks stands."""

    ledger: SyncLedger = SyncLedger()
    #: The content.* webhooks delivered so far.
    events_sent: frozenset[str] = frozenset()


#: What the delivery machinery delivers.
Deliverable = StoredRecord | StoredContent


def subject_of(item: Deliverable) -> Subject:
    if isinstance(item, StoredContent):
        return Subject(None, item.entry.upload_file_key)
    return Subject(item.client_user_id, item.media_content_key)


@dataclass(frozen=True)
class StoredLedgerEntry:
    """A ledger listing's row (read from the ledger index, without the record's progress). A catalog
    content's row has no learner, and names its upload file key."""

    client_user_id: str | None
    media_content_key: str | None
    completed_at: int | None
    ledger: SyncLedger
    upload_file_key: str | None = None


@dataclass(frozen=True)
class Message:
    kind: str  # progress.completed | progress.updated | content.ready | content.failed | content.deleted
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
