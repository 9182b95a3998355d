"""Rosters from the LMS (LTI Names and Role Provisioning) on moto, against a real platform implementation
(lti1p3platform, run by `local.lti_platform`): the first launch of a context makes its course and
enrols its learners; members dropped on the platform are refused at the next play callback; rosters
page, resume across invocations and read only their differences; failures change no enrolment."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from kollus_bridge.lti.roster_sync import RosterSync
from kollus_bridge.runtime import lti as runtime

from local.http_api import LambdaContext
from local.lti_roster import PAGE_SIZE
from tests.handler.test_access import Bridge, course
from tests.handler.test_lti import Tool, tool  # noqa: F401 (the fixture)
from tests.helpers import load_event

COURSE = "lti:moodle:course-1"
ROUTE = "/v1/courses/{course_id}"


@pytest.fixture
def bridge(tool: Tool) -> Bridge:  # noqa: F811 (the fixture)
    return Bridge(tool.functions, tool.client, "")


def launched(tool: Tool, user: str, content: str = "lecture-1", as_: str = "") -> None:  # noqa: F811
    assert tool.launch(tool.launch_form(content, user, as_=as_))["statusCode"] == 303


def roster_item(tool: Tool) -> dict[str, Any]:  # noqa: F811
    table = tool.functions["RosterFunction"].settings.table_name
    item: dict[str, Any] = tool.client.get_item(
        TableName=table, Key={"pk": {"S": "ROSTERS"}, "sk": {"S": quote(COURSE, safe="")}}
    ).get("Item", {})
    return item


def streamed(tool: Tool) -> list[dict[str, Any]]:  # noqa: F811
    """What the stream hands the roster function when a write leaves the roster asked for (nothing
    when it is not)."""
    item = roster_item(tool)
    if "roster_wanted" not in item:
        return []
    answer = tool.functions["RosterFunction"].lambda_handler(
        {"Records": [{"eventName": "MODIFY", "dynamodb": {"Keys": {}, "NewImage": item}}]}, LambdaContext("roster", 300)
    )
    outcomes: list[dict[str, Any]] = answer["outcomes"]
    return outcomes


def enrolments(bridge: Bridge) -> dict[str, tuple[str, bool]]:
    """The course's enrolments: learner -> (source, in force now)."""
    path = f"/v1/courses/{quote(COURSE, safe='')}/enrollments"
    status, body = bridge.call("GET", path, ROUTE + "/enrollments", course_id=COURSE)
    assert status == 200, body
    return {item["client_user_id"]: (item["source"], item["active"]) for item in body["items"]}


def the_course(bridge: Bridge) -> dict[str, Any]:
    status, body = bridge.call("GET", f"/v1/courses/{quote(COURSE, safe='')}", ROUTE, course_id=COURSE)
    assert status == 200, body
    return dict(body)


def ask_sync(bridge: Bridge) -> tuple[int, Any]:
    path = f"/v1/courses/{quote(COURSE, safe='')}/roster-sync"
    return bridge.call("POST", path, ROUTE + "/roster-sync", course_id=COURSE)


def plays(bridge: Bridge, learner: str, content: str = "lecture-1") -> tuple[int, Any]:
    status, data, _ = bridge.play(1, learner, content, hardware_id="hw-" + learner, device_name="PC")
    return status, data


