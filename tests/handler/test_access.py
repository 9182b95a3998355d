"""Courses, enrolments, the play callback and the access log on moto: who may play, for how long, and
what the player is told."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import jwt
import pytest

from local.stack import LOCAL_DEFAULTS
from tests.helpers import body_of, invoke
from tests.payloads import API_TOKEN, DRM_TOKEN, PLAY_TOKEN, http_event

SECURITY_KEY, CUSTOM_KEY = LOCAL_DEFAULTS["KOLLUS_SECURITY_KEY"], LOCAL_DEFAULTS["KOLLUS_CUSTOM_KEY"]


def iso(seconds_from_now: float) -> str:
    return datetime.fromtimestamp(time.time() + seconds_from_now, UTC).isoformat().replace("+00:00", "Z")


class Bridge:
    def __init__(self, functions: dict[str, ModuleType], client: Any, table: str) -> None:
        self.functions, self.client, self.table = functions, client, table

    def call(
        self, method: str, path: str, route: str, query: str = "", body: Any = None, **params: str
    ) -> tuple[int, Any]:
        event = http_event(
            method, path, f"{method} {route}", body=None if body is None else json.dumps(body).encode(),
            content_type="application/json" if body is not None else None, query=query,
            headers={"authorization": f"Bearer {API_TOKEN}"}, base64_body=False,
        )  # fmt: skip
        if params:
            event["pathParameters"] = params
        response = invoke(self.functions["ApiFunction"], event)
        return response["statusCode"], body_of(response)

    def play(self, kind: int, learner: str, content: str, **extra: str) -> tuple[int, dict[str, Any], dict[str, str]]:
        fields = {"kind": str(kind), "client_user_id": learner, "media_content_key": content, **extra}
        event = http_event(
            "POST", f"/callbacks/kollus/{PLAY_TOKEN}/play", "POST /callbacks/kollus/{token}/play",
            body=urlencode(fields).encode(), path_parameters={"token": PLAY_TOKEN},
        )  # fmt: skip
        response = invoke(self.functions["PlayFunction"], event)
        if response["statusCode"] != 200:
            return response["statusCode"], body_of(response), response.get("headers") or {}
        claims = jwt.decode(response["body"], SECURITY_KEY, algorithms=["HS256"])
        return 200, claims["data"], response["headers"]


def course(bridge: Bridge, course_id: str, *contents: str) -> None:
    path = f"/v1/courses/{quote(course_id, safe='')}"  # as a client sends it
    status, body = bridge.call(
        "PUT", path, "/v1/courses/{course_id}", body={"title": course_id.title(), "media_content_keys": list(contents)},
        course_id=course_id,
    )  # fmt: skip
    assert status == 200, body


def enrol(bridge: Bridge, course_id: str, *enrollments: dict[str, Any]) -> tuple[int, Any]:
    return bridge.call(
        "PUT", f"/v1/courses/{quote(course_id, safe='')}/enrollments", "/v1/courses/{course_id}/enrollments",
        body={"enrollments": list(enrollments)}, course_id=course_id,
    )  # fmt: skip


def test_an_enrolled_learner_plays_until_the_enrolment_ends(bridge: Bridge) -> None:
    course(bridge, "algo-101", "lecture-1", "lecture-2")
    status, body = enrol(bridge, "algo-101", {"client_user_id": "u-1", "ends_at": iso(3600)})
    assert (status, body) == (200, {"course_id": "algo-101", "enrollments": 1})
    assert enrol(bridge, "algo-101", {"client_user_id": "u-1", "ends_at": iso(3600)})[0] == 200  # the same again
    status, data, headers = bridge.play(1, "u-1", "lecture-2", hardware_id="hw-1", device_name="PC")
    assert status == 200 and data["result"] == 1 and headers["X-Kollus-UserKey"] == CUSTOM_KEY
    assert time.time() + 3500 < data["expiration_date"] <= time.time() + 3600  # no later than the enrolment's end
    assert set(data) == {"result", "expiration_date"} and all(type(v) is int for v in data.values())
    status, final, _ = bridge.play(3, "u-1", "lecture-2")
    assert final == {"result": 1, "content_expired": 0}


def test_refusals_speak_to_the_learner(bridge: Bridge) -> None:
    course(bridge, "algo-101", "lecture-1")
    enrol(
        bridge, "algo-101", {"client_user_id": "ended", "starts_at": iso(-7200), "ends_at": iso(-3600)},
        {"client_user_id": "later", "starts_at": iso(86400)},
    )  # fmt: skip
    cases = {
        ("ended", "lecture-1"): "수강 기간이 종료되었습니다.",
        ("later", "lecture-1"): "수강 기간이 아직 시작되지 않았습니다.",
        ("stranger", "lecture-1"): "이 강의를 포함한 과정에 수강 등록되어 있지 않습니다.",
        ("ended", "not-in-a-course"): "이 강의는 아직 수강할 수 있는 과정에 포함되어 있지 않습니다.",
    }
    for (learner, content), message in cases.items():
        status, data, _ = bridge.play(1, learner, content)
        assert status == 200 and data["result"] == 0 and data["message"] == message, (learner, content)
    status, final, _ = bridge.play(3, "ended", "lecture-1")
    assert final["result"] == 0 and final["content_expired"] == 1
    status, log = bridge.call("GET", "/v1/access-log", "/v1/access-log", "client_user_id=ended")
    assert status == 200 and [item["kind"] for item in log["items"]] == ["play_3", "play_1", "play_1"]  # newest first
    assert {item["reason"] for item in log["items"]} == {"ended", "not_in_a_course"}
    status, log = bridge.call("GET", "/v1/access-log", "/v1/access-log", "media_content_key=lecture-1")
    assert status == 200 and len(log["items"]) == 4


@pytest.mark.parametrize("environment", [{"PLAY_MESSAGE_LANGUAGE": "en"}])
def test_messages_in_english_by_a_setting(bridge: Bridge) -> None:
    _, data, _ = bridge.play(1, "stranger", "lecture-1")
    assert data["message"] == "This lecture is not part of a course you can take yet."


@pytest.mark.parametrize(("environment", "allowed"), [({}, 0), ({"PLAY_FAIL_OPEN": "true"}, 1)])
def test_without_storage_the_player_still_gets_an_answer(bridge: Bridge, allowed: int) -> None:
    from kollus_bridge.errors import StorageUnavailable  # noqa: PLC0415

    def down(*args: Any) -> Any:
        raise StorageUnavailable("storage is unavailable")

    store = bridge.functions["PlayFunction"].store
    store.enrolments_of = down
    status, data, _ = bridge.play(1, "u-1", "lecture-1")
    assert status == 200 and data["result"] == allowed
    assert ("message" in data) == (not allowed)


def test_bad_play_callbacks_get_the_error_shape_and_are_kept(bridge: Bridge) -> None:
    status, body, _ = bridge.play(2, "u-1", "lecture-1")
    assert status == 400 and body["error"]["field"] == "kind"
    kept = [item for item in bridge.client.scan(TableName=bridge.table)["Items"] if item["pk"]["S"].startswith("R#")]
    assert len(kept) == 1 and kept[0]["source"]["S"] == "play_callback"


@pytest.mark.parametrize("environment", [{"REQUIRE_ENROLLMENT": "true"}])
def test_playback_urls_only_for_entitled_learners(bridge: Bridge) -> None:
    course(bridge, "algo-101", "lecture-1")
    enrol(bridge, "algo-101", {"client_user_id": "u-1"})
    asked = {"client_user_id": "u-1", "media_content_key": "lecture-1"}
    assert bridge.call("POST", "/v1/playback-urls", "/v1/playback-urls", body=asked)[0] == 200
    status, body = bridge.call(
        "POST", "/v1/playback-urls", "/v1/playback-urls", body={**asked, "client_user_id": "u-2"}
    )
    assert status == 403 and body["error"]["code"] == "forbidden" and "not_enrolled" in body["error"]["message"]


def test_listings_and_removal(bridge: Bridge) -> None:
    course(bridge, "algo-101", "lecture-1", "lecture-1")  # a repeat is kept once
    course(bridge, "web-201", "lecture-9")
    enrol(bridge, "algo-101", {"client_user_id": "u-1"}, {"client_user_id": "u-2", "ends_at": iso(-1)})
    enrol(bridge, "web-201", {"client_user_id": "u-1"})
    status, page = bridge.call("GET", "/v1/courses", "/v1/courses")
    assert status == 200 and [c["course_id"] for c in page["items"]] == ["algo-101", "web-201"]
    assert page["items"][0]["media_content_keys"] == ["lecture-1"]
    status, page = bridge.call(
        "GET", "/v1/courses/algo-101/enrollments", "/v1/courses/{course_id}/enrollments", course_id="algo-101"
    )
    assert [(e["client_user_id"], e["active"]) for e in page["items"]] == [("u-1", True), ("u-2", False)]
    status, page = bridge.call(
        "GET", "/v1/learners/u-1/enrollments", "/v1/learners/{client_user_id}/enrollments", client_user_id="u-1"
    )
    assert [e["course_id"] for e in page["items"]] == ["algo-101", "web-201"]
    path = "/v1/courses/algo-101/enrollments/u-1"
    route = "/v1/courses/{course_id}/enrollments/{client_user_id}"
    assert bridge.call("DELETE", path, route, course_id="algo-101", client_user_id="u-1")[0] == 200
    assert bridge.play(1, "u-1", "lecture-1")[1]["result"] == 0
    assert bridge.play(1, "u-1", "lecture-9")[1]["result"] == 1
    assert bridge.call("DELETE", "/v1/courses/web-201", "/v1/courses/{course_id}", course_id="web-201")[0] == 200
    assert bridge.play(1, "u-1", "lecture-9")[1]["result"] == 0  # no course holds it any more
    assert bridge.call("GET", "/v1/courses/web-201", "/v1/courses/{course_id}", course_id="web-201")[0] == 404


def test_bad_batches_are_refused_whole(bridge: Bridge) -> None:
    course(bridge, "algo-101", "lecture-1")
    for batch in (
        [{"client_user_id": "u-1", "ends_at": "tomorrow"}],
        [{"client_user_id": "u-1", "ends_at": 1795305600}],
        [{"client_user_id": "u-1", "ends_at": "2027-01-01T00:00:00"}],  # no offset: ambiguous
        [],
        [{"client_user_id": f"u-{n}"} for n in range(501)],
    ):
        status, body = enrol(bridge, "algo-101", *batch)
        assert status == 400 and body["error"]["code"] == "invalid_request", batch
    status, body = enrol(bridge, "no-such-course", {"client_user_id": "u-1"})
    assert status == 404
    twice = [{"client_user_id": "u-1", "ends_at": iso(-5)}, {"client_user_id": "u-1"}]
    assert enrol(bridge, "algo-101", *twice) == (200, {"course_id": "algo-101", "enrollments": 1})
    assert bridge.play(1, "u-1", "lecture-1")[1]["result"] == 1  # the last entry counts
    status, body = enrol(bridge, "algo-101", {"client_user_id": "u-2", "starts_at": iso(10), "ends_at": iso(5)})
    assert status == 400 and body["error"]["field"] == "enrollments.0.ends_at"  # an end before its start
    assert bridge.play(1, "u-2", "lecture-1")[1]["result"] == 0  # nothing was enrolled


@pytest.mark.parametrize("environment", [{"MAX_CONCURRENT_DEVICES": "1", "DEVICE_IDLE_SECONDS": "60"}])
def test_a_second_device_waits_while_the_first_plays(bridge: Bridge) -> None:
    from tests.payloads import Snapshot, callback_event  # noqa: PLC0415

    course(bridge, "algo-101", "lecture-1")
    enrol(bridge, "algo-101", {"client_user_id": "u-1"})
    assert bridge.play(1, "u-1", "lecture-1", player_id="phone")[1]["result"] == 1
    assert bridge.play(1, "u-1", "lecture-1", player_id="phone")[1]["result"] == 1  # the same device goes on
    _, data, _ = bridge.play(1, "u-1", "lecture-1", player_id="laptop")
    assert data["result"] == 0 and data["message"].startswith("동시에 재생할 수 있는 기기 수를 넘었습니다")
    # Progress from the phone keeps it playing: a write to its last-seen time.
    store = bridge.functions["PlayFunction"].store
    _, rev = store.get_devices("u-1")
    assert store.put_devices("u-1", {"phone": 1}, rev)  # as if last seen long ago
    snapshot = Snapshot(client_user_id="u-1", media_content_key="lecture-1", player_id="phone")
    assert invoke(bridge.functions["CallbackFunction"], callback_event(snapshot.form_body()))["statusCode"] == 200
    assert store.get_devices("u-1")[0]["phone"] > time.time() * 1000 - 60_000  # seen again just now
    _, log = bridge.call("GET", "/v1/access-log", "/v1/access-log", "client_user_id=u-1")
    assert next(item["reason"] for item in log["items"]) == "too_many_devices"


@pytest.mark.parametrize("environment", [{"MAX_CONCURRENT_DEVICES": "1"}])
def test_a_course_overrides_the_device_limit(bridge: Bridge) -> None:
    status, body = bridge.call(
        "PUT", "/v1/courses/family", "/v1/courses/{course_id}",
        body={"title": "Family plan", "media_content_keys": ["lecture-1"], "max_devices": 3}, course_id="family",
    )  # fmt: skip
    assert status == 200 and body["max_devices"] == 3
    enrol(bridge, "family", {"client_user_id": "u-1"})
    answers = [bridge.play(1, "u-1", "lecture-1", player_id=f"device-{n}")[1]["result"] for n in range(4)]
    assert answers == [1, 1, 1, 0]


def drm(bridge: Bridge, items: list[dict[str, Any]] | str) -> tuple[int, Any]:
    body = urlencode({"items": items if isinstance(items, str) else json.dumps(items)}).encode()
    event = http_event(
        "POST", f"/callbacks/kollus/{DRM_TOKEN}/drm", "POST /callbacks/kollus/{token}/drm", body=body,
        path_parameters={"token": DRM_TOKEN},
    )  # fmt: skip
    response = invoke(bridge.functions["PlayFunction"], event)
    if response["statusCode"] != 200:
        return response["statusCode"], body_of(response)
    return 200, jwt.decode(response["body"], SECURITY_KEY, algorithms=["HS256"])["data"]


def test_the_drm_callback_answers_every_item(bridge: Bridge) -> None:
    course(bridge, "algo-101", "lecture-1")
    enrol(
        bridge, "algo-101", {"client_user_id": "u-1", "ends_at": iso(7 * 86400)},
        {"client_user_id": "gone", "starts_at": iso(-7200), "ends_at": iso(-3600)},
    )  # fmt: skip
    status, answers = drm(
        bridge,
        [
            {"kind": 1, "client_user_id": "u-1", "media_content_key": "lecture-1", "player_id": "p"},
            {"kind": "2", "client_user_id": "u-1", "media_content_key": "lecture-1"},
            {
                "kind": 3,
                "client_user_id": "u-1",
                "media_content_key": "lecture-1",
                "session_key": "s-1",
                "start_at": 17,
            },
            {
                "kind": 3,
                "client_user_id": "gone",
                "media_content_key": "lecture-1",
                "session_key": "s-2",
                "start_at": 9,
            },
            {"kind": 1, "client_user_id": "stranger", "media_content_key": "lecture-1"},
        ],
    )
    assert status == 200 and len(answers) == 5
    download, finished, offline, expired, refused = answers
    assert download["result"] == 1 and time.time() < download["expiration_date"] <= time.time() + 7 * 86400
    assert finished == {"kind": 2, "media_content_key": "lecture-1", "result": 1}
    assert offline == {"kind": 3, "media_content_key": "lecture-1", "result": 1, "content_expired": 0,
                       "session_key": "s-1", "start_at": 17}  # fmt: skip
    assert expired["content_expired"] == 1 and expired["result"] == 0 and expired["session_key"] == "s-2"
    assert refused["result"] == 0 and "expiration_date" not in refused and refused["message"]
    assert all(type(value) is int for answer in answers for value in answer.values() if not isinstance(value, str))
    status, log = bridge.call("GET", "/v1/access-log", "/v1/access-log", "client_user_id=u-1")
    assert sorted(item["kind"] for item in log["items"]) == ["drm_1", "drm_2", "drm_3"]


def test_unusable_drm_callbacks_are_refused_and_kept(bridge: Bridge) -> None:
    for items, field in (("not json", "items"), ("[]", "items"), ('[{"kind": 4}]', "items[0].kind"),
                         ('[{"kind": 1, "client_user_id": "u"}]', "items[0].media_content_key")):  # fmt: skip
        status, body = drm(bridge, items)
        assert status == 400 and body["error"]["field"] == field, items
    kept = [item for item in bridge.client.scan(TableName=bridge.table)["Items"] if item["pk"]["S"].startswith("R#")]
    assert len(kept) == 4 and {item["source"]["S"] for item in kept} == {"drm_callback"}


def progress(bridge: Bridge, start_at: int, player_id: str = "phone", nonce: str | None = None) -> tuple[int, Any]:
    """A progress callback of u-1's session of lecture-1 started at `start_at` on `player_id`."""
    from tests.payloads import Snapshot, callback_event  # noqa: PLC0415

    uservalues = {"uservalue99": nonce} if nonce else {}
    snapshot = Snapshot(
        client_user_id="u-1", media_content_key="lecture-1", start_at=start_at, player_id=player_id,
        block_times={0: 60.0}, uservalues=uservalues,
    )  # fmt: skip
    response = invoke(bridge.functions["CallbackFunction"], callback_event(snapshot.form_body()))
    return response["statusCode"], body_of(response)


