"""The callback use case. A callback flows one way: parse -> bind -> credit -> store.

The callback function imports this module and what it needs, nothing of the LMS API (its cold start
is on the hot path); `api.service` reports stored records under the same rules.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from kollus_bridge.errors import BridgeError, Forbidden, InvalidPayload, RecordTooLarge, StorageUnavailable
from kollus_bridge.kollus.callback import RawCallback, parse_callback
from kollus_bridge.kollus.refused import kept_when_refused
from kollus_bridge.settings import Settings

from .binding import Binding, check_binding
from .bounds import MAX_USERVALUE_BYTES, fold, needs_fold, uservalue_bytes
from .credit import Limit, claim_of, clock_blocks, credit, on_grid, reference_needed
from .ports import ApplyResult, ProgressStore, Record, RulesReader, Timing
from .rule import (
    Outcome,
    ProgressView,
    RecordState,
    SessionUpdate,
    needs_completion,
    percent,
    reported_grid,
    session_update,
    summarize,
)
from .rules import ContentRules, RulesCache, default_rules

#: Where a refused LMS callback is said to come from, in the rejected store.
LMS_SOURCE = "lms_callback"
#: Writes of one callback whose timing condition may meet a record that changed meanwhile.
APPLY_TRIES = 4


@dataclass(frozen=True)
class IngestResult:
    outcome: Outcome
    client_user_id: str
    media_content_key: str
    view: ProgressView
    suspicious: bool = False
    #: The callback's session was credited less than it claimed (`credit.Limit`), else None.
    limit: str | None = None


def ingest_callback(
    raw: RawCallback,
    settings: Settings,
    store: ProgressStore,
    now: int,
    *,
    rules: RulesCache | None = None,
    nonce_keys: Callable[[], list[str]] = list,
) -> IngestResult:
    """Validate one callback, credit it, and merge it into the learner's record.

    Storage cost: one conditional write to the record (a duplicate or stale callback ends there, its
    condition failing), one to the session's raw snapshot when the callback was newer, and once in a
    record's life one more to stamp its completion. No reads: the record comes back from the write
    (the content's rules and grid are read at most once per `RULES_CACHE_SECONDS` per function
    instance; the device's approvals only for a late or offline session or with `REQUIRE_APPROVED_PLAY`).
    A session timed from its first callback whose claim outruns the clock costs a second write; a
    limited session one more, its flag; a record past its session bound one more, the fold.
    A payload that cannot be used is kept in the rejected store and the error re-raised.
    """
    with kept_when_refused(store, raw, now, LMS_SOURCE):
        parsed = parse_callback(raw, settings)
        if uservalue_bytes(parsed.uservalues) > MAX_USERVALUE_BYTES:
            raise InvalidPayload(f"the uservalues hold more than {MAX_USERVALUE_BYTES} bytes", field="uservalues")
        binding = check_binding(parsed, settings, nonce_keys, store, now)
        callback = binding.callback
        content_rules = rules.get(callback.media_content_key) if rules else default_rules(settings)
        grid = content_rules.grid_for(callback.block_count)
        if grid != content_rules.grid and grid == callback.block_count and rules is not None:
            store.raise_grid(callback.media_content_key, grid, callback.duration)
            rules.forget(callback.media_content_key)
        try:
            applied, update = _apply(binding, content_rules, grid, settings, store, now=now)
        except RecordTooLarge:
            compact(callback.client_user_id, callback.media_content_key, content_rules, grid, settings, store)
            applied, update = _apply(binding, content_rules, grid, settings, store, now=now)
    state = applied.state
    if applied.outcome is Outcome.ACCEPTED:
        length = (callback.duration or content_rules.known_duration or 0) / grid
        if settings.enforce_playback_clock and length:
            start = binding.reference
            applied, update = _within_record_clock(
                applied, update, content_rules.max_playback_rate, length, store, now, start
            )
            state = applied.state
        clocked = update.summary.limit == Limit.CLOCK.value
        store.save_snapshot(update, raw, (update.summary.credited or 0) * length if clocked else None)
        if update.summary.limit is not None:
            store.flag_session(update)
        if settings.max_concurrent_devices and binding.device:
            # The device limit is on: a device sending progress is still playing (one more write).
            store.touch_device(update.client_user_id, binding.device, now)
        if needs_fold(state):
            folded, keys = fold(state)
            stored = store.fold_sessions(update.client_user_id, update.media_content_key, state, folded, keys)
            state = stored or state
    record = Record(update.client_user_id, update.media_content_key, state, applied.rev)
    # Checked on duplicates too: a resend repairs a completion lost to a crash after write 1.
    state = current_state(record, content_rules, settings, store, now)
    return IngestResult(
        outcome=applied.outcome,
        client_user_id=update.client_user_id,
        media_content_key=update.media_content_key,
        view=summarize(state, content_rules.completion_threshold, content_rules.grid or grid),
        suspicious=update.summary.suspicious and applied.outcome is Outcome.ACCEPTED,
        limit=update.summary.limit if applied.outcome is Outcome.ACCEPTED else None,
    )


def _apply(
    binding: Binding, rules: ContentRules, grid: int, settings: Settings, store: ProgressStore, *, now: int
) -> tuple[ApplyResult, SessionUpdate]:
    """Credit the callback and write it. A session timed from its first callback is credited as if that
    came early enough, under a condition saying so; when the record says otherwise, it is credited
    again from what the record holds."""
    callback = binding.callback
    ratio, rate = rules.min_block_watch_ratio, rules.max_playback_rate
    claim = claim_of(callback, ratio)
    duration = callback.duration or rules.known_duration
    must_exist = binding.must_exist
    if not settings.enforce_playback_clock:
        found, timing = credit(claim, grid, ratio, duration, rate, now, None), Timing(must_exist=must_exist)
    elif binding.reference is not None:
        found, timing = (
            credit(claim, grid, ratio, duration, rate, now, binding.reference),
            Timing(must_exist=must_exist),
        )
    else:
        reference = now
        claimed = on_grid(claim, grid, ratio, duration)
        if claimed and duration:
            reference = min(now, reference_needed(len(claimed), now, rate, duration / grid))
        found = credit(claim, grid, ratio, duration, rate, now, reference)
        timing = Timing(track_first_seen=True, seen_by=reference if reference < now else None, must_exist=must_exist)
    for _ in range(APPLY_TRIES):
        update = session_update(callback, now, found, rate)
        applied = store.apply(update, mark_due=settings.sync_progress_updates, watch_ratio=ratio, timing=timing)
        if not applied.recheck:
            return applied, update
        if must_exist and not applied.session_exists:
            raise Forbidden(
                "this session was first heard of after its playback URL expired; open the content again",
                field="start_at",
            )
        first = applied.first_seen
        found = credit(claim, grid, ratio, duration, rate, now, now if first is None else first)
        timing = Timing(track_first_seen=True, seen_at=first, new=first is None, must_exist=must_exist)
    raise StorageUnavailable("the learner's record keeps changing; resend later")


def _within_record_clock(  # noqa: PLR0917 (the write, its rate and block length, storage, times)
    applied: ApplyResult,
    update: SessionUpdate,
    rate: float,
    length: float,
    store: ProgressStore,
    now: int,
    reference: int | None,
) -> tuple[ApplyResult, SessionUpdate]:
    """Hold the whole record to the playback clock too, from its first callback (or this session's
    reference time, when earlier: a URL issued before, a download approved before): several sessions
    at once each within their own clock cannot together pass it. Blocks this write added past it are
    taken back (the highest first), and its session says so."""
    previous = applied.previous or RecordState()
    created = previous.created_at if previous.created_at is not None else now
    if reference is not None:
        created = min(created, reference)
    over = len(applied.state.watched.get(update.grid, ())) - clock_blocks(created, now, rate, length)
    if over <= 0:
        return applied, update
    added = sorted(update.watched - previous.watched.get(update.grid, frozenset()))
    if not added:
        return applied, update
    taken = frozenset(added[-over:])
    summary = replace(update.summary, credited=len(update.watched - taken), limit=Limit.CLOCK.value, suspicious=True)
    update = replace(update, summary=summary, watched=update.watched - taken)
    state = store.withdraw_credit(update, taken, applied.rev)
    if state is None:  # the record changed meanwhile: the next callback of this session judges again
        return applied, update
    return replace(applied, state=state, rev=applied.rev + 1), update


def rules_for(media_content_key: str, settings: Settings, store: RulesReader) -> ContentRules:
    """The rules in force for a content: its own, or the deployment's defaults; with its grid as seen."""
    stored = store.get_rules(media_content_key) or {}
    defaults = default_rules(settings)
    known_grid, known_duration = stored.get("known_grid"), stored.get("known_duration")
    if "completion_threshold" not in stored:
        return ContentRules(
            defaults.completion_threshold,
            defaults.min_block_watch_ratio,
            max_playback_rate=defaults.max_playback_rate,
            known_grid=known_grid,
            known_duration=known_duration,
        )
    rate = stored.get("max_playback_rate")
    pinned = stored.get("block_count")
    return ContentRules(
        completion_threshold=float(stored["completion_threshold"]),
        min_block_watch_ratio=float(stored["min_block_watch_ratio"]),
        source="content",
        updated_at=int(stored["updated_at"]),
        max_playback_rate=defaults.max_playback_rate if rate is None else float(rate),
        block_count=None if pinned is None else int(pinned),
        known_grid=known_grid,
        known_duration=known_duration,
    )


def reevaluate(
    record: Record,
    rules: ContentRules,
    settings: Settings,
    store: ProgressStore,
    *,
    grid: int | None = None,
    now: int | None = None,
) -> RecordState:
    """Recompute a record's credited blocks from its sessions' raw snapshots, on the grid of record,
    under the content's current block-watch ratio (after a rule change, or a finer grid of record).
    Each session keeps the content time the playback clock allowed it. A completed record stays
    completed; figures the recomputation lowers are recorded as lowered."""
    grid = reported_grid(record.state, grid)
    ratio = rules.min_block_watch_ratio
    watched: set[int] = set()
    for raw, credit_seconds in store.credited_snapshots(record.client_user_id, record.media_content_key):
        try:
            callback = parse_callback(raw, settings)
        except BridgeError:
            continue  # a snapshot this version cannot read: its blocks stay as they were
        duration = callback.duration or rules.known_duration
        blocks = sorted(on_grid(claim_of(callback, ratio), grid, ratio, duration))
        if credit_seconds is not None and duration:
            blocks = blocks[: int(credit_seconds / (duration / grid) + 1e-6)]
        watched.update(blocks)
    learner, content = record.client_user_id, record.media_content_key
    if record.state.watch_ratio not in (None, ratio):  # a rule change: the sets replaced, under the revision
        state = store.replace_watched(learner, content, {grid: frozenset(watched)}, ratio, record.rev)
        return record.state if state is None else state
    # Only the grid of record changed: a union onto it. Before it, a record was reported on its grid
    # with the most progress; a record that drops below that says so.
    before = max(
        (percent(len(blocks), other) for other, blocks in record.state.watched.items() if blocks), default=None
    )
    after = percent(len(watched | record.state.watched.get(grid, frozenset())), grid)
    lowered = (now or record.state.updated_at or 0, before, after) if before is not None and after < before else None
    others = [other for other in record.state.watched if other != grid]
    state = store.move_to_grid(learner, content, grid, frozenset(watched), others, lowered=lowered)
    return record.state if state is None else state


def compact(  # noqa: PLR0917 (the record's identity, its rules and grid, and where it lives)
    client_user_id: str,
    media_content_key: str,
    rules: ContentRules,
    grid: int,
    settings: Settings,
    store: ProgressStore,
) -> None:
    """Bring a record that a write found too large back within bounds: fold its sessions, and keep only
    the grid of record's blocks."""
    stored = store.get_stored(client_user_id, media_content_key)
    if stored is None:
        return
    folded, keys = fold(stored.state)
    state = store.fold_sessions(client_user_id, media_content_key, stored.state, folded, keys) if keys else None
    current = store.get_stored(client_user_id, media_content_key) if state is not None else stored
    if current is not None:
        reevaluate(current, rules, settings, store, grid=grid)


def current_state(
    record: Record, rules: ContentRules, settings: Settings, store: ProgressStore, now: int
) -> RecordState:
    """The record under its content's current rules, re-evaluated first if a rule changed or it holds
    blocks on a grid other than the grid of record."""
    state = record.state
    grid = reported_grid(state, rules.grid)
    ratio_changed = state.watch_ratio is not None and state.watch_ratio != rules.min_block_watch_ratio
    if ratio_changed or any(other != grid for other, blocks in state.watched.items() if blocks):
        state = reevaluate(record, rules, settings, store, grid=grid, now=now)
    if needs_completion(state, rules.completion_threshold, grid):
        store.mark_completed(record.client_user_id, record.media_content_key, now)
        state = replace(state, completed_at=now)
    return state
