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


class Target(StrEnum):
    """Where a delivery goes: the LMS's Standard Webhooks receiver, an LTI platform's gradebook
    (Assignment and Grade Services), or a learning record store (xAPI)."""

    WEBHOOK = "webhook"
    AGS = "ags"
    XAPI = "xapi"


class Subject(NamedTuple):
    """What a delivery is about: a learner's record (learner, media content key), or a catalog
    content (None, upload file key), for one target."""

    learner: str | None
    key: str
    target: Target = Target.WEBHOOK


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
    #: The last score timestamp a platform accepted (AGS: each must be later than the one before).
    stamp: int | None = None


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
    #: When the change a `content.updated` is owed for was made (None: none owed).
    update_at: int | None = None


@dataclass(frozen=True)
class Link:
    """How a learner reached a content through an LTI platform (kept from the last launch)."""

    platform_id: str
    sub: str
    lineitem: str | None = None
    context_id: str | None = None
    #: The xAPI registration of this learner's launches of this content from this context.
    registration: str | None = None
    #: A launch that named no line item: the context's line items, where the link's is looked up (or,
    #: with `create_lineitem`, made), the resource link and its title (the line item's label).
    lineitems: str | None = None
    resource_link_id: str | None = None
    resource_link_title: str | None = None
    create_lineitem: bool = False


@dataclass(frozen=True)
class StoredDelivery:
    """A record's delivery to a target other than the webhook (its own item, its own ledger).

    `rev` is the record's revision this item last heard of; `source` is the record, read with it.
    """

    client_user_id: str
    media_content_key: str
    target: Target
    rev: int = 0
    ledger: SyncLedger = SyncLedger()
    link: Link | None = None
    source: StoredRecord | None = None


#: What the delivery machinery delivers.
Deliverable = StoredRecord | StoredContent | StoredDelivery


def subject_of(item: Deliverable) -> Subject:
    if isinstance(item, StoredContent):
        return Subject(None, item.entry.upload_file_key)
    if isinstance(item, StoredDelivery):
        return Subject(item.client_user_id, item.media_content_key, item.target)
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
    target: Target = Target.WEBHOOK


@dataclass(frozen=True)
class Message:
    kind: str  # progress.completed | progress.updated | content.ready | content.failed | content.deleted
    message_id: str
    body: bytes
    progress: str
    #: AGS: the score's timestamp (ms), kept as the last one sent once delivered.
    stamp: int | None = None


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
