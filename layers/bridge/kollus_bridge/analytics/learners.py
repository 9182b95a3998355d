"""One learner's figures for one content: status, the per-block tier strip, sessions, time left. Pure."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from .activity import LearnerActivity
from .metrics import Grid, choose_grid, on_grid

DAY_MS = 86_400_000


class Status(StrEnum):
    NOT_STARTED = "not_started"  # enrolled in a course holding the content, no record
    STARTED = "started"
    STALLED = "stalled"  # no accepted callback for STALLED_AFTER_DAYS, not completed
    COMPLETED = "completed"


class Tier(StrEnum):
    """How much of a block a learner played, in passes `p` = seconds played (all sessions) / block
    length: `not_viewed` p = 0; `touched` under the block-watch ratio; `once` under 1.5; `twice`
    under 2.5; `more` from 2.5."""

    NOT_VIEWED = "not_viewed"
    TOUCHED = "touched"
    ONCE = "once"
    TWICE = "twice"
    MORE = "more"


def status(learner: LearnerActivity | None, now: int, stalled_after_days: int) -> Status:
    if learner is None:
        return Status.NOT_STARTED
    if learner.completed_at is not None:
        return Status.COMPLETED
    last = learner.updated_at or learner.created_at or 0
    return Status.STALLED if now - last >= stalled_after_days * DAY_MS else Status.STARTED


def tier(passes: float, ratio: float) -> Tier:
    if passes <= 0:
        return Tier.NOT_VIEWED
    if passes < ratio:
        return Tier.TOUCHED
    if passes < 1.5:
        return Tier.ONCE
    return Tier.TWICE if passes < 2.5 else Tier.MORE


def _missing_ranges(watched: frozenset[int], grid: Grid) -> list[list[float]]:
    ranges: list[list[float]] = []
    for index in range(grid.blocks):
        if index in watched:
            continue
        low, high = grid.range_of(index, index)
        if ranges and ranges[-1][1] == low:
            ranges[-1][1] = high
        else:
            ranges.append([low, high])
    return ranges


def strip(learner: LearnerActivity, grid: Grid, ratio: float) -> list[str]:
    """The learner's tier per block of `grid` (all not viewed when no session is on it)."""
    entry = on_grid(learner, grid)
    seconds = entry.seconds if entry else {}
    return [tier(seconds.get(i, 0.0) / grid.block_length, ratio).value for i in range(grid.blocks)]


def learner_row(
    learner: LearnerActivity | None, client_user_id: str, now: int, stalled_after_days: int
) -> dict[str, Any]:
    """One line of a content's learner table."""
    if learner is None:
        return {"client_user_id": client_user_id, "status": Status.NOT_STARTED.value, "progress": 0.0, "sessions": 0}
    grid = choose_grid([learner], None, None)
    watched = learner.watched.get(grid.blocks, frozenset()) if grid else frozenset()
    length = grid.block_length if grid else 0.0
    return {
        "client_user_id": client_user_id,
        "status": status(learner, now, stalled_after_days).value,
        "progress": round(100 * len(watched) / grid.blocks, 1) if grid else 0.0,
        "last_active_at": learner.updated_at,
        "sessions": len(learner.sessions),
        "unique_minutes": round(len(watched) * length / 60, 2),
        "content_minutes": round(sum(s.play_time for s in learner.sessions) / 60, 2),
        "wall_minutes": round(sum(s.run_time for s in learner.sessions) / 60, 2),
        "devices": sorted({s.device or s.player_kind for s in learner.sessions}),
    }


def learner_content(
    learner: LearnerActivity, *, ratio: float, now: int, stalled_after_days: int, duration: float | None = None
) -> dict[str, Any]:
    """A learner's view of one content: the session timeline, the tier strip, what is left and how
    long it takes at the learner's own speed (content seconds per wall second over their sessions)."""
    grid = choose_grid([learner], None, duration)
    row = learner_row(learner, learner.client_user_id, now, stalled_after_days)
    if grid is None:
        return {**row, "grid": None, "sessions_timeline": [], "strip": [], "missing_ranges": []}
    entry = on_grid(learner, grid)
    watched = entry.watched if entry else frozenset()
    content = sum(s.play_time for s in learner.sessions)
    wall = sum(s.run_time for s in learner.sessions)
    speed = content / wall if content > 0 and wall > 0 else 1.0
    left = (grid.blocks - len(watched)) * grid.block_length
    timeline = [
        {
            "start_at": session.start_at,
            "player_id": session.player_id,
            "player_kind": session.player_kind,
            "device": session.device,
            "host_name": session.host_name,
            "block_count": session.block_count,
            "blocks_played": len(session.block_seconds),
            "content_seconds": session.play_time,
            "wall_seconds": session.run_time,
            "suspicious": session.suspicious,
        }
        for session in sorted(learner.sessions, key=lambda s: s.started_ms)
    ]
    active_days = sorted({s.started_ms // DAY_MS for s in learner.sessions})
    return {
        **row,
        "grid": {"block_count": grid.blocks, "duration": grid.duration, "block_length": round(grid.block_length, 3)},
        "strip": strip(learner, grid, ratio),
        "missing_ranges": _missing_ranges(watched, grid),
        "minutes_left": round(left / 60, 2),
        "minutes_left_at_own_speed": round(left / speed / 60, 2),
        "active_days": len(active_days),
        "longest_streak_days": _longest_streak(active_days),
        "sessions_timeline": timeline,
    }


def _longest_streak(days: list[int]) -> int:
    best = run = 0
    previous: int | None = None
    for day in days:
        run = run + 1 if previous is not None and day == previous + 1 else 1
        best, previous = max(best, run), day
    return best