def test_the_first_launch_makes_the_course_and_enrols_its_roster(tool: Tool, bridge: Bridge) -> None:  # noqa: F811
    launched(tool, "student-1")
    made = the_course(bridge)
    assert made["source"] == "lti" and made["title"] == "Algorithms 101" and made["media_content_keys"] == ["lecture-1"]
    assert (made["platform_id"], made["context_id"], made["roster_synced_at"]) == ("moodle", "course-1", None)
    assert enrolments(bridge) == {"moodle:student-1": ("launch", True)}
    [outcome] = streamed(tool)
    assert outcome["state"] == "synced" and outcome["pages"] == 2  # 4 members, 3 to a page
    assert enrolments(bridge) == {f"moodle:student-{n}": ("roster", True) for n in (1, 2, 3)}  # not the instructor
    synced = the_course(bridge)
    assert synced["roster_learners"] == 3 and synced["roster_error"] is None and synced["roster_synced_at"]
    assert plays(bridge, "moodle:student-3")[1]["result"] == 1  # never launched, yet enrolled
    assert streamed(tool) == []  # the sync's last write asks for nothing more
    sample = tool.functions["RosterFunction"].lambda_handler(load_event("roster/wanted.json"), LambdaContext("r", 300))
    assert sample == {"outcomes": []}  # the sample event's course has no roster here: nothing is read
    launched(tool, "teacher-1")  # an instructor's launch lets them play, and the roster leaves it be
    assert enrolments(bridge)["moodle:teacher-1"] == ("launch", True)
    assert ask_sync(bridge)[0] == 202
    assert streamed(tool)[0]["state"] == "synced"
    assert enrolments(bridge)["moodle:teacher-1"] == ("launch", True)


def test_a_member_dropped_on_the_platform_is_refused_at_the_next_play_after_a_sync(
    tool: Tool,  # noqa: F811
    bridge: Bridge,
) -> None:
    launched(tool, "student-2")
    streamed(tool)
    assert plays(bridge, "moodle:student-2")[1]["result"] == 1
    tool.http.request("GET", tool.platform.roster_url(drop="student-2"))
    assert plays(bridge, "moodle:student-2")[1]["result"] == 1  # until the next sync
    status, body = ask_sync(bridge)
    assert status == 202 and body["course_id"] == COURSE
    assert streamed(tool)[0]["ended"] == 1
    status, refusal = plays(bridge, "moodle:student-2")
    assert status == 200 and refusal["result"] == 0
    assert enrolments(bridge)["moodle:student-2"] == ("dropped", False)  # ended, not deleted
    assert plays(bridge, "moodle:student-1")[1]["result"] == 1
    answer = tool.http.request("GET", tool.platform.start_url("student-2", "lecture-1"), redirect=False)
    assert answer.status == 403  # the platform no longer launches them either


def test_a_roster_of_three_pages_is_read_whole(tool: Tool, bridge: Bridge) -> None:  # noqa: F811
    for n in range(4, 8):
        tool.http.request("GET", tool.platform.roster_url(add=f"student-{n}"))
    launched(tool, "student-1")
    before = tool.platform.membership_requests
    [outcome] = streamed(tool)
    assert outcome["pages"] == 3 == tool.platform.membership_requests - before  # 8 members, 3 to a page
    assert {learner for learner, (source, _) in enrolments(bridge).items() if source == "roster"} == {
        f"moodle:student-{n}" for n in range(1, 8)
    }
    assert PAGE_SIZE == 3


def test_a_refused_token_or_a_failing_platform_changes_no_enrolment(tool: Tool, bridge: Bridge) -> None:  # noqa: F811
    tool.platform.nrps_granted = False  # the LMS's tool settings leave Names and Role Provisioning off
    launched(tool, "student-1")
    [outcome] = streamed(tool)
    assert outcome["state"] == "failed" and "invalid_scope" in outcome["error"]
    assert enrolments(bridge) == {"moodle:student-1": ("launch", True)}
    failed = the_course(bridge)
    assert "contextmembership.readonly" in failed["roster_error"] and failed["roster_synced_at"] is None
    tool.platform.nrps_granted = True
    assert ask_sync(bridge)[0] == 202
    assert streamed(tool)[0]["state"] == "synced" and the_course(bridge)["roster_error"] is None
    synced = enrolments(bridge)
    tool.http.request("GET", tool.platform.roster_url(drop="student-3"))
    tool.platform.roster_fault = 503
    ask_sync(bridge)
    assert "answered 503" in streamed(tool)[0]["error"]
    assert enrolments(bridge) == synced and "503" in the_course(bridge)["roster_error"]
    tool.platform.roster_fault = None
    ask_sync(bridge)
    assert streamed(tool)[0]["ended"] == 1 and the_course(bridge)["roster_error"] is None
    assert enrolments(bridge)["moodle:student-3"] == ("dropped", False)


