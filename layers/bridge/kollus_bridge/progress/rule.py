"""The progress rule, pure: what a callback contributes, how contributions merge, what is reported.

A learner's record for one content is the merge of its sessions. A session (learner, content,
`start_at`, `player_id`) reports cumulative values, so only its newest callback matters; which one is
newest is decided by `SessionSummary.version`. Credited blocks (`credit`: judged on the content's grid
of record under the playback clock) are a union per block grid, so merging is commutative,
associative and idempotent: the record does not depend on the order, repetition or concurrency of
deliveries. `merge` below is the specification that the DynamoDB writes in `kollus_bridge.store.records`
carry out atomically. A record is reported on its content's grid of record (`summarize`'s `grid`).
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

from .credit import Credit, Limit, claim_of, credit

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
    #: Reported more content time than the playback clock or its own open time allows.
    suspicious: bool = False
    #: The content's grid of record when this callback was judged (None: stored before grids of record).
    grid: int | None = None
    #: Blocks the callback claimed on that grid, and how many of them were credited.
    claimed: int | None = None
    credited: int | None = None
    #: Why fewer were credited than claimed (`credit.Limit`), else None.
    limit: str | None = None


@dataclass(frozen=True)
class SessionUpdate:
    """One callback's contribution to a record."""

    client_user_id: str
    media_content_key: str
    session_key: str
    summary: SessionSummary
    watched: frozenset[int]  # credited block indexes on the grid of record, `summary.grid`
    uservalues: Mapping[str, str] = field(default_factory=dict)

    @property
    def grid(self) -> int:
        return self.summary.grid or self.summary.block_count


@dataclass(frozen=True)
class Folded:
    """Sessions folded out of a record to bound its size: how many, their play times and flags, and the
    grids on which they were credited blocks of their own grid (evidence for completion)."""

    sessions: int = 0
    play_time: float = 0.0
    real_play_time: float = 0.0
    suspicious: int = 0
    limited: int = 0
    own_grids: frozenset[int] = frozenset()


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
    folded: Folded = field(default_factory=Folded)
    #: When the grid-of-record rule lowered figures credited before it: (at, progress before, after).
    lowered: tuple[int, Decimal, Decimal] | None = None


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
    limited_sessions: int = 0


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
    """Blocks this callback claims watched on its own grid (`credit.claim_of`)."""
    return claim_of(callback, min_block_watch_ratio).watched


#: Content seconds a session may report beyond what its playback rate allows (buffering, rounding).
PLAUSIBILITY_SLACK_SECONDS = 60.0


def implausible(callback: Callback, max_playback_rate: float) -> bool:
    """True when the content time played exceeds what the player's open time allows at the
    fastest playback rate (only when the player reports both; the playback clock needs neither)."""
    if callback.play_time is None or callback.run_time is None:
        return False
    return callback.play_time > max_playback_rate * callback.run_time + PLAUSIBILITY_SLACK_SECONDS


def session_update(
    callback: Callback, received_at: int, credit: Credit, max_playback_rate: float = 2.0
) -> SessionUpdate:
    """Turn a parsed callback and its credit into what it contributes to the learner's record."""
    summary = SessionSummary(
        version=version_of(callback),
        start_at=callback.start_at,
        block_count=callback.block_count,
        duration=callback.duration,
        play_time=callback.play_time or 0.0,
        real_play_time=callback.real_play_time or 0.0,
        last_play_at=callback.last_play_at,
        received_at=received_at,
        suspicious=credit.limit is Limit.CLOCK or implausible(callback, max_playback_rate),
        grid=credit.grid,
        claimed=len(credit.claimed),
        credited=len(credit.credited),
        limit=None if credit.limit is None else credit.limit.value,
    )
    return SessionUpdate(
        client_user_id=callback.client_user_id,
        media_content_key=callback.media_content_key,
        session_key=session_key(callback.start_at, callback.player_id),
        summary=summary,
        watched=credit.credited,
        uservalues=dict(callback.uservalues),
    )


def plain_update(
    callback: Callback, received_at: int, min_block_watch_ratio: float, max_playback_rate: float = 2.0
) -> SessionUpdate:
    """A callback's contribution on its own grid without the playback clock (replays, tests, analytics)."""
    claim = claim_of(callback, min_block_watch_ratio)
    found = credit(claim, claim.grid, min_block_watch_ratio, callback.duration, max_playback_rate, received_at, None)
    return session_update(callback, received_at, found, max_playback_rate)


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
    grid = update.grid
    watched = dict(state.watched)
    if update.watched:
        watched[grid] = watched.get(grid, frozenset()) | update.watched
    received = update.summary.received_at
    return (
        replace(
            state,
            sessions={**state.sessions, update.session_key: update.summary},
            watched=watched,
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


def reported_grid(state: RecordState, grid: int | None = None) -> int:
    """The grid a record is reported on: the content's grid of record when given, else the finest grid
    the record holds blocks or sessions on."""
    if grid:
        return grid
    grids = [*state.watched, *(session.grid or session.block_count for session in state.sessions.values())]
    return max(grids, default=1)


def own_grid_evidence(state: RecordState, grid: int) -> bool:
    """Whether a session on the grid of record itself was credited blocks: blocks brought on other
    grids add content time, but never complete a record on their own."""
    if grid in state.folded.own_grids:
        return True
    return any(
        session.block_count == grid and (session.credited is None or session.credited > 0)
        for session in state.sessions.values()
    )


def summarize(state: RecordState, completion_threshold: float, grid: int | None = None) -> ProgressView:
    """Every reported figure of a record, derived from its stored state, on the grid of record `grid`
    (None: the record's own finest grid)."""
    newest = _newest(state)
    block_count = reported_grid(state, grid)
    watched = frozenset(state.watched.get(block_count, ()))
    progress = percent(len(watched), block_count)
    folded = state.folded
    sessions = state.sessions.values()
    return ProgressView(
        block_count=block_count,
        duration=newest.duration if newest else None,
        watched_blocks=len(watched),
        progress=progress,
        completed=state.completed_at is not None or _completes(state, watched, block_count, completion_threshold),
        completed_at=state.completed_at,
        last_position=newest.last_play_at if newest else None,
        play_time=math.fsum([folded.play_time, *(session.play_time for session in sessions)]),
        real_play_time=math.fsum([folded.real_play_time, *(session.real_play_time for session in sessions)]),
        sessions=folded.sessions + len(state.sessions),
        updated_at=state.updated_at,
        suspicious_sessions=folded.suspicious + sum(session.suspicious for session in sessions),
        watched=watched,
        limited_sessions=folded.limited + sum(session.limit is not None for session in sessions),
    )


def _completes(state: RecordState, watched: frozenset[int], grid: int, completion_threshold: float) -> bool:
    return reaches(percent(len(watched), grid), completion_threshold) and own_grid_evidence(state, grid)


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


def needs_completion(state: RecordState, completion_threshold: float, grid: int | None = None) -> bool:
    """True when the record has reached the threshold on its grid of record but has no completion time yet."""
    if state.completed_at is not None:
        return False
    block_count = reported_grid(state, grid)
    return _completes(state, state.watched.get(block_count, frozenset()), block_count, completion_threshold)


def complete(state: RecordState, now: int, completion_threshold: float, grid: int | None = None) -> RecordState:
    """Stamp the completion time the first time the threshold is reached; it never reverts."""
    return replace(state, completed_at=now) if needs_completion(state, completion_threshold, grid) else state
