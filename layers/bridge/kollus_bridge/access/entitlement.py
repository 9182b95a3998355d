"""Entitlement, pure: a learner may play a content when some course holds the content and an
enrolment of the learner in that course is active now. Every check (playback URLs, the play callback,
and later the DRM callback and analytics) asks `entitlement` and nothing else.

An enrolment is active from `starts_at` (inclusive; none: always begun) until `ends_at` (exclusive;
none: open-ended). Times are epoch milliseconds.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from enum import StrEnum

#: Who wrote an enrolment, beside the LMS API (no source): an LTI launch, the roster, the roster's end.
LAUNCH, ROSTER, DROPPED = "launch", "roster", "dropped"


@dataclass(frozen=True)
class Enrolment:
    course_id: str
    client_user_id: str
    starts_at: int | None = None
    ends_at: int | None = None
    #: Who wrote it: None for the LMS API, `launch` (an LTI launch, for the playback URL's life),
    #: `roster` (the LMS's roster) or `dropped` (the roster ended it: the member left the course).
    source: str | None = None
    #: When it was written (epoch ms; None for the LMS API's).
    granted_at: int | None = None

    def active(self, now: int) -> bool:
        return (self.starts_at is None or self.starts_at <= now) and (self.ends_at is None or now < self.ends_at)


class Reason(StrEnum):
    ENROLLED = "enrolled"
    NOT_IN_A_COURSE = "not_in_a_course"  # no course holds the content
    NOT_ENROLLED = "not_enrolled"  # courses hold it, the learner is in none of them
    NOT_YET = "not_yet"  # enrolled, but the enrolment starts later
    ENDED = "ended"  # enrolled, and every enrolment has ended


@dataclass(frozen=True)
class Entitlement:
    allowed: bool
    reason: Reason
    #: The course that entitles (allowed), or the enrolment's course the reason is about.
    course_id: str | None = None
    #: Allowed until then (epoch ms; None: open-ended); refused: when it starts (NOT_YET) or ended (ENDED).
    until: int | None = None
    starts_at: int | None = None


def _later_end(a: Enrolment, b: Enrolment) -> Enrolment:
    if a.ends_at is None:
        return a
    if b.ends_at is None:
        return b
    return a if a.ends_at >= b.ends_at else b


def entitlement(enrolments: Iterable[Enrolment], courses_holding: Collection[str], now: int) -> Entitlement:
    """Whether the learner of `enrolments` may play a content held by the courses `courses_holding`,
    now; when several enrolments entitle, the one that lasts longest counts (ties: lowest course id)."""
    relevant = sorted((e for e in enrolments if e.course_id in courses_holding), key=lambda e: e.course_id)
    if not courses_holding:
        return Entitlement(False, Reason.NOT_IN_A_COURSE)
    if not relevant:
        return Entitlement(False, Reason.NOT_ENROLLED)
    active = [e for e in relevant if e.active(now)]
    if active:
        best = active[0]
        for enrolment in active[1:]:
            best = _later_end(best, enrolment)
        return Entitlement(True, Reason.ENROLLED, best.course_id, best.ends_at)
    upcoming = [e for e in relevant if e.starts_at is not None and e.starts_at > now]
    if upcoming:
        first = min(upcoming, key=lambda e: (e.starts_at, e.course_id))
        return Entitlement(False, Reason.NOT_YET, first.course_id, starts_at=first.starts_at)
    ended = max(relevant, key=lambda e: (e.ends_at or 0, e.course_id))
    return Entitlement(False, Reason.ENDED, ended.course_id, until=ended.ends_at)
