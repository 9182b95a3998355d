"""Keeping a course's enrolments equal to its LTI context's roster: one sync reads the membership
service page by page and writes only the enrolments that change.

- A **full** read collects every page, then enrols the learners and ends everyone else (`roster`'s
  rules). A roster too long for one invocation is read on: the learners found so far and the next
  page's link are kept, and the course is marked wanted again, so the next invocation resumes from
  that page instead of holding a Lambda past its timeout.
- A **differences** read (the `rel="differences"` link of the last full read, when the platform gives
  one, and the last full read is less than `FULL_EVERY_MS` old) applies each page's changes at once.
- A failure (no membership service, our token refused, a 4xx or 5xx, no answer in time, an answer
  that is no membership container) changes no enrolment: it is recorded on the roster (`error`,
  `tried_at`) and reported, and the next scheduled run tries again.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from kollus_bridge.access.entitlement import Enrolment
from kollus_bridge.kollus.values import holds_lone_surrogate
from kollus_bridge.outbound import NoAnswer, request

from .grades import AccessTokens, TokenRefused
from .platforms import Platform
from .roster import (
    MEMBERSHIP_TYPE,
    NRPS_SCOPE,
    STALE_WANT_MS,
    Member,
    Reading,
    Roster,
    RosterError,
    Run,
    difference_changes,
    full_changes,
    members_of,
)
from .roster import links as link_targets

#: A roster is read in full at least this often (between, its differences link serves), in ms.
FULL_EVERY_MS = 24 * 3600 * 1000
#: The largest membership page read, in bytes (a page of 1,000 members with names and emails is ~400 kB).
MAX_PAGE_BYTES = 8 * 1024 * 1024
#: Members a page is asked for (a platform may give fewer).
PAGE_LIMIT = 1000
NOT_OFFERED = "the platform offers no membership service (NRPS) for this context: enable Names and Role Provisioning"


class RosterStore(Protocol):
    def get_roster(self, course_id: str) -> Roster | None: ...

    def all_rosters(self) -> list[Roster]: ...

    def want_roster(
        self, course_id: str, now: int, unless_asked_since: int | None = None, full: bool = False
    ) -> bool: ...

    def get_platform(self, platform_id: str) -> Platform | None: ...

    def course_enrolments(self, course_id: str) -> list[Enrolment]: ...

    def put_enrolments(self, enrolments: list[Enrolment]) -> None: ...

    def save_run(self, course_id: str, run: Run, reading: Reading | None, now: int) -> None: ...

    def run_reading(self, course_id: str, run: Run) -> Reading: ...

    def finish_roster(
        self, course_id: str, now: int, full: bool, differences_url: str | None, learners: int | None
    ) -> None: ...

    def fail_roster(self, course_id: str, now: int, error: str) -> None: ...


@dataclass(frozen=True)
class Outcome:
    course_id: str
    state: Literal["synced", "paused", "failed", "not_offered"]
    enrolled: int = 0
    ended: int = 0
    pages: int = 0
    error: str | None = None


@dataclass(frozen=True)
class Page:
    members: list[Member]
    links: Mapping[str, str]


def first_url(roster: Roster, platform: Platform) -> str:
    """The roster's first page: every member, `limit` asked for, and, where the registration trusts the
    platform's own learner ids, a resource link (`rlid`) so that members carry their custom parameters."""
    parts = urlsplit(str(roster.memberships_url))
    query = [(name, value) for name, value in parse_qsl(parts.query) if name not in {"limit", "rlid"}]
    query.append(("limit", str(PAGE_LIMIT)))
    if platform.trust_client_user_id and roster.resource_link_id:
        query.append(("rlid", roster.resource_link_id))
    return urlunsplit(parts._replace(query=urlencode(query)))


def read_page(url: str, platform: Platform, tokens: AccessTokens, timeout: float) -> Page:
    """One page of the membership service, or `RosterError` saying why not."""
    if not platform.owns(url):
        raise RosterError(f"the membership service URL is not on {platform.platform_id}'s hosts")
    try:
        token = tokens.token(platform, (NRPS_SCOPE,))
    except TokenRefused as refused:
        raise RosterError(f"{refused} (grant the tool the NRPS scope {NRPS_SCOPE})", refused.status) from None
    headers = {"authorization": "Bearer " + token, "accept": MEMBERSHIP_TYPE}
    try:
        answer = request("GET", url, headers=headers, timeout=timeout, max_answer_bytes=MAX_PAGE_BYTES)
    except NoAnswer as error:
        raise RosterError(f"the membership service did not answer: {error}") from None
    if answer.status == 401:
        tokens.forget(platform)
    if answer.status != 200:
        excerpt = answer.body[:200].decode("utf-8", "replace")
        raise RosterError(f"the membership service answered {answer.status}: {excerpt}", answer.status)
    if len(answer.body) >= MAX_PAGE_BYTES:
        raise RosterError(f"a membership page is larger than {MAX_PAGE_BYTES // 2**20} MB", 502)
    try:
        document: Any = json.loads(answer.body)
    except ValueError:
        raise RosterError("the membership service answered no JSON", 502) from None
    if holds_lone_surrogate(document):
        raise RosterError("the membership page holds a lone UTF-16 surrogate escape", 502)
    return Page(members_of(document, platform), link_targets(answer.headers.get("link")))


