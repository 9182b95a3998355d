"""A content's engagement insights, exact, from every learner's record and sessions. Pure.

All per-block figures are on one grid: the block count most learners have (a tie goes to the finer
grid); learners with no session on it are excluded and counted by reason. Block `i` covers content
seconds `[i * L, (i + 1) * L)` with `L = duration / blocks`. For each learner on the grid:
`W` = the record's watched blocks (merged across sessions and devices under the content's rules),
`P` = the blocks any session played at all, `S[i]` = content seconds played in block `i`, summed over
sessions (repeats and speed included). The README publishes each definition below.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .activity import LearnerActivity, SessionActivity, distinct

#: The progress marks of the funnel (share of the grid's blocks watched).
FUNNEL_MARKS = (25, 50, 75, 90)
#: A block stands out when its figure is at least this many times the median block's, and at least
#: `STAND_OUT_MINIMUM` learners.
STAND_OUT_FACTOR = 2.0
STAND_OUT_MINIMUM = 2


@dataclass(frozen=True)
class Grid:
    blocks: int
    duration: float

    @property
    def block_length(self) -> float:
        return self.duration / self.blocks

    def block_of(self, position: float) -> int:
        """The block holding a content position (the end belongs to the last block)."""
        return min(self.blocks - 1, max(0, math.floor(position / self.block_length)))

    def range_of(self, first: int, last: int) -> list[float]:
        return [round(first * self.block_length, 3), round(min(self.duration, (last + 1) * self.block_length), 3)]


@dataclass(frozen=True)
class OnGrid:
    """One learner's figures on the grid."""

    learner: LearnerActivity
    sessions: tuple[SessionActivity, ...]
    watched: frozenset[int]
    played: frozenset[int]
    seconds: dict[int, float]


def choose_grid(learners: Sequence[LearnerActivity], grid: int | None, duration: float | None) -> Grid | None:
    """The grid asked for, else the one most learners have; its duration from the catalog, else the
    longest any session on it reported."""
    counts = Counter(blocks for learner in learners for blocks in {s.block_count for s in learner.sessions})
    if grid is None:
        if not counts:
            return None
        grid = max(counts, key=lambda blocks: (counts[blocks], blocks))
    if duration is None:
        reported = [
            s.duration for learner in learners for s in learner.sessions if s.block_count == grid and s.duration
        ]
        duration = max(reported, default=None)
    if not duration or duration <= 0:
        return None
    return Grid(grid, float(duration))


def on_grid(learner: LearnerActivity, grid: Grid) -> OnGrid | None:
    sessions = tuple(s for s in learner.sessions if s.block_count == grid.blocks)
    if not sessions:
        return None
    seconds: dict[int, float] = {}
    for session in sessions:
        for index, value in session.block_seconds.items():
            if 0 <= index < grid.blocks and value > 0:
                seconds[index] = seconds.get(index, 0.0) + value
    watched = frozenset(i for i in learner.watched.get(grid.blocks, frozenset()) if 0 <= i < grid.blocks)
    return OnGrid(learner, sessions, watched, frozenset(seconds), seconds)


def summary(values: Iterable[float]) -> dict[str, Any]:
    """Count, total, median and quartiles (inclusive method) of a list; null figures when empty."""
    ordered = sorted(values)
    if not ordered:
        return {"count": 0, "total": 0, "median": None, "q1": None, "q3": None}
    if len(ordered) == 1:
        q1 = median = q3 = ordered[0]
    else:
        q1, median, q3 = statistics.quantiles(ordered, n=4, method="inclusive")
    return {
        "count": len(ordered),
        "total": round(sum(ordered), 3),
        "median": round(median, 3),
        "q1": round(q1, 3),
        "q3": round(q3, 3),
    }


def _stand_out(values: list[int], grid: Grid) -> list[list[float]]:
    """Content-time ranges of the runs of blocks whose value stands out (see the module's constants)."""
    threshold = max(STAND_OUT_MINIMUM, STAND_OUT_FACTOR * statistics.median(values)) if values else 0
    ranges: list[list[float]] = []
    start: int | None = None
    for index, value in enumerate([*values, 0]):
        if index < len(values) and value >= threshold:
            start = index if start is None else start
        elif start is not None:
            ranges.append(grid.range_of(start, index - 1))
            start = None
    return ranges