def rejected_reasons(bridge: Bridge) -> list[str]:
    items = bridge.client.scan(TableName=bridge.table)["Items"]
    return [item["reason_code"]["S"] for item in items if "reason_code" in item]


def test_an_old_playback_url_cannot_open_new_sessions(bridge: Bridge) -> None:
    request = {"client_user_id": "u-1", "media_content_key": "lecture-1", "expires_in": 600}
    status, issued = bridge.call("POST", "/v1/playback-urls", "/v1/playback-urls", body=request)
    nonce = parse_qs(urlsplit(issued["url"]).query)["uservalue99"][0]
    now = int(time.time())
    assert progress(bridge, now, nonce=nonce)[0] == 200
    assert progress(bridge, now + 600 + 900 - 5, nonce=nonce)[0] == 200  # within the validity and the clock slack
    for start in (now + 600 + 900 + 60, now - 900 - 60, (now + 86_400) * 1000):  # later, earlier, later in ms
        status, body = progress(bridge, start, nonce=nonce)
        assert (status, body["error"]["code"], body["error"]["field"]) == (403, "forbidden", "start_at")
    assert rejected_reasons(bridge) == ["forbidden"] * 3
    # A late resend of a session the URL did open is still taken (its start_at is what counts).
    assert progress(bridge, now, nonce=nonce)[1]["result"] == "duplicate"


