"""The standards end to end, on the local stack as `make run` starts it: a learner launches a Kollus
video from an LTI platform (lti1p3platform), plays it with the simulated player, and the completion
lands in the platform's gradebook (AGS) and in the LRS (ralph) as a Video Profile statement; a
redelivery to either changes nothing there. A link launched with no line item gets its grade on the
line item the tool makes. An instructor's deep-linking pick is validated by the platform. The LMS's
roster (Names and Role Provisioning) enrols learners who never launched and ends those it drops."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlencode

import urllib3

from local.lrs import PASSWORD, USERNAME, statements_at, validate
from local.player import Bridge, launch, open_url, run_player
from local.simulator import Content, Session
from tests.e2e.conftest import RunningStack

T = TypeVar("T")
API = {"authorization": "Bearer local-api-token", "content-type": "application/json"}
http = urllib3.PoolManager(retries=False, timeout=30)


def eventually(probe: Callable[[], T | None], timeout: float = 30.0) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found is not None:
            return found
        time.sleep(0.2)
    raise AssertionError("not within the time allowed")


def platform_url(stack: RunningStack) -> str:
    return f"http://127.0.0.1:{stack.environment['LTI_PLATFORM_PORT']}"


def lrs_url(stack: RunningStack) -> str:
    return f"http://127.0.0.1:{stack.environment['LRS_PORT']}/xAPI/"


def gradebook(stack: RunningStack) -> dict[str, Any]:
    answer: dict[str, Any] = http.request("GET", platform_url(stack) + "/gradebook").json()
    return answer


def statements_of(stack: RunningStack, learner: str) -> list[Any]:
    every = statements_at(lrs_url(stack), f"{USERNAME}:{PASSWORD}")
    return [s for s in every if s["actor"]["account"]["name"] == learner]


def test_a_launch_plays_and_the_completion_lands_in_the_gradebook_and_the_lrs(stack: RunningStack) -> None:
    bridge = Bridge(stack.url)
    start = f"{platform_url(stack)}/start?" + urlencode({"user": "lti-student", "content": "lti-lecture"})
    learner, key, uservalues = open_url(bridge, launch(bridge, start))
    assert (learner, key) == ("local:lti-student", "lti-lecture")
    run = run_player(bridge, learner, Content(key, 240.0, 4), speed=16, uservalues=uservalues)
    assert run.refused is None and run.progress[-1]["completed"] is True
    line = f"lti-student@{platform_url(stack)}/lineitems/lti-lecture"
    score = eventually(lambda: gradebook(stack).get(line))
    assert (score["scoreGiven"], score["scoreMaximum"]) == (100.0, 100)
    assert (score["activityProgress"], score["gradingProgress"]) == ("Completed", "FullyGraded")
    completed = eventually(lambda: statements_of(stack, learner) or None)
    assert [s["verb"]["id"] for s in completed] == ["http://adlnet.gov/expapi/verbs/completed"]
    assert completed[0]["context"]["registration"]  # the learner came through LTI
    checked = validate(completed)
    assert checked.returncode == 0, checked.stderr[-2000:]

    for target in ("ags", "xapi"):
        body = json.dumps({"client_user_id": learner, "media_content_key": key, "target": target})
        answer = http.request("POST", stack.url + "/v1/sync/redeliver", body=body, headers=API)
        assert answer.status == 202, answer.data

    def delivered_again() -> list[Any] | None:
        query = urlencode({"state": "delivered", "limit": 500})
        rows = http.request("GET", f"{stack.url}/v1/sync?{query}", headers=API).json()["items"]
        mine = [row for row in rows if row["client_user_id"] == learner and row["target"] in {"ags", "xapi"}]
        fresh = [row for row in mine if row["last_attempt_at"] and row["last_attempt_at"] > score["timestamp"]]
        return mine if len(fresh) == 2 else None

    eventually(delivered_again)
    again = gradebook(stack)[line]
    assert (again["scoreGiven"], again["activityProgress"]) == (100.0, "Completed")
    assert len(statements_of(stack, learner)) == 1  # the same statement id: the LRS keeps it once
    failed = http.request("GET", f"{stack.url}/v1/sync?state=failed", headers=API).json()["items"]
    assert [row for row in failed if row["client_user_id"] == learner] == []


def test_an_instructors_deep_linking_pick_is_accepted_by_the_platform(stack: RunningStack) -> None:
    start = f"{platform_url(stack)}/start?" + urlencode({"user": "teacher-1", "deep_link": "1"})
    location = http.request("GET", start, redirect=False).headers["location"]
    location = http.request("GET", location, redirect=False).headers["location"]  # the tool's login
    form_page = http.request("GET", location, redirect=False).data.decode()  # the platform's launch form
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form_page))
    picking = http.request("POST", stack.url + "/lti/launch", fields=fields, encode_multipart=False)
    assert picking.status == 200 and "default-src 'none'" in picking.headers["content-security-policy"]
    session = re.search(r'name="session" value="([^"]+)"', picking.data.decode())
    assert session is not None
    chosen = http.request(
        "POST", stack.url + "/lti/deep-link", fields={"session": session.group(1), "keys": "lecture-9\nlecture-10"},
        encode_multipart=False,
    )  # fmt: skip
    assert chosen.status == 200, chosen.data
    page = chosen.data.decode()
    action = re.search(r'action="([^"]+)"', page)
    token = re.search(r'name="JWT" value="([^"]+)"', page)
    assert action is not None and token is not None
    accepted = http.request("POST", action.group(1), fields={"JWT": token.group(1)}, encode_multipart=False)
    assert accepted.status == 200, accepted.data
    items = accepted.json()["content_items"]
    assert [item["custom"]["media_content_key"] for item in items] == ["lecture-9", "lecture-10"]
    assert all(item["type"] == "ltiResourceLink" and item["url"] == stack.url + "/lti/launch" for item in items)
    assert [item["lineItem"] for item in items] == [
        {"scoreMaximum": 100, "label": "lecture-9", "resourceId": "lecture-9"},
        {"scoreMaximum": 100, "label": "lecture-10", "resourceId": "lecture-10"},
    ]


def test_an_ungraded_links_grade_lands_on_the_line_item_the_tool_makes(stack: RunningStack) -> None:
    bridge = Bridge(stack.url)
    start = f"{platform_url(stack)}/start?" + urlencode(
        {"user": "lti-student-2", "content": "lti-lecture-2", "line_item": "none"}
    )
    learner, key, uservalues = open_url(bridge, launch(bridge, start))
    run = run_player(bridge, learner, Content(key, 240.0, 4), speed=16, uservalues=uservalues)
    assert run.refused is None and run.progress[-1]["completed"] is True

    def graded() -> tuple[str, dict[str, Any]] | None:
        book = gradebook(stack).items()
        return next(((name.split("@", 1)[1], s) for name, s in book if name.startswith("lti-student-2@")), None)

    line, score = eventually(graded)
    assert (score["scoreGiven"], score["activityProgress"]) == (100.0, "Completed")
    assert line.startswith(platform_url(stack) + "/lineitems/made-")  # the tool made the link's line item


def api_get(stack: RunningStack, path: str) -> tuple[int, Any]:
    answer = http.request("GET", stack.url + path, headers=API)
    return answer.status, answer.json()


def test_the_lms_roster_enrols_learners_who_never_launched_and_drops_those_who_left(stack: RunningStack) -> None:
    bridge = Bridge(stack.url)
    course = "lti%3Alocal%3Acourse-1"
    start = f"{platform_url(stack)}/start?" + urlencode({"user": "student-1", "content": "roster-lecture"})
    learner, key, uservalues = open_url(bridge, launch(bridge, start))
    assert learner == "local:student-1"
    # The first launch from the context asked for its roster; the stream hands it to the roster function.
    synced = eventually(lambda: (found := api_get(stack, f"/v1/courses/{course}")[1])["roster_synced_at"] and found)
    assert synced["source"] == "lti" and synced["roster_error"] is None and synced["roster_learners"] >= 3
    run = run_player(bridge, learner, Content(key, 240.0, 4), speed=16, uservalues=uservalues)
    assert run.refused is None

    def listed() -> dict[str, str] | None:
        status, body = api_get(stack, f"/v1/analytics/contents/{key}/learners?course={course}&limit=100")
        rows = {row["client_user_id"]: row["status"] for row in body.get("items", [])} if status == 200 else {}
        return rows if "local:student-1" in rows and rows["local:student-1"] != "not_started" else None

    rows = eventually(listed)
    assert rows["local:student-2"] == "not_started"  # on the LMS's roster, never launched
    assert "local:teacher-1" not in rows  # an instructor is no learner of the course

    # The LMS drops student-2; the next sync ends the enrolment, and the play callback refuses them.
    student = Bridge(stack.url)
    session = Session("local:student-2", Content(key, 240.0, 4), int(time.time()), "phone-2")
    assert student.ask(1, session)["result"] == 1
    assert http.request("GET", f"{platform_url(stack)}/roster?" + urlencode({"drop": "student-2"})).status == 200
    asked = http.request("POST", f"{stack.url}/v1/courses/{course}/roster-sync", headers=API)
    assert asked.status == 202, asked.data

    def dropped() -> dict[str, Any] | None:
        body = api_get(stack, "/v1/learners/local%3Astudent-2/enrollments")[1]
        return next((e for e in body["items"] if e["source"] == "dropped"), None)

    assert eventually(dropped)["active"] is False
    assert student.ask(1, session)["result"] == 0
    log = api_get(stack, "/v1/access-log?client_user_id=local%3Astudent-2")[1]["items"]
    assert log[0]["allowed"] is False and log[0]["reason"] == "ended"
