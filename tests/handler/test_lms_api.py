"""The LMS-facing API on moto: listings, "why not complete", rules, playback URLs and binding."""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import jwt
import pytest
from moto import mock_aws

from local.dynamodb_local import create_tables
from local.openapi import DOCUMENT, render
from local.stack import LOCAL_DEFAULTS
from tests.helpers import body_of, invoke
from tests.payloads import API_TOKEN, Snapshot, callback_event, http_event


class Api:
    def __init__(self, functions: dict[str, ModuleType], client: Any, table: str) -> None:
        self.functions, self.client, self.table = functions, client, table

    def call(self, method: str, path: str, query: str = "", body: Any = None, **headers: str) -> tuple[int, Any]:
        route = {
            "/v1/progress": "GET /v1/progress",
            "/v1/playback-urls": "POST /v1/playback-urls",
            "/v1/openapi.json": "GET /v1/openapi.json",
        }.get(path, f"{method} /v1/contents/{{media_content_key}}/rules")
        event = http_event(
            method, path, route, body=None if body is None else json.dumps(body).encode(),
            content_type="application/json" if body is not None else None, query=query,
            headers={"authorization": f"Bearer {API_TOKEN}", **headers}, base64_body=False,
        )  # fmt: skip
        if "/contents/" in path:
            event["pathParameters"] = {"media_content_key": path.split("/")[3]}
        response = invoke(self.functions["ApiFunction"], event)
        content_type = (response.get("headers") or {}).get("Content-Type", "")
        payload = response["body"] if "csv" in content_type else body_of(response)
        return response["statusCode"], payload

    def post(self, snapshot: Snapshot, query: str = "") -> tuple[int, Any]:
        response = invoke(self.functions["CallbackFunction"], callback_event(snapshot.form_body(), query=query))
        return response["statusCode"], body_of(response)


@pytest.fixture
def environment() -> dict[str, str]:
    return {}


@pytest.fixture
def api(
    function_environment: Callable[[dict[str, str]], None],
    load_functions: Callable[[], dict[str, ModuleType]],
    environment: dict[str, str],
) -> Iterator[Api]:
    with mock_aws():
        function_environment({})
        client = boto3.client("dynamodb", region_name="us-east-1")
        table = create_tables(client)["ProgressTable"]
        function_environment({"TABLE_NAME": table, **environment})
        yield Api(load_functions(), client, table)


def watched(learner: str, content: str, blocks: range, **extra: Any) -> Snapshot:
    snapshot = Snapshot(client_user_id=learner, media_content_key=content, serial=1, **extra)
    snapshot.block_times = dict.fromkeys(blocks, 60.0)
    return snapshot


def test_single_record_explains_what_is_missing(api: Api) -> None:
    api.post(watched("learner-1", "content-1", range(0, 4)))
    status, body = api.call("GET", "/v1/progress", "client_user_id=learner-1&media_content_key=content-1")
    assert status == 200
    assert (body["watched_blocks"], body["progress"], body["completion_threshold"]) == (4, 40.0, 90.0)
    assert body["missing_ranges"] == [[240.0, 600.0]]
    assert body["blocks_needed"] == 5
    assert body["suspicious_sessions"] == 0