def test_offline_sessions_count_within_an_approved_download(bridge: Bridge) -> None:
    course(bridge, "algo-101", "lecture-1")
    enrol(bridge, "algo-101", {"client_user_id": "u-1", "ends_at": iso(10 * 86400)})
    request = {"client_user_id": "u-1", "media_content_key": "lecture-1", "expires_in": 600}
    _, issued = bridge.call("POST", "/v1/playback-urls", "/v1/playback-urls", body=request)
    nonce = parse_qs(urlsplit(issued["url"]).query)["uservalue99"][0]
    offline = int(time.time()) + 3 * 86400  # played on a plane three days later
    assert progress(bridge, offline, nonce=nonce)[0] == 403  # no download approved yet
    item = {"kind": 1, "client_user_id": "u-1", "media_content_key": "lecture-1", "player_id": "phone"}
    item["uservalues"] = json.dumps({"uservalue99": nonce})  # the download URL's values, as the player sends them
    assert drm(bridge, [item])[1][0]["result"] == 1
    assert progress(bridge, offline, nonce=nonce)[1]["result"] == "accepted"
    _, other = bridge.call("POST", "/v1/playback-urls", "/v1/playback-urls", body=request)  # another page load
    laptop = parse_qs(urlsplit(other["url"]).query)["uservalue99"][0]
    assert progress(bridge, offline, player_id="laptop", nonce=laptop)[0] == 403  # another device: not this download
    status, body = progress(bridge, int(time.time()) + 12 * 86400, nonce=nonce)  # after the enrolment ended
    assert (status, body["error"]["field"]) == (403, "start_at")


