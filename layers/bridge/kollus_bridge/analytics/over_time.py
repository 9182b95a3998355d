"""Learning activity over time: on which days a learner was active, and the last days' counts. Pure.

Days are calendar days in the deployment's time zone (DISPLAY_TIMEZONE). A learner is **active** on
a day when one of their sessions started on it (the player's `start_at`) or their record last
changed on it (the server's clock); a **completion** falls on the day of the record's `completed_at`.
Each learner counts once a day however many sessions they had.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from .activity import LearnerActivity

#: The days the pages and the insights show, ending with the day of `as_of`.
DAYS = 30


def day_of(epoch_ms: int, zone: str) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, ZoneInfo(zone)).date().isoformat()


def active_days(learner: LearnerActivity, zone: str) -> set[str]:
    days = {day_of(session.started_ms, zone) for session in learner.sessions}
    if learner.updated_at is not None:
        days.add(day_of(learner.updated_at, zone))
    return days


def count_days(learners: Iterable[LearnerActivity], zone: str) -> tuple[dict[str, int], dict[str, int]]:
    """Learners active and completions, per day."""
    active: dict[str, int] = {}
    completed: dict[str, int] = {}
    for learner in learners:
        for day in active_days(learner, zone):
            active[day] = active.get(day, 0) + 1
        if learner.completed_at is not None:
            day = day_of(learner.completed_at, zone)
            completed[day] = completed.get(day, 0) + 1
    return active, completed


def last_days(now: int, zone: str, days: int = DAYS) -> list[str]:
    """The `days` calendar days ending with today, oldest first."""
    today = datetime.fromtimestamp(now / 1000, ZoneInfo(zone)).date()
    return [(today - timedelta(days=back)).isoformat() for back in range(days - 1, -1, -1)]


def daily(
    active: Mapping[str, int], completed: Mapping[str, int], now: int, zone: str, days: int = DAYS
) -> list[dict[str, Any]]:
    """One row per day of the last `days`: `{"date", "active", "completed"}` (zeros included)."""
    return [
        {"date": day, "active": active.get(day, 0), "completed": completed.get(day, 0)}
        for day in last_days(now, zone, days)
    ]
