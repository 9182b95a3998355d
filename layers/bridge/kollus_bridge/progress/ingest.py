"""The callback use case. A callback flows one way: parse -> merge -> store.

The callback function imports this module and what it needs, nothing of the LMS API (its cold start
is on the hot path); `api.service` reports stored records under the same rules.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kollus_bridge.errors import BridgeError
from kollus_bridge.kollus.callback import RawCallback, parse_callback
from kollus_bridge.kollus.refused import kept_when_refused
from kollus_bridge.settings import Settings

from .binding import check_binding
from .ports import ProgressStore, Record, RulesStore
from .rule import (
    Outcome,
    ProgressView,
    RecordState,
    complete,
    needs_completion,
    session_update,
    summarize,
    watched_blocks,
)
from .rules import ContentRules, RulesCache, default_rules

#: Where a refused LMS callback is said to come from, in the rejected store.
LMS_SOURCE = "lms_callback"


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
    (the content's rules are read at most once per `RULES_CACHE_SECONDS` per function instance; the
    device's play approvals only for an offline session or with `REQUIRE_APPROVED_PLAY`).
    A payload that cannot be used is kept in the rejected store and the error re-raised.
    """
    with kept_when_refused(store, raw, now, LMS_SOURCE):
        callback = check_binding(parse_callback(raw, settings), settings, nonce_keys, store, now)
        content_rules = rules.get(callback.media_content_key) if rules else default_rules(settings)
        ratio = content_rules.min_block_watch_ratio
        update = session_update(callback, now, ratio, settings.max_playback_rate)
        applied = store.apply(update, mark_due=settings.sync_progress_updates, watch_ratio=ratio)
    if applied.outcome is Outcome.ACCEPTED:
        store.save_snapshot(update, raw)
        if settings.max_concurrent_devices and callback.player_id:
            # The device limit is on: a device sending progress is still playing (one more write).
            store.touch_device(update.client_user_id, callback.player_id, now)
    record = Record(update.client_user_id, update.media_content_key, applied.state, applied.rev)
    # Checked on duplicates too: a resend repairs a completion lost to a crash after write 1.
    state = current_state(record, content_rules, settings, store, now)
    return IngestResult(
        outcome=applied.outcome,
        client_user_id=update.client_user_id,
        media_content_key=update.media_content_key,
        view=summarize(state, content_rules.completion_threshold),
        suspicious=update.summary.suspicious and applied.outcome is Outcome.ACCEPTED,
    )


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


def reevaluate(record: Record, rules: ContentRules, settings: Settings, store: ProgressStore) -> RecordState:
    """Recompute a record's watched blocks from its sessions' raw snapshots under the content's
    current block-watch ratio (after a rule change). A completed record stays completed."""
    watched: dict[int, set[int]] = {}
    for raw in store.session_snapshots(record.client_user_id, record.media_content_key):
        try:
            callback = parse_callback(raw, settings)
        except BridgeError:
            continue  # a snapshot this version cannot read: its blocks stay as they were
        watched.setdefault(callback.block_count, set()).update(watched_blocks(callback, rules.min_block_watch_ratio))
    grids = {grid: frozenset(blocks) for grid, blocks in watched.items()}
    ratio = rules.min_block_watch_ratio
    state = store.replace_watched(record.client_user_id, record.media_content_key, grids, ratio, record.rev)
    return record.state if state is None else state


def current_state(
    record: Record, rules: ContentRules, settings: Settings, store: ProgressStore, now: int
) -> RecordState:
    """The record under its content's current rules, re-evaluated first if a rule changed."""
    state = record.state
    if state.watch_ratio is not None and state.watch_ratio != rules.min_block_watch_ratio:
        state = reevaluate(record, rules, settings, store)
    if needs_completion(state, rules.completion_threshold):
        store.mark_completed(record.client_user_id, record.media_content_key, now)
        state = complete(state, now, rules.completion_threshold)
    return state
