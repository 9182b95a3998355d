"""Learning analytics on moto: a request marks insights wanted (202), the stream hands the mark to
AnalyticsFunction, and the next request reads the cached figures; learner tables and views."""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from types import ModuleType
from typing import Any

import pytest

from tests.helpers import body_of, functions_on_moto, invoke
from tests.payloads import API_TOKEN, Snapshot, callback_event, http_event


class Bridge:
    def __init__(self, functions: dict[str, ModuleType], client: Any, table: str) -> None:
        self.functions, self.client, self.table = functions, client, table

    def get(self, path: str, route: str, query: str = "", accept: str | None = None, **params: str) -> Any:
        headers = {"authorization": f"Bearer {API_TOKEN}"} | ({"accept": accept} if accept else {})
        event = http_event("GET", path, f"GET {route}", content_type=None, query=query, headers=headers)
        if params:
            event["pathParameters"] = params
        return invoke(self.functions["ApiFunction"], event)

    def send(self, method: str, path: str, route: str, body: Any, **params: str) -> int:
        event = http_event(
            method, path, f"{method} {route}", body=json.dumps(body).encode(), content_type="application/json",
            headers={"authorization": f"Bearer {API_TOKEN}"}, base64_body=False,
        )  # fmt: skip
        event["pathParameters"] = params
        return int(invoke(self.functions["ApiFunction"], event)["statusCode"])

    def watch(self, learner: str, blocks: dict[int, float], start_at: int = 1, **extra: Any) -> None:
        snapshot = Snapshot(
            client_user_id=learner, media_content_key="lecture-1", start_at=start_at, block_count=4, duration=240,
            block_times=blocks, **extra,
        )  # fmt: skip
        assert invoke(self.functions["CallbackFunction"], callback_event(snapshot.form_body()))["statusCode"] == 200

    def insights(self, query: str = "", accept: str | None = None) -> Any:
        return self.get(
            "/v1/analytics/contents/lecture-1", "/v1/analytics/contents/{media_content_key}", query, accept,
            media_content_key="lecture-1",
        )  # fmt: skip

    def marks(self) -> list[dict[str, Any]]:
        return [item for item in self.client.scan(TableName=self.table)["Items"] if "insights_wanted" in item]

    def shard_marks(self) -> list[dict[str, Any]]:
        return [item for item in self.client.scan(TableName=self.table)["Items"] if "insights_shard" in item]

    def run_stream(self, marks: list[dict[str, Any]] | None = None) -> Any:
        """What the stream's filtered event source mapping hands AnalyticsFunction: each mark's new image."""
        records = [{"eventName": "INSERT", "dynamodb": {"Keys": {"pk": m["pk"], "sk": m["sk"]}, "NewImage": m}}
                   for m in (self.marks() if marks is None else marks)]  # fmt: skip
        return self.functions["AnalyticsFunction"].lambda_handler({"Records": records}, LambdaContextStub())


class LambdaContextStub:
    function_name = "AnalyticsFunction"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:AnalyticsFunction"
    aws_request_id = "test"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 300_000


@pytest.fixture
def bridge(
    function_environment: Callable[[dict[str, str]], None], load_functions: Callable[[], dict[str, ModuleType]]
) -> Iterator[Bridge]:
    with functions_on_moto(function_environment, load_functions, {}) as (functions, client, table):
        yield Bridge(functions, client, table)


