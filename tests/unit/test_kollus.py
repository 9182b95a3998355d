"""Parsing Kollus callbacks: both wire forms, the traps of the reference doc, and every refusal."""

from __future__ import annotations

import json
from urllib.parse import quote, urlencode

import pytest
from kollus_bridge.errors import InvalidPayload, PayloadTooLarge, UnsupportedMediaType
from kollus_bridge.kollus.callback import Callback, RawCallback, parse_callback
from kollus_bridge.settings import Settings, settings_from

from tests.payloads import FORM, Snapshot

SETTINGS = settings_from({"TABLE_NAME": "table", "KOLLUS_CALLBACK_TOKEN": "t", "API_TOKEN": "a"})

REFERENCE_JSON_DATA = {
    "user_info": {
        "content_provider_key": "catenoid-sample",
        "client_user_id": "user-1042",
        "player_id": "khp",
        "hardware_id": "",
        "host_name": "catenoid.video.kr.kollus.com",
        "device": "PC",
    },
    "content_info": {
        "media_content_key": "nY3CaQtl",
        "channel_key": "a1b2c3d4",
        "encoding_profile": "pc1",
        "duration": 600,
        "start_at": 1710395296,
        "serial": 2,
        "playtime": 75,
        "real_playtime": 75,
        "playtime_percent": 12,
        "last_play_at": 406,
        "runtime": 90,
        "showtime": 75,
    },
    "block_info": {
        "block_count": 10,
        "blocks": {"b0": 1, "t0": 60, "p0": 100, "b1": 0, "t1": 0, "p1": 0, "b6": 1, "t6": 15, "p6": 25},
        "sessions": [{"block": 0, "start_time": 0, "play_time": 60}, {"block": 6, "start_time": 391, "play_time": 15}],
    },
    "uservalues": {"uservalue0": "course-77"},
}


def parse(
    body: bytes | str, content_type: str | None = FORM, query: str = "", settings: Settings = SETTINGS
) -> Callback:
    data = body.encode() if isinstance(body, str) else body
    return parse_callback(RawCallback(body=data, content_type=content_type, query=query), settings)


def form(**variables: object) -> str:
    return urlencode({key: value if isinstance(value, str) else json.dumps(value) for key, value in variables.items()})


def refused(body: bytes | str, content_type: str | None = FORM, query: str = "") -> InvalidPayload:
    with pytest.raises(InvalidPayload) as caught:
        parse(body, content_type, query)
    return caught.value