@dataclass
class RosterSync:
    """Syncs rosters within an invocation's time (`remaining_ms`), each request within `timeout` s."""

    store: RosterStore
    tokens: AccessTokens
    clock: Callable[[], int]
    remaining_ms: Callable[[], int]
    timeout: float

    @property
    def margin_ms(self) -> int:
        """What one more page may take: a token and a page, each to its deadline, and the writes."""
        return int(2 * self.timeout * 1000) + 5_000

    def wanted(self, course_ids: Iterable[str]) -> list[Outcome]:
        """Sync the rosters a stream event asks for; one there is no time left for is asked for again."""
        outcomes = []
        for course_id in course_ids:
            roster = self.store.get_roster(course_id)
            if roster is None or roster.wanted is None:  # deleted, or synced since it was asked for
                continue
            if self.remaining_ms() < 2 * self.margin_ms:
                self.store.want_roster(course_id, self.clock())
                outcomes.append(Outcome(course_id, "paused"))
                continue
            outcomes.append(self.sync(roster))
        return outcomes

    def ask_due(self, every_ms: int) -> list[str]:
        """The schedule's part: ask for a sync of each roster that is due (the stream hands them over)."""
        now = self.clock()
        due = [roster.course_id for roster in self.store.all_rosters() if roster.due(now, every_ms)]
        return [course for course in due if self.store.want_roster(course, now, now - STALE_WANT_MS)]

    def sync(self, roster: Roster) -> Outcome:
        now = self.clock()
        platform = self.store.get_platform(roster.platform_id)
        if roster.memberships_url is None or platform is None:
            error = NOT_OFFERED if platform is not None else f"platform {roster.platform_id!r} is no longer registered"
            self.store.fail_roster(roster.course_id, now, error)
            return Outcome(roster.course_id, "not_offered" if platform else "failed", error=error)
        run = roster.run or self._new_run(roster, platform, now)
        try:
            return self._read(roster, platform, run)
        except RosterError as error:
            self.store.fail_roster(roster.course_id, self.clock(), str(error))
            return Outcome(roster.course_id, "failed", error=str(error))

    def _new_run(self, roster: Roster, platform: Platform, now: int) -> Run:
        """A differences read where the last full read left a link and is recent, else a full one (an
        on-demand sync asks for a full read by dropping the link)."""
        recent = roster.full_at is not None and now - roster.full_at < FULL_EVERY_MS
        if recent and roster.differences_url is not None:
            return Run(uuid.uuid4().hex, now, roster.differences_url, differences=True)
        return Run(uuid.uuid4().hex, now, first_url(roster, platform))

    def _read(self, roster: Roster, platform: Platform, run: Run) -> Outcome:
        course = roster.course_id
        reading = None
        if not run.differences:
            reading = self.store.run_reading(course, run) if run.parts else Reading(set(), set())
        fresh = Reading(set(), set())  # what this invocation read: the part it keeps when it pauses
        current = {e.client_user_id: e for e in self.store.course_enrolments(course)} if run.differences else {}
        url: str | None = run.next_url
        pages = enrolled = ended = 0
        last: Mapping[str, str] = {}
        while url is not None:
            if pages and self.remaining_ms() < self.margin_ms:
                kept = None if reading is None else fresh
                self.store.save_run(course, replace(run, next_url=url), kept, self.clock())
                return Outcome(course, "paused", enrolled, ended, pages)
            page = read_page(url, platform, self.tokens, self.timeout)
            pages += 1
            if reading is not None:
                reading.add(page.members)
                fresh.add(page.members)
            else:
                changed = difference_changes(course, current, page.members, self.clock())
                self.store.put_enrolments(changed)
                current.update({e.client_user_id: e for e in changed})
                enrolled, ended = _counted(changed, enrolled, ended)
            last, url = page.links, page.links.get("next")
        if reading is not None:
            changed = full_changes(course, self.store.course_enrolments(course), reading, self.clock(), run.started_at)
            self.store.put_enrolments(changed)
            enrolled, ended = _counted(changed, 0, 0)
        differences = last.get("differences")
        owned = differences if differences is not None and platform.owns(differences) else None
        learners = len(reading.learners) if reading is not None else None
        self.store.finish_roster(course, self.clock(), reading is not None, owned, learners)
        return Outcome(course, "synced", enrolled, ended, pages)


def _counted(changed: list[Enrolment], enrolled: int, ended: int) -> tuple[int, int]:
    ends = sum(1 for enrolment in changed if enrolment.ends_at is not None)
    return enrolled + len(changed) - ends, ended + ends
