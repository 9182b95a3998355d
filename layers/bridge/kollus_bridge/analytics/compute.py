"""The analytics use cases: gather learners from storage, serve a content's cached insights (asking
for a computation, `shards`, when they are missing or old), and page through learner tables.

A content's insights are computed by `AnalyticsFunction` (fed by the table's stream when a request
marks them wanted) and cached per content and scope with `as_of`; a request reads the cache, so it
never waits on a large content: a missing result answers 202 and a stale one is served while a new
one is computed. Reads are never a scan: the content's records come from `content-index` a page at a
time with one batch read each, and each learner's sessions from one query, run in parallel.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

from kollus_bridge.access.entitlement import DROPPED, Enrolment
from kollus_bridge.errors import BridgeError, InvalidRequest, TooManyRequests
from kollus_bridge.kollus.callback import RawCallback, parse_callback
from kollus_bridge.kollus.values import ascii_digits
from kollus_bridge.progress.ports import Record
from kollus_bridge.progress.rule import session_key
from kollus_bridge.settings import Settings
from kollus_bridge.times import iso_time

from .activity import LearnerActivity, session_activity
from .learners import Status, learner_content, learner_row, strip
from .metrics import Grid
from .ports import AnalyticsStore, Cached

#: Records read per page of `content-index`, and learners whose sessions are read at once.
PAGE = 500
READERS = 16


@dataclass(frozen=True)
class Scope:
    """Which learners count: a course's enrolled learners, those whose latest uservalues carry a
    value, or everyone; and on which grid (None: the one most learners have)."""

    course: str | None = None
    uservalue: tuple[str, str] | None = None
    grid: int | None = None

    @property
    def key(self) -> str:
        parts = [("course", self.course), ("uservalue", "=".join(self.uservalue) if self.uservalue else None)]
        parts.append(("grid", str(self.grid) if self.grid else None))
        return urlencode([(name, value) for name, value in parts if value])

    @classmethod
    def from_key(cls, key: str) -> Scope:
        values = dict(parse_qsl(key))
        name, _, value = values.get("uservalue", "").partition("=")
        grid = values.get("grid")
        return cls(values.get("course"), (name, value) if name else None, int(grid) if grid else None)

    @classmethod
    def parse(cls, course: str | None, uservalue: str | None, grid: int | None) -> Scope:
        """From the query: `uservalue` is `uservalueN:value`."""
        pair = None
        if uservalue is not None:
            name, colon, value = uservalue.partition(":")
            if not colon or not name.startswith("uservalue") or not ascii_digits(name[9:]):
                raise InvalidRequest("uservalue must be uservalueN:value, e.g. uservalue0:course-77", field="uservalue")
            pair = (name, value)
        return cls(course or None, pair, grid)

    def as_json(self) -> dict[str, Any]:
        uservalue = f"{self.uservalue[0]}:{self.uservalue[1]}" if self.uservalue else None
        return {"course": self.course, "uservalue": uservalue, "grid": self.grid}


def learner_activity(record: Record, snapshots: Sequence[RawCallback], settings: Settings) -> LearnerActivity:
    """A learner's record and their sessions' newest callbacks (a snapshot this version cannot read
    is left out; the record's watched blocks still count)."""
    sessions = []
    for raw in snapshots:
        try:
            callback = parse_callback(raw, settings)
        except BridgeError:
            continue
        summary = record.state.sessions.get(session_key(callback.start_at, callback.player_id))
        sessions.append(session_activity(callback, suspicious=bool(summary and summary.suspicious)))
    state = record.state
    return LearnerActivity(
        record.client_user_id, state.watched, tuple(sessions), state.completed_at, state.created_at,
        state.updated_at, state.uservalues,
    )  # fmt: skip


def activities(
    records: Sequence[Record], media_content_key: str | None, store: AnalyticsStore, settings: Settings
) -> list[LearnerActivity]:
    """Each record with its sessions (one query per record, `READERS` at a time); `media_content_key`
    None reads each record's own content (a learner's records)."""

    def read(record: Record) -> LearnerActivity:
        key = media_content_key or record.media_content_key
        return learner_activity(record, store.session_snapshots(record.client_user_id, key), settings)

    if len(records) <= 1:
        return [read(record) for record in records]
    with ThreadPoolExecutor(max_workers=min(READERS, len(records))) as pool:
        return list(pool.map(read, records))


def all_records(store: AnalyticsStore, media_content_key: str) -> Iterator[Sequence[Record]]:
    """A content's records, a page of `PAGE` at a time (content-index, then one batch read)."""
    token: str | None = None
    while True:
        page, token = store.records_of_content(media_content_key, PAGE, token)
        yield page
        if token is None:
            return


def members(enrolments: Iterable[Enrolment]) -> set[str]:
    """The learners a course counts: every enrolment but those the roster ended (the member left the
    course: their records still count in the content's unscoped figures)."""
    return {enrolment.client_user_id for enrolment in enrolments if enrolment.source != DROPPED}


def enrolled(store: AnalyticsStore, course_id: str) -> set[str]:
    learners: set[str] = set()
    token: str | None = None
    while True:
        page, token = store.enrolments_page(course_id=course_id, client_user_id=None, limit=PAGE, next_token=token)
        learners |= members(page)
        if token is None:
            return learners


def cached_insights(
    store: AnalyticsStore, settings: Settings, media_content_key: str, scope: Scope, now: int
) -> Cached | None:
    """The cached insights, a new computation asked for when they are missing or older than
    `ANALYTICS_MAX_AGE_SECONDS`; None while the first computation runs."""
    max_age = settings.analytics_max_age_seconds * 1000
    cached = store.get_insights(media_content_key, scope.key)
    fresh = cached is not None and not is_stale(cached, settings, now)
    if (
        cached is None
        and scope != Scope()
        and not store.admit_scope(media_content_key, scope.key, now // 86_400_000, settings.analytics_max_scopes)
    ):
        limit = settings.analytics_max_scopes
        refused = (
            f"{media_content_key!r} had {limit} filtered views computed today (ANALYTICS_MAX_SCOPES); ask tomorrow"
        )
        raise TooManyRequests(refused, field="uservalue" if scope.uservalue else "course" if scope.course else "grid")
    if not fresh:
        store.want_insights(media_content_key, scope.key, now, again_after_ms=max_age)
    return cached


def is_stale(cached: Cached, settings: Settings, now: int) -> bool:
    return now - cached.as_of >= settings.analytics_max_age_seconds * 1000


def requested(
    store: AnalyticsStore, settings: Settings, media_content_key: str, scope: Scope, now: int
) -> tuple[int, dict[str, Any]]:
    """The cached insights (200, with `stale` when older than `ANALYTICS_MAX_AGE_SECONDS`, a new
    computation then asked for), or 202 while the first computation runs."""
    cached = cached_insights(store, settings, media_content_key, scope, now)
    if cached is None:
        return 202, {"status": "computing", "media_content_key": media_content_key, "scope": scope.as_json()}
    return 200, {**cached.body, "stale": is_stale(cached, settings, now)}


def learner_table(
    store: AnalyticsStore,
    settings: Settings,
    media_content_key: str,
    *,
    course: str | None,
    status: Status | None,
    limit: int,
    next_token: str | None,
    now: int,
    strips: tuple[Grid, float] | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of a content's learners (a course's enrolled learners, `not_started` included, when
    `course` is given), filtered by status within the page; with `strips` (a grid and the block-watch
    ratio), each row carries the learner's tier strip on that grid."""
    stalled = settings.stalled_after_days
    if course is not None:
        page, token = store.enrolments_page(course_id=course, client_user_id=None, limit=limit, next_token=next_token)
        names = sorted(members(page))
        records: Sequence[Record] = [
            record for name in names if (record := store.get_stored(name, media_content_key)) is not None
        ]
    else:
        records, token = store.records_of_content(media_content_key, limit, next_token)
        names = [record.client_user_id for record in records]
    found = {learner.client_user_id: learner for learner in activities(records, media_content_key, store, settings)}
    rows = [learner_row(found.get(name), name, now, stalled) for name in names]
    if strips is not None:
        for row in rows:
            if (learner := found.get(row["client_user_id"])) is not None:
                row["strip"] = strip(learner, *strips)
    if status is not None:
        rows = [row for row in rows if row["status"] == status.value]
    for row in rows:
        row["last_active_at"] = iso_time(row.get("last_active_at"))
    return rows, token


def learner_view(
    store: AnalyticsStore, settings: Settings, client_user_id: str, media_content_key: str, *, ratio: float, now: int
) -> dict[str, Any] | None:
    """One learner's view of one content, or None when they have no record of it."""
    record = store.get_stored(client_user_id, media_content_key)
    if record is None:
        return None
    learner = learner_activity(record, store.session_snapshots(client_user_id, media_content_key), settings)
    card = store.content_cards([media_content_key]).get(media_content_key)
    view = learner_content(
        learner, ratio=ratio, now=now, stalled_after_days=settings.stalled_after_days,
        duration=card.duration if card else None,
    )  # fmt: skip
    view["last_active_at"] = iso_time(view.get("last_active_at"))
    view["completed_at"] = iso_time(learner.completed_at)
    return {"media_content_key": media_content_key, "title": card.title if card else None, **view}


def learner_overview(
    store: AnalyticsStore, settings: Settings, client_user_id: str, *, limit: int, next_token: str | None, now: int
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of a learner's contents, a table row each."""
    records, token = store.records_of_learner(client_user_id, limit, next_token)
    cards = store.content_cards([record.media_content_key for record in records])
    rows = []
    for record, learner in zip(records, activities(records, None, store, settings), strict=True):
        row = learner_row(learner, client_user_id, now, settings.stalled_after_days)
        card = cards.get(record.media_content_key)
        row.pop("client_user_id")
        row["last_active_at"] = iso_time(row.get("last_active_at"))
        rows.append({"media_content_key": record.media_content_key, "title": card.title if card else None, **row})
    return rows, token
