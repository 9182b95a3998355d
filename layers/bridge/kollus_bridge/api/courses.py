"""Courses, enrolments and the access log over the LMS API: what they accept and answer."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator

from kollus_bridge.access.entitlement import Enrolment
from kollus_bridge.access.ports import Course, Decision
from kollus_bridge.lti.roster import Roster
from kollus_bridge.times import iso_time

from .models import example
from .service import WholeNumber

_TEXT = r"^[^\x00-\x1f]*[^\x00-\x1f\s][^\x00-\x1f]*$"


def _text_only(value: object) -> object:
    if not isinstance(value, str):
        raise ValueError("a time is an ISO-8601 string with its offset, e.g. 2026-12-01T00:00:00Z")
    return value


#: An ISO-8601 time with its offset, e.g. 2026-12-01T00:00:00Z (a number is not a time here).
Moment = Annotated[AwareDatetime, BeforeValidator(_text_only), Field(strict=False)]


def _ms(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp() * 1000)


class CourseInput(BaseModel):
    """What `PUT /v1/courses/{course_id}` accepts."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={"examples": [{"title": "Algorithms 101", "media_content_keys": ["nY3CaQtl", "k8PzQ2aa"]}]},
    )

    title: str = Field(min_length=1, max_length=500, pattern=_TEXT)
    media_content_keys: list[Annotated[str, Field(min_length=1, max_length=256, pattern=_TEXT)]] = Field(
        max_length=1000, description="The contents the course holds (its enrolled learners may play them)."
    )
    max_devices: WholeNumber = Field(
        default=0, ge=0, le=100, description="Devices a learner may play on at once; 0: the deployment's limit."
    )

    @field_validator("media_content_keys")
    @classmethod
    def _unique(cls, keys: list[str]) -> list[str]:
        return list(dict.fromkeys(keys))


COURSE_EXAMPLE = {
    "course_id": "algo-101",
    "title": "Algorithms 101",
    "media_content_keys": ["nY3CaQtl", "k8PzQ2aa"],
    "max_devices": 2,
    "updated_at": "2026-11-22T09:00:00.000Z",
    "source": "api",
    "platform_id": None,
    "context_id": None,
    "roster_synced_at": None,
    "roster_error": None,
    "roster_learners": None,
}
LTI_COURSE_EXAMPLE = {
    **COURSE_EXAMPLE,
    "course_id": "lti:moodle:42",
    "max_devices": None,
    "source": "lti",
    "platform_id": "moodle",
    "context_id": "42",
    "roster_synced_at": "2026-11-22T09:05:00.000Z",
    "roster_learners": 38,
}
ENROLLMENT_EXAMPLE = {
    "course_id": "algo-101",
    "client_user_id": "user-1042",
    "starts_at": None,
    "ends_at": "2027-02-28T15:00:00.000Z",
    "active": True,
    "source": "api",
}
DECISION_EXAMPLE = {
    "at": "2026-11-22T09:14:03.120Z",
    "client_user_id": "user-1042",
    "media_content_key": "nY3CaQtl",
    "device": "6C8C568C4FB0D7026CA8871ED5611ED8B5246F0C",
    "kind": "play_1",
    "allowed": False,
    "reason": "ended",
    "course_id": "algo-101",
}


class CourseOut(BaseModel):
    model_config = example(COURSE_EXAMPLE, LTI_COURSE_EXAMPLE)

    course_id: str
    title: str
    media_content_keys: list[str]
    max_devices: int | None
    updated_at: str | None
    source: Literal["api", "lti"] = Field(
        description="api: the LMS pushes its enrolments; "
        "lti: made by LTI launches, its enrolments follow the context's roster."
    )
    platform_id: str | None = Field(description="lti: the LMS's platform registration.")
    context_id: str | None = Field(description="lti: the course (context) id in the LMS.")
    roster_synced_at: str | None = Field(description="lti: when the roster was last read in full or in part.")
    roster_error: str | None = Field(description="lti: why the last attempt to read the roster failed (null: none).")
    roster_learners: int | None = Field(description="lti: active learners on the roster at its last full read.")


class CoursePage(BaseModel):
    model_config = example({"items": [COURSE_EXAMPLE], "next_token": None})

    items: list[CourseOut]
    next_token: str | None


