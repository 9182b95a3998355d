"""A learner who can post anything a player could: forged completions, omitted times, old URLs, frozen
records and squatted devices, each tried against the functions on moto."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from kollus_bridge.kollus.playback import sign_nonce

from local.stack import LOCAL_DEFAULTS
from tests.handler.test_access import Bridge, course, drm, enrol
from tests.helpers import body_of, invoke
from tests.payloads import FORM, Snapshot, callback_event, flat_form

CLOCK = {"ENFORCE_PLAYBACK_CLOCK": "true"}
NONCE_KEY = LOCAL_DEFAULTS["PLAYBACK_NONCE_KEY"]
DAY = 86_400


def post(bridge: Bridge, body: bytes, content_type: str = FORM) -> tuple[int, Any]:
    response = invoke(bridge.functions["CallbackFunction"], callback_event(body, content_type=content_type))
    return response["statusCode"], body_of(response)


def flat(learner: str, start_at: int, block_count: int, blocks: Mapping[int, float | None], **fields: object) -> bytes:
    return flat_form(learner, "lecture-1", start_at, block_count, blocks, **fields)


def detail(bridge: Bridge, learner: str) -> dict[str, Any]:
    status, body = bridge.call(
        "GET", "/v1/progress", "/v1/progress", query=f"client_user_id={learner}&media_content_key=lecture-1"
    )
    assert status == 200, body
    return body  # type: ignore[no-any-return]


def honest_grid(bridge: Bridge, now: int) -> None:
    """An honest player of the 50-block lecture (600 s, 12 s a block) reports its grid."""
    first = Snapshot(
        client_user_id="honest", media_content_key="lecture-1", start_at=now, block_count=50, block_times={0: 12.0}
    )
    assert post(bridge, first.form_body())[1]["result"] == "accepted"


@pytest.mark.parametrize("environment", [CLOCK])
def test_one_coarse_callback_completes_nothing(bridge: Bridge) -> None:
    now = int(time.time())
    honest_grid(bridge, now)
    status, body = post(bridge, flat("u-1", now, 1, {0: None}, duration=600))  # the whole lecture, one flag
    assert status == 200 and (body["block_count"], body["watched_blocks"], body["completed"]) == (50, 0, False)
    status, body = post(bridge, flat("u-1", now + 1, 1, {0: 600.0}, duration=600))  # with a block time for it all
    assert status == 200 and body["block_count"] == 50 and not body["completed"]
    assert body["watched_blocks"] == 10  # 120 s of content: the first minute at twice the speed
    record = detail(bridge, "u-1")
    assert record["limited_sessions"] == 2 and record["suspicious_sessions"] == 1
    assert sorted(entry["limit"] for entry in record["credit"]) == ["clock", "grid"]
    assert {entry["block_count"] for entry in record["credit"]} == {1}


@pytest.mark.parametrize("environment", [CLOCK])
def test_leaving_times_out_makes_a_callback_weaker_never_stronger(bridge: Bridge) -> None:
    now = int(time.time())
    honest_grid(bridge, now)
    every_block = dict.fromkeys(range(50))
    status, without = post(bridge, flat("u-1", now, 50, every_block))  # no block times, no duration, no run time
    _, timed = post(bridge, flat("u-2", now, 50, dict.fromkeys(range(50), 12.0), duration=600, run_time=30))
    assert status == 200 and without["watched_blocks"] == timed["watched_blocks"] == 10
    assert not without["completed"] and not timed["completed"]
    for learner in ("u-1", "u-2"):
        (session,) = detail(bridge, learner)["credit"]
        assert (session["claimed_blocks"], session["credited_blocks"], session["limit"]) == (50, 10, "clock")
        assert session["suspicious"]  # the server's clock flags it, whatever the callback left out


@pytest.mark.parametrize("environment", [CLOCK])
def test_credit_grows_with_the_time_the_server_saw_pass(bridge: Bridge, monkeypatch: pytest.MonkeyPatch) -> None:
    callback: ModuleType = bridge.functions["CallbackFunction"]
    now = int(time.time())
    honest_grid(bridge, now)
    blocks = dict.fromkeys(range(50), 12.0)
    monkeypatch.setattr(callback, "now_ms", lambda: now * 1000)
    assert post(bridge, flat("u-1", now, 50, blocks, duration=600, play_time=120))[1]["watched_blocks"] == 10
    monkeypatch.setattr(callback, "now_ms", lambda: (now + 150) * 1000)  # 2.5 minutes: 7 minutes at 2x
    assert post(bridge, flat("u-1", now, 50, blocks, duration=600, play_time=300))[1]["watched_blocks"] == 35
    monkeypatch.setattr(callback, "now_ms", lambda: (now + 240) * 1000)  # 4 minutes: all 10 at 2x
    status, body = post(bridge, flat("u-1", now, 50, blocks, duration=600, play_time=480))
    assert (status, body["watched_blocks"], body["completed"]) == (200, 50, True)
    flags = bridge.call("GET", "/v1/progress/flags", "/v1/progress/flags", query="media_content_key=lecture-1")[1]
    (flag,) = flags["items"]  # the session stays listed with its newest limited callback
    assert (flag["client_user_id"], flag["claimed_blocks"], flag["credited_blocks"]) == ("u-1", 50, 35)
    assert detail(bridge, "u-1")["credit"][0]["limit"] is None  # its newest callback was credited in full


@pytest.mark.parametrize("environment", [CLOCK])
def test_limited_sessions_are_listed_for_the_instructor(bridge: Bridge) -> None:
    now = int(time.time())
    honest_grid(bridge, now)
    for learner in ("u-1", "u-2", "u-3"):
        assert post(bridge, flat(learner, now, 50, dict.fromkeys(range(50), 12.0), duration=600))[0] == 200
    query = "media_content_key=lecture-1&limit=2"
    status, page = bridge.call("GET", "/v1/progress/flags", "/v1/progress/flags", query=query)
    assert status == 200 and len(page["items"]) == 2 and page["next_token"]
    _, rest = bridge.call(
        "GET", "/v1/progress/flags", "/v1/progress/flags", query=f"{query}&next_token={page['next_token']}"
    )
    listed = page["items"] + rest["items"]
    assert sorted(item["client_user_id"] for item in listed) == ["u-1", "u-2", "u-3"]
    assert {(item["claimed_blocks"], item["credited_blocks"], item["limit"]) for item in listed} == {(50, 10, "clock")}
    status, refused = bridge.call("GET", "/v1/progress/flags", "/v1/progress/flags", query="limit=2")
    assert status == 400 and refused["error"]["field"] == "media_content_key"


def test_an_old_url_opens_no_new_session_whatever_start_at_it_claims(bridge: Bridge) -> None:
    """Default settings: a 30-day-old nonce, its callback back-dating `start_at` into the URL's validity."""
    now = int(time.time())
    issued = now - 30 * DAY
    old = sign_nonce(NONCE_KEY, "u-1", "lecture-1", issued, issued + 600)
    session = Snapshot(
        client_user_id="u-1", media_content_key="lecture-1", start_at=issued + 10, block_times={0: 60.0},
        uservalues={"uservalue99": old},
    )  # fmt: skip
    status, body = post(bridge, session.form_body())
    assert (status, body["error"]["code"], body["error"]["field"]) == (403, "forbidden", "start_at")
    fresh = sign_nonce(NONCE_KEY, "u-1", "lecture-1", now, now + 600)
    current = Snapshot(
        client_user_id="u-1", media_content_key="lecture-1", start_at=now, block_times={0: 60.0},
        uservalues={"uservalue99": fresh},
    )  # fmt: skip
    assert post(bridge, current.form_body())[1]["result"] == "accepted"


