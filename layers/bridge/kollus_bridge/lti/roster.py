"""Rosters from the platform's Names and Role Provisioning Service (NRPS 2.0), pure parts: what a
membership page says, who of it is a learner, and which enrolments a course's roster changes.

- A launch names its context's membership service in the `namesroleservice` claim; it is read with
  a client-credentials token for the `contextmembership.readonly` scope, page by page, following
  the `Link: <…>; rel="next"` header; the last page may give a `rel="differences"` link, which later
  answers only the members changed since.
- Every member is read (no `role` filter): an **active learner** (a `Learner` role, status `Active`
  or none) is enrolled, open-ended; active **staff** (instructors, teaching assistants…) are left as
  they are (a launch lets them play for the playback URL's life); a member who left, or is
  `Inactive` or `Deleted`, has their enrolments ended, not deleted, so the access log and analytics
  keep the history.
- A member's learner id is the one a launch of that member gives: `<platform id>:<user_id>`, or,
  where the registration trusts the platform's own ids, the custom `client_user_id` of the member's
  `message` (asked for with `rlid`, a resource link of the context).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kollus_bridge.access.entitlement import DROPPED, LAUNCH, ROSTER, Enrolment

from .platforms import Platform

CUSTOM_CLAIM = "https://purl.imsglobal.org/spec/lti/claim/custom"
NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
MEMBERSHIP_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
LEARNER_ROLES = frozenset({"http://purl.imsglobal.org/vocab/lis/v2/membership#Learner", "Learner"})
LEARNER_SUB_ROLE = "http://purl.imsglobal.org/vocab/lis/v2/membership/Learner#"
#: Members a page may hold before it is refused as no roster.
MAX_PAGE_MEMBERS = 10_000
#: A launch's enrolment younger than this when a full read of the roster began is kept even if the
#: roster did not list the member (the launch may have come after their page was read), in ms.
LAUNCH_GRACE_MS = 60_000
#: A sync asked for longer ago than this is asked for again (its invocation failed for good), in ms.
STALE_WANT_MS = 15 * 60 * 1000

#: An id a learner id may be made of: 1 to 255 characters, no control characters, not blank at the ends.
_PRINTABLE = re.compile(r"^(?=[^\s])[^\x00-\x1f\x7f]{1,255}(?<=[^\s])\Z")
_LINK = re.compile(r'<([^>]*)>\s*((?:;\s*[A-Za-z*-]+\s*=\s*(?:"[^"]*"|[^;,\s]*)\s*)*)')
_PARAM = re.compile(r';\s*([A-Za-z*-]+)\s*=\s*(?:"([^"]*)"|([^;,\s]*))')


class RosterError(Exception):
    """A roster that could not be read: `status` is the platform's answer (None: none, or no roster)."""

    def __init__(self, detail: str, status: int | None = None) -> None:
        super().__init__(detail)
        self.status = status


@dataclass(frozen=True)
class Member:
    client_user_id: str
    learner: bool
    active: bool

    @property
    def enrolled(self) -> bool:
        return self.active and self.learner


def memberships_url(claims: Mapping[str, Any]) -> str | None:
    """The context's membership service a launch names (None: the platform offers none here)."""
    service = claims.get(NRPS_CLAIM)
    url = service.get("context_memberships_url") if isinstance(service, dict) else None
    return url if isinstance(url, str) and url.startswith(("https://", "http://")) and len(url) <= 2048 else None


def links(header: str | None) -> dict[str, str]:
    """The targets of a `Link` header (RFC 8288) by relation type (`next`, `differences`…)."""
    found: dict[str, str] = {}
    for match in _LINK.finditer(header or ""):
        for name, quoted, bare in _PARAM.findall(match.group(2)):
            if name.lower() == "rel":
                for relation in (quoted or bare).split():
                    found.setdefault(relation.lower(), match.group(1).strip())
    return found


def is_learner(roles: Iterable[Any]) -> bool:
    return any(isinstance(role, str) and (role in LEARNER_ROLES or role.startswith(LEARNER_SUB_ROLE)) for role in roles)


def _mapped_id(member: Mapping[str, Any]) -> str | None:
    """The custom `client_user_id` of a member's launch message (a response to `rlid`)."""
    messages = member.get("message")
    for message in messages if isinstance(messages, list) else []:
        custom = message.get(CUSTOM_CLAIM) if isinstance(message, dict) else None
        given = custom.get("client_user_id") if isinstance(custom, dict) else None
        if isinstance(given, str) and _PRINTABLE.match(given):
            return given
    return None


def member_of(entry: Any, platform: Platform) -> Member | None:
    """A membership entry as a member (None: an entry naming nobody, skipped)."""
    if not isinstance(entry, dict):
        return None
    user_id, roles, status = entry.get("user_id"), entry.get("roles"), entry.get("status", "Active")
    if not isinstance(user_id, str) or not _PRINTABLE.match(user_id) or not isinstance(roles, list):
        return None
    mapped = _mapped_id(entry) if platform.trust_client_user_id else None
    learner_id = mapped or f"{platform.platform_id}:{user_id}"
    return Member(learner_id, is_learner(roles), status in {"Active", None})


