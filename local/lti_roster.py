"""The local platform's course rosters, behind lti1p3platform's Names and Role Provisioning Service
(NRPS 2.0): each context's members (an instructor and some learners to start with), served
`PAGE_SIZE` at a time with a `Link: <…>; rel="next"` header (lti1p3platform writes the next page's URL
into the body; the HTTP around it moves it to the header, where NRPS puts it), and on the last page a
`rel="differences"` link that later answers only the members changed since (a member dropped since
then with status `Deleted`).

A member may carry the `client_user_id` the link's administrator mapped in; with `rlid` (a resource
link of the context), each member comes with the custom parameters a launch of theirs would carry.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.membership import Context
from lti1p3platform.request import Request
from lti1p3platform.service_connector import NamesRoleProvisioningService, TPage

LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
#: Members a page holds at most (small, so that paging is exercised).
PAGE_SIZE = 3
#: Who is in a context before anyone changes it.
FIRST_MEMBERS = {"teacher-1": INSTRUCTOR, "student-1": LEARNER, "student-2": LEARNER, "student-3": LEARNER}


@dataclass
class Roster:
    """One context's members, and every change with its sequence number (for `since`)."""

    context_id: str
    title: str
    members: dict[str, dict[str, Any]] = field(default_factory=dict)
    changed: dict[str, int] = field(default_factory=dict)
    #: Users dropped from the course (a launch of theirs is refused, as an LMS would).
    dropped: set[str] = field(default_factory=set)
    sequence: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        for user, role in FIRST_MEMBERS.items():
            self.add(user, role)

    def add(self, user: str, role: str = LEARNER, client_user_id: str = "") -> None:
        with self.lock:
            member = {"user_id": user, "roles": [role], "status": "Active", "name": user}
            if client_user_id:
                member["client_user_id"] = client_user_id
            self.members[user] = member
            self.dropped.discard(user)
            self.sequence += 1
            self.changed[user] = self.sequence

    def drop(self, user: str) -> bool:
        with self.lock:
            if self.members.pop(user, None) is None:
                return False
            self.dropped.add(user)
            self.sequence += 1
            self.changed[user] = self.sequence
            return True

    def map(self, user: str, client_user_id: str) -> None:
        """Map a member to the learner id their launches carry (a custom parameter the LMS fills in)."""
        with self.lock:
            if user in self.members and self.members[user].get("client_user_id") != client_user_id:
                self.members[user]["client_user_id"] = client_user_id
                self.sequence += 1
                self.changed[user] = self.sequence

    def holds(self, user: str) -> bool:
        with self.lock:
            return user in self.members

    def roles(self, user: str) -> list[str]:
        with self.lock:
            return list((self.members.get(user) or {}).get("roles") or [LEARNER])

    def listing(self, since: int | None, with_messages: bool) -> list[dict[str, Any]]:
        """Every member in order (with `since`: only those changed after it, the dropped as Deleted)."""
        with self.lock:
            users = sorted(self.changed if since is not None else self.members)
            if since is not None:
                users = [user for user in users if self.changed[user] > since]
            found = []
            for user in users:
                member = dict(self.members.get(user) or {"user_id": user, "roles": [LEARNER], "status": "Deleted"})
                mapped = member.pop("client_user_id", "")
                if with_messages:
                    custom = {"client_user_id": mapped} if mapped else {}
                    member["message"] = [{
                        "https://purl.imsglobal.org/spec/lti/claim/message_type": "LtiResourceLinkRequest",
                        "https://purl.imsglobal.org/spec/lti/claim/custom": custom,
                    }]  # fmt: skip
                found.append(member)
            return found


class Memberships(NamesRoleProvisioningService):
    """One membership request: lti1p3platform checks its access token's scope and builds the container."""

    def __init__(self, request: Request, config: LTI1P3PlatformConfAbstract, url: str, roster: Roster) -> None:
        super().__init__(request, config, url)
        self.roster = roster

    def get_context_by_id(self) -> Context:
        return Context(id=self.roster.context_id, label=self.roster.context_id, title=self.roster.title)

    def is_resource_link_valid(self, context_id: str, resource_link_id: str) -> bool:
        return context_id == self.roster.context_id and resource_link_id.startswith("link-")

    def get_member_data_page(
        self, page: int = 1, limit: int | None = None, since: str | None = None, **others: Any
    ) -> TPage:
        size = min(int(limit or PAGE_SIZE), PAGE_SIZE)
        members = self.roster.listing(int(since) if since else None, bool(others.get("rlid")))
        first = (int(page) - 1) * size
        return {"content": members[first : first + size], "has_next": first + size < len(members)}
