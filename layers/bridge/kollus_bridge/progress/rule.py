"""The progress rule, pure: what a callback contributes, how contributions merge, what is reported.

A learner's record for one content is the merge of its sessions. A session (learner, content,
`start_at`, `player_id`) reports cumulative values, so only its newest callback matters; which one is
newest is decided by `SessionSummary.version`. Watched blocks are a union per block grid (a grid is
one `block_count`), so merging is commutative, associative and idempotent: the record does not depend
on the order, repetition or concurrency of deliveries. `merge` below is the specification that the
DynamoDB writes in `kollus_bridge.store.records` carry out atomically.
"""

from __future__ import annotations

import base64
import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import ROUND_DOWN, Decimal
from enum import StrEnum
from fractions import Fraction

from kollus_bridge.kollus.callback import Callback

#: Each component of the packed version must stay below this (12 decimal digits).
_VERSION_PART = 10**12


class Outcome(StrEnum):
    """What a callback did to the record."""

    ACCEPTED = "accepted"  # newer than anything stored for its session
    DUPLICATE = "duplicate"  # the same callback again
    STALE = "stale"  # an older callback of a session we already have a newer one of


@dataclass(frozen=True)
class SessionSummary:
    """The few numbers the record keeps for each session (the raw snapshot is stored aside)."""

    version: int
    start_at: int
    block_count: int
    duration: float | None
    play_time: float
    real_play_time: float
    last_play_at: float | None
    received_at: int  # epoch milliseconds, the server's clock
    #: Reported more content time than its wall-clock time allows (see `implausible`).
    suspicious: bool = False


@dataclass(frozen=True)
class SessionUpdate:
    """One callback's contribution to a record."""

    client_user_id: str
    media_content_key: str
    session_key: str
    summary: SessionSummary
    watched: frozenset[int]  # block indexes on the grid `summary.block_count`
    uservalues: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RecordState:
    """Everything stored for one learner and content, from which every reported figure derives."""

    sessions: Mapping[str, SessionSummary] = field(default_factory=dict)
    watched: Mapping[int, frozenset[int]] = field(default_factory=dict)  # block_count -> blocks
    completed_at: int | None = None  # epoch milliseconds
    created_at: int | None = None
    updated_at: int | None = None
    #: The `uservalue*` values of the latest accepted callback that carried any (course / lesson ids).
    uservalues: Mapping[str, str] = field(default_factory=dict)
    #: The min_block_watch_ratio the watched sets were computed with (None: not recorded).
    watch_ratio: float | None = None


@dataclass(frozen=True)
class ProgressView:
    """The figures reported for a record."""

    block_count: int
    duration: float | None
    watched_blocks: int
    progress: Decimal
    completed: bool
    completed_at: int | None
    last_position: float | None
    play_time: float
    real_play_time: float
    sessions: int
    updated_at: int | None
    suspicious_sessions: int = 0
    watched: frozenset[int] = frozenset()  # the watched blocks of the reported grid


def session_key(start_at: int, player_id: str) -> str:
    """A short, fixed-length name for a session, usable as a DynamoDB attribute name."""
    digest = hashlib.sha256(f"{start_at}\x1f{player_id}".encode()).digest()
    return base64.b32encode(digest[:10]).decode("ascii")


def _centis(seconds: float | None) -> int:
    return 0 if seconds is None else min(int(seconds * 100), _VERSION_PART - 1)


def version_of(callback: Callback) -> int:
    """Order callbacks within a session: by `serial`, then `play_time`, then `run_time`.

    Packed into one integer (at most 36 digits, inside DynamoDB's 38) so a single conditional
    comparison decides newest-wins atomically.
    """
    serial = 0 if callback.serial is None else min(callback.serial + 1, _VERSION_PART - 1)
    return (serial * _VERSION_PART + _centis(callback.play_time)) * _VERSION_PART + _centis(callback.run_time)


def watched_blocks(callback: Callback, min_block_watch_ratio: float) -> frozenset[int]:
    """Blocks this callback proves watched on its own grid.

    A block counts when reported played and its block time reaches `min_block_watch_ratio` of a block's
    length (`duration / block_count`); without a block time or a usable duration the flag alone counts.
    """
    duration = callback.duration
    watched = set()
    for index, block in callback.blocks.items():
        if not block.played:
            continue
        no_time = block.seconds is None or not duration
        if no_time or block.seconds * callback.block_count >= min_block_watch_ratio * duration:  # type: ignore[operator]
            watched.add(index)
    return frozenset(watched)


#: Content seconds a session may report beyond what its playback rate allows (buffering, rounding).
PLAUSIBILITY_SLACK_SECONDS = 60.0


def implausible(callback: Callback, max_playback_rate: float) -> bool:
    """True when the content time played exceeds what the player's open time allows at the
    fastest playback rate. Never blocks anything: it only flags the session."""
    if callback.play_time is None or callback.run_time is None:
        return False
    return callback.play_time > max_playback_rate * callback.run_time + PLAUSIBILITY_SLACK_SECONDS


def session_update(
    callback: Callback, received_at: int, min_block_watch_ratio: float, max_playback_rate: float = 2.0
) -> SessionUpdate:
    """Turn a parsed callback into what it contributes to the learner's record."""
    summary = SessionSummary(
        version=version_of(callback),
        start_at=callback.start_at,
        block_count=callback.block_count,
        duration=callback.duration,
        play_time=callback.play_time or 0.0,
        real_play_time=callback.real_play_time or 0.0,
        last_play_at=callback.last_play_at,
        received_at=received_at,
        suspicious=implausible(callback, max_playback_rate),
    )
    return SessionUpdate(
        client_user_id=callback.client_user_id,
        media_content_key=callback.media_content_key,
        session_key=session_key(callback.start_at, callback.player_id),
        summary=summary,
        watched=watched_blocks(callback, min_block_watch_ratio),
        uservalues=dict(callback.uservalues),
    )