def members_of(document: Any, platform: Platform) -> list[Member]:
    """The members of one page of a membership container."""
    entries = document.get("members") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise RosterError("the membership service answered no membership container (no members list)", 502)
    if len(entries) > MAX_PAGE_MEMBERS:
        raise RosterError(f"a membership page lists more than {MAX_PAGE_MEMBERS} members", 502)
    return [member for member in (member_of(entry, platform) for entry in entries) if member is not None]


@dataclass
class Reading:
    """What a full read of a roster found so far: learners to enrol, staff to leave as they are."""

    learners: set[str]
    staff: set[str]

    def add(self, members: Iterable[Member]) -> None:
        for member in members:
            if member.enrolled:
                self.learners.add(member.client_user_id)
                self.staff.discard(member.client_user_id)
            elif member.active and member.client_user_id not in self.learners:
                self.staff.add(member.client_user_id)


def _enrolled(course_id: str, learner: str, now: int) -> Enrolment:
    return Enrolment(course_id, learner, None, None, source=ROSTER, granted_at=now)


def _ended(current: Enrolment, now: int) -> Enrolment:
    starts = current.starts_at if current.starts_at is not None and current.starts_at < now else None
    return Enrolment(current.course_id, current.client_user_id, starts, now, source=DROPPED, granted_at=now)


def _in_force(enrolment: Enrolment, now: int) -> bool:
    """Active now or still to begin: an enrolment the roster may have to end."""
    return enrolment.ends_at is None or enrolment.ends_at > now


def _kept_by_roster(enrolment: Enrolment, now: int) -> bool:
    return enrolment.source == ROSTER and enrolment.active(now) and enrolment.ends_at is None


def full_changes(
    course_id: str, current: Iterable[Enrolment], reading: Reading, now: int, started_at: int
) -> list[Enrolment]:
    """The enrolments a complete read of the roster changes: its learners enrolled (open-ended), everyone
    else who is no active member ended; staff, and launches since the read began, left as they are."""
    by_learner = {enrolment.client_user_id: enrolment for enrolment in current}
    changed = [
        _enrolled(course_id, learner, now)
        for learner in sorted(reading.learners)
        if learner not in by_learner or not _kept_by_roster(by_learner[learner], now)
    ]
    for learner, enrolment in sorted(by_learner.items()):
        if learner in reading.learners or learner in reading.staff or not _in_force(enrolment, now):
            continue
        if enrolment.source == LAUNCH and (enrolment.granted_at or 0) >= started_at - LAUNCH_GRACE_MS:
            continue
        changed.append(_ended(enrolment, now))
    return changed


def difference_changes(
    course_id: str, current: Mapping[str, Enrolment], members: Iterable[Member], now: int
) -> list[Enrolment]:
    """The enrolments a differences page changes: members now active learners enrolled, members gone
    `Inactive` or `Deleted` ended; the rest (staff, the unchanged) left as they are."""
    changed: list[Enrolment] = []
    for member in members:
        enrolment = current.get(member.client_user_id)
        if member.enrolled:
            if enrolment is None or not _kept_by_roster(enrolment, now):
                changed.append(_enrolled(course_id, member.client_user_id, now))
        elif not member.active and enrolment is not None and _in_force(enrolment, now):
            changed.append(_ended(enrolment, now))
    return changed


def launch_enrolment(
    current: Iterable[Enrolment], course_id: str, learner: str, now: int, until: int
) -> Enrolment | None:
    """What a launch enrols: the learner until the playback URL expires, unless an enrolment in the
    course already lets them play at least that long (None: nothing to write)."""
    for enrolment in current:
        lasting = enrolment.ends_at is None or enrolment.ends_at >= until
        if enrolment.course_id == course_id and enrolment.active(now) and lasting:
            return None
    return Enrolment(course_id, learner, None, until, source=LAUNCH, granted_at=now)


@dataclass(frozen=True)
class Run:
    """A read of a roster that an invocation left to the next: where to go on, and how."""

    run_id: str
    started_at: int
    next_url: str
    differences: bool = False
    parts: int = 0


@dataclass(frozen=True)
class Roster:
    """An LTI course's roster: where it is read, and how the last reads went."""

    course_id: str
    platform_id: str
    context_id: str
    memberships_url: str | None = None
    resource_link_id: str | None = None
    differences_url: str | None = None
    synced_at: int | None = None
    full_at: int | None = None
    tried_at: int | None = None
    error: str | None = None
    learners: int | None = None
    wanted: int | None = None
    run: Run | None = None

    def due(self, now: int, every_ms: int) -> bool:
        """Whether the schedule should ask for a sync now: offered, not asked for lately, and the last
        attempt `every_ms` ago or more."""
        if self.memberships_url is None:
            return False
        if self.wanted is not None and now - self.wanted < STALE_WANT_MS:
            return False
        return self.tried_at is None or now - self.tried_at >= every_ms