def test_insights_are_computed_off_the_request_and_cached(bridge: Bridge) -> None:
    bridge.watch("ann", {0: 60, 1: 60, 2: 60, 3: 60}, play_time=240, run_time=250, last_play_at=240)
    bridge.watch("bob", {0: 60, 1: 20}, play_time=80, run_time=90, last_play_at=70)
    first = bridge.insights()
    assert (first["statusCode"], first["headers"]["Retry-After"]) == (202, "5")
    assert body_of(first)["status"] == "computing"
    assert len(bridge.marks()) == 1
    assert bridge.insights()["statusCode"] == 202 and len(bridge.marks()) == 1  # one mark for a burst of asks
    assert bridge.run_stream() == {"computed": 1}
    assert bridge.marks() == []  # done: the mark is gone
    answer = bridge.insights()
    figures = body_of(answer)
    assert answer["statusCode"] == 200 and figures["stale"] is False and figures["as_of"].endswith("Z")
    assert (figures["learners_counted"], figures["coverage"], figures["reach"]) == (2, [2, 1, 1, 1], [2, 1, 1, 1])
    assert figures["exits"] == [0, 1, 0, 1] and figures["skims"] == [0, 1, 0, 0]
    assert figures["funnel"]["completed"] == 1 and figures["funnel"]["reached_25"] == 2
    assert figures["scope"] == {"course": None, "uservalue": None, "grid": None}
    table = list(csv.DictReader(io.StringIO(bridge.insights(accept="text/csv")["body"])))
    assert [row["coverage"] for row in table] == ["2", "1", "1", "1"] and table[1]["start"] == "60.0"
    svg = bridge.insights(accept="image/svg+xml")
    assert svg["headers"]["Content-Type"] == "image/svg+xml" and svg["body"].count('class="cell"') == 8
    assert bridge.marks() == []  # fresh figures ask for nothing


def test_distinct_filtered_views_a_day_are_bounded_and_results_expire(
    function_environment: Callable[[dict[str, str]], None], load_functions: Callable[[], dict[str, ModuleType]]
) -> None:
    with functions_on_moto(function_environment, load_functions, {"ANALYTICS_MAX_SCOPES": "3"}) as found:
        bridge = Bridge(*found)
        bridge.watch("ann", {0: 60}, uservalues={"uservalue0": "dept-1"})
        for value in range(3):  # three new filters: each starts a computation
            assert bridge.insights(f"uservalue=uservalue0:dept-{value}")["statusCode"] == 202
        assert bridge.insights("uservalue=uservalue0:dept-0")["statusCode"] == 202  # one already counted today
        refused = bridge.insights("uservalue=uservalue0:dept-99")
        assert refused["statusCode"] == 429 and body_of(refused)["error"]["code"] == "too_many_requests"
        assert (
            body_of(refused)["error"]["field"] == "uservalue"
            and "ANALYTICS_MAX_SCOPES" in body_of(refused)["error"]["message"]
        )
        assert len(bridge.marks()) == 3  # the refused one started nothing
        assert bridge.insights()["statusCode"] == 202  # the unfiltered view is never refused
        bridge.run_stream()
        results = [
            item for item in bridge.client.scan(TableName=bridge.table)["Items"] if item["sk"]["S"].startswith("R#")
        ]
        assert len(results) == 4 and all(
            int(item["expires_at"]["N"]) > int(item["as_of"]["N"]) // 1000 for item in results
        )


def test_a_stale_result_is_served_while_a_new_one_is_computed(bridge: Bridge) -> None:
    bridge.watch("ann", {0: 60})
    bridge.insights()
    bridge.run_stream()
    store = bridge.functions["ApiFunction"].whole_store()
    cached = store.get_insights("lecture-1", "")
    store.put_insights("lecture-1", "x", cached.body, cached.as_of)  # another scope, untouched below
    bridge.client.update_item(
        TableName=bridge.table, Key={"pk": {"S": "AN#lecture-1"}, "sk": {"S": "R#"}},
        UpdateExpression="SET as_of = :old", ExpressionAttributeValues={":old": {"N": "1"}},
    )  # fmt: skip
    bridge.watch("bob", {0: 60})
    stale = body_of(bridge.insights())
    assert stale["stale"] is True and stale["learners_counted"] == 1 and len(bridge.marks()) == 1
    bridge.run_stream()
    assert body_of(bridge.insights())["learners_counted"] == 2