@pytest.mark.parametrize("environment", [{"REQUIRE_APPROVED_PLAY": "true", "PLAY_EXPIRY_SECONDS": "3600"}])
def test_required_approval_takes_progress_only_from_approved_devices(bridge: Bridge) -> None:
    course(bridge, "algo-101", "lecture-1")
    enrol(bridge, "algo-101", {"client_user_id": "u-1"})
    now = int(time.time())
    status, body = progress(bridge, now)
    assert (status, body["error"]["field"]) == (403, "player_id")  # the player never asked
    assert bridge.play(1, "u-1", "lecture-1", player_id="phone")[1]["result"] == 1
    assert progress(bridge, now)[1]["result"] == "accepted"
    assert progress(bridge, now, player_id="laptop")[0] == 403
    assert progress(bridge, now + 3600 + 900 + 60)[0] == 403  # a session after the approval ran out
    assert bridge.play(1, "stranger", "lecture-1", player_id="phone")[1]["result"] == 0
    assert rejected_reasons(bridge) == ["forbidden"] * 3


def test_path_parameters_are_read_as_the_client_encoded_them(bridge: Bridge) -> None:
    """API Gateway hands over the path as sent (`rawPath`): an id with a space or Korean is percent-encoded."""
    name = "알고리즘 101"
    encoded = quote(name, safe="")
    course(bridge, name, "lecture-1")  # the resolver matches rawPath, which carries the encoded id
    status, body = bridge.call("GET", f"/v1/courses/{encoded}", "/v1/courses/{course_id}", course_id=encoded)
    assert (status, body["course_id"]) == (200, name)
    enrol(bridge, name, {"client_user_id": "학생 1"})
    learner = quote("학생 1", safe="")
    status, body = bridge.call(
        "GET", f"/v1/learners/{learner}/enrollments", "/v1/learners/{client_user_id}/enrollments",
        client_user_id=learner,
    )  # fmt: skip
    assert status == 200 and [item["course_id"] for item in body["items"]] == [name]
