"""Learning analytics over the LMS API: the answers' models (for validation and the OpenAPI document)
and their CSV tables."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from kollus_bridge.analytics.charts import heat_strip

from .http import csv_table
from .models import example

_SUMMARY = {"count": 2, "total": 300.0, "median": 150.0, "q1": 105.0, "q3": 195.0}
_ROW = {"name": "PC", "sessions": 2, "learners": 2, "content_seconds": 260.0}
INSIGHTS_EXAMPLE: dict[str, Any] = {
    "media_content_key": "nY3CaQtl", "scope": {"course": "algo-101", "uservalue": None, "grid": None},
    "as_of": "2026-11-22T09:14:03.120Z", "stale": False,
    "grid": {"block_count": 4, "duration": 240.0, "block_length": 60.0},
    "learners_counted": 2, "excluded": {"other_grid": 1}, "learners": {"started": 2, "completed": 1},
    "coverage": [1, 1, 1, 2], "reach": [2, 2, 2, 2], "exits": [0, 1, 0, 2],
    "rewatch": {"passes": [1.167, 2.167, 1.0, 2.0], "learners": [0, 1, 0, 0]},
    "skips": [0, 1, 1, 0], "skims": [1, 0, 0, 0],
    "funnel": {"started": 2, "reached_25": 2, "reached_50": 1, "reached_75": 1, "reached_90": 1, "completed": 1},
    "watch_time": {"unique_seconds": _SUMMARY, "content_seconds": _SUMMARY, "wall_seconds": _SUMMARY},
    "time_to_complete_seconds": _SUMMARY, "sessions_to_complete": _SUMMARY, "sessions_per_learner": _SUMMARY,
    "suspicious_sessions": 0, "environment": {"device": [_ROW], "player": [{**_ROW, "name": "khp"}], "host": []},
    "hard_parts": [[60.0, 120.0]], "skipped_parts": [], "enrolled": 3, "not_started": 1,
    "activity": [{"date": "2026-11-21", "active": 1, "completed": 0},
                 {"date": "2026-11-22", "active": 2, "completed": 1}],
}  # fmt: skip
LEARNER_ROW_EXAMPLE = {
    "client_user_id": "user-1042", "status": "started", "progress": 25.0, "last_active_at": "2026-11-22T09:14:03.120Z",
    "sessions": 1, "unique_minutes": 1.0, "content_minutes": 1.17, "wall_minutes": 1.33, "devices": ["PC"],
}  # fmt: skip


class Summary(BaseModel):
    """Across learners: how many, the sum, the median and the quartiles (inclusive method)."""

    count: int
    total: float
    median: float | None
    q1: float | None
    q3: float | None


class GridOut(BaseModel):
    block_count: int
    duration: float
    block_length: float


class Scope(BaseModel):
    course: str | None = Field(description="Only the course's enrolled learners.")
    uservalue: str | None = Field(description="Only learners whose latest uservalues carry it (`uservalueN:value`).")
    grid: int | None = Field(description="The block count asked for (null: the one most learners have).")


class Rewatch(BaseModel):
    passes: list[float] = Field(description="Per block: content seconds played by all learners / block length.")
    learners: list[int] = Field(description="Per block: learners who played it at least twice its length.")


class Funnel(BaseModel):
    started: int
    reached_25: int
    reached_50: int
    reached_75: int
    reached_90: int
    completed: int


class Day(BaseModel):
    date: str = Field(description="A calendar day in DISPLAY_TIMEZONE, `YYYY-MM-DD`.")
    active: int = Field(description="Learners with a session started, or their record changed, that day.")
    completed: int = Field(description="Learners whose record completed that day.")


class WatchTime(BaseModel):
    unique_seconds: Summary = Field(description="Watched blocks x block length, per learner.")
    content_seconds: Summary = Field(description="play_time summed over sessions (repeats and speed included).")
    wall_seconds: Summary = Field(description="run_time summed over sessions (pauses included).")


class EnvironmentRow(BaseModel):
    name: str
    sessions: int
    learners: int
    content_seconds: float


class Environment(BaseModel):
    device: list[EnvironmentRow]
    player: list[EnvironmentRow]
    host: list[EnvironmentRow]


class ContentInsights(BaseModel):
    """A content's engagement figures (docs/analytics.md defines each)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [INSIGHTS_EXAMPLE]})

    media_content_key: str
    scope: Scope
    as_of: str = Field(description="When the figures were computed.")
    stale: bool = Field(description="Older than ANALYTICS_MAX_AGE_SECONDS; newer ones are being computed.")
    grid: GridOut | None
    learners_counted: int
    excluded: dict[str, int] = Field(description="Learners left out, by reason: other_grid, no_sessions.")
    learners: dict[str, int] | None = None
    coverage: list[int] | None = None
    reach: list[int] | None = None
    exits: list[int] | None = None
    rewatch: Rewatch | None = None
    skips: list[int] | None = None
    skims: list[int] | None = None
    funnel: Funnel | None = None
    watch_time: WatchTime | None = None
    time_to_complete_seconds: Summary | None = None
    sessions_to_complete: Summary | None = None
    sessions_per_learner: Summary | None = None
    suspicious_sessions: int | None = None
    environment: Environment | None = None
    hard_parts: list[list[float]] | None = Field(default=None, description="[start, end] content seconds.")
    skipped_parts: list[list[float]] | None = Field(default=None, description="[start, end] content seconds.")
    enrolled: int | None = Field(default=None, description="With `course`: learners enrolled in it.")
    not_started: int | None = Field(default=None, description="With `course`: enrolled learners with no session.")
    activity: list[Day] | None = Field(
        default=None, description="The last 30 days, oldest first, ending with the day of `as_of`."
    )