def test_a_download_approval_never_revives_an_old_streaming_url(bridge: Bridge) -> None:
    course(bridge, "algo-101", "lecture-1")
    enrol(bridge, "algo-101", {"client_user_id": "u-1"})
    now = int(time.time())
    stale = sign_nonce(NONCE_KEY, "u-1", "lecture-1", now - 5 * DAY, now - 5 * DAY + 600)
    item = {"kind": 1, "client_user_id": "u-1", "media_content_key": "lecture-1", "player_id": "khp"}
    item["uservalues"] = json.dumps({"uservalue99": stale})
    assert drm(bridge, [item])[1][0]["result"] == 1  # the download itself is the learner's right
    session = Snapshot(
        client_user_id="u-1", media_content_key="lecture-1", start_at=now, block_times={0: 60.0},
        uservalues={"uservalue99": stale},
    )  # fmt: skip
    status, body = post(bridge, session.form_body())
    assert (status, body["error"]["field"]) == (403, "start_at")


def test_a_record_refuses_uservalues_past_its_bound_and_keeps_the_payload(bridge: Bridge) -> None:
    values = {f"uservalue{slot}": "x" * 2000 for slot in range(3)}
    session = Snapshot(client_user_id="u-1", media_content_key="lecture-1", block_times={0: 60.0}, uservalues=values)
    status, body = post(bridge, session.form_body())
    assert (status, body["error"]["field"]) == (400, "uservalues")
    kept = bridge.client.scan(TableName=bridge.table)["Items"]
    assert [item["reason_code"]["S"] for item in kept if "reason_code" in item] == ["invalid_payload"]