def _environment(on_grid: Sequence[OnGrid], label: str) -> list[dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for entry in on_grid:
        for session in entry.sessions:
            name = getattr(session, label) or "unknown"
            row = rows.setdefault(name, {"name": name, "sessions": 0, "learners": set(), "content_seconds": 0.0})
            row["sessions"] += 1
            row["learners"].add(entry.learner.client_user_id)
            row["content_seconds"] += session.play_time
    return [
        {**row, "learners": len(row["learners"]), "content_seconds": round(row["content_seconds"], 3)}
        for row in sorted(rows.values(), key=lambda row: (-row["sessions"], row["name"]))
    ]


def content_insights(
    learners: Iterable[LearnerActivity], *, duration: float | None = None, grid: int | None = None
) -> dict[str, Any]:
    """Every per-content figure. `duration` is the content's length when the catalog knows it."""
    everyone = distinct(learners)
    chosen = choose_grid(everyone, grid, duration)
    if chosen is None:
        return {"grid": None, "learners_counted": 0, "excluded": {"no_sessions": len(everyone)} if everyone else {}}
    counted: list[OnGrid] = []
    excluded: Counter[str] = Counter()
    for learner in everyone:
        entry = on_grid(learner, chosen)
        if entry is None:
            excluded["other_grid" if learner.sessions else "no_sessions"] += 1
        else:
            counted.append(entry)
    n, length = chosen.blocks, chosen.block_length
    coverage, reach, exits, skips, skims, rewatchers = ([0] * n for _ in range(6))
    passes = [0.0] * n
    for entry in counted:
        furthest_watched = max(entry.watched, default=None)
        furthest_played = max(entry.played, default=None)
        for i in range(n):
            coverage[i] += i in entry.watched
            reach[i] += furthest_watched is not None and furthest_watched >= i
            skips[i] += furthest_played is not None and furthest_played > i and i not in entry.played
            skims[i] += i in entry.played and i not in entry.watched
            rewatchers[i] += entry.seconds.get(i, 0.0) >= 2 * length
            passes[i] += entry.seconds.get(i, 0.0) / length
        for session in entry.sessions:
            if session.last_play_at is not None:
                exits[chosen.block_of(session.last_play_at)] += 1
    completed = [entry for entry in counted if entry.learner.completed_at is not None]
    funnel = {"started": len(counted)}
    for mark in FUNNEL_MARKS:
        funnel[f"reached_{mark}"] = sum(100 * len(entry.watched) >= mark * n for entry in counted)
    funnel["completed"] = len(completed)
    return {
        "grid": {"block_count": n, "duration": chosen.duration, "block_length": round(length, 3)},
        "learners_counted": len(counted),
        "excluded": dict(sorted(excluded.items())),
        "learners": {"started": len(counted), "completed": len(completed)},
        "coverage": coverage,
        "reach": reach,
        "exits": exits,
        "rewatch": {"passes": [round(value, 3) for value in passes], "learners": rewatchers},
        "skips": skips,
        "skims": skims,
        "funnel": funnel,
        "watch_time": {
            "unique_seconds": summary(len(entry.watched) * length for entry in counted),
            "content_seconds": summary(sum(s.play_time for s in entry.sessions) for entry in counted),
            "wall_seconds": summary(sum(s.run_time for s in entry.sessions) for entry in counted),
        },
        "time_to_complete_seconds": summary(
            (entry.learner.completed_at - entry.learner.created_at) / 1000
            for entry in completed
            if entry.learner.completed_at is not None and entry.learner.created_at is not None
        ),
        "sessions_to_complete": summary(
            sum(s.started_ms <= (entry.learner.completed_at or 0) for s in entry.sessions) for entry in completed
        ),
        "sessions_per_learner": summary(len(entry.sessions) for entry in counted),
        "suspicious_sessions": sum(s.suspicious for entry in counted for s in entry.sessions),
        "environment": {
            "device": _environment(counted, "device"),
            "player": _environment(counted, "player_kind"),
            "host": _environment(counted, "host_name"),
        },
        "hard_parts": _stand_out(rewatchers, chosen),
        "skipped_parts": _stand_out(skips, chosen),
    }