def test_scopes_course_and_uservalue(bridge: Bridge) -> None:
    assert bridge.send("PUT", "/v1/courses/algo", "/v1/courses/{course_id}",
                       {"title": "Algo", "media_content_keys": ["lecture-1"]}, course_id="algo") == 200  # fmt: skip
    enrolments = {"enrollments": [{"client_user_id": name} for name in ("ann", "cy", "dee")]}
    path = "/v1/courses/algo/enrollments"
    assert bridge.send("PUT", path, "/v1/courses/{course_id}/enrollments", enrolments, course_id="algo") == 200
    bridge.watch("ann", {0: 60}, uservalues={"uservalue0": "c-7"})
    bridge.watch("bob", {0: 60, 1: 60}, uservalues={"uservalue0": "c-8"})
    for query in ("course=algo", "uservalue=uservalue0:c-8"):
        assert bridge.insights(query)["statusCode"] == 202
    assert bridge.run_stream() == {"computed": 2}
    by_course = body_of(bridge.insights("course=algo"))
    assert (by_course["learners_counted"], by_course["enrolled"], by_course["not_started"]) == (1, 3, 2)
    by_value = body_of(bridge.insights("uservalue=uservalue0:c-8"))
    assert (by_value["learners_counted"], by_value["coverage"]) == (1, [1, 1, 0, 0])
    refused = bridge.insights("uservalue=course-7")
    assert (refused["statusCode"], body_of(refused)["error"]["field"]) == (400, "uservalue")

    learners = "/v1/analytics/contents/lecture-1/learners"
    route = "/v1/analytics/contents/{media_content_key}/learners"
    rows = body_of(bridge.get(learners, route, "course=algo", media_content_key="lecture-1"))["items"]
    assert [(row["client_user_id"], row["status"]) for row in rows] == [
        ("ann", "started"), ("cy", "not_started"), ("dee", "not_started"),
    ]  # fmt: skip
    waiting = body_of(bridge.get(learners, route, "course=algo&status=not_started", media_content_key="lecture-1"))
    assert [row["client_user_id"] for row in waiting["items"]] == ["cy", "dee"]
    everyone = bridge.get(learners, route, "", "text/csv", media_content_key="lecture-1")["body"]
    table = list(csv.DictReader(io.StringIO(everyone)))
    assert [(row["client_user_id"], row["progress"]) for row in table] == [("ann", "25.0"), ("bob", "50.0")]


def test_a_learners_contents_and_view(bridge: Bridge) -> None:
    now = int(time.time())
    bridge.watch("ann", {0: 60, 1: 140}, start_at=now, play_time=200, run_time=300, last_play_at=120)
    bridge.watch("ann", {3: 60}, start_at=now + 1, play_time=60, run_time=60, last_play_at=240)
    overview = body_of(bridge.get("/v1/analytics/learners/ann", "/v1/analytics/learners/{client_user_id}",
                                  client_user_id="ann"))  # fmt: skip
    assert [(row["media_content_key"], row["status"], row["sessions"]) for row in overview["items"]] == [
        ("lecture-1", "started", 2)
    ]
    path = "/v1/analytics/learners/ann/contents/lecture-1"
    route = "/v1/analytics/learners/{client_user_id}/contents/{media_content_key}"
    view = body_of(bridge.get(path, route, client_user_id="ann", media_content_key="lecture-1"))
    assert view["strip"] == ["once", "twice", "not_viewed", "once"]
    assert view["missing_ranges"] == [[120.0, 180.0]] and view["minutes_left"] == 1.0
    assert [session["start_at"] for session in view["sessions_timeline"]] == [now, now + 1]
    assert (view["active_days"], view["progress"]) == (1, 75.0)
    missing = bridge.get(path.replace("ann", "eve"), route, client_user_id="eve", media_content_key="lecture-1")
    assert missing["statusCode"] == 404


def view_link(bridge: Bridge, **request: Any) -> tuple[int, Any]:
    event = http_event(
        "POST", "/v1/view-links", "POST /v1/view-links", body=json.dumps(request).encode(),
        content_type="application/json", headers={"authorization": f"Bearer {API_TOKEN}"}, base64_body=False,
    )  # fmt: skip
    response = invoke(bridge.functions["ApiFunction"], event)
    return response["statusCode"], body_of(response)


def open_view(bridge: Bridge, url: str, accept_language: str | None = None, query: str = "") -> Any:
    path = url[url.index("/v1/views/") :]
    headers = {"accept-language": accept_language} if accept_language else {}
    event = http_event("GET", path, "GET /v1/views/{token}", content_type=None, headers=headers, query=query)
    event["pathParameters"] = {"token": path.removeprefix("/v1/views/")}
    return invoke(bridge.functions["ApiFunction"], event)