class TestJsonData:
    def test_reference_example_is_read_field_by_field(self) -> None:
        callback = parse(form(json_data=REFERENCE_JSON_DATA))
        assert callback.client_user_id == "user-1042"
        assert callback.media_content_key == "nY3CaQtl"
        assert callback.start_at == 1710395296
        assert callback.player_id == "khp"
        assert callback.block_count == 10
        assert callback.duration == 600
        assert callback.serial == 2
        assert (callback.play_time, callback.real_play_time, callback.last_play_at) == (75, 75, 406)
        assert (callback.run_time, callback.show_time, callback.playtime_percent) == (90, 75, 12)
        assert callback.host_name == "catenoid.video.kr.kollus.com"
        assert callback.device == "PC"
        assert callback.encoding_profile == "pc1"
        assert callback.channel_key == "a1b2c3d4"
        assert callback.uservalues == {"uservalue0": "course-77"}

    def test_blocks_are_zero_based_and_missing_blocks_were_not_played(self) -> None:
        blocks = parse(form(json_data=REFERENCE_JSON_DATA)).blocks
        assert sorted(blocks) == [0, 1, 6]
        assert blocks[0].played and blocks[0].seconds == 60 and blocks[0].percent == 100
        assert not blocks[1].played
        assert blocks[6].played and blocks[6].seconds == 15

    def test_numbers_may_be_strings_or_floats(self) -> None:
        data = json.loads(json.dumps(REFERENCE_JSON_DATA))
        data["content_info"].update(duration="600.0", start_at="1710395296", playtime=75.5, serial="2")
        data["block_info"]["block_count"] = "10"
        data["block_info"]["blocks"]["t0"] = "60"
        callback = parse(form(json_data=data))
        assert (callback.duration, callback.start_at, callback.play_time, callback.serial) == (600, 1710395296, 75.5, 2)
        assert callback.block_count == 10 and callback.blocks[0].seconds == 60

    def test_device_name_nulls_and_fallback_to_flat_variables(self) -> None:
        data = json.loads(json.dumps(REFERENCE_JSON_DATA))
        del data["user_info"]["device"]
        data["user_info"]["device_name"] = "iPhone"
        data["user_info"]["client_user_id"] = None
        data["content_info"]["showtime"] = None
        callback = parse(form(json_data=data, client_user_id="from-template"))
        assert callback.device == "iPhone"
        assert callback.client_user_id == "from-template"
        assert callback.show_time is None

    def test_json_data_wins_over_flat_variables(self) -> None:
        callback = parse(form(json_data=REFERENCE_JSON_DATA, media_content_key="other", block_cnt="20"))
        assert callback.media_content_key == "nY3CaQtl"
        assert callback.block_count == 10

    def test_sessions_and_unknown_keys_are_tolerated(self) -> None:
        data = json.loads(json.dumps(REFERENCE_JSON_DATA))
        data["block_info"]["blocks"]["x9"] = 5
        data["block_info"]["sessions"] = "not documented"
        data["something_new"] = {"a": 1}
        assert parse(form(json_data=data)).block_count == 10

    def test_json_body_of_json_data_itself(self) -> None:
        callback = parse(json.dumps(REFERENCE_JSON_DATA), content_type="application/json")
        assert callback.client_user_id == "user-1042" and sorted(callback.blocks) == [0, 1, 6]

    def test_json_body_carrying_json_data_as_a_string(self) -> None:
        body = json.dumps({"json_data": json.dumps(REFERENCE_JSON_DATA)})
        assert parse(body, content_type="application/json; charset=utf-8").media_content_key == "nY3CaQtl"


class TestFlatForm:
    def test_flat_blocks_are_one_based(self) -> None:
        snapshot = Snapshot(block_count=4, duration=240, block_times={0: 60, 3: 10})
        callback = parse(snapshot.flat_body())
        assert callback.blocks[0].played and callback.blocks[0].seconds == 60
        assert callback.blocks[3].played and callback.blocks[3].seconds == 10
        assert not callback.blocks[1].played

    def test_placeholders_and_empty_values_are_absent(self) -> None:
        callback = parse(Snapshot().flat_body())
        assert callback.play_status is None and callback.show_time is None
        callback = parse(form(client_user_id="u", media_content_key="m", start_at="1", block_cnt="2", duration=""))
        assert callback.duration is None

    def test_query_and_body_merge_and_the_body_wins(self) -> None:
        query = "client_user_id=from-query&media_content_key=m&uservalue3=q"
        callback = parse(form(client_user_id="from-body", start_at="5", block_cnt="3"), query=query)
        assert callback.client_user_id == "from-body"
        assert callback.media_content_key == "m"
        assert callback.uservalues == {"uservalue3": "q"}

    def test_everything_in_the_query_string_with_an_empty_body(self) -> None:
        query = "client_user_id=u&media_content_key=m&start_at=7&block_cnt=2&block_play_2=1"
        callback = parse(b"", content_type=None, query=query)
        assert callback.blocks[1].played and callback.start_at == 7

    def test_plus_is_a_space_and_utf8_is_decoded(self) -> None:
        body = "client_user_id=kim+min-ji&media_content_key=m&start_at=1&block_cnt=1&uservalue0=" + quote("국어 1강")
        callback = parse(body)
        assert callback.client_user_id == "kim min-ji"
        assert callback.uservalues == {"uservalue0": "국어 1강"}

    def test_declared_charset_is_honoured(self) -> None:
        body = "client_user_id=u&media_content_key=m&start_at=1&block_cnt=1&uservalue1=" + quote(
            "강의".encode("euc-kr")
        )
        callback = parse(body, content_type=f"{FORM}; charset=euc-kr")
        assert callback.uservalues == {"uservalue1": "강의"}

    def test_short_clip_with_duration_below_block_count(self) -> None:
        snapshot = Snapshot(block_count=10, duration=4, block_times=dict.fromkeys(range(10), 1))
        callback = parse(snapshot.flat_body())
        assert callback.duration == 4 and len(callback.blocks) == 10

    def test_field_names_follow_the_customers_template(self) -> None:
        settings = settings_from(
            {
                "TABLE_NAME": "table",
                "KOLLUS_CALLBACK_TOKEN": "t",
                "API_TOKEN": "a",
                "KOLLUS_FIELD_NAMES": json.dumps({"client_user_id": "uid", "block_play_": "bp", "block_cnt": "n"}),
            }
        )
        callback = parse("uid=u&media_content_key=m&start_at=1&n=3&bp3=1", settings=settings)
        assert callback.client_user_id == "u" and callback.block_count == 3 and callback.blocks[2].played


