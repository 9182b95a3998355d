"""Fuzzing the callback endpoint through its handler: whatever arrives, never a 5xx, always the
documented error shape, and a refused request never writes a progress record.

`FUZZ_EXAMPLES` sets the examples per strategy (bounded in CI; `make soak` raises it).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any
from urllib.parse import quote, urlencode

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from local.dynamodb_local import create_tables
from tests import reliability
from tests.helpers import invoke
from tests.payloads import Snapshot, callback_event

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "100"))
ALLOWED = {200, 400, 403, 413, 415, 422}
SUITE = "fuzzing the callback endpoint"

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
)


class Endpoint:
    """The callback function, with a count of the progress-record writes it made."""

    def __init__(self, function: ModuleType) -> None:
        self.function = function
        self.record_writes = 0
        apply = function.store.apply

        def counted(*args: Any, **kwargs: Any) -> Any:
            result = apply(*args, **kwargs)
            self.record_writes += 1
            return result

        function.store.apply = counted

    def check(self, body: bytes, content_type: str | None, query: str = "") -> int:
        before = self.record_writes
        response = invoke(self.function, callback_event(body, content_type=content_type, query=query))
        status = int(response["statusCode"])
        refused_with_a_write = status != 200 and self.record_writes != before
        reliability.record(SUITE, cases=1, server_errors=int(status >= 500),
                           refused_with_a_write=int(refused_with_a_write), **{f"answered {status}": 1})  # fmt: skip
        assert status in ALLOWED, (status, response.get("body"))
        document = json.loads(response["body"])
        if status != 200:
            assert set(document) == {"error"} and set(document["error"]) == {"code", "message", "field"}
            assert isinstance(document["error"]["message"], str) and document["error"]["message"]
            assert self.record_writes == before, "a refused callback wrote a progress record"
        else:
            assert document["result"] in ("accepted", "duplicate", "stale")
        return status


@pytest.fixture
def endpoint(
    function_environment: Callable[[dict[str, str]], None], load_functions: Callable[[], dict[str, ModuleType]]
) -> Iterator[Endpoint]:
    with mock_aws():
        function_environment({})
        client = boto3.client("dynamodb", region_name="us-east-1")
        table = create_tables(client)["ProgressTable"]
        function_environment({"TABLE_NAME": table})
        yield Endpoint(load_functions()["CallbackFunction"])


CONTENT_TYPES = st.sampled_from(
    [
        "application/x-www-form-urlencoded",
        "application/x-www-form-urlencoded; charset=euc-kr",
        "application/json",
        "text/plain",
        "multipart/form-data",
        None,
        "application/x-www-form-urlencoded; charset=nonsense",
    ]
)

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
    | st.sampled_from(["NaN", "Infinity", "-1", "1e999", "{PLAY_STATUS}", "", "0x1f", "٣", "1_000"]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)

PATHS = [
    ("user_info", "client_user_id"),
    ("content_info", "media_content_key"),
    ("content_info", "start_at"),
    ("content_info", "duration"),
    ("content_info", "serial"),
    ("content_info", "playtime"),
    ("content_info", "last_play_at"),
    ("content_info", "runtime"),
    ("block_info", "block_count"),
    ("block_info", "blocks"),
    ("block_info", "b3"),
    ("uservalues", "uservalue0"),
    ("user_info", None),
    ("block_info", None),
]


@FUZZ
@given(body=st.binary(max_size=2048), content_type=CONTENT_TYPES)
def test_random_bytes(endpoint: Endpoint, body: bytes, content_type: str | None) -> None:
    endpoint.check(body, content_type)
    reliability.record(SUITE, **{"random bytes": 1})


@FUZZ
@given(path=st.sampled_from(PATHS), value=JSON_VALUES, truncate=st.integers(0, 40), as_json_body=st.booleans())
def test_mutated_json_data(
    endpoint: Endpoint, path: tuple[str, str | None], value: Any, truncate: int, as_json_body: bool
) -> None:
    document: dict[str, Any] = Snapshot(block_times={0: 60.0, 3: 10.0}).json_data()
    section, key = path
    if key is None:
        document[section] = value
    elif key.startswith("b") and key[1:].isdigit():
        document["block_info"]["blocks"][key] = value
    else:
        document[section][key] = value
    text = json.dumps(document, allow_nan=True)
    if truncate:
        text = text[: max(1, len(text) - truncate)]  # truncated JSON
    if as_json_body:
        endpoint.check(text.encode(), "application/json")
    else:
        endpoint.check(urlencode({"json_data": text}).encode(), "application/x-www-form-urlencoded")
    reliability.record(SUITE, **{"mutated JSON": 1})


FORM_TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=20) | st.sampled_from(
    ["%", "%zz", "%ff%fe", "%00", "+", "%2B", "&&", "==", "%E2%82", "a=b=c", "\u202e", "\ufeff", "🎬"]
)


@FUZZ
@given(
    variables=st.dictionaries(
        st.sampled_from(["client_user_id", "media_content_key", "start_at", "block_cnt", "duration", "block_play_1",
                         "block_time_1", "block_play_10001", "play_time", "uservalue0", "uservalue100", "json_data"]),
        FORM_TEXT,
        max_size=8,
    ),
    raw_suffix=FORM_TEXT,
    query=FORM_TEXT,
)  # fmt: skip
def test_form_and_percent_encoding_games(
    endpoint: Endpoint, variables: dict[str, str], raw_suffix: str, query: str
) -> None:
    base = {"client_user_id": "u", "media_content_key": "m", "start_at": "1", "block_cnt": "4"}
    body = urlencode({**base, **variables}) + "&" + raw_suffix  # raw, possibly malformed, encoding
    endpoint.check(body.encode("utf-8", "surrogatepass"), "application/x-www-form-urlencoded", quote(query, safe="=&%"))
    reliability.record(SUITE, **{"form games": 1})


def test_ten_thousand_blocks_in_both_forms(endpoint: Endpoint) -> None:
    snapshot = Snapshot(block_count=10_000, duration=10_000.0, serial=1, block_times=dict.fromkeys(range(10_000), 1.0))
    assert endpoint.check(snapshot.form_body(), "application/x-www-form-urlencoded") == 200
    snapshot.serial = 2
    assert endpoint.check(snapshot.flat_body(), "application/x-www-form-urlencoded") in (200,)
    over = Snapshot(block_count=10_001, duration=10_001.0, serial=3)
    assert endpoint.check(over.form_body(), "application/x-www-form-urlencoded") == 400
