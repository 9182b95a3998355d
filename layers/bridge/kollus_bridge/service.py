"""The use cases, one function each. A callback flows one way: parse -> merge -> store."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .dal import LedgerStore, ProgressStore, RawSnapshot, RulesStore, StoredLedgerEntry, learner_partition
from .errors import BridgeError, Forbidden, InvalidRequest, NotFound, StorageUnavailable
from .kollus import Callback, RawCallback, parse_callback
from .pagination import decode_token, encode_token
from .playback import PlaybackKeys, PlaybackRequest, claims, jwt_hs256, playback_url, sign_nonce, verify_nonce
from .progress import (
    Outcome,
    ProgressView,
    RecordState,
    complete,
    needs_completion,
    session_update,
    summarize,
    watched_blocks,
)
from .rules import ContentRules, RulesCache, RulesInput, default_rules
from .settings import Settings
from .sync import StoredRecord, SyncLedger, SyncState
from .times import iso_time


@dataclass(frozen=True)
class IngestResult:
    outcome: Outcome
    client_user_id: str
    media_content_key: str
    view: ProgressView
    suspicious: bool = False


def ingest_callback(
    raw: RawCallback,
    settings: Settings,
    store: ProgressStore,
    now: int,
    *,
    rules: RulesCache | None = None,
    nonce_keys: Callable[[], list[str]] = list,
) -> IngestResult:
    """Validate one callback and merge it into the learner's record.

    Storage cost: one conditional write to the record (a duplicate or stale callback ends there, its
    condition failing), one to the session's raw snapshot when the callback was newer, and once in a
    record's life one more to stamp its completion. No reads: the record comes back from the write
    (the content's rules are read at most once per `RULES_CACHE_SECONDS` per function instance).
    A payload that cannot be used is kept in the rejected store and the error re-raised.
    """
    snapshot = RawSnapshot(body=raw.body, content_type=raw.content_type, query=raw.query)
    try:
        callback = check_binding(parse_callback(raw, settings), settings, nonce_keys, now)
        content_rules = rules.get(callback.media_content_key) if rules else default_rules(settings)
        ratio = content_rules.min_block_watch_ratio
        update = session_update(callback, now, ratio, settings.max_playback_rate)
        applied = store.apply(update, mark_due=settings.sync_progress_updates, watch_ratio=ratio)
    except StorageUnavailable:
        raise  # nothing was decided about the payload: the player resends it
    except BridgeError as error:
        store.save_rejected(snapshot, error.code, error.message, error.field, now)
        raise
    if applied.outcome is Outcome.ACCEPTED:
        store.save_snapshot(update, snapshot)
    record = StoredRecord(update.client_user_id, update.media_content_key, applied.state, applied.rev, SyncLedger())
    # Checked on duplicates too: a resend repairs a completion lost to a crash after write 1.
    state = current_state(record, content_rules, settings, store, now)
    return IngestResult(
        outcome=applied.outcome,
        client_user_id=update.client_user_id,
        media_content_key=update.media_content_key,
        view=summarize(state, content_rules.completion_threshold),
        suspicious=update.summary.suspicious and applied.outcome is Outcome.ACCEPTED,
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


# --- progress for the LMS: listings, "why not complete", rules, playback URLs -------------------

LEARNER_KEY_TYPES = {"pk": "S", "sk": "S"}
CONTENT_KEY_TYPES = {"pk": "S", "sk": "S", "media_content_key": "S", "client_user_id": "S"}


@dataclass(frozen=True)
class RecordView:
    client_user_id: str
    media_content_key: str
    view: ProgressView
    rules: ContentRules


@dataclass(frozen=True)
class ProgressPage:
    items: list[RecordView]
    next_token: str | None


def rules_for(media_content_key: str, settings: Settings, store: RulesStore) -> ContentRules:
    """The rules in force for a content: its own, or the deployment's defaults."""
    stored = store.get_rules(media_content_key)
    if stored is None:
        return default_rules(settings)
    return ContentRules(
        completion_threshold=float(stored["completion_threshold"]),
        min_block_watch_ratio=float(stored["min_block_watch_ratio"]),
        source="content",
        updated_at=int(stored["updated_at"]),
    )


def set_rules(media_content_key: str, rules: RulesInput, store: RulesStore, now: int) -> ContentRules:
    store.put_rules(media_content_key, rules.completion_threshold, rules.min_block_watch_ratio, now)
    return ContentRules(rules.completion_threshold, rules.min_block_watch_ratio, "content", now)


def reevaluate(record: StoredRecord, rules: ContentRules, settings: Settings, store: ProgressStore) -> RecordState:
    """Recompute a record's watched blocks from its sessions' raw snapshots under the content's
    current block-watch ratio (after a rule change). A completed record stays completed."""
    watched: dict[int, set[int]] = {}
    for raw in store.session_snapshots(record.client_user_id, record.media_content_key):
        try:
            callback = parse_callback(RawCallback(raw.body, raw.content_type, raw.query), settings)
        except BridgeError:
            continue  # a snapshot this version cannot read: its blocks stay as they were
        watched.setdefault(callback.block_count, set()).update(watched_blocks(callback, rules.min_block_watch_ratio))
    grids = {grid: frozenset(blocks) for grid, blocks in watched.items()}
    ratio = rules.min_block_watch_ratio
    state = store.replace_watched(record.client_user_id, record.media_content_key, grids, ratio, record.rev)
    return record.state if state is None else state


def current_state(
    record: StoredRecord, rules: ContentRules, settings: Settings, store: ProgressStore, now: int
) -> RecordState:
    """The record under its content's current rules, re-evaluated first if a rule changed."""
    state = record.state
    if state.watch_ratio is not None and state.watch_ratio != rules.min_block_watch_ratio:
        state = reevaluate(record, rules, settings, store)
    if needs_completion(state, rules.completion_threshold):
        store.mark_completed(record.client_user_id, record.media_content_key, now)
        state = complete(state, now, rules.completion_threshold)
    return state


def _record_view(
    record: StoredRecord, settings: Settings, store: ProgressStore, rules: RulesCache, now: int
) -> RecordView:
    """A stored record as reported under its content's rules in force."""
    content_rules = rules.get(record.media_content_key)
    state = current_state(record, content_rules, settings, store, now)
    view = summarize(state, content_rules.completion_threshold)
    return RecordView(record.client_user_id, record.media_content_key, view, content_rules)


def progress_detail(
    client_user_id: str,
    media_content_key: str,
    settings: Settings,
    store: ProgressStore,
    *,
    rules: RulesCache,
    now: int,
) -> RecordView:
    """One learner's progress on one content, under the content's rules."""
    record = store.get_stored(client_user_id, media_content_key)
    if record is None:
        raise NotFound("no progress recorded for this learner and content")
    return _record_view(record, settings, store, rules, now)


def progress_page(
    settings: Settings,
    store: ProgressStore,
    rules: RulesCache,
    now: int,
    *,
    client_user_id: str | None,
    media_content_key: str | None,
    limit: int,
    next_token: str | None,
) -> ProgressPage:
    """One page of a learner's records, or of a content's."""
    if client_user_id is not None:
        start = decode_token(next_token, LEARNER_KEY_TYPES, {"pk": learner_partition(client_user_id)})
        records, last = store.records_of_learner(client_user_id, limit, start)
    elif media_content_key is not None:
        start = decode_token(next_token, CONTENT_KEY_TYPES, {"media_content_key": {"S": media_content_key}})
        records, last = store.records_of_content(media_content_key, limit, start)
    else:
        raise InvalidRequest("give client_user_id, media_content_key, or both", field="client_user_id")
    items = []
    for record in records:
        items.append(_record_view(record, settings, store, rules, now))
    return ProgressPage(items, encode_token(last))


class PlaybackInput(BaseModel):
    """What `POST /v1/playback-urls` accepts."""

    model_config = ConfigDict(extra="forbid")

    client_user_id: str = Field(min_length=1, max_length=256)
    media_content_key: str = Field(min_length=1, max_length=256)
    uservalues: dict[str, str] = Field(default_factory=dict, description="uservalue0..uservalue98 to attach")
    expires_in: int = Field(default=3600, ge=60, le=86400, description="Seconds the URL stays valid.")
    resume: bool = Field(default=True, description="Start where the learner left off.")
    seek: bool | None = None
    seekable_end: int | None = Field(default=None, ge=0)
    disable_playrate: bool | None = None


def issue_playback_url(
    request: PlaybackInput, settings: Settings, store: ProgressStore, keys: PlaybackKeys, now: int
) -> dict[str, Any]:
    """A signed Kollus playback URL bound to this learner and content by a session nonce."""
    for name, value in request.uservalues.items():
        match = re.fullmatch(r"uservalue(\d{1,2})", name)
        if match is None:
            raise InvalidRequest(f"{name} is not uservalue0..uservalue99", field=f"uservalues.{name}")
        if name == settings.playback_nonce_slot:
            raise InvalidRequest(f"{name} carries the session nonce", field=f"uservalues.{name}")
        if len(value) > 2048:
            raise InvalidRequest(f"{name} is longer than 2048 characters", field=f"uservalues.{name}")
    start_position = None
    if request.resume:
        record = store.get_record(request.client_user_id, request.media_content_key)
        if record is not None:
            start_position = summarize(record, settings.completion_threshold).last_position
    expires_at = now // 1000 + request.expires_in
    token = jwt_hs256(
        claims(
            PlaybackRequest(
                request.client_user_id,
                request.media_content_key,
                expires_at,
                seek=request.seek,
                seekable_end=request.seekable_end,
                disable_playrate=request.disable_playrate,
            )
        ),
        keys.security_key,
    )
    nonce = sign_nonce(keys.nonce_key, request.client_user_id, request.media_content_key, now // 1000)
    uservalues = {**request.uservalues, settings.playback_nonce_slot: nonce}
    url = playback_url(settings.kollus_player_host, token, keys.custom_key, uservalues, start_position)
    return {"url": url, "expires_at": iso_time(expires_at * 1000), "start_position": start_position}


def check_binding(callback: Callback, settings: Settings, nonce_keys: Callable[[], list[str]], now: int) -> Callback:
    """Verify the session nonce a callback carries (refuse a bad one; with REQUIRE_SIGNED_PLAYBACK,
    refuse its absence) and take it out of the values kept for the LMS."""
    nonce = callback.uservalues.get(settings.playback_nonce_slot)
    if nonce is None:
        if settings.require_signed_playback:
            raise Forbidden("this callback carries no signed session nonce", field=settings.playback_nonce_slot)
        return callback
    if not verify_nonce(nonce_keys(), callback.client_user_id, callback.media_content_key, nonce, now // 1000):
        raise Forbidden("the session nonce does not match this learner and content", field=settings.playback_nonce_slot)
    kept = {name: value for name, value in callback.uservalues.items() if name != settings.playback_nonce_slot}
    return replace(callback, uservalues=kept)