class TestRefusals:
    @pytest.mark.parametrize("missing", ["client_user_id", "media_content_key", "start_at", "block_cnt"])
    def test_required_variables(self, missing: str) -> None:
        variables = {"client_user_id": "u", "media_content_key": "m", "start_at": "1", "block_cnt": "2"}
        variables[missing] = "{" + missing.upper() + "}"
        assert refused(urlencode(variables)).field == missing

    @pytest.mark.parametrize(
        ("value", "reason"),
        [
            ("-1", "negative"),
            ("abc", "number"),
            ("NaN", "number"),
            ("Infinity", "number"),
            ("1e999", "finite"),
            ("9" * 30, "range"),
            ("0x10", "number"),
            ("1_000", "number"),
        ],
    )
    def test_bad_numbers(self, value: str, reason: str) -> None:
        error = refused(f"client_user_id=u&media_content_key=m&start_at=1&block_cnt=2&duration={value}")
        assert error.field == "duration" and reason in error.message

    def test_json_nan_and_infinity_are_refused(self) -> None:
        text = json.dumps(REFERENCE_JSON_DATA).replace('"duration": 600', '"duration": NaN')
        assert refused(urlencode({"json_data": text})).field == "json_data"
        text = json.dumps(REFERENCE_JSON_DATA).replace('"duration": 600', '"duration": -Infinity')
        assert refused(urlencode({"json_data": text})).field == "json_data"

    def test_block_index_outside_the_block_count(self) -> None:
        data = json.loads(json.dumps(REFERENCE_JSON_DATA))
        data["block_info"]["blocks"]["b10"] = 1
        assert refused(form(json_data=data)).field == "json_data.block_info.blocks.b10"
        for name in ("block_play_0", "block_play_3"):
            error = refused(f"client_user_id=u&media_content_key=m&start_at=1&block_cnt=2&{name}=1")
            assert error.field == name

    @pytest.mark.parametrize("count", ["0", "10001", "1e9"])
    def test_absurd_block_counts(self, count: str) -> None:
        assert refused(f"client_user_id=u&media_content_key=m&start_at=1&block_cnt={count}").field == "block_cnt"

    @pytest.mark.parametrize(
        "json_data",
        ['{"user_info": ', "[1, 2]", '"text"', "[" * 100_000 + "]" * 100_000, "1" * 5000],
    )
    def test_malformed_json_data(self, json_data: str) -> None:
        assert refused(urlencode({"json_data": json_data})).field == "json_data"

    def test_deeply_nested_json_is_a_clear_refusal(self) -> None:
        # Python 3.11's decoder stops at its recursion limit (json_data); 3.13's parses this
        # depth, and then the fields are missing (client_user_id). Either way: a 400, not a crash.
        deep = '{"a":' * 5000 + "1" + "}" * 5000
        assert refused(urlencode({"json_data": deep})).field in ("json_data", "client_user_id")

    def test_wrong_types_inside_json_data(self) -> None:
        data = json.loads(json.dumps(REFERENCE_JSON_DATA))
        data["block_info"]["blocks"] = [1, 2]
        assert refused(form(json_data=data)).field == "json_data.block_info.blocks"
        data = json.loads(json.dumps(REFERENCE_JSON_DATA))
        data["user_info"]["client_user_id"] = {"id": 1}
        assert refused(form(json_data=data)).field == "json_data.client_user_id"

    def test_overlong_identifiers_and_control_characters(self) -> None:
        assert refused(form(client_user_id="u" * 300, media_content_key="m", start_at="1", block_cnt="1")).field == (
            "client_user_id"
        )
        assert refused(form(client_user_id="a\x00b", media_content_key="m", start_at="1", block_cnt="1")).field == (
            "client_user_id"
        )

    def test_invalid_utf8(self) -> None:
        assert refused("client_user_id=%ff%fe&media_content_key=m&start_at=1&block_cnt=1").field == "body"
        assert refused(b"client_user_id=\xff&media_content_key=m").field == "body"

    def test_too_large_and_unsupported_types(self) -> None:
        big = b"client_user_id=u&media_content_key=m&start_at=1&block_cnt=1&pad=" + b"x" * SETTINGS.max_body_bytes
        with pytest.raises(PayloadTooLarge):
            parse(big)
        for content_type in ("text/plain", "multipart/form-data; boundary=x", "application/xml"):
            with pytest.raises(UnsupportedMediaType):
                parse(b"client_user_id=u", content_type=content_type)
        with pytest.raises(UnsupportedMediaType):
            parse(b"client_user_id=u", content_type=f"{FORM}; charset=no-such-charset")

    def test_a_body_of_256_kib_passes(self) -> None:
        snapshot = Snapshot(block_count=10_000, duration=10_000, block_times=dict.fromkeys(range(10000), 1))
        body = snapshot.flat_body()
        body += b"&pad=" + b"x" * max(0, 262_144 - len(body))
        assert len(body) >= 262_144
        assert len(parse(body).blocks) == 10_000


