"""The progress record's item, both ways: `pk=L#<learner>`, `sk=P#<content>`.

One attribute per session, `s:<session key>` = [version, start_at, block_count, duration, play_time,
real_play_time, last_play_at, received_at, suspicious, grid of record, claimed, credited, limit], and
for a session timed from its first callback, `f:<session key>` = when that arrived; one number set of
credited blocks per grid, `w:<block_count>` (the grid of record's; others until re-evaluated onto it);
`folded` (sessions folded out: count, play times, flags, own grids); `lowered` (when the grid-of-record
rule lowered earlier figures); `completed_at`, `uservalues`, `watch_ratio`, the revision `rev`; and the
sync ledger (`sync_*`), which `ledger` writes.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from kollus_bridge.delivery.ledger import StoredRecord, SyncLedger, SyncState
from kollus_bridge.progress.rule import Folded, RecordState, SessionSummary

from .attributes import deserialize, serialize
from .table import identity_from_key, number, optional_int

SESSION_PREFIX = "s:"
GRID_PREFIX = "w:"
FIRST_SEEN_PREFIX = "f:"


def summary_value(summary: SessionSummary) -> Any:
    return serialize(
        [
            summary.version,
            summary.start_at,
            summary.block_count,
            number(summary.duration),
            number(summary.play_time),
            number(summary.real_play_time),
            number(summary.last_play_at),
            summary.received_at,
            summary.suspicious,
            summary.grid,
            summary.claimed,
            summary.credited,
            summary.limit,
        ]
    )


def folded_value(folded: Folded) -> Any:
    return serialize(
        [
            folded.sessions,
            number(folded.play_time),
            number(folded.real_play_time),
            folded.suspicious,
            folded.limited,
            sorted(folded.own_grids),
        ]
    )


def _folded_from(value: list[Any] | None) -> Folded:
    if not value:
        return Folded()
    sessions, play_time, real_play_time, suspicious, limited, own = value
    return Folded(
        int(sessions),
        float(play_time),
        float(real_play_time),
        int(suspicious),
        int(limited),
        frozenset(int(grid) for grid in own),
    )


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _summary_from(value: list[Any]) -> SessionSummary:
    version, start_at, block_count, duration, play_time, real_play_time, last_play_at, received_at, *rest = value
    grid, claimed, credited, limit = (rest[1:] + [None] * 4)[:4]
    return SessionSummary(
        version=int(version),
        start_at=int(start_at),
        block_count=int(block_count),
        duration=_float(duration),
        play_time=float(play_time),
        real_play_time=float(real_play_time),
        last_play_at=_float(last_play_at),
        received_at=int(received_at),
        suspicious=bool(rest and rest[0]),
        grid=optional_int(grid),
        claimed=optional_int(claimed),
        credited=optional_int(credited),
        limit=limit,
    )


def state_from_item(item: Mapping[str, Any]) -> RecordState:
    """Rebuild the pure record state from a stored (low-level, typed) DynamoDB item."""
    plain = {name: deserialize(value) for name, value in item.items()}
    sessions = {
        name[len(SESSION_PREFIX) :]: _summary_from(value)
        for name, value in plain.items()
        if name.startswith(SESSION_PREFIX)
    }
    watched = {
        int(name[len(GRID_PREFIX) :]): frozenset(int(block) for block in value)
        for name, value in plain.items()
        if name.startswith(GRID_PREFIX)
    }
    return RecordState(
        sessions=sessions,
        watched=watched,
        completed_at=optional_int(plain.get("completed_at")),
        created_at=optional_int(plain.get("created_at")),
        updated_at=optional_int(plain.get("updated_at")),
        uservalues=dict(plain.get("uservalues") or {}),
        watch_ratio=None if plain.get("watch_ratio") is None else float(plain["watch_ratio"]),
        folded=_folded_from(plain.get("folded")),
        lowered=_lowered_from(plain.get("lowered")),
    )


def _lowered_from(value: list[Any] | None) -> tuple[int, Decimal, Decimal] | None:
    if not value:
        return None
    at, before, after = value
    return int(at), Decimal(before), Decimal(after)


def first_seen(item: Mapping[str, Any], session_key: str) -> int | None:
    """When the session's first callback arrived, if the record keeps it (sessions timed from it)."""
    value = item.get(FIRST_SEEN_PREFIX + session_key)
    return None if value is None else int(value["N"])


def ledger_from_item(item: Mapping[str, Any]) -> SyncLedger:
    """A record's sync ledger (from the record or from the ledger index)."""
    plain = {name: deserialize(value) for name, value in item.items() if name.startswith("sync_")}
    state = plain.get("sync_state")
    return SyncLedger(
        state=SyncState(state) if state else None,
        attempts=int(plain.get("sync_attempts") or 0),
        next_attempt_at=optional_int(plain.get("sync_next_at")),
        last_attempt_at=optional_int(plain.get("sync_last_attempt_at")),
        last_status=optional_int(plain.get("sync_last_status")),
        last_error=plain.get("sync_last_error"),
        delivered_at=optional_int(plain.get("sync_delivered_at")),
        message_id=plain.get("sync_message_id"),
        completion_sent=bool(plain.get("sync_completion_sent")),
        progress_sent=plain.get("sync_progress_sent"),
        stamp=optional_int(plain.get("sync_stamp")),
    )


def rev_of(item: Mapping[str, Any]) -> int:
    return int(item["rev"]["N"]) if "rev" in item else 0


def stored_record_from_item(item: Mapping[str, Any]) -> StoredRecord:
    """A record with its identity, revision and sync ledger."""
    learner, content = identity_from_key(item)
    return StoredRecord(
        client_user_id=learner,
        media_content_key=content,
        state=state_from_item(item),
        rev=rev_of(item),
        ledger=ledger_from_item(item),
    )
