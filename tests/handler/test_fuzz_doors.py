"""Fuzzing the other doors as the LMS callback is fuzzed (`test_fuzz`): the play, DRM and platform
callbacks and the view route. Whatever arrives: never a 5xx, always the one error shape, and every
callback refused for what it says kept in the rejected store.

`DOOR_FUZZ_EXAMPLES` sets the examples per strategy and door (bounded in CI; `make soak` sets 700,
which gives each door over 2,000 cases over its three strategies).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import reliability
from tests.handler.test_hostile_input import FAIR, SOURCES, Doors
from tests.helpers import functions_on_moto, invoke
from tests.payloads import http_event

EXAMPLES = int(os.environ.get("DOOR_FUZZ_EXAMPLES", "100"))
CALLBACK_DOORS = ["play", "drm", "platform"]
#: What a callback door may answer: its answer, a refusal of the payload, or of its size or type.
ALLOWED = {200, 400, 409, 413, 415}

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
)

CONTENT_TYPES = st.sampled_from(
    [
        "application/x-www-form-urlencoded",
        "application/x-www-form-urlencoded; charset=euc-kr",
        "application/x-www-form-urlencoded; charset=utf-16",
        "application/x-www-form-urlencoded; charset=base64",
        "application/x-www-form-urlencoded; charset=rot13",
        "application/x-www-form-urlencoded; charset=zlib",
        "application/x-www-form-urlencoded; charset=hex",
        "application/x-www-form-urlencoded; charset=idna",
        "application/x-www-form-urlencoded; charset=nonsense",
        "application/json",
        "application/json; charset=unicode-escape",
        "text/plain",
        None,
    ]
)
#: Values that have broken readers: odd digits, lone surrogates (as JSON escapes), placeholders, huge numbers.
ODD = st.sampled_from(
    ["²", "١٢", "12²", "½", "1e40", "-1", "NaN", "Infinity", "{KIND}", "", " ", "\x00", "\u202e", "🎬",
     "\\ud800", "\\udfff", "x" * 300, "9" * 40, "0x10", "1_0", "true", "[]", "{}", "%ED%A0%80"]
)  # fmt: skip
TEXT = st.text(max_size=24) | ODD
FIELDS = {
    "play": ["kind", "client_user_id", "media_content_key", "player_id", "hardware_id", "uservalues", "json_data"],
    "drm": ["items", "kind", "client_user_id"],
    "platform": ["upload_file_key", "transcoding_result", "media_content_key", "channel_key", "update_type",
                 "filename", "profile_key", "content_provider_key"],
}  # fmt: skip
ITEM_KEYS = ["kind", "client_user_id", "media_content_key", "hardware_id", "player_id", "session_key", "start_at",
             "uservalues", "²", "kind²"]  # fmt: skip
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**20), 10**20) | st.floats(allow_nan=True) | TEXT,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.sampled_from(ITEM_KEYS), children, max_size=4),
    max_leaves=10,
)


class Fuzzed(Doors):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.sources: list[str] = []  # what each function kept in the rejected store, by source
        for name in ("PlayFunction", "PlatformFunction"):
            store = self.functions[name].store
            keep = store.save_rejected

            def counted(*args: Any, keep: Any = keep, **kwargs: Any) -> None:
                keep(*args, **kwargs)
                self.sources.append(kwargs["source"])

            store.save_rejected = counted

    def check(self, door: str, body: bytes, content_type: str | None) -> int:
        before = len(self.sources)
        status, answer = self.post(door, body, content_type)
        kept = self.sources[before:]
        suite = f"fuzzing the {door} callback"
        unkept = int(status != 200 and kept != [SOURCES[door]])
        reliability.record(suite, cases=1, server_errors=int(status >= 500), refused_unkept=unkept)
        assert status in ALLOWED, (door, status, answer, body[:200], content_type)
        if status != 200:
            assert set(answer) == {"error"} and set(answer["error"]) == {"code", "message", "field"}, answer
            assert kept == [SOURCES[door]], (door, status, answer)
        else:
            assert kept == []
        return status


@pytest.fixture
def fuzzed(
    function_environment: Callable[[dict[str, str]], None], load_functions: Callable[[], dict[str, ModuleType]]
) -> Iterator[Fuzzed]:
    with functions_on_moto(function_environment, load_functions, {}) as (functions, client, table):
        yield Fuzzed(functions, client, table)


@pytest.mark.parametrize("door", CALLBACK_DOORS)
@FUZZ
@given(body=st.binary(max_size=1024), content_type=CONTENT_TYPES)
def test_random_bytes(fuzzed: Fuzzed, door: str, body: bytes, content_type: str | None) -> None:
    fuzzed.check(door, body, content_type)


@pytest.mark.parametrize("door", CALLBACK_DOORS)
@FUZZ
@given(data=st.data(), content_type=CONTENT_TYPES)
def test_fair_forms_with_odd_values(fuzzed: Fuzzed, door: str, data: st.DataObject, content_type: str | None) -> None:
    changes = data.draw(st.dictionaries(st.sampled_from(FIELDS[door]) | TEXT, TEXT, max_size=4))
    fields = {**FAIR[door], **changes}
    body = urlencode(fields).encode("utf-8", "surrogatepass")
    fuzzed.check(door, body, content_type)


@pytest.mark.parametrize("door", CALLBACK_DOORS)
@FUZZ
@given(document=st.dictionaries(st.sampled_from([*ITEM_KEYS, "upload_file_key"]), JSON_VALUES, max_size=6),
       as_items=st.booleans(), truncate=st.integers(0, 8))  # fmt: skip
def test_json_documents(fuzzed: Fuzzed, door: str, document: dict[str, Any], as_items: bool, truncate: int) -> None:
    text = json.dumps([document] if as_items else document, allow_nan=True).replace("\\\\u", "\\u")
    text = text[: max(1, len(text) - truncate)] if truncate else text
    if door == "drm":
        fuzzed.check(
            door, urlencode({"items": text}).encode("utf-8", "surrogatepass"), "application/x-www-form-urlencoded"
        )
    else:
        fuzzed.check(door, text.encode("utf-8", "surrogatepass"), "application/json")


VIEW_TOKENS = (
    st.text(max_size=80)
    | st.builds(lambda a, b, c: f"v1.{a}.{b}", st.text(max_size=40), st.text(max_size=40), st.text(max_size=3))
    | st.builds(lambda a, b: f"{a}.{b}.{a}", st.text(alphabet="AZaz09-_=é", max_size=60), st.text(max_size=20))
)


@FUZZ
@given(token=VIEW_TOKENS, query=st.dictionaries(st.sampled_from(["lang", "sort", "page", "status"]), TEXT, max_size=3),
       language=st.none() | TEXT)  # fmt: skip
def test_view_route(fuzzed: Fuzzed, token: str, query: dict[str, str], language: str | None) -> None:
    for _ in range(3):  # three tries a case: a token, the same with a query, then with a language (2,000+ cases)
        headers = {"accept-language": language} if language else {}
        event = http_event("GET", f"/v1/views/{token}", "GET /v1/views/{token}", content_type=None, headers=headers,
                           query=urlencode(query).replace("%5C", "\\"))  # fmt: skip
        event["pathParameters"] = {"token": token}
        response = invoke(fuzzed.functions["ApiFunction"], event)
        status = response["statusCode"]
        reliability.record("fuzzing the view route", cases=1, server_errors=int(status >= 500))
        assert status in {200, 202, 400, 403, 404}, (token, status, response.get("body"))
        query, language = {}, None