def test_a_long_roster_is_read_on_by_the_next_invocation(tool: Tool, bridge: Bridge) -> None:  # noqa: F811
    for n in range(4, 8):
        tool.http.request("GET", tool.platform.roster_url(add=f"student-{n}"))
    launched(tool, "student-1")
    module = tool.functions["RosterFunction"]
    ticks: Iterator[int] = itertools.chain([10**6, 0], itertools.repeat(10**6))  # out of time after one page
    sync = runtime.roster_sync(module.settings, module.store, lambda: next(ticks))
    paused = sync.wanted([COURSE])[0]
    assert (paused.state, paused.pages) == ("paused", 1)
    assert "run_next" in roster_item(tool) and enrolments(bridge) == {"moodle:student-1": ("launch", True)}
    [resumed] = streamed(tool)  # the pause asked again: the stream hands the roster over once more
    assert resumed["state"] == "synced" and resumed["pages"] == 2
    assert {learner for learner, (source, _) in enrolments(bridge).items() if source == "roster"} == {
        f"moodle:student-{n}" for n in range(1, 8)
    }


def test_the_schedule_reads_only_the_differences_between_full_reads(tool: Tool, bridge: Bridge) -> None:  # noqa: F811
    launched(tool, "student-1")
    streamed(tool)
    differences = roster_item(tool)["differences_url"]["S"]
    assert "since=" in differences
    tool.http.request("GET", tool.platform.roster_url(drop="student-2", add="student-9"))
    module = tool.functions["RosterFunction"]
    assert module.lambda_handler({}, LambdaContext("roster", 300)) == {"asked": 0}  # not due yet
    sync: RosterSync = runtime.roster_sync(module.settings, module.store, lambda: 10**6)
    assert sync.ask_due(every_ms=0) == [COURSE]
    before = tool.platform.membership_requests
    [outcome] = streamed(tool)
    assert (outcome["state"], outcome["pages"], outcome["enrolled"], outcome["ended"]) == ("synced", 1, 1, 1)
    assert tool.platform.membership_requests - before == 1
    now = enrolments(bridge)
    assert now["moodle:student-2"] == ("dropped", False) and now["moodle:student-9"] == ("roster", True)


def test_a_trusting_registration_enrols_members_under_the_platforms_own_ids(
    tool: Tool,  # noqa: F811
    bridge: Bridge,
) -> None:
    assert tool.register(trust_client_user_id=True)["statusCode"] == 200
    tool.http.request("GET", tool.platform.roster_url(add="student-2", as_="u-2002"))
    launched(tool, "student-1", as_="u-1001")
    streamed(tool)
    learners = {learner for learner, (source, _) in enrolments(bridge).items() if source == "roster"}
    assert learners == {"u-1001", "u-2002", "moodle:student-3"}  # as launches of each would name them
    asked = [parse_qs(urlsplit(url).query) for url in tool.platform.membership_urls]
    assert asked and all(query.get("rlid") == ["link-lecture-1"] for query in asked)


def test_courses_the_lms_manages_itself_are_left_to_it(tool: Tool, bridge: Bridge) -> None:  # noqa: F811
    course(bridge, "algo-101", "lecture-1")
    path = "/v1/courses/algo-101/roster-sync"
    status, body = bridge.call("POST", path, ROUTE + "/roster-sync", course_id="algo-101")
    assert status == 409 and body["error"]["code"] == "conflict" and "PUT .../enrollments" in body["error"]["message"]
    status, body = bridge.call("POST", "/v1/courses/nope/roster-sync", ROUTE + "/roster-sync", course_id="nope")
    assert status == 404
    launched(tool, "student-1")
    pushed = {"enrollments": [{"client_user_id": "someone"}]}
    path = f"/v1/courses/{quote(COURSE, safe='')}/enrollments"
    status, body = bridge.call("PUT", path, ROUTE + "/enrollments", body=pushed, course_id=COURSE)
    assert status == 409 and "roster" in body["error"]["message"]
    status, listing = bridge.call("GET", "/v1/courses", "/v1/courses")
    assert {item["course_id"]: item["source"] for item in listing["items"]} == {"algo-101": "api", COURSE: "lti"}