def test_view_links_open_the_pages_without_the_api_token(bridge: Bridge) -> None:
    for number in range(6):
        bridge.watch(f"learner-{number}", dict.fromkeys(range(number % 4 + 1), 60.0), start_at=number + 1)
    bridge.watch("<b>odd</b>", {0: 60.0})
    status, link = view_link(bridge, kind="content", media_content_key="lecture-1", lang="en")
    assert status == 201 and link["url"].startswith("https://api.example.com/v1/views/v1.")
    waiting = open_view(bridge, link["url"])
    assert waiting["statusCode"] == 200 and '<a href="">Load again</a>' in waiting["body"]
    bridge.run_stream()
    page = open_view(bridge, link["url"])
    html, headers = page["body"], page["headers"]
    assert headers["Content-Type"].startswith("text/html")
    policy = headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy and "script" not in html
    assert html.count('class="cell"') == 8  # four blocks, two layers
    assert html.count('class="learner"') == 7 and "&lt;b&gt;odd&lt;/b&gt;" in html and "<b>odd" not in html
    assert "Who watched each part" in html
    # The link's own language wins over the browser's; `?lang=` over both.
    assert "Who watched each part" in open_view(bridge, link["url"], accept_language="ko-KR,ko;q=0.9")["body"]
    assert "구간별 시청" in open_view(bridge, link["url"], query="lang=ko")["body"]

    status, mine = view_link(bridge, kind="learner_content", media_content_key="lecture-1", client_user_id="learner-1")
    own = open_view(bridge, mine["url"], accept_language="ko-KR,ko;q=0.9,en;q=0.8")["body"]
    assert '<html lang="ko">' in own and "남은 구간" in own and "2:00\u20134:00" in own
    assert own.count('class="share"') == 4  # the class's strip: 7 learners count
    status, theirs = view_link(bridge, kind="learner", client_user_id="learner-3", lang="en")
    assert "Your lectures" in open_view(bridge, theirs["url"])["body"]


def test_the_table_and_the_figures_are_one_snapshot_sorted_within_the_link(bridge: Bridge) -> None:
    for number in range(4):
        bridge.watch(f"learner-{number}", dict.fromkeys(range(number + 1), 60.0), start_at=number + 1)
    status, link = view_link(bridge, kind="content", media_content_key="lecture-1", lang="en")
    assert status == 201 and "Load again" in open_view(bridge, link["url"])["body"]
    bridge.run_stream()
    bridge.watch("learner-late", {0: 60.0, 1: 60.0}, start_at=9)  # after the computation
    html = open_view(bridge, link["url"])["body"]
    assert "Learners counted 4" in html and html.count('class="learner"') == 4 and "learner-late" not in html
    assert "4 of 4 learners." in html
    ordered = open_view(bridge, link["url"], query="lang=en&sort=-progress")["body"]
    found = [part.split("<")[0] for part in ordered.split('<tr class="learner"><td>')[1:]]
    assert found == ["learner-3", "learner-2", "learner-1", "learner-0"]
    assert 'aria-sort="descending"' in ordered and "Learners counted 4" in ordered
    assert open_view(bridge, link["url"], query="sort=drop table")["statusCode"] == 200  # any other: by name
    paged = open_view(bridge, link["url"], query="lang=en&sort=-progress&after=3")["body"]
    assert paged.count('class="learner"') == 1 and "learner-0" in paged and "First page" in paged


