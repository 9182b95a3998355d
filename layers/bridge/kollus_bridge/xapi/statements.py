"""xAPI statements following the ADL xAPI Video Profile, pure.

A completion becomes `completed`; a grown progress (with progress updates on) becomes the profile's
`paused` (the player sends its callbacks on pause and every 30-60 s; the profile has no verb for
progress of its own). Both carry the profile's `progress` (0 to 1), `played-segments` (the watched
parts in content time, over every session so far), `time` (the resume position), `length`, a
`session-id` and `completion-threshold`.

Statement ids are UUIDv5 of what the statement says, so a redelivery is the same statement and the LRS
keeps it once.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from kollus_bridge.progress.rule import ProgressView, watched_ranges
from kollus_bridge.times import iso_time

#: Namespace of our statement, session and registration ids (a UUIDv5 of this project's name).
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/kollus-lms-bridge/xapi")

VIDEO = "https://w3id.org/xapi/video"
VIDEO_TYPE = VIDEO + "/activity-type/video"
PROFILE_TYPE = "http://adlnet.gov/expapi/activities/profile"
EXTENSION = VIDEO + "/extensions/"
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
PAUSED = VIDEO + "/verbs/paused"
VERSION = "1.0.3"


@dataclass(frozen=True)
class Subject:
    """Who and what a statement is about."""

    learner: str
    content: str
    title: str | None
    #: The learner's newest session (its key), for the profile's `session-id`.
    session: str
    #: The xAPI registration (a learner who came through LTI), else None.
    registration: str | None = None


def stable_id(*parts: str) -> str:
    """A UUIDv5 of `parts` (a list, so no two part lists collide)."""
    return str(uuid.uuid5(NAMESPACE, json.dumps(parts)))


def played_segments(ranges: Sequence[tuple[float, float]]) -> str:
    """The profile's `played-segments`: `start[.]end` pairs joined by `[,]`."""
    return "[,]".join(f"{_seconds(start)}[.]{_seconds(end)}" for start, end in ranges)


def _seconds(value: float) -> str:
    return format(Decimal(str(round(value, 3))).normalize(), "f")


def activity_id(base: str, content: str) -> str:
    """The video's IRI: the base with the media content key, percent-encoded."""
    return base + quote(content, safe="")


def statement(
    kind: str,
    subject: Subject,
    view: ProgressView,
    *,
    homepage: str,
    activity_base: str,
    completion_threshold: float,
    at: int | None,
) -> dict[str, Any]:
    """One statement: `kind` is `completed` or `progress`."""
    completed = kind == "completed"
    verb, word = (COMPLETED, "completed") if completed else (PAUSED, "paused")
    progress = float((view.progress / 100).quantize(Decimal("0.0001")))
    extensions: dict[str, Any] = {
        EXTENSION + "time": round(view.last_position or 0.0, 3),
        EXTENSION + "progress": progress,
    }
    ranges = watched_ranges(view)
    if ranges:
        extensions[EXTENSION + "played-segments"] = played_segments(ranges)
    result: dict[str, Any] = {"extensions": extensions}
    if completed:
        result["completion"] = True
        result["duration"] = f"PT{_seconds(view.real_play_time)}S"
    context: dict[str, Any] = {
        "contextActivities": {"category": [{"id": VIDEO, "definition": {"type": PROFILE_TYPE}}]},
        "extensions": {
            EXTENSION + "session-id": stable_id("session", subject.learner, subject.content, subject.session),
            EXTENSION + "length": round(view.duration or 0.0, 3),
            EXTENSION + "completion-threshold": round(completion_threshold / 100, 4),
        },
    }
    if subject.registration:
        context["registration"] = subject.registration
    what = (
        ("completed", str(view.completed_at)) if completed else ("progress", str(view.progress), str(view.block_count))
    )
    return {
        "id": stable_id(subject.learner, subject.content, *what),
        "actor": {"objectType": "Agent", "account": {"homePage": homepage, "name": subject.learner}},
        "verb": {"id": verb, "display": {"en-US": word}},
        "object": {
            "objectType": "Activity",
            "id": activity_id(activity_base, subject.content),
            "definition": {"type": VIDEO_TYPE, "name": {"en-US": subject.title or subject.content}},
        },
        "result": result,
        "context": context,
        "timestamp": iso_time(at),
    }


def registration(platform_id: str, context_id: str | None, content: str) -> str:
    """The xAPI registration of launches of a content from one LTI context (a course offering)."""
    return stable_id("registration", platform_id, context_id or "", content)