def classify(stored: SessionSummary | None, update: SessionUpdate) -> Outcome:
    """Whether `update` is newer than what is stored for its session."""
    if stored is None or stored.version < update.summary.version:
        return Outcome.ACCEPTED
    return Outcome.DUPLICATE if stored.version == update.summary.version else Outcome.STALE


def merge(state: RecordState, update: SessionUpdate) -> tuple[RecordState, Outcome]:
    """Apply one callback's contribution: newest-wins per session, union of watched blocks per grid."""
    outcome = classify(state.sessions.get(update.session_key), update)
    if outcome is not Outcome.ACCEPTED:
        return state, outcome
    grid = update.summary.block_count
    watched = dict(state.watched)
    if update.watched:
        watched[grid] = watched.get(grid, frozenset()) | update.watched
    received = update.summary.received_at
    return (
        RecordState(
            sessions={**state.sessions, update.session_key: update.summary},
            watched=watched,
            completed_at=state.completed_at,
            created_at=state.created_at if state.created_at is not None else received,
            updated_at=received,
            uservalues=dict(update.uservalues) if update.uservalues else state.uservalues,
        ),
        outcome,
    )


def percent(watched: int, block_count: int) -> Decimal:
    """100 * watched / block_count, rounded down to 2 decimals."""
    return (Decimal(10000 * watched // block_count) / 100).quantize(Decimal("0.01"), rounding=ROUND_DOWN)


def _newest(state: RecordState) -> SessionSummary | None:
    ranked = sorted(state.sessions.items(), key=lambda item: (item[1].start_at, item[1].received_at, item[0]))
    return ranked[-1][1] if ranked else None


def _best_grid(state: RecordState, fallback: int) -> tuple[int, frozenset[int]]:
    """(block_count, watched blocks) of the grid with the most progress; ties go to the finer grid."""
    grids = [(percent(len(blocks), grid), grid) for grid, blocks in state.watched.items() if blocks]
    if not grids:
        return fallback, frozenset()
    _, grid = max(grids)
    return grid, frozenset(state.watched[grid])


def summarize(state: RecordState, completion_threshold: float) -> ProgressView:
    """Every reported figure of a record, derived from its stored state."""
    newest = _newest(state)
    block_count, watched = _best_grid(state, newest.block_count if newest else 1)
    progress = percent(len(watched), block_count)
    return ProgressView(
        block_count=block_count,
        duration=newest.duration if newest else None,
        watched_blocks=len(watched),
        progress=progress,
        completed=state.completed_at is not None or reaches(progress, completion_threshold),
        completed_at=state.completed_at,
        last_position=newest.last_play_at if newest else None,
        play_time=math.fsum(session.play_time for session in state.sessions.values()),
        real_play_time=math.fsum(session.real_play_time for session in state.sessions.values()),
        sessions=len(state.sessions),
        updated_at=state.updated_at,
        suspicious_sessions=sum(session.suspicious for session in state.sessions.values()),
        watched=watched,
    )


def missing_ranges(view: ProgressView) -> list[tuple[float, float]] | None:
    """The unwatched parts of the reported grid as merged [start, end) seconds of content time;
    None without a usable duration (blocks cannot be placed in time)."""
    return _block_ranges(view, watched=False)


def watched_ranges(view: ProgressView) -> list[tuple[float, float]] | None:
    """The watched parts of the reported grid, likewise (None without a usable duration)."""
    return _block_ranges(view, watched=True)


def _block_ranges(view: ProgressView, watched: bool) -> list[tuple[float, float]] | None:
    if not view.duration:
        return None
    length = view.duration / view.block_count
    ranges: list[tuple[float, float]] = []
    for index in range(view.block_count):
        if (index in view.watched) is not watched:
            continue
        start, end = round(index * length, 3), round(min((index + 1) * length, view.duration), 3)
        if ranges and ranges[-1][1] == start:
            ranges[-1] = (ranges[-1][0], end)
        else:
            ranges.append((start, end))
    return ranges


def blocks_needed(view: ProgressView, completion_threshold: float) -> int:
    """How many more watched blocks reach the completion threshold (0 once reached)."""
    if view.completed:
        return 0
    required = math.ceil(Fraction(str(completion_threshold)) * view.block_count / 100)
    while not reaches(percent(required, view.block_count), completion_threshold):
        required += 1  # rounding down to 2 decimals can want one block more
    return max(0, required - view.watched_blocks)


def reaches(progress: Decimal, completion_threshold: float) -> bool:
    return progress >= Decimal(str(completion_threshold))


def needs_completion(state: RecordState, completion_threshold: float) -> bool:
    """True when the record has reached the threshold but has no completion time yet."""
    if state.completed_at is not None:
        return False
    grid, watched = _best_grid(state, 1)  # the reported grid, as `summarize` picks it, without the rest
    return reaches(percent(len(watched), grid), completion_threshold)


def complete(state: RecordState, now: int, completion_threshold: float) -> RecordState:
    """Stamp the completion time the first time the threshold is reached; it never reverts."""
    return replace(state, completed_at=now) if needs_completion(state, completion_threshold) else state
