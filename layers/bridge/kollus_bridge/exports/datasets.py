"""The exported datasets' rows, from the table's learning data, decoded with the code the analytics
use. Pure. Column names are the API's own; docs/exports.md describes each dataset.

Watched sets are integer lists (`watched`: the record's blocks on the learner's grid), not bitmaps:
Athena (Trino) has no bit operations on long binaries. Times are UTC timestamps. With a
pseudonymisation key, every learner id is replaced by its keyed hash (HMAC-SHA256, hex), the same in
every dataset, so the datasets still join.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kollus_bridge.access.entitlement import Enrolment
from kollus_bridge.access.ports import Course
from kollus_bridge.analytics.activity import LearnerActivity
from kollus_bridge.analytics.learners import learner_row
from kollus_bridge.analytics.metrics import choose_grid
from kollus_bridge.content.catalog import Entry

#: Each dataset's columns and their SQL types (DuckDB's names; Parquet keeps the types).
SCHEMAS: dict[str, tuple[tuple[str, str], ...]] = {
    "learner_content": (
        ("media_content_key", "VARCHAR"), ("block_count", "INTEGER"), ("client_user_id", "VARCHAR"),
        ("watched", "INTEGER[]"), ("progress", "DOUBLE"), ("completed_at", "TIMESTAMP"),
        ("first_active_at", "TIMESTAMP"), ("last_active_at", "TIMESTAMP"), ("sessions", "INTEGER"),
        ("uservalues", "MAP(VARCHAR, VARCHAR)"), ("course_ids", "VARCHAR[]"),
    ),
    "session": (
        ("media_content_key", "VARCHAR"), ("block_count", "INTEGER"), ("duration", "DOUBLE"),
        ("client_user_id", "VARCHAR"),
        ("start_at", "TIMESTAMP"), ("device", "VARCHAR"), ("player", "VARCHAR"), ("played", "INTEGER[]"),
        ("block_seconds", "DOUBLE[]"), ("last_position", "DOUBLE"), ("content_seconds", "DOUBLE"),
        ("wall_seconds", "DOUBLE"), ("suspicious", "BOOLEAN"),
    ),
    "uservalue": (
        ("media_content_key", "VARCHAR"), ("client_user_id", "VARCHAR"), ("name", "VARCHAR"), ("value", "VARCHAR"),
    ),
    "content": (
        ("media_content_key", "VARCHAR"), ("upload_file_key", "VARCHAR"), ("title", "VARCHAR"),
        ("duration", "DOUBLE"), ("channel_key", "VARCHAR"), ("status", "VARCHAR"), ("created_at", "TIMESTAMP"),
    ),
    "enrollment": (
        ("course_id", "VARCHAR"), ("client_user_id", "VARCHAR"), ("starts_at", "TIMESTAMP"),
        ("ends_at", "TIMESTAMP"), ("source", "VARCHAR"),
    ),
    "course": (("course_id", "VARCHAR"), ("title", "VARCHAR"), ("media_content_keys", "VARCHAR[]")),
}  # fmt: skip
#: The datasets written in one directory per content (Hive-style `media_content_key=…`).
PARTITIONED = ("learner_content", "session", "uservalue")


def at(epoch_ms: int | None) -> datetime | None:
    """A UTC timestamp (naive, as Parquet's TIMESTAMP holds it)."""
    return None if epoch_ms is None else datetime.fromtimestamp(epoch_ms / 1000, UTC).replace(tzinfo=None)


def pseudonymiser(key: bytes | None) -> Callable[[str], str]:
    """Learner ids as they are, or as their keyed hash under `key`."""
    if key is None:
        return lambda client_user_id: client_user_id

    def hashed(client_user_id: str) -> str:
        return hmac.new(key, client_user_id.encode(), hashlib.sha256).hexdigest()

    return hashed


@dataclass(frozen=True)
class Learning:
    """What the datasets are made from: each record as the analytics read it (its sessions parsed),
    with its content; the catalog, the courses and the enrolments."""

    learners: Sequence[tuple[str, LearnerActivity]]  # (media content key, the learner's activity)
    entries: Sequence[Entry] = ()
    courses: Sequence[Course] = ()
    enrolments: Sequence[Enrolment] = ()


def holders(courses: Iterable[Course], enrolments: Iterable[Enrolment]) -> dict[str, dict[str, list[str]]]:
    """content -> learner -> the courses the learner is enrolled in that hold the content."""
    holding: dict[str, list[str]] = {}
    for course in courses:
        for key in course.media_content_keys:
            holding.setdefault(key, []).append(course.course_id)
    enrolled: dict[str, set[str]] = {}
    for enrolment in enrolments:
        enrolled.setdefault(enrolment.course_id, set()).add(enrolment.client_user_id)
    found: dict[str, dict[str, list[str]]] = {}
    for key, held in holding.items():
        for course_id in sorted(held):
            for learner in enrolled.get(course_id, ()):
                found.setdefault(key, {}).setdefault(learner, []).append(course_id)
    return found


def learner_rows(
    learners: Iterable[tuple[str, LearnerActivity]],
    holding: Mapping[str, Mapping[str, Sequence[str]]],
    learner_id: Callable[[str], str],
) -> dict[str, list[tuple[Any, ...]]]:
    """The partitioned datasets' rows (`learner_content`, `uservalue`, `session`) of `learners`, each
    with its content's key; `holding` as `holders` gives it."""
    found: dict[str, list[tuple[Any, ...]]] = {name: [] for name in PARTITIONED}
    for key, learner in learners:
        grid = choose_grid([learner], None, None)
        blocks = grid.blocks if grid else None
        watched = sorted(learner.watched.get(blocks, frozenset())) if blocks else []
        row = learner_row(learner, learner.client_user_id, 0, 1)
        found["learner_content"].append((
            key, blocks, learner_id(learner.client_user_id), watched, row["progress"], at(learner.completed_at),
            at(learner.created_at), at(learner.updated_at), len(learner.sessions), dict(learner.uservalues),
            list(holding.get(key, {}).get(learner.client_user_id, [])),
        ))  # fmt: skip
        found["uservalue"] += [(key, learner_id(learner.client_user_id), name, value)
                               for name, value in sorted(learner.uservalues.items())]  # fmt: skip
        for session in learner.sessions:
            seconds = [float(session.block_seconds.get(index, 0.0)) for index in range(session.block_count)]
            found["session"].append((
                key, session.block_count, session.duration, learner_id(learner.client_user_id), at(session.started_ms),
                session.device, session.player_kind, sorted(session.block_seconds), seconds, session.last_play_at,
                session.play_time, session.run_time, session.suspicious,
            ))  # fmt: skip
    return found


def catalog_rows(
    entries: Iterable[Entry],
    courses: Iterable[Course],
    enrolments: Iterable[Enrolment],
    learner_id: Callable[[str], str],
) -> dict[str, list[tuple[Any, ...]]]:
    """The catalog's datasets' rows: `content`, `enrollment`, `course`."""
    found: dict[str, list[tuple[Any, ...]]] = {"content": [], "enrollment": [], "course": []}
    for entry in entries:
        requested = entry.requested_channel
        channel = requested if requested in entry.channels else min(entry.channels, default=None)
        found["content"].append((
            entry.media_content_key, entry.upload_file_key, entry.title, entry.duration, channel,
            entry.public_status.value, at(entry.created_at),
        ))  # fmt: skip
    for enrolment in enrolments:
        found["enrollment"].append((
            enrolment.course_id, learner_id(enrolment.client_user_id), at(enrolment.starts_at),
            at(enrolment.ends_at), enrolment.source,
        ))  # fmt: skip
    for course in courses:
        found["course"].append((course.course_id, course.title, list(course.media_content_keys)))
    return found


def rows(learning: Learning, pseudonymise_key: bytes | None = None) -> dict[str, list[tuple[Any, ...]]]:
    """Every dataset's rows, in its schema's column order."""
    learner_id = pseudonymiser(pseudonymise_key)
    holding = holders(learning.courses, learning.enrolments)
    return {
        **learner_rows(learning.learners, holding, learner_id),
        **catalog_rows(learning.entries, learning.courses, learning.enrolments, learner_id),
    }


def columns(name: str) -> list[str]:
    return [column for column, _ in SCHEMAS[name]]


def as_dicts(name: str, table: Sequence[Sequence[Any]]) -> list[Mapping[str, Any]]:
    """A dataset's rows by column name (for tests and tools)."""
    return [dict(zip(columns(name), row, strict=True)) for row in table]
