"""Entitlement at its edges, and the play callback's wire format and JWT answers (pure)."""

from __future__ import annotations

import json
from urllib.parse import quote, urlencode

import jwt
import pytest
from kollus_bridge.access.entitlement import Enrolment, Reason, entitlement
from kollus_bridge.errors import InvalidPayload
from kollus_bridge.kollus.callback import RawCallback
from kollus_bridge.kollus.play import USER_KEY_HEADER, answer, kind1_data, kind3_data, parse_play_callback
from kollus_bridge.settings import settings_from

SETTINGS = settings_from({"TABLE_NAME": "table", "KOLLUS_CALLBACK_TOKEN": "t", "API_TOKEN": "a"})
FORM = "application/x-www-form-urlencoded"
START, END = 1_000_000, 2_000_000


def test_an_enrolment_is_active_from_its_start_until_its_end() -> None:
    window = [Enrolment("c1", "u", START, END)]
    assert entitlement(window, {"c1"}, START).allowed  # inclusive start
    assert entitlement(window, {"c1"}, END - 1).allowed
    ended = entitlement(window, {"c1"}, END)  # exclusive end
    assert (ended.allowed, ended.reason, ended.until) == (False, Reason.ENDED, END)
    early = entitlement(window, {"c1"}, START - 1)
    assert (early.allowed, early.reason, early.starts_at) == (False, Reason.NOT_YET, START)
    assert entitlement([Enrolment("c1", "u")], {"c1"}, 0).until is None  # open-ended


def test_the_reasons_a_learner_is_refused() -> None:
    assert entitlement([Enrolment("c1", "u")], set(), 5).reason is Reason.NOT_IN_A_COURSE
    assert entitlement([Enrolment("c1", "u")], {"c2"}, 5).reason is Reason.NOT_ENROLLED
    assert entitlement([], {"c2"}, 5).reason is Reason.NOT_ENROLLED


def test_of_several_entitling_enrolments_the_longest_counts() -> None:
    enrolments = [Enrolment("c1", "u", None, END), Enrolment("c2", "u", None, END * 2), Enrolment("c3", "u", None, 10)]
    found = entitlement(enrolments, {"c1", "c2", "c3"}, START)
    assert (found.allowed, found.course_id, found.until) == (True, "c2", END * 2)
    forever = entitlement([*enrolments, Enrolment("c4", "u")], {"c1", "c4"}, START)
    assert (forever.course_id, forever.until) == ("c4", None)


def parse(**fields: str) -> object:
    return parse_play_callback(RawCallback(urlencode(fields).encode(), FORM), SETTINGS)


def test_a_play_callback_as_the_player_sends_it() -> None:
    values = json.dumps({"uservalue0": "course-7"})
    request = parse(
        kind="1", client_user_id="viewer1@example.com", player_id="548D", hardware_id="6C8C", device_name="PC",
        media_content_key="nY3CaQtl", uservalues=quote(values),  # percent-encoded twice, as samples show
    )  # fmt: skip
    assert request.kind == 1 and request.uservalues == {"uservalue0": "course-7"}  # type: ignore[attr-defined]
    assert request.device("uservalue99") == "6C8C"  # type: ignore[attr-defined]  # the hardware id tells devices apart
    for odd in ("null", "[1]", "000", "{"):  # unreadable uservalues never block playback
        assert parse(kind="3", client_user_id="u", media_content_key="m", uservalues=odd).uservalues == {}  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": "2", "client_user_id": "u", "media_content_key": "m"}, "kind"),
        ({"kind": "one", "client_user_id": "u", "media_content_key": "m"}, "kind"),
        ({"kind": "1", "media_content_key": "m"}, "client_user_id"),
        ({"kind": "1", "client_user_id": "u"}, "media_content_key"),
        ({"kind": "1", "client_user_id": "u", "media_content_key": "m", "uservalues": "a\x01"}, "uservalues"),
    ],
)
def test_unusable_play_callbacks_are_refused_naming_the_field(fields: dict[str, str], field: str) -> None:
    with pytest.raises(InvalidPayload) as caught:
        parse(**fields)
    assert caught.value.field == field


def test_the_answer_is_an_hs256_jwt_of_integers_with_the_custom_key_header() -> None:
    body, headers = answer(kind1_data(True, 1_795_305_600), "security-key", "custom-key")
    assert headers[USER_KEY_HEADER] == "custom-key"
    claims = jwt.decode(body, "security-key", algorithms=["HS256"])
    assert claims == {"data": {"result": 1, "expiration_date": 1_795_305_600}}
    assert all(type(value) is int for value in claims["data"].values())
    refused = jwt.decode(answer(kind1_data(False, 5, "enrolment ended"), "k", "c")[0], "k", algorithms=["HS256"])
    assert refused["data"] == {"result": 0, "expiration_date": 5, "message": "enrolment ended"}
    final = jwt.decode(answer(kind3_data(False, True, "ended"), "k", "c")[0], "k", algorithms=["HS256"])
    assert final["data"] == {"result": 0, "content_expired": 1, "message": "ended"}
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(body, "another-key", algorithms=["HS256"])
    with pytest.raises(TypeError):
        answer({"result": True}, "k", "c")  # a boolean is not an integer to Kollus


def test_a_device_limit_admits_playing_devices_and_new_ones_up_to_it() -> None:
    from kollus_bridge.access.devices import admit, playing  # noqa: PLC0415

    idle = 120_000
    devices = {"phone": 1_000, "laptop": 50_000, "old-tablet": -200_000}
    assert playing(devices, 100_000, idle) == {"phone": 1_000, "laptop": 50_000}  # the tablet went idle
    assert admit(devices, "tv", 100_000, idle, 2) is None  # two already playing
    assert admit(devices, "phone", 100_000, idle, 2) == {"phone": 100_000, "laptop": 50_000}  # a playing one goes on
    assert admit(devices, "tv", 125_000, idle, 2) == {"laptop": 50_000, "tv": 125_000}  # the phone went idle
    assert admit({}, "tv", 0, idle, 1) == {"tv": 0}
