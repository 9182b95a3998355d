"""Input no client should send, at every door: each gets a 4xx in the one error shape (never a 5xx),
a callback's is kept in the rejected store, and nothing stored can hold what UTF-8 cannot."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.handler.test_access import Bridge
from tests.helpers import body_of, functions_on_moto, invoke
from tests.payloads import API_TOKEN, CALLBACK_TOKEN, DRM_TOKEN, FORM, PLATFORM_TOKEN, PLAY_TOKEN, http_event

#: door -> (function, route, its token)
DOORS = {
    "callback": ("CallbackFunction", "POST /callbacks/kollus/{token}", CALLBACK_TOKEN),
    "play": ("PlayFunction", "POST /callbacks/kollus/{token}/play", PLAY_TOKEN),
    "drm": ("PlayFunction", "POST /callbacks/kollus/{token}/drm", DRM_TOKEN),
    "platform": ("PlatformFunction", "POST /callbacks/kollus/{token}/platform", PLATFORM_TOKEN),
}
#: A fair payload of each door, as form fields (the DRM callback's `items` is JSON in a field).
FAIR = {
    "callback": {"client_user_id": "learner-1", "media_content_key": "lecture-1", "start_at": "1710395296",
                 "block_cnt": "4", "block_play_1": "1", "block_time_1": "60"},
    "play": {"kind": "1", "client_user_id": "learner-1", "media_content_key": "lecture-1", "hardware_id": "hw-1"},
    "drm": {"items": json.dumps([{"kind": 1, "client_user_id": "learner-1", "media_content_key": "lecture-1",
                                  "hardware_id": "hw-1"}])},
    "platform": {"upload_file_key": "uf-1", "transcoding_result": "success"},
}  # fmt: skip


class Doors(Bridge):
    def post(self, door: str, body: bytes, content_type: str | None = FORM) -> tuple[int, Any]:
        function, route, token = DOORS[door]
        path = route.split(" ", 1)[1].replace("{token}", token)
        event = http_event("POST", path, route, body=body, content_type=content_type, path_parameters={"token": token})
        response = invoke(self.functions[function], event)
        status = response["statusCode"]
        return status, body_of(response) if status != 200 or door in ("callback", "platform") else response["body"]

    def kept(self) -> list[dict[str, Any]]:
        items = self.client.scan(TableName=self.table)["Items"]
        return [item for item in items if item["pk"]["S"].startswith("R#")]


@pytest.fixture
def doors(
    function_environment: Callable[[dict[str, str]], None], load_functions: Callable[[], dict[str, ModuleType]]
) -> Iterator[Doors]:
    with functions_on_moto(function_environment, load_functions, {}) as (functions, client, table):
        yield Doors(functions, client, table)


def json_text(fields: dict[str, str], lone: str) -> bytes:
    """The fair payload as a JSON body, the first text field holding a lone surrogate escape."""
    document: dict[str, Any] = dict(fields)
    if "items" in document:
        items = json.loads(document["items"])
        items[0]["client_user_id"] = lone
        document = {"items": json.dumps(items)}
    else:
        first = next(name for name in document if not document[name].isdigit())
        document[first] = lone
    return json.dumps(document).encode()


def superscripted(fields: dict[str, str]) -> dict[str, str]:
    """The fair payload with `²` for every number (in the DRM callback's items too)."""
    if "items" in fields:
        items = json.loads(fields["items"])
        return {"items": json.dumps([{**item, "kind": "²"} for item in items])}
    return {name: "²" if value.isdigit() else value for name, value in fields.items()}


HOSTILE: list[tuple[str, Callable[[dict[str, str]], tuple[bytes, str]]]] = [
    ("lone surrogate in JSON", lambda fields: (json_text(fields, "\ud800"), "application/json")),
    ("lone low surrogate in JSON", lambda fields: (json_text(fields, "x\udfff"), "application/json")),
    ("superscript digit in a number", lambda fields: (urlencode(superscripted(fields)).encode(), FORM)),
    ("superscript digit in a field name", lambda fields: (
        urlencode({**fields, "block_play_²": "1", "block_time_²": "1", "uservalue²": "x"}).encode(), FORM)),
    ("charset=base64", lambda fields: (base64.b64encode(urlencode(fields).encode()), f"{FORM}; charset=base64")),
    ("charset=rot13", lambda fields: (urlencode(fields).encode(), f"{FORM}; charset=rot13")),
    ("charset=zlib", lambda fields: (urlencode(fields).encode(), f"{FORM}; charset=zlib")),
    ("charset=hex", lambda fields: (urlencode(fields).encode().hex().encode(), f"{FORM}; charset=hex")),
]  # fmt: skip


#: The platform callbacks carry no number: there is none to write as `²`.
CASES = [
    (door, case, build)
    for door in DOORS
    for case, build in HOSTILE
    if (door, case) != ("platform", "superscript digit in a number")
]
SOURCES = {"callback": "lms_callback", "play": "play_callback", "drm": "drm_callback", "platform": "platform_callback"}


@pytest.mark.parametrize(("door", "case", "build"), CASES, ids=[f"{door}-{case}" for door, case, _ in CASES])
def test_every_door_refuses_what_it_cannot_read_and_keeps_it(
    doors: Doors, door: str, case: str, build: Callable[[dict[str, str]], tuple[bytes, str]]
) -> None:
    body, content_type = build(FAIR[door])
    status, answer = doors.post(door, body, content_type)
    if case == "superscript digit in a field name" and status == 200:
        return  # names that are no Kollus variable are ignored, as unknown fields are: not a 500
    assert status in (400, 415), (case, status, answer)
    assert set(answer) == {"error"} and set(answer["error"]) == {"code", "message", "field"}
    kept = doors.kept()
    assert len(kept) == 1 and kept[0]["source"]["S"] == SOURCES[door]


def test_a_lone_surrogate_never_reaches_a_stored_uservalue(doors: Doors) -> None:
    fields = {**FAIR["callback"], "json_data": '{"uservalues": {"uservalue0": "\\ud800"}}'}
    status, answer = doors.post("callback", urlencode(fields).encode())
    assert status == 400 and answer["error"]["field"] == "json_data"
    status, answer = doors.post("callback", json.dumps({**FAIR["callback"], "uservalue0": "\ud83d\ude00"}).encode(),
                                "application/json")  # fmt: skip
    assert status == 200, answer  # a pair is a character (😀), and welcome


@pytest.mark.parametrize(
    ("route", "body", "field"),
    [
        ("/v1/uploads", '{"title": "\\ud800"}', "title"),
        ("/v1/playback-urls", '{"client_user_id": "l-\\udc00", "media_content_key": "c"}', "client_user_id"),
        ("/v1/playback-urls", '{"client_user_id": "l", "media_content_key": "c", "uservalues": {"uservalue0": '
         '"\\ud800"}}', "uservalues.uservalue0"),
    ],
)  # fmt: skip
def test_the_api_refuses_lone_surrogates_in_json_bodies(doors: Doors, route: str, body: str, field: str) -> None:
    event = http_event("POST", route, f"POST {route}", body=body.encode(), content_type="application/json",
                       headers={"authorization": f"Bearer {API_TOKEN}"}, base64_body=False)  # fmt: skip
    response = invoke(doors.functions["ApiFunction"], event)
    assert response["statusCode"] == 400, response
    assert body_of(response)["error"]["field"] in (field, "body")


def forged_token(key: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("route", "query_of"),
    [
        ("/v1/progress", lambda token: f"client_user_id=learner-1&next_token={token}"),
        ("/v1/progress", lambda token: f"media_content_key=lecture-1&next_token={token}"),
        ("/v1/sync", lambda token: f"state=failed&next_token={token}"),
    ],
)
def test_forged_page_tokens_are_the_clients_error(doors: Doors, route: str, query_of: Callable[[str], str]) -> None:
    # The right attribute names and types, with values DynamoDB refuses (empty, 39 digits, ², lone surrogate).
    status, valid = doors.call("GET", route, route, query_of(""))
    assert status == 200, valid
    for forged_value in ("", "9" * 39, "²", "\ud800", "-" * 3000):
        for names in (("pk", "sk"), ("pk", "sk", "content_key"), ("pk", "sk", "sync_state", "sync_changed_at")):
            key = {name: {"S": forged_value} for name in names}
            token = forged_token(key).replace("=", "")
            status, answer = doors.call("GET", route, route, query_of(token))
            assert status == 400, (route, names, forged_value, answer)
            assert answer["error"]["field"] == "next_token"


@pytest.mark.parametrize("token", ["v1.é.x", "v1.\u00e9\u00e9.\u00e9", "ünï.códe", "v1." + "\u3042" * 40 + ".x"])
def test_a_view_link_that_is_not_ascii_is_refused_without_a_5xx(doors: Doors, token: str) -> None:
    event = http_event("GET", f"/v1/views/{token}", "GET /v1/views/{token}", content_type=None)
    event["pathParameters"] = {"token": token}
    response = invoke(doors.functions["ApiFunction"], event)
    assert response["statusCode"] == 403, response


SHORT = {"client_user_id": "l", "media_content_key": "c"}


@pytest.mark.parametrize(
    ("request_body", "field"),
    [
        ({"client_user_id": " learner-1", "media_content_key": "lecture-1"}, "client_user_id"),
        ({"client_user_id": "learner-1", "media_content_key": "lecture-1\t"}, "media_content_key"),
        ({"client_user_id": "learner\x01", "media_content_key": "lecture-1"}, "client_user_id"),
        ({"client_user_id": "null", "media_content_key": "lecture-1"}, "client_user_id"),
        ({"client_user_id": "{CLIENT_USER_ID}", "media_content_key": "lecture-1"}, "client_user_id"),
        ({**SHORT, "uservalues": {"uservalue0": "a\x00"}}, "uservalues.uservalue0"),
        ({**SHORT, "uservalues": {"uservalue1": " x"}}, "uservalues.uservalue1"),
        ({"client_user_id": "l", "media_content_key": "c", "seekable_end": 10**40}, "seekable_end"),
    ],
)  # fmt: skip
def test_no_playback_url_is_signed_for_what_its_callbacks_would_refuse(
    doors: Doors, request_body: dict[str, Any], field: str
) -> None:
    status, answer = doors.call("POST", "/v1/playback-urls", "/v1/playback-urls", body=request_body)
    assert status == 400, answer
    assert answer["error"]["field"] == field


def test_an_enrolment_must_end_after_it_starts(doors: Doors) -> None:
    path = "/v1/courses/algo-101/enrollments"
    route = "/v1/courses/{course_id}/enrollments"
    course = {"title": "Algo", "media_content_keys": ["lecture-1"]}
    status, _ = doors.call("PUT", "/v1/courses/algo-101", "/v1/courses/{course_id}", body=course, course_id="algo-101")
    assert status == 200
    backwards = {"client_user_id": "u", "starts_at": "2027-01-01T00:00:00Z", "ends_at": "2026-12-01T00:00:00Z"}
    status, answer = doors.call("PUT", path, route, body={"enrollments": [backwards]}, course_id="algo-101")
    assert status == 400 and answer["error"]["field"] == "enrollments.0.ends_at", answer
    same = {**backwards, "ends_at": backwards["starts_at"]}
    status, answer = doors.call("PUT", path, route, body={"enrollments": [same]}, course_id="algo-101")
    assert status == 400, answer
    fine = {**backwards, "ends_at": "2027-02-01T00:00:00Z"}
    status, answer = doors.call("PUT", path, route, body={"enrollments": [fine]}, course_id="algo-101")
    assert status == 200, answer


def test_a_drm_request_is_capped_and_reads_each_learner_and_content_once(doors: Doors) -> None:
    store = doors.functions["PlayFunction"].store
    calls: list[str] = []
    for name in ("enrolments_of", "courses_holding", "log_access", "log_accesses"):
        original = getattr(store, name)

        def counted(*args: Any, name: str = name, original: Any = original, **kwargs: Any) -> Any:
            calls.append(name)
            return original(*args, **kwargs)

        setattr(store, name, counted)
    items = [{"kind": 3, "client_user_id": "learner-1", "media_content_key": f"lecture-{at % 5}",
              "hardware_id": "hw-1"} for at in range(200)]  # fmt: skip
    status, answer = doors.post("drm", urlencode({"items": json.dumps(items)}).encode())
    assert status == 200, answer
    assert sorted(calls) == ["courses_holding"] * 5 + ["enrolments_of", "log_accesses"]
    status, answer = doors.post("drm", urlencode({"items": json.dumps([*items, items[0]])}).encode())
    assert status == 400 and answer["error"]["field"] == "items" and "200" in answer["error"]["message"]
    assert [item["source"]["S"] for item in doors.kept()] == ["drm_callback"]