def test_a_variable_given_twice_must_not_contradict_itself() -> None:
    base = b"client_user_id=u&media_content_key=m&start_at=1&block_cnt=2"
    same = parse_callback(RawCallback(base + b"&duration=60&duration=60&other=1&other=2", FORM), SETTINGS)
    assert same.duration == 60  # and a variable the parser does not read may say what it likes
    conflicts = [
        (b"&duration=60&duration=", "duration"),
        (b"&block_time_1=9&block_time_1=60", "block_time_1"),
        (b"&uservalue3=a&uservalue3=b", "uservalue3"),
    ]
    for conflict, field in conflicts:
        with pytest.raises(InvalidPayload) as refused:
            parse_callback(RawCallback(base + conflict, FORM), SETTINGS)
        assert refused.value.field == field
    with pytest.raises(InvalidPayload, match="given more than once"):
        parse_callback(RawCallback(b"client_user_id=v&" + base, FORM), SETTINGS)


def test_numbers_are_kept_to_the_microsecond() -> None:
    base = b"client_user_id=u&media_content_key=m&start_at=1&block_cnt=2"
    callback = parse_callback(RawCallback(base + b"&play_time=2.2e-242&duration=1.23456789", FORM), SETTINGS)
    assert (callback.play_time, callback.duration) == (0.0, 1.234568)  # storage cannot hold 1e-242
    document = b'{"json_data": {"content_info": {"media_content_key": "m", "start_at": 1, "playtime": 1e-300}, '
    document += b'"user_info": {"client_user_id": "u"}, "block_info": {"block_count": 2}}}'
    assert parse_callback(RawCallback(document, "application/json"), SETTINGS).play_time == 0.0


def test_a_block_count_is_a_whole_number() -> None:
    base = b"client_user_id=u&media_content_key=m&start_at=1710395296.5"
    assert parse_callback(RawCallback(base + b"&block_cnt=10.0", FORM), SETTINGS).block_count == 10
    assert parse_callback(RawCallback(base + b"&block_cnt=10", FORM), SETTINGS).start_at == 1710395296
    for value in (b"10.5", b"10000.000000000002"):
        with pytest.raises(InvalidPayload, match="whole number") as refused:
            parse_callback(RawCallback(base + b"&block_cnt=" + value, FORM), SETTINGS)
        assert refused.value.field == "block_cnt"