def play(bridge: Bridge, kind: int, nonce: str | None, learner: str = "u-1", **device: str) -> dict[str, Any]:
    extra = {"player_id": "khp", **device}
    if nonce is not None:
        extra["uservalues"] = json.dumps({"uservalue99": nonce})
    status, data, _ = bridge.play(kind, learner, "lecture-1", **extra)
    assert status == 200
    return data


def page_load(bridge: Bridge, learner: str = "u-1") -> str:
    request = {"client_user_id": learner, "media_content_key": "lecture-1", "expires_in": 600}
    _, issued = bridge.call("POST", "/v1/playback-urls", "/v1/playback-urls", body=request)
    return str(parse_qs(urlsplit(issued["url"]).query)["uservalue99"][0])


@pytest.mark.parametrize("environment", [{"MAX_CONCURRENT_DEVICES": "1"}])
def test_two_browsers_of_one_learner_are_two_devices_and_every_approval_counts_them(bridge: Bridge) -> None:
    course(bridge, "algo-101", "lecture-1")
    enrol(bridge, "algo-101", {"client_user_id": "u-1"})
    first, second = page_load(bridge), page_load(bridge)  # two browsers, both `khp`
    assert play(bridge, 1, first)["result"] == 1
    refused = play(bridge, 1, second)
    assert refused["result"] == 0 and "기기" in refused["message"]
    assert play(bridge, 3, second)["result"] == 0  # the final approval obeys the same limit
    download = {"kind": 1, "client_user_id": "u-1", "media_content_key": "lecture-1", "player_id": "khp"}
    download["uservalues"] = json.dumps({"uservalue99": second})
    assert drm(bridge, [download])[1][0]["result"] == 0  # so does a download
    assert play(bridge, 3, first)["result"] == 1  # the playing browser goes on
    nobody = play(bridge, 1, None)  # `khp`, no hardware id, no nonce: nothing to count
    assert nobody["result"] == 0 and nobody["message"]
    log = bridge.call("GET", "/v1/access-log", "/v1/access-log", query="client_user_id=u-1")[1]["items"]
    assert {"too_many_devices", "no_device_identity"} <= {entry["reason"] for entry in log}


@pytest.mark.parametrize("environment", [{"MAX_CONCURRENT_DEVICES": "2", "REQUIRE_SIGNED_PLAYBACK": "true"}])
def test_nobody_squats_on_another_learners_devices(bridge: Bridge) -> None:
    course(bridge, "algo-101", "lecture-1")
    enrol(bridge, "algo-101", {"client_user_id": "victim"}, {"client_user_id": "mallory"})
    for made_up in ("A" * 40, "B" * 40):  # two device ids posted for the victim, without a URL of theirs
        assert play(bridge, 1, None, learner="victim", player_id=made_up)["result"] == 0
    borrowed = page_load(bridge, "mallory")  # a valid URL, but of another learner
    assert play(bridge, 1, borrowed, learner="victim", hardware_id="C" * 40)["result"] == 0
    assert play(bridge, 1, page_load(bridge, "victim"), learner="victim")["result"] == 1
    assert play(bridge, 1, page_load(bridge, "victim"), learner="victim")["result"] == 1  # both places free
