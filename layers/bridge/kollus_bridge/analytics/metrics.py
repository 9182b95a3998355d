"""A content's engagement insights, exact, from every learner's record and sessions. Pure.

All per-block figures are on one grid: the block count most learners have (a tie goes to the finer
grid); learners with no session on it are excluded and counted by reason. Block `i` covers content
seconds `[i * L, (i + 1) * L)` with `L = duration / blocks`. For each learner on the grid:
`W` = the record's watched blocks (merged across sessions and devices under the content's rules),
`P` = the blocks any session played at all, `S[i]` = content seconds played in block `i`, summed over
sessions (repeats and speed included). docs/analytics.md publishes each definition below.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .activity import LearnerActivity, SessionActivity, distinct
from .over_time import count_days

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


ENVIRONMENT_LABELS = {"device": "device", "player": "player_kind", "host": "host_name"}


@dataclass
class Tally:
    """A content's figures on one grid, summed over a set of learners: tallies of disjoint sets of
    learners merge into the tally of their union (sums, and value lists for the quartiles), so a
    large content is counted in shards. Seconds are summed as whole milliseconds, exactly."""

    blocks: int
    learners: int = 0
    coverage: list[int] = field(default_factory=list)
    reach: list[int] = field(default_factory=list)
    exits: list[int] = field(default_factory=list)
    skips: list[int] = field(default_factory=list)
    skims: list[int] = field(default_factory=list)
    rewatchers: list[int] = field(default_factory=list)
    played_ms: list[int] = field(default_factory=list)
    reached: dict[str, int] = field(default_factory=dict)
    completed: int = 0
    suspicious: int = 0
    #: Per learner: watched blocks, content seconds, wall seconds, sessions; per completed learner:
    #: seconds to complete and sessions to complete.
    watched_counts: list[int] = field(default_factory=list)
    content_seconds: list[float] = field(default_factory=list)
    wall_seconds: list[float] = field(default_factory=list)
    sessions: list[int] = field(default_factory=list)
    to_complete_seconds: list[float] = field(default_factory=list)
    to_complete_sessions: list[int] = field(default_factory=list)
    #: label -> name -> [sessions, learners, content milliseconds]
    environment: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    excluded: dict[str, int] = field(default_factory=dict)
    #: Day (in the tally's time zone) -> learners active on it, and completions on it.
    active_days: dict[str, int] = field(default_factory=dict)
    completed_days: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("coverage", "reach", "exits", "skips", "skims", "rewatchers", "played_ms"):
            if not getattr(self, name):
                setattr(self, name, [0] * self.blocks)
        for mark in FUNNEL_MARKS:
            self.reached.setdefault(str(mark), 0)
        for label in ENVIRONMENT_LABELS:
            self.environment.setdefault(label, {})

    def merge(self, other: Tally) -> Tally:
        """The tally of both sets of learners (disjoint)."""
        if other.blocks != self.blocks:
            raise ValueError("tallies of different grids do not merge")
        merged = Tally(self.blocks, self.learners + other.learners)
        for name in ("coverage", "reach", "exits", "skips", "skims", "rewatchers", "played_ms"):
            setattr(merged, name, [a + b for a, b in zip(getattr(self, name), getattr(other, name), strict=True)])
        merged.reached = {mark: self.reached[mark] + other.reached[mark] for mark in self.reached}
        merged.completed, merged.suspicious = self.completed + other.completed, self.suspicious + other.suspicious
        for name in ("watched_counts", "content_seconds", "wall_seconds", "sessions", "to_complete_seconds",
                     "to_complete_sessions"):  # fmt: skip
            setattr(merged, name, sorted([*getattr(self, name), *getattr(other, name)]))
        for label in ENVIRONMENT_LABELS:
            rows = {name: list(row) for name, row in self.environment[label].items()}
            for name, row in other.environment[label].items():
                rows[name] = [a + b for a, b in zip(rows.get(name, [0, 0, 0]), row, strict=True)]
            merged.environment[label] = rows
        merged.excluded = dict(Counter(self.excluded) + Counter(other.excluded))
        merged.active_days = dict(Counter(self.active_days) + Counter(other.active_days))
        merged.completed_days = dict(Counter(self.completed_days) + Counter(other.completed_days))
        return merged

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> Tally:
        return cls(**document)


def tally(learners: Iterable[LearnerActivity], grid: Grid, zone: str = "UTC") -> Tally:
    """Count each learner on `grid` (those with no session on it only in `excluded`); their active
    days and completions per calendar day in `zone`."""
    n, length = grid.blocks, grid.block_length
    counted = Tally(n)
    on_it: list[LearnerActivity] = []
    for learner in distinct(learners):
        entry = on_grid(learner, grid)
        if entry is None:
            reason = "other_grid" if learner.sessions else "no_sessions"
            counted.excluded[reason] = counted.excluded.get(reason, 0) + 1
            continue
        counted.learners += 1
        on_it.append(learner)
        furthest_watched = max(entry.watched, default=None)
        furthest_played = max(entry.played, default=None)
        for i in range(n):
            seconds = entry.seconds.get(i, 0.0)
            counted.coverage[i] += i in entry.watched
            counted.reach[i] += furthest_watched is not None and furthest_watched >= i
            counted.skips[i] += furthest_played is not None and furthest_played > i and i not in entry.played
            counted.skims[i] += i in entry.played and i not in entry.watched
            counted.rewatchers[i] += seconds >= 2 * length
            counted.played_ms[i] += round(seconds * 1000)
        for session in entry.sessions:
            if session.last_play_at is not None:
                counted.exits[grid.block_of(session.last_play_at)] += 1
        for mark in FUNNEL_MARKS:
            counted.reached[str(mark)] += 100 * len(entry.watched) >= mark * n
        counted.suspicious += sum(s.suspicious for s in entry.sessions)
        counted.watched_counts.append(len(entry.watched))
        counted.content_seconds.append(sum(s.play_time for s in entry.sessions))
        counted.wall_seconds.append(sum(s.run_time for s in entry.sessions))
        counted.sessions.append(len(entry.sessions))
        done = learner.completed_at
        if done is not None:
            counted.completed += 1
            if learner.created_at is not None:
                counted.to_complete_seconds.append((done - learner.created_at) / 1000)
            counted.to_complete_sessions.append(sum(s.started_ms <= done for s in entry.sessions))
        for label, attribute in ENVIRONMENT_LABELS.items():
            seen: set[str] = set()
            for session in entry.sessions:
                name = getattr(session, attribute) or "unknown"
                row = counted.environment[label].setdefault(name, [0, 0, 0])
                row[0] += 1
                row[1] += name not in seen
                row[2] += round(session.play_time * 1000)
                seen.add(name)
    counted.active_days, counted.completed_days = count_days(on_it, zone)
    return counted


def figures(counted: Tally, grid: Grid) -> dict[str, Any]:
    """The published figures of a tally."""
    length = grid.block_length
    funnel = {"started": counted.learners}
    funnel |= {f"reached_{mark}": counted.reached[str(mark)] for mark in FUNNEL_MARKS}
    funnel["completed"] = counted.completed
    environment = {
        label: [
            {"name": name, "sessions": row[0], "learners": row[1], "content_seconds": round(row[2] / 1000, 3)}
            for name, row in sorted(rows.items(), key=lambda item: (-item[1][0], item[0]))
        ]
        for label, rows in counted.environment.items()
    }
    return {
        "grid": {"block_count": grid.blocks, "duration": grid.duration, "block_length": round(length, 3)},
        "learners_counted": counted.learners,
        "excluded": dict(sorted((reason, count) for reason, count in counted.excluded.items() if count)),
        "learners": {"started": counted.learners, "completed": counted.completed},
        "coverage": counted.coverage,
        "reach": counted.reach,
        "exits": counted.exits,
        "rewatch": {
            "passes": [round(ms / 1000 / length, 3) for ms in counted.played_ms],
            "learners": counted.rewatchers,
        },
        "skips": counted.skips,
        "skims": counted.skims,
        "funnel": funnel,
        "watch_time": {
            "unique_seconds": summary(count * length for count in counted.watched_counts),
            "content_seconds": summary(counted.content_seconds),
            "wall_seconds": summary(counted.wall_seconds),
        },
        "time_to_complete_seconds": summary(counted.to_complete_seconds),
        "sessions_to_complete": summary(counted.to_complete_sessions),
        "sessions_per_learner": summary(counted.sessions),
        "suspicious_sessions": counted.suspicious,
        "environment": environment,
        "hard_parts": _stand_out(counted.rewatchers, grid),
        "skipped_parts": _stand_out(counted.skips, grid),
    }


def content_insights(
    learners: Iterable[LearnerActivity], *, duration: float | None = None, grid: int | None = None
) -> dict[str, Any]:
    """Every per-content figure. `duration` is the content's length when the catalog knows it."""
    everyone = distinct(learners)
    chosen = choose_grid(everyone, grid, duration)
    if chosen is None:
        return {"grid": None, "learners_counted": 0, "excluded": {"no_sessions": len(everyone)} if everyone else {}}
    return figures(tally(everyone, chosen), chosen)
