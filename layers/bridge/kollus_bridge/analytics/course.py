"""A course's page: each of its lectures in order with the figures that show which one loses learners,
and the course's activity over the last days.

Each lecture's row comes from its cached insights in the course's scope (asked for when missing, as
a content's page does); the activity counts each enrolled learner once a day across all the course's
lectures, from their records (one batch read per hundred records).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kollus_bridge.errors import TooManyRequests
from kollus_bridge.progress.ports import Record
from kollus_bridge.settings import Settings

from .activity import LearnerActivity, SessionActivity
from .compute import Scope, enrolled, requested
from .over_time import active_days, daily, day_of
from .ports import AnalyticsStore


@dataclass(frozen=True)
class LectureRow:
    """One lecture of a course: None figures while its insights are first computed."""

    media_content_key: str
    title: str | None
    insights: Mapping[str, Any] | None


def steepest_drop(insights: Mapping[str, Any]) -> tuple[float, float, int] | None:
    """Where most learners stop going further: the block after which reach falls the most, as (start
    and end in content seconds, learners lost there); None when no one stops before the last block."""
    reach, grid = insights.get("reach") or [], insights.get("grid") or {}
    drops = [(reach[index] - reach[index + 1], index) for index in range(len(reach) - 1)]
    lost, index = max(drops, key=lambda drop: (drop[0], -drop[1]), default=(0, 0))
    if lost <= 0 or not grid:
        return None
    length = grid["block_length"]
    return round(index * length, 3), round(min(grid["duration"], (index + 1) * length), 3), lost


def median_progress(insights: Mapping[str, Any]) -> float | None:
    """The median learner's watched share of the lecture, in percent."""
    median = ((insights.get("watch_time") or {}).get("unique_seconds") or {}).get("median")
    duration = (insights.get("grid") or {}).get("duration")
    return None if median is None or not duration else round(100 * median / duration, 1)


def record_activity(record: Record) -> LearnerActivity:
    """What the activity counts of a record: its sessions' starts, last change and completion."""
    state = record.state
    sessions = tuple(
        SessionActivity(summary.start_at, key, summary.block_count) for key, summary in state.sessions.items()
    )
    return LearnerActivity(
        record.client_user_id, state.watched, sessions, state.completed_at, state.created_at, state.updated_at
    )


def course_activity(
    store: AnalyticsStore, members: Sequence[str], lectures: Sequence[str], now: int, zone: str
) -> list[dict[str, Any]]:
    """Per day of the last 30: enrolled learners active in any lecture of the course (once each), and
    completions of its lectures."""
    active: dict[str, set[str]] = {}
    completed: dict[str, int] = {}
    for key in lectures:
        for learner in map(record_activity, store.records_of(key, list(members)) if members else []):
            for day in active_days(learner, zone):
                active.setdefault(day, set()).add(learner.client_user_id)
            if learner.completed_at is not None:
                day = day_of(learner.completed_at, zone)
                completed[day] = completed.get(day, 0) + 1
    return daily({day: len(who) for day, who in active.items()}, completed, now, zone)


def course_view(
    store: AnalyticsStore, settings: Settings, course_id: str, now: int
) -> tuple[str | None, list[LectureRow], int, list[dict[str, Any]]] | None:
    """The course's title, its lectures' rows, its enrolled learners and activity; None when there is
    no such course."""
    course = store.get_course(course_id)
    if course is None:
        return None
    cards = store.content_cards(list(course.media_content_keys))
    rows = []
    for key in course.media_content_keys:
        try:
            status, insights = requested(store, settings, key, Scope(course=course_id), now)
        except TooManyRequests:  # this lecture's filtered views are used up for today
            status, insights = 429, {}
        card = cards.get(key)
        rows.append(LectureRow(key, card.title if card else None, insights if status == 200 else None))
    members = sorted(enrolled(store, course_id))
    activity = course_activity(store, members, course.media_content_keys, now, settings.display_timezone)
    return course.title, rows, len(members), activity