class EnrollmentInput(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    client_user_id: str = Field(min_length=1, max_length=256, pattern=_TEXT)
    starts_at: Moment | None = Field(default=None, description="Inclusive; absent: already begun.")
    ends_at: Moment | None = Field(default=None, description="Exclusive, after starts_at; absent: open-ended.")

    @field_validator("ends_at")
    @classmethod
    def _after_start(cls, ends_at: Any, info: ValidationInfo) -> Any:
        starts_at = info.data.get("starts_at")
        if ends_at is not None and starts_at is not None and ends_at <= starts_at:
            raise ValueError("ends_at must be after starts_at")
        return ends_at


class EnrollmentBatch(BaseModel):
    """What `PUT /v1/courses/{course_id}/enrollments` accepts: up to 500 enrolments. A learner given
    twice counts once, by the last entry; an `ends_at` not after its `starts_at` is refused."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={
            "examples": [
                {
                    "enrollments": [
                        {"client_user_id": "user-1042", "ends_at": "2027-02-28T15:00:00Z"},
                        {"client_user_id": "user-1043", "starts_at": "2026-12-01T00:00:00Z"},
                    ]
                }
            ]
        },
    )

    enrollments: list[EnrollmentInput] = Field(min_length=1, max_length=500)

    @field_validator("enrollments")
    @classmethod
    def _one_per_learner(cls, items: list[EnrollmentInput]) -> list[EnrollmentInput]:
        """A learner given twice: the last entry counts (as if the batch were sent entry by entry)."""
        return list({item.client_user_id: item for item in items}.values())

    def enrolments(self, course_id: str) -> list[Enrolment]:
        return [
            Enrolment(course_id, item.client_user_id, _ms(item.starts_at), _ms(item.ends_at))
            for item in self.enrollments
        ]


class EnrollmentOut(BaseModel):
    model_config = example(ENROLLMENT_EXAMPLE)

    course_id: str
    client_user_id: str
    starts_at: str | None
    ends_at: str | None
    active: bool = Field(description="Whether the enrolment is in force now.")
    source: Literal["api", "launch", "roster", "dropped"] = Field(
        description="api: pushed by the LMS; launch: an LTI launch, for its playback URL's life; roster: the LMS's "
        "roster; dropped: ended by the roster (the member left the course)."
    )


class EnrollmentPage(BaseModel):
    model_config = example({"items": [ENROLLMENT_EXAMPLE], "next_token": None})

    items: list[EnrollmentOut]
    next_token: str | None


class EnrollmentsWritten(BaseModel):
    model_config = example({"course_id": "algo-101", "enrollments": 2})

    course_id: str
    enrollments: int


class AccessDecision(BaseModel):
    model_config = example(DECISION_EXAMPLE)

    at: str | None
    client_user_id: str
    media_content_key: str
    device: str | None
    kind: Literal["play_1", "play_3", "drm_1", "drm_2", "drm_3", "playback_url"]
    allowed: bool
    reason: str = Field(description="enrolled, not_in_a_course, not_enrolled, not_yet, ended, storage_unavailable")
    course_id: str | None


class AccessLogPage(BaseModel):
    model_config = example({"items": [DECISION_EXAMPLE], "next_token": None})

    items: list[AccessDecision]
    next_token: str | None


def course_json(course: Course, roster: Roster | None = None) -> CourseOut:
    return CourseOut(
        course_id=course.course_id,
        title=course.title,
        media_content_keys=list(course.media_content_keys),
        max_devices=course.max_devices,
        updated_at=iso_time(course.updated_at),
        source="api" if roster is None else "lti",
        platform_id=None if roster is None else roster.platform_id,
        context_id=None if roster is None else roster.context_id,
        roster_synced_at=None if roster is None else iso_time(roster.synced_at),
        roster_error=None if roster is None else roster.error,
        roster_learners=None if roster is None else roster.learners,
    )


def enrollment_json(enrolment: Enrolment, now: int) -> EnrollmentOut:
    return EnrollmentOut(
        course_id=enrolment.course_id,
        client_user_id=enrolment.client_user_id,
        starts_at=iso_time(enrolment.starts_at),
        ends_at=iso_time(enrolment.ends_at),
        active=enrolment.active(now),
        source=enrolment.source or "api",  # type: ignore[arg-type]
    )


def decision_json(decision: Decision) -> AccessDecision:
    return AccessDecision(
        at=iso_time(decision.at),
        client_user_id=decision.client_user_id,
        media_content_key=decision.media_content_key,
        device=decision.device,
        kind=decision.kind,  # type: ignore[arg-type]
        allowed=decision.allowed,
        reason=decision.reason,
        course_id=decision.course_id,
    )
