"""The use cases, one function each. A callback flows one way: parse -> merge -> store."""

from __future__ import annotations

from dataclasses import dataclass

from .dal import LedgerStore, ProgressStore, RawSnapshot, StoredLedgerEntry
from .errors import BridgeError, NotFound, StorageUnavailable
from .kollus import RawCallback, parse_callback
from .pagination import decode_token, encode_token
from .progress import Outcome, ProgressView, complete, needs_completion, session_update, summarize
from .settings import Settings
from .sync import SyncState


@dataclass(frozen=True)
class IngestResult:
    outcome: Outcome
    client_user_id: str
    media_content_key: str
    view: ProgressView


def ingest_callback(raw: RawCallback, settings: Settings, store: ProgressStore, now: int) -> IngestResult:
    """Validate one callback and merge it into the learner's record.

    Storage cost: one conditional write to the record (a duplicate or stale callback ends there, its
    condition failing), one to the session's raw snapshot when the callback was newer, and once in a
    record's life one more to stamp its completion. No reads: the record comes back from the write.
    A payload that cannot be used is kept in the rejected store and the error re-raised.
    """
    snapshot = RawSnapshot(body=raw.body, content_type=raw.content_type, query=raw.query)
    try:
        callback = parse_callback(raw, settings)
        update = session_update(callback, received_at=now, min_block_watch_ratio=settings.min_block_watch_ratio)
        applied = store.apply(update, mark_due=settings.sync_progress_updates)
    except StorageUnavailable:
        raise  # nothing was decided about the payload: the player resends it
    except BridgeError as error:
        store.save_rejected(snapshot, error.code, error.message, error.field, now)
        raise
    state = applied.state
    # Checked on duplicates too: a resend repairs a completion lost to a crash after write 1.
    if needs_completion(state, settings.completion_threshold):
        store.mark_completed(update.client_user_id, update.media_content_key, now)
        state = complete(state, now, settings.completion_threshold)
    if applied.outcome is Outcome.ACCEPTED:
        store.save_snapshot(update, snapshot)
    return IngestResult(
        outcome=applied.outcome,
        client_user_id=update.client_user_id,
        media_content_key=update.media_content_key,
        view=summarize(state, settings.completion_threshold),
    )


@dataclass(frozen=True)
class LedgerPage:
    entries: list[StoredLedgerEntry]
    next_token: str | None


#: The ledger index's key attributes and their types (what a page token may hold).
LEDGER_KEY_TYPES = {"pk": "S", "sk": "S", "sync_state": "S", "sync_changed_at": "N"}


def sync_ledger(state: SyncState, limit: int, next_token: str | None, store: LedgerStore) -> LedgerPage:
    """One page of the sync ledger in one state."""
    start = decode_token(next_token, LEDGER_KEY_TYPES, {"sync_state": {"S": state.value}})
    entries, last = store.ledger(state, limit, start)
    return LedgerPage(entries, encode_token(last))


def redeliver(client_user_id: str, media_content_key: str, store: LedgerStore, now: int) -> None:
    """Put a completion back in line for delivery (idempotent)."""
    if not store.redeliver(client_user_id, media_content_key, now):
        raise NotFound("no completed record for this learner and content")


def read_progress(
    client_user_id: str, media_content_key: str, settings: Settings, store: ProgressStore
) -> ProgressView:
    """One learner's progress on one content."""
    state = store.get_record(client_user_id, media_content_key)
    if state is None:
        raise NotFound("no progress recorded for this learner and content")
    return summarize(state, settings.completion_threshold)
