"""Rosters, pure: the Link header, who of a membership page is a learner, and which enrolments a full
read or a differences page changes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from kollus_bridge.access.entitlement import Enrolment
from kollus_bridge.lti.platforms import Platform
from kollus_bridge.lti.roster import (
    LAUNCH_GRACE_MS,
    STALE_WANT_MS,
    Member,
    Reading,
    Roster,
    RosterError,
    difference_changes,
    full_changes,
    launch_enrolment,
    links,
    member_of,
    members_of,
    memberships_url,
)
from kollus_bridge.lti.roster_sync import first_url

LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
PLATFORM = Platform("moodle", "https://lms", "c", "https://lms/auth", "https://lms/token", "https://lms/jwks", ("1",))
TRUSTING = Platform(**{**PLATFORM.__dict__, "trust_client_user_id": True})
NOW = 1_800_000_000_000


def test_links_by_relation() -> None:
    header = '<https://lms/m?page=2>; rel="next", <https://lms/m?since=7>; rel=differences'
    assert links(header) == {"next": "https://lms/m?page=2", "differences": "https://lms/m?since=7"}
    assert links('<https://a/1>; title="x, y"; rel="next prev"') == {"next": "https://a/1", "prev": "https://a/1"}
    assert links(None) == {} and links("garbage; rel=next") == {} and links("<https://a>") == {}


def test_learners_are_those_with_a_learner_role_and_active() -> None:
    def member(**entry: object) -> Member | None:
        return member_of({"user_id": "7", "roles": [LEARNER], **entry}, PLATFORM)

    assert member() == Member("moodle:7", learner=True, active=True)
    assert member(roles=["Learner"]).enrolled  # type: ignore[union-attr]
    assert member(roles=["http://purl.imsglobal.org/vocab/lis/v2/membership/Learner#Learner"]).enrolled  # type: ignore[union-attr]
    assert not member(roles=[INSTRUCTOR]).enrolled and member(roles=[INSTRUCTOR]).active  # type: ignore[union-attr]
    assert not member(status="Inactive").enrolled and not member(status="Deleted").active  # type: ignore[union-attr]
    for bad in ({"user_id": ""}, {"user_id": 7}, {"user_id": "a\nb"}, {"user_id": " x"}, {"user_id": "x" * 256},
                {"roles": "Learner"}):  # fmt: skip
        assert member(**bad) is None, bad
    assert member_of("not a member", PLATFORM) is None


def test_a_trusting_registration_takes_the_members_mapped_id() -> None:
    message = {"https://purl.imsglobal.org/spec/lti/claim/custom": {"client_user_id": "u-1"}}
    entry = {"user_id": "7", "roles": [LEARNER], "message": [message]}
    assert member_of(entry, TRUSTING) == Member("u-1", True, True)
    assert member_of(entry, PLATFORM) == Member("moodle:7", True, True)  # untrusted: the platform's own id
    blank = {**entry, "message": [{"https://purl.imsglobal.org/spec/lti/claim/custom": {"client_user_id": "a\x00"}}]}
    assert member_of(blank, TRUSTING) == Member("moodle:7", True, True)


def test_a_page_that_is_no_membership_container_is_refused() -> None:
    documents: list[object] = [{}, [], {"members": "x"}, None]
    for document in documents:
        with pytest.raises(RosterError, match="no membership container"):
            members_of(document, PLATFORM)
    assert members_of({"members": [{"user_id": "1", "roles": [LEARNER]}, 5]}, PLATFORM) == [
        Member("moodle:1", True, True)
    ]


def test_the_membership_url_comes_from_the_launch_claim() -> None:
    claim = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
    assert memberships_url({claim: {"context_memberships_url": "https://lms/m/1"}}) == "https://lms/m/1"
    script = {"context_memberships_url": "javascript:1"}
    refused: list[dict[str, object]] = [{}, {claim: "x"}, {claim: script}, {claim: {}}]
    for bad in refused:
        assert memberships_url(bad) is None


def test_a_full_read_enrols_learners_ends_leavers_and_leaves_staff_and_fresh_launches() -> None:
    current = [
        Enrolment("c", "a", source="roster"),  # stays: already enrolled by the roster
        Enrolment("c", "b", None, NOW + 10, source="launch", granted_at=NOW - 10**7),  # on the roster: made open
        Enrolment("c", "gone", source="roster"),  # left the course: ended
        Enrolment("c", "old-launch", None, NOW + 10, source="launch", granted_at=NOW - 10**7),  # ended
        Enrolment("c", "new-launch", None, NOW + 10, source="launch", granted_at=NOW),  # after the read began
        Enrolment("c", "teacher", None, NOW + 10, source="launch", granted_at=NOW - 10**7),  # staff: left be
        Enrolment("c", "over", None, NOW - 1, source="dropped"),  # ended already
        Enrolment("c", "later", NOW + 50, None, source=None),  # pushed, to begin later: ended, never begun
    ]
    reading = Reading({"a", "b", "c-new"}, {"teacher"})
    changes = {e.client_user_id: e for e in full_changes("c", current, reading, NOW, started_at=NOW - 5)}
    assert set(changes) == {"b", "c-new", "gone", "old-launch", "later"}
    assert changes["b"] == changes["b"].__class__("c", "b", None, None, source="roster", granted_at=NOW)
    assert (changes["gone"].ends_at, changes["gone"].source, changes["later"].starts_at) == (NOW, "dropped", None)
    assert not any(change.active(NOW) for name, change in changes.items() if name in {"gone", "old-launch"})
    assert LAUNCH_GRACE_MS > 0


@given(st.sets(st.sampled_from("abcdefgh")), st.sets(st.sampled_from("abcdefgh")), st.sets(st.sampled_from("abcdefgh")))
def test_a_full_read_applied_once_changes_nothing_the_second_time(
    enrolled: set[str], learners: set[str], staff: set[str]
) -> None:
    current = {name: Enrolment("c", name, source="roster") for name in enrolled}
    reading = Reading(set(learners), set(staff) - learners)
    for change in full_changes("c", current.values(), reading, NOW, NOW):
        current[change.client_user_id] = change
    assert full_changes("c", current.values(), reading, NOW + 1, NOW + 1) == []
    assert {name for name, e in current.items() if e.active(NOW + 1)} == learners | (enrolled & reading.staff)


def test_a_differences_page_changes_only_whom_it_names() -> None:
    current = {"a": Enrolment("c", "a", source="roster"), "b": Enrolment("c", "b", source="roster")}
    members = [Member("a", True, False), Member("n", True, True), Member("t", False, True), Member("b", True, True)]
    changes = difference_changes("c", current, members, NOW)
    assert [(e.client_user_id, e.source) for e in changes] == [("a", "dropped"), ("n", "roster")]


def test_a_launch_enrols_until_its_url_expires_unless_already_enrolled_longer() -> None:
    made = launch_enrolment([], "c", "u", NOW, NOW + 100)
    assert made == Enrolment("c", "u", None, NOW + 100, source="launch", granted_at=NOW)
    assert launch_enrolment([Enrolment("c", "u", source="roster")], "c", "u", NOW, NOW + 100) is None
    assert launch_enrolment([Enrolment("c", "u", None, NOW + 200)], "c", "u", NOW, NOW + 100) is None
    assert launch_enrolment([Enrolment("c", "u", None, NOW + 50)], "c", "u", NOW, NOW + 100) == made
    assert launch_enrolment([Enrolment("c", "u", None, NOW - 1, source="dropped")], "c", "u", NOW, NOW + 100) == made
    assert launch_enrolment([Enrolment("other", "u")], "c", "u", NOW, NOW + 100) == made


def test_when_a_roster_is_due() -> None:
    roster = Roster("c", "moodle", "ctx", memberships_url="https://lms/m")
    assert roster.due(NOW, 60_000)  # never tried
    assert not Roster("c", "moodle", "ctx").due(NOW, 60_000)  # no membership service to read
    assert not Roster(**{**roster.__dict__, "tried_at": NOW - 59_999}).due(NOW, 60_000)
    assert Roster(**{**roster.__dict__, "tried_at": NOW - 60_000}).due(NOW, 60_000)
    assert not Roster(**{**roster.__dict__, "wanted": NOW - 1}).due(NOW, 60_000)  # asked for already
    assert Roster(**{**roster.__dict__, "wanted": NOW - STALE_WANT_MS}).due(NOW, 60_000)  # that ask was lost


def test_the_first_page_asks_a_limit_and_a_resource_link_only_where_trusted() -> None:
    roster = Roster("c", "moodle", "ctx", memberships_url="https://lms/m?ctx=1&limit=5", resource_link_id="r 1")
    assert first_url(roster, PLATFORM) == "https://lms/m?ctx=1&limit=1000"
    assert first_url(roster, TRUSTING) == "https://lms/m?ctx=1&limit=1000&rlid=r+1"