def test_listings_by_learner_and_by_content_page_and_export_csv(api: Api) -> None:
    for learner in ("learner-1", "learner-2", "learner-3"):
        api.post(watched(learner, "content-1", range(0, 5)))
    api.post(watched("learner-1", "content-2", range(0, 10)))
    status, page = api.call("GET", "/v1/progress", "client_user_id=learner-1")
    assert status == 200 and page["next_token"] is None
    assert [(item["media_content_key"], item["progress"]) for item in page["items"]] == [
        ("content-1", 50.0), ("content-2", 100.0)
    ]  # fmt: skip
    seen, token = [], None
    while True:
        query = "media_content_key=content-1&limit=2" + (f"&next_token={token}" if token else "")
        status, page = api.call("GET", "/v1/progress", query)
        seen += [item["client_user_id"] for item in page["items"]]
        token = page["next_token"]
        if not token:
            break
    assert seen == ["learner-1", "learner-2", "learner-3"]
    status, text = api.call("GET", "/v1/progress", "media_content_key=content-1", accept="text/csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert status == 200 and [row["client_user_id"] for row in rows] == ["learner-1", "learner-2", "learner-3"]
    assert rows[0]["progress"] == "50.0"


def test_csv_cells_that_look_like_formulas_are_quoted(api: Api) -> None:
    api.post(watched("=HYPERLINK(1)", "content-1", range(0, 1)))
    _, text = api.call("GET", "/v1/progress", "media_content_key=content-1", accept="text/csv")
    assert "'=HYPERLINK(1)" in text


def test_a_tampered_page_token_is_400(api: Api) -> None:
    api.post(watched("learner-1", "content-1", range(0, 1)))
    for token in ("e30", "eyJwayI6IHsiUyI6ICJMI290aGVyIn0sICJzayI6IHsiUyI6ICJQI3gifX0", "!!"):
        status, body = api.call("GET", "/v1/progress", f"client_user_id=learner-1&next_token={token}")
        assert (status, body["error"]["field"]) == (400, "next_token")


def test_rules_default_set_and_reset(api: Api) -> None:
    status, rules = api.call("GET", "/v1/contents/content-1/rules")
    assert (status, rules["source"], rules["completion_threshold"], rules["min_block_watch_ratio"]) == (
        200, "default", 90.0, 0.5
    )  # fmt: skip
    status, rules = api.call(
        "PUT", "/v1/contents/content-1/rules", body={"completion_threshold": 40, "min_block_watch_ratio": 0.25}
    )
    assert (status, rules["source"], rules["completion_threshold"]) == (200, "content", 40.0)
    bad_bodies = [
        {"completion_threshold": 0, "min_block_watch_ratio": 0.5},
        {"completion_threshold": 50, "min_block_watch_ratio": 2},
        {"completion_threshold": 50},
        {"completion_threshold": 50, "min_block_watch_ratio": 0.5, "extra": 1},
    ]
    for bad in bad_bodies:
        assert api.call("PUT", "/v1/contents/content-1/rules", body=bad)[0] == 400
    status, rules = api.call("DELETE", "/v1/contents/content-1/rules")
    assert (status, rules["source"]) == (200, "default")


def test_a_lower_threshold_completes_existing_records_and_a_higher_one_never_uncompletes(api: Api) -> None:
    api.post(watched("learner-1", "content-1", range(0, 5)))
    query = "client_user_id=learner-1&media_content_key=content-1"
    assert api.call("GET", "/v1/progress", query)[1]["completed"] is False
    api.call("PUT", "/v1/contents/content-1/rules", body={"completion_threshold": 50, "min_block_watch_ratio": 0.5})
    record = api.call("GET", "/v1/progress", query)[1]
    assert record["completed"] is True and record["completed_at"] is not None
    api.call("PUT", "/v1/contents/content-1/rules", body={"completion_threshold": 100, "min_block_watch_ratio": 0.5})
    again = api.call("GET", "/v1/progress", query)[1]
    assert (again["completed"], again["completed_at"], again["blocks_needed"]) == (True, record["completed_at"], 0)


# Functions reuse a content's rules for RULES_CACHE_SECONDS; here every request reads them.
@pytest.mark.parametrize("environment", [{"RULES_CACHE_SECONDS": "0"}])
def test_a_new_block_watch_ratio_re_evaluates_from_the_raw_snapshots(api: Api) -> None:
    snapshot = Snapshot(client_user_id="learner-1", media_content_key="content-1", serial=1)
    snapshot.block_times = {0: 60.0, 1: 20.0, 2: 10.0}  # blocks of 60 s: 100%, 33%, 17%
    api.post(snapshot)
    query = "client_user_id=learner-1&media_content_key=content-1"
    assert api.call("GET", "/v1/progress", query)[1]["watched_blocks"] == 1
    api.call("PUT", "/v1/contents/content-1/rules", body={"completion_threshold": 90, "min_block_watch_ratio": 0.15})
    assert api.call("GET", "/v1/progress", query)[1]["watched_blocks"] == 3
    api.call("PUT", "/v1/contents/content-1/rules", body={"completion_threshold": 90, "min_block_watch_ratio": 0.3})
    assert api.call("GET", "/v1/progress", query)[1]["watched_blocks"] == 2
    snapshot.serial, snapshot.block_times[3] = 2, 19.0  # 32%: counts under the new ratio at ingestion too
    assert api.post(snapshot)[1]["watched_blocks"] == 3


def test_playback_url_is_signed_and_bound(api: Api) -> None:
    api.post(watched("learner-1", "content-1", range(0, 2), last_play_at=130))
    request = {
        "client_user_id": "learner-1",
        "media_content_key": "content-1",
        "uservalues": {"uservalue0": "course-7"},
        "expires_in": 600,
        "seek": False,
    }
    status, issued = api.call("POST", "/v1/playback-urls", body=request)
    assert status == 200 and issued["start_position"] == 130
    parts = urlsplit(issued["url"])
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    assert parts.netloc == "v.kr.kollus.com" and parts.path == "/s"
    assert (query["custom_key"], query["uservalue0"], query["t"]) == (
        LOCAL_DEFAULTS["KOLLUS_CUSTOM_KEY"],
        "course-7",
        "130",
    )
    claims = jwt.decode(
        query["jwt"], LOCAL_DEFAULTS["KOLLUS_SECURITY_KEY"], algorithms=["HS256"], options={"verify_exp": False}
    )
    assert set(claims) == {"cuid", "expt", "mc"} and claims["mc"] == [{"mckey": "content-1", "seek": False}]
    nonce = query["uservalue99"]
    # The player echoes the uservalues in every callback: the nonce binds them to this learner and content.
    session = watched("learner-1", "content-1", range(0, 3), start_at=int(time.time()))
    assert api.post(session, query=f"uservalue99={nonce}")[0] == 200
    status, body = api.post(watched("learner-2", "content-1", range(0, 3)), query=f"uservalue99={nonce}")
    assert (status, body["error"]["code"]) == (403, "forbidden")
    for bad in ({"client_user_id": "u", "media_content_key": "m", "uservalues": {"uservalue99": "x"}},
                {"client_user_id": "u", "media_content_key": "m", "uservalues": {"course": "x"}},
                {"client_user_id": "u", "media_content_key": "m", "expires_in": 86401}):  # fmt: skip
        assert api.call("POST", "/v1/playback-urls", body=bad)[0] == 400


@pytest.mark.parametrize("environment", [{"REQUIRE_SIGNED_PLAYBACK": "true"}])
def test_required_binding_refuses_unsigned_callbacks_and_keeps_them(api: Api) -> None:
    status, body = api.post(watched("learner-1", "content-1", range(0, 2)))
    assert (status, body["error"]["code"], body["error"]["field"]) == (403, "forbidden", "uservalue99")
    items = api.client.scan(TableName=api.table)["Items"]
    assert [item["reason_code"]["S"] for item in items] == ["forbidden"]  # kept in the rejected store only
    _, issued = api.call(
        "POST", "/v1/playback-urls", body={"client_user_id": "learner-1", "media_content_key": "content-1"}
    )
    nonce = parse_qs(urlsplit(issued["url"]).query)["uservalue99"][0]
    session = watched("learner-1", "content-1", range(0, 2), start_at=int(time.time()))
    assert api.post(session, query=f"uservalue99={nonce}")[0] == 200


def test_implausibly_fast_sessions_are_flagged_not_refused(api: Api) -> None:
    fast = watched("learner-1", "content-1", range(0, 10), play_time=3600, run_time=300)
    assert api.post(fast)[1]["result"] == "accepted"
    record = api.call("GET", "/v1/progress", "client_user_id=learner-1&media_content_key=content-1")[1]
    assert (record["suspicious_sessions"], record["completed"]) == (1, True)


def test_the_committed_openapi_document_is_current_and_served(api: Api) -> None:
    assert DOCUMENT.read_text(encoding="utf-8") == render(), "run `make openapi` and commit functions/api/openapi.json"
    status, document = api.call("GET", "/v1/openapi.json", authorization="")
    assert status == 200 and "/v1/progress" in document["paths"] and "/callbacks/kollus/{token}" in document["paths"]
    for operations in document["paths"].values():
        for operation in operations.values():
            for code, response in operation["responses"].items():
                if code.startswith(("4", "5")):
                    assert response["content"]["application/json"]["schema"] == {
                        "$ref": "#/components/schemas/ErrorBody"
                    }


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/contents/c1/rules", {"completion_threshold": True, "min_block_watch_ratio": 0.5}, "completion_threshold"),
        ("/v1/contents/c1/rules", {"completion_threshold": "80", "min_block_watch_ratio": 0.5}, "completion_threshold"),
        (
            "/v1/contents/c1/rules",
            {"completion_threshold": 80, "min_block_watch_ratio": False},
            "min_block_watch_ratio",
        ),
        ("/v1/playback-urls", {"client_user_id": "u", "media_content_key": "c", "expires_in": "3600"}, "expires_in"),
        ("/v1/playback-urls", {"client_user_id": "u", "media_content_key": "c", "expires_in": True}, "expires_in"),
        ("/v1/playback-urls", {"client_user_id": "u", "media_content_key": "c", "expires_in": 3600.5}, "expires_in"),
        ("/v1/playback-urls", {"client_user_id": "u", "media_content_key": "c", "resume": 1}, "resume"),
        ("/v1/playback-urls", {"client_user_id": 7, "media_content_key": "c"}, "client_user_id"),
    ],
)
def test_json_numbers_and_booleans_are_strict(api: Api, path: str, body: dict[str, Any], field: str) -> None:
    status, answer = api.call("PUT" if "rules" in path else "POST", path, body=body)
    assert (status, answer["error"]["code"], answer["error"]["field"]) == (400, "invalid_request", field)


def test_a_whole_number_may_be_written_as_a_float(api: Api) -> None:
    body = {"client_user_id": "u", "media_content_key": "c", "expires_in": 3600.0, "seekable_end": 60.0}
    status, answer = api.call("POST", "/v1/playback-urls", body=body)
    assert status == 200 and answer["url"].startswith("https://")
    status, rules = api.call(
        "PUT", "/v1/contents/c1/rules", body={"completion_threshold": 80, "min_block_watch_ratio": 1}
    )
    assert (status, rules["completion_threshold"], rules["min_block_watch_ratio"]) == (200, 80.0, 1.0)


def test_an_undeclared_query_parameter_is_refused(api: Api) -> None:
    status, answer = api.call("GET", "/v1/progress", query="client_user_id=u&limt=5")
    assert (status, answer["error"]["code"], answer["error"]["field"]) == (400, "invalid_request", "limt")