class Computing(BaseModel):
    """The first computation of these insights is under way: ask again shortly (Retry-After)."""

    model_config = example(
        {
            "status": "computing",
            "media_content_key": "nY3CaQtl",
            "scope": {"course": None, "uservalue": None, "grid": None},
        }
    )

    status: Literal["computing"]
    media_content_key: str
    scope: Scope


class LearnerRow(BaseModel):
    client_user_id: str
    status: Literal["not_started", "started", "stalled", "completed"]
    progress: float
    last_active_at: str | None = None
    sessions: int
    unique_minutes: float | None = None
    content_minutes: float | None = None
    wall_minutes: float | None = None
    devices: list[str] = Field(default_factory=list)


class LearnerTable(BaseModel):
    model_config = example({"items": [LEARNER_ROW_EXAMPLE], "next_token": None})

    items: list[LearnerRow]
    next_token: str | None = None


class LearnerContentRow(BaseModel):
    media_content_key: str
    title: str | None = None
    status: Literal["started", "stalled", "completed"]
    progress: float
    last_active_at: str | None = None
    sessions: int
    unique_minutes: float
    content_minutes: float
    wall_minutes: float
    devices: list[str]


class LearnerContents(BaseModel):
    model_config = example(
        {
            "client_user_id": "user-1042",
            "next_token": None,
            "items": [{**LEARNER_ROW_EXAMPLE, "media_content_key": "nY3CaQtl", "title": "Week 3: Recursion"}],
        }
    )

    client_user_id: str
    items: list[LearnerContentRow]
    next_token: str | None = None


class SessionRow(BaseModel):
    start_at: int
    player_id: str
    player_kind: str
    device: str | None
    host_name: str | None
    block_count: int
    blocks_played: int
    content_seconds: float
    wall_seconds: float
    suspicious: bool


class LearnerContentView(LearnerContentRow):
    """A learner's view of one content."""

    completed_at: str | None = Field(default=None, description="When the record completed (ISO-8601), if it did.")

    model_config = example(
        {
            **LEARNER_ROW_EXAMPLE,
            "media_content_key": "nY3CaQtl",
            "title": "Week 3: Recursion",
            "grid": {"block_count": 4, "duration": 240.0, "block_length": 60.0},
            "strip": ["touched", "not_viewed", "not_viewed", "once"],
            "missing_ranges": [[0.0, 180.0]],
            "minutes_left": 3.0,
            "minutes_left_at_own_speed": 3.43,
            "active_days": 1,
            "longest_streak_days": 1,
            "sessions_timeline": [
                {
                    "start_at": 1795000000,
                    "player_id": "khp",
                    "player_kind": "khp",
                    "device": "PC",
                    "host_name": "school.example.com",
                    "block_count": 4,
                    "blocks_played": 2,
                    "content_seconds": 70.0,
                    "wall_seconds": 80.0,
                    "suspicious": False,
                }
            ],
        }
    )

    client_user_id: str
    grid: GridOut | None
    strip: list[Literal["not_viewed", "touched", "once", "twice", "more"]]
    missing_ranges: list[list[float]]
    minutes_left: float | None = None
    minutes_left_at_own_speed: float | None = None
    active_days: int | None = None
    longest_streak_days: int | None = None
    sessions_timeline: list[SessionRow]


BLOCK_COLUMNS = [
    "block",
    "start",
    "end",
    "coverage",
    "reach",
    "exits",
    "rewatch_passes",
    "rewatchers",
    "skips",
    "skims",
]


def blocks_csv(insights: dict[str, Any]) -> str:
    """A content's per-block figures, a row per block."""
    grid = insights.get("grid")
    if not grid:
        return csv_table(BLOCK_COLUMNS, [])
    length, count = grid["block_length"], grid["block_count"]
    rows = (
        {
            "block": index,
            "start": round(index * length, 3),
            "end": round(min(grid["duration"], (index + 1) * length), 3),
            "coverage": insights["coverage"][index],
            "reach": insights["reach"][index],
            "exits": insights["exits"][index],
            "rewatch_passes": insights["rewatch"]["passes"][index],
            "rewatchers": insights["rewatch"]["learners"][index],
            "skips": insights["skips"][index],
            "skims": insights["skims"][index],
        }
        for index in range(count)
    )
    return csv_table(BLOCK_COLUMNS, rows)


LEARNER_COLUMNS = list(LearnerRow.model_fields)


def learners_csv(rows: list[LearnerRow]) -> str:
    return csv_table(LEARNER_COLUMNS, ({**row.model_dump(), "devices": " ".join(row.devices)} for row in rows))


def insights_svg(insights: dict[str, Any]) -> str:
    """The heat strip: coverage above the rewatch layer on a timeline (an empty image without a grid)."""
    grid = insights.get("grid") or {"block_count": 0, "duration": 0.0}
    count = grid["block_count"]
    return heat_strip(
        insights.get("coverage") or [0] * count, (insights.get("rewatch") or {}).get("learners") or [0] * count,
        insights.get("learners_counted", 0), grid["duration"], ("Watched", "Rewatched"),
        f"{insights.get('media_content_key', '')}: who watched each part",
    )  # fmt: skip