def test_a_course_link_opens_its_lectures_in_order(bridge: Bridge) -> None:
    course = {"title": "Algo", "media_content_keys": ["lecture-1", "lecture-2"]}
    assert bridge.send("PUT", "/v1/courses/algo", "/v1/courses/{course_id}", course, course_id="algo") == 200
    enrolments = {"enrollments": [{"client_user_id": name} for name in ("ann", "bob", "cy")]}
    path = "/v1/courses/algo/enrollments"
    assert bridge.send("PUT", path, "/v1/courses/{course_id}/enrollments", enrolments, course_id="algo") == 200
    bridge.watch("ann", {0: 60, 1: 60, 2: 60, 3: 60})
    bridge.watch("bob", {0: 60})
    status, link = view_link(bridge, kind="course", course="algo", lang="en")
    assert status == 201
    waiting = open_view(bridge, link["url"])["body"]
    assert waiting.count('<tr class="lecture">') == 2 and waiting.count("computing") == 2
    assert '<a href="">Load again</a>' in waiting and "http-equiv" not in waiting
    bridge.run_stream()
    html = open_view(bridge, link["url"])["body"]
    assert "<h1>Course: Algo</h1>" in html and "Enrolled 3" in html and "refresh" not in html
    first, second = html.split('<tr class="lecture">')[1:]
    assert "lecture-1</a>" in first and "<td>2</td><td>1 (33%)</td>" in first  # of the three enrolled
    assert "lecture-2</a>" in second and "<td>0</td><td>0 (0%)</td>" in second
    assert html.count('class="day"') == 30
    href = first.split('href="')[1].split('"')[0]
    lecture = open_view(bridge, "/v1/views/" + href.split("?")[0], query="lang=en")["body"]  # in the course
    assert "Lecture insights: lecture-1" in lecture and "Enrolled" in lecture
    status, body = view_link(bridge, kind="course")
    assert (status, body["error"]["field"]) == (400, "course")


def test_bad_view_links(bridge: Bridge) -> None:
    status, body = view_link(bridge, kind="learner", media_content_key="lecture-1")
    assert (status, body["error"]["code"]) == (400, "invalid_request")
    assert view_link(bridge, kind="content", media_content_key="m", expires_in=86_401)[0] == 400
    status, link = view_link(bridge, kind="content", media_content_key="lecture-1")
    forged = link["url"][:-3] + ("AAA" if not link["url"].endswith("AAA") else "BBB")
    refused = open_view(bridge, forged)
    assert (refused["statusCode"], body_of(refused)["error"]["field"]) == (403, "token")
    body = json.dumps({"kind": "content", "media_content_key": "m"}).encode()
    unauthorised = http_event(
        "POST", "/v1/view-links", "POST /v1/view-links", body=body, content_type="application/json", base64_body=False
    )
    assert invoke(bridge.functions["ApiFunction"], unauthorised)["statusCode"] == 401


def test_a_large_content_is_counted_in_shards_and_merged(
    function_environment: Callable[[dict[str, str]], None], load_functions: Callable[[], dict[str, ModuleType]]
) -> None:
    from kollus_bridge.analytics.compute import Scope  # noqa: PLC0415
    from kollus_bridge.analytics.shards import compute  # noqa: PLC0415

    environment = {"ANALYTICS_SHARD_LEARNERS": "2"}
    with functions_on_moto(function_environment, load_functions, environment) as (functions, client, table):
        bridge = Bridge(functions, client, table)
        for number in range(5):
            blocks = dict.fromkeys(range(number % 4 + 1), 60.0 + 30 * number)
            bridge.watch(f"learner-{number}", blocks, play_time=100 + number, last_play_at=60 * number)
        assert bridge.insights()["statusCode"] == 202
        assert bridge.run_stream() == {"computed": 0}  # planned: three shards of at most two learners
        shards = bridge.shard_marks()
        assert len(shards) == 3
        assert bridge.run_stream() == {"computed": 0} and len(bridge.shard_marks()) == 3  # handed over again: once
        assert bridge.run_stream(shards[:2]) == {"computed": 0}
        assert bridge.run_stream(shards[:1]) == {"computed": 0}  # a shard handed over twice counts once
        assert bridge.insights()["statusCode"] == 202
        assert bridge.run_stream(shards[2:]) == {"computed": 1}  # the last shard merges
        assert bridge.marks() == []
        sharded = body_of(bridge.insights())
        as_of = int(datetime.fromisoformat(sharded["as_of"].replace("Z", "+00:00")).timestamp() * 1000)
        whole = compute(
            functions["ApiFunction"].whole_store(), functions["ApiFunction"].settings, "lecture-1", Scope(), as_of
        )
        for name in ("as_of", "stale"):
            sharded.pop(name), whole.pop(name, None)
        sharded = {name: value for name, value in sharded.items() if value is not None}  # the answer's defaults
        assert sharded == whole and sharded["learners_counted"] == 5
