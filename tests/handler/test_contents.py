"""The catalog's routes and the platform callback function on moto, with the Kollus stand-in as the VOD
API: uploads, listings, renames, deletes, errors in the one shape, and refused callbacks kept."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any
from urllib.parse import urlencode

import boto3
import pytest
import urllib3
from moto import mock_aws

from local.dynamodb_local import create_tables
from local.http_api import LambdaContext
from local.kollus_vod import LOCAL_TOKEN, KollusVod
from tests.helpers import body_of, captured_logs, functions_on_moto, invoke, load_event, serving
from tests.payloads import API_TOKEN, CALLBACK_TOKEN, PLATFORM_TOKEN, Snapshot, callback_event, http_event

ROUTES = {
    ("POST", "/v1/uploads"): "POST /v1/uploads",
    ("GET", "/v1/contents"): "GET /v1/contents",
    ("GET", "/v1/progress"): "GET /v1/progress",
    ("POST", "/v1/sync/redeliver"): "POST /v1/sync/redeliver",
    ("GET", "/v1/sync"): "GET /v1/sync",
}


class Bridge:
    def __init__(self, functions: dict[str, ModuleType], client: Any, table: str, kollus: KollusVod) -> None:
        self.functions, self.client, self.table, self.kollus = functions, client, table, kollus

    def call(self, method: str, path: str, query: str = "", body: Any = None, **headers: str) -> tuple[int, Any]:
        route = ROUTES.get((method, path), f"{method} /v1/contents/{{media_content_key}}")
        event = http_event(
            method, path, route, body=None if body is None else json.dumps(body).encode(),
            content_type="application/json" if body is not None else None, query=query,
            headers={"authorization": f"Bearer {API_TOKEN}", **headers}, base64_body=False,
        )  # fmt: skip
        if route.endswith("{media_content_key}"):
            event["pathParameters"] = {"media_content_key": path.split("/")[3]}
        response = invoke(self.functions["ApiFunction"], event)
        content_type = (response.get("headers") or {}).get("Content-Type", "")
        return response["statusCode"], response["body"] if "csv" in content_type else body_of(response)

    def platform(self, fields: dict[str, str], token: str = PLATFORM_TOKEN) -> tuple[int, Any]:
        path = f"/callbacks/kollus/{token}/platform"
        event = http_event(
            "POST", path, "POST /callbacks/kollus/{token}/platform", body=urlencode(fields).encode(),
            path_parameters={"token": token},
        )  # fmt: skip
        response = invoke(self.functions["PlatformFunction"], event)
        return response["statusCode"], body_of(response)


@pytest.fixture
def environment() -> dict[str, str]:
    return {}


@pytest.fixture
def bridge(
    function_environment: Callable[[dict[str, str]], None],
    load_functions: Callable[[], dict[str, ModuleType]],
    environment: dict[str, str],
) -> Iterator[Bridge]:
    kollus = KollusVod(transcode_seconds=60, min_interval=0)
    with serving(kollus):
        variables = {"KOLLUS_API_URL": kollus.api_url, **environment}
        with functions_on_moto(function_environment, load_functions, variables) as (functions, client, table):
            yield Bridge(functions, client, table, kollus)


def uploaded(bridge: Bridge, title: str = "Week 3: Recursion") -> dict[str, Any]:
    status, body = bridge.call("POST", "/v1/uploads", body={"title": title, "uploaded_by": "teacher-12"})
    assert status == 201, body
    return dict(body)


def test_an_upload_url_and_the_catalog_from_that_moment(bridge: Bridge) -> None:
    body = uploaded(bridge)
    key = body["upload_file_key"]
    assert body["upload_url"].startswith(bridge.kollus.url + "/upload/") and body["expires_at"].endswith("Z")
    assert body["content"]["status"] == "uploading" and body["content"]["uploaded_by"] == "teacher-12"
    assert key in bridge.kollus.contents and bridge.kollus.contents[key].title == "Week 3: Recursion"
    status, found = bridge.call("GET", f"/v1/contents/{key}")  # by upload key until it has a media content key
    assert status == 200 and found["status"] == "uploading"
    answer = urllib3.request("POST", body["upload_url"], fields={"upload-file": ("a.mp4", b"x" * 1000)})
    assert answer.status == 200  # the file goes to Kollus, never through the bridge


def test_platform_callbacks_applied_once_and_the_catalog_follows(bridge: Bridge) -> None:
    key = uploaded(bridge)["upload_file_key"]
    story = [
        {"upload_file_key": key, "filename": "a.mp4", "full_filename": "/a.mp4", "content_provider_key": "cp"},
        {"upload_file_key": key, "filename": "a.mp4", "transcoding_result": "success"},
        {
            "upload_file_key": key,
            "media_content_key": "mck-1",
            "channel_key": "lectures",
            "update_type": "channel_join",
        },
    ]
    for fields in story:
        status, body = bridge.platform(fields)
        assert (status, body["result"]) == (200, "applied"), body
        status, again = bridge.platform(fields)
        assert (status, again["result"], again["status"]) == (200, "duplicate", None)  # Kollus's retry: 200
    status, found = bridge.call("GET", "/v1/contents/mck-1")
    assert status == 200 and found["status"] == "ready" and found["media_content_key"] == "mck-1"
    status, page = bridge.call("GET", "/v1/contents", "status=ready&channel_key=lectures&title=RECURSION")
    assert status == 200 and [item["upload_file_key"] for item in page["items"]] == [key]
    status, page = bridge.call("GET", "/v1/contents", "status=failed")
    assert status == 200 and page["items"] == []
    status, table = bridge.call("GET", "/v1/contents", accept="text/csv")
    assert status == 200 and table.splitlines()[0].startswith("media_content_key,upload_file_key,title")
    assert "mck-1" in table and "lectures" in table


def test_refused_platform_callbacks_answer_in_the_one_shape_and_are_kept(bridge: Bridge) -> None:
    status, body = bridge.platform({"filename": "a.mp4"})
    assert status == 400 and body["error"]["code"] == "invalid_payload" and body["error"]["field"] == "upload_file_key"
    status, body = bridge.platform({"upload_file_key": "uf-1"}, token="wrong")
    assert status == 401 and body["error"]["code"] == "unauthorized"
    # The LMS callback's token is in every learner's player: it never opens the platform callback.
    status, body = bridge.platform({"upload_file_key": "uf-1", "transcoding_result": "success"}, token=CALLBACK_TOKEN)
    assert status == 401 and body["error"]["code"] == "unauthorized"
    kept = [item for item in bridge.client.scan(TableName=bridge.table)["Items"] if item["pk"]["S"].startswith("R#")]
    assert len(kept) == 1 and kept[0]["source"]["S"] == "platform_callback"


def test_rename_and_delete_go_to_kollus_first(bridge: Bridge) -> None:
    key = uploaded(bridge)["upload_file_key"]
    status, body = bridge.call("PATCH", f"/v1/contents/{key}", body={"title": "Recursion, revised"})
    assert status == 200 and body["title"] == "Recursion, revised"
    assert bridge.kollus.contents[key].title == "Recursion, revised"
    status, body = bridge.call("DELETE", f"/v1/contents/{key}")
    assert status == 200 and body["status"] == "deleted" and body["deleted_at"]
    assert key not in bridge.kollus.contents  # deleted from the library, not only detached
    status, again = bridge.call("DELETE", f"/v1/contents/{key}")
    assert status == 200 and again["deleted_at"] == body["deleted_at"]  # idempotent
    status, refused = bridge.call("PATCH", f"/v1/contents/{key}", body={"title": "x"})
    assert status == 404 and refused["error"]["code"] == "not_found"
    status, missing = bridge.call("GET", "/v1/contents/no-such-content")
    assert status == 404 and missing["error"]["code"] == "not_found"


def test_bad_input_is_refused_before_kollus_is_asked(bridge: Bridge) -> None:
    for body in ({}, {"title": ""}, {"title": "a", "encrypt": "yes"}, {"title": "a", "colour": "red"}):
        status, answer = bridge.call("POST", "/v1/uploads", body=body)
        assert status == 400 and answer["error"]["code"] == "invalid_request", body
    status, answer = bridge.call("GET", "/v1/contents", "status=lost")
    assert status == 400 and answer["error"]["field"] == "status"
    status, answer = bridge.call("GET", "/v1/contents", "next_token=bm9wZQ")
    assert status == 400 and answer["error"]["field"] == "next_token"
    assert bridge.kollus.api_requests == []


@pytest.mark.parametrize("environment", [{"KOLLUS_API_TOKEN": "not-the-token"}])
def test_kollus_refusing_is_a_502_that_says_why(bridge: Bridge) -> None:
    status, answer = bridge.call("POST", "/v1/uploads", body={"title": "a"})
    assert status == 502 and answer["error"]["code"] == "kollus_refused"
    assert "invalid access token" in answer["error"]["message"] and "not-the-token" not in json.dumps(answer)
    status, page = bridge.call("GET", "/v1/contents")
    assert status == 200 and page["items"] == []  # nothing half-made in the catalog


@pytest.mark.parametrize("environment", [{"KOLLUS_API_URL": "http://127.0.0.1:9/0", "KOLLUS_API_MAX_ATTEMPTS": "1"}])
def test_kollus_unreachable_is_a_503(bridge: Bridge) -> None:
    status, answer = bridge.call("POST", "/v1/uploads", body={"title": "a"})
    assert status == 503 and answer["error"]["code"] == "kollus_unavailable"


def test_progress_names_the_title_and_a_never_started_learner_misses_it_all(bridge: Bridge) -> None:
    key = uploaded(bridge)["upload_file_key"]
    in_kollus = bridge.kollus.contents[key]
    in_kollus.size, in_kollus.stage, in_kollus.channels["lectures"] = 90_000, "completed", "mck-9"
    for fields in (
        {"upload_file_key": key, "transcoding_result": "success"},
        {"upload_file_key": key, "media_content_key": "mck-9", "channel_key": "lectures", "update_type": "join"},
    ):
        assert bridge.platform(fields)[0] == 200
    summary = bridge.functions["ReconcileFunction"].lambda_handler({}, LambdaContext("ReconcileFunction", 300))
    assert summary["refreshed"] == 1 and summary["errors"] == 0, summary
    status, body = bridge.call("GET", "/v1/progress", "client_user_id=learner-7&media_content_key=mck-9")
    assert status == 200 and body["title"] == "Week 3: Recursion" and body["progress"] == 0.0
    assert body["missing_ranges"] == [[0.0, 90.0]] and body["sessions"] == 0
    response = invoke(
        bridge.functions["CallbackFunction"], callback_event(Snapshot(media_content_key="mck-9").form_body())
    )
    assert response["statusCode"] == 200
    status, page = bridge.call("GET", "/v1/progress", "media_content_key=mck-9")
    assert status == 200 and [item["title"] for item in page["items"]] == ["Week 3: Recursion"]
    status, _ = bridge.call("GET", "/v1/progress", "client_user_id=learner-7&media_content_key=unknown")
    assert status == 404


def test_a_content_webhook_can_be_redelivered(bridge: Bridge) -> None:
    key = uploaded(bridge)["upload_file_key"]
    status, answer = bridge.call("POST", "/v1/sync/redeliver", body={"media_content_key": key})
    assert status == 404  # nothing announced yet
    bridge.call("DELETE", f"/v1/contents/{key}")
    status, answer = bridge.call("POST", "/v1/sync/redeliver", body={"media_content_key": key})
    assert status == 202 and answer == {
        "client_user_id": None,
        "media_content_key": key,
        "target": "webhook",
        "state": "pending",
    }
    status, ledger = bridge.call("GET", "/v1/sync", "state=pending")
    assert status == 200
    (entry,) = ledger["items"]
    assert (entry["subject"], entry["upload_file_key"], entry["client_user_id"]) == ("content", key, None)


def test_the_sample_platform_events_that_serve_sam_local(bridge: Bridge) -> None:
    for name, event in (("transcoded", "transcoded"), ("channel-join", "channel_joined")):
        response = invoke(bridge.functions["PlatformFunction"], load_event(f"platform/{name}.json"))
        assert response["statusCode"] == 200 and body_of(response)["event"] == event
    status, content = bridge.call("GET", "/v1/contents/nY3CaQtl")
    assert status == 200 and content["status"] == "ready" and content["upload_file_key"] == "uf-7b1c0e"
    assert content["profile_keys"] == ["mobile-360p", "pc-720p"]


def test_the_kollus_token_never_reaches_the_logs(bridge: Bridge) -> None:
    with captured_logs() as buffer:
        key = uploaded(bridge)["upload_file_key"]
        bridge.call("PATCH", f"/v1/contents/{key}", body={"title": "renamed"})
        bridge.platform({"upload_file_key": key, "transcoding_result": "success"})
        bridge.functions["ReconcileFunction"].lambda_handler({}, LambdaContext("ReconcileFunction", 300))
        bridge.kollus.token = "rotated-elsewhere"  # every request refused from here on
        bridge.call("POST", "/v1/uploads", body={"title": "refused"})
        bridge.functions["ReconcileFunction"].lambda_handler({}, LambdaContext("ReconcileFunction", 300))
    written = buffer.getvalue()
    assert "reconciliation finished" in written and "kollus_refused" in written  # captured at all
    assert LOCAL_TOKEN not in written


def test_the_kollus_token_from_secrets_manager(
    function_environment: Callable[[dict[str, str]], None], load_functions: Callable[[], dict[str, ModuleType]]
) -> None:
    kollus = KollusVod(min_interval=0)
    with serving(kollus), mock_aws():
        function_environment({})
        client = boto3.client("dynamodb", region_name="us-east-1")
        table = create_tables(client)["ProgressTable"]
        arn = boto3.client("secretsmanager", region_name="us-east-1").create_secret(
            Name="kollus-api", SecretString=LOCAL_TOKEN
        )["ARN"]
        function_environment(
            {
                "TABLE_NAME": table,
                "KOLLUS_API_URL": kollus.api_url,
                "KOLLUS_API_TOKEN": "",
                "KOLLUS_API_TOKEN_ARN": arn,
            }
        )
        bridge = Bridge(load_functions(), client, table, kollus)
        assert uploaded(bridge)["content"]["status"] == "uploading"


def due_webhooks(bridge: Bridge) -> list[str]:
    status, ledger = bridge.call("GET", "/v1/sync", "state=pending")
    assert status == 200
    return [entry["upload_file_key"] for entry in ledger["items"] if entry["subject"] == "content"]


def test_a_forged_platform_series_announces_nothing_kollus_does_not_confirm(bridge: Bridge) -> None:
    reconcile = bridge.functions["ReconcileFunction"].lambda_handler
    fake = {"upload_file_key": "uf-forged", "filename": "x.mp4"}
    for fields in (
        {**fake, "transcoding_result": "success"},
        {**fake, "media_content_key": "mck-forged", "channel_key": "lectures", "update_type": "channel_join"},
    ):
        assert bridge.platform(fields)[0] == 200
    assert due_webhooks(bridge) == []  # claimed, not yet checked against the library
    reconcile({}, LambdaContext("ReconcileFunction", 300))
    assert due_webhooks(bridge) == []  # the library does not know it: never announced

    # A real content: a forged "left the channel" takes nothing out; the library decides.
    key = uploaded(bridge)["upload_file_key"]
    bridge.kollus.contents[key].stage = "completed"
    bridge.kollus.contents[key].channels["lectures"] = "mck-real"
    reconcile({}, LambdaContext("ReconcileFunction", 300))
    bridge.platform({"upload_file_key": key, "transcoding_result": "success"})
    reconcile({}, LambdaContext("ReconcileFunction", 300))
    assert bridge.call("GET", "/v1/contents/mck-real")[1]["media_content_key"] == "mck-real"
    assert due_webhooks(bridge) == [key]
    bridge.platform({"upload_file_key": key, "channel_key": "lectures", "update_type": "channel_leave"})
    status, found = bridge.call("GET", "/v1/contents/mck-real")
    assert status == 200 and found["channels"] == [{"channel_key": "lectures", "media_content_key": "mck-real"}]
    reconcile({}, LambdaContext("ReconcileFunction", 300))
    assert bridge.call("GET", "/v1/contents/mck-real")[1]["channels"] != []  # Kollus still lists it there


def test_an_upload_never_takes_over_another_uploads_media_content_key(bridge: Bridge) -> None:
    first = {"upload_file_key": "uf-a", "media_content_key": "mck-a", "channel_key": "lectures"}
    assert bridge.platform({**first, "update_type": "channel_join"})[0] == 200
    status, body = bridge.platform({**first, "upload_file_key": "uf-b", "update_type": "channel_join"})
    assert status == 409 and body["error"] == {
        "code": "conflict",
        "message": "media content key 'mck-a' belongs to another upload",
        "field": "media_content_key",
    }
    assert bridge.call("GET", "/v1/contents/mck-a")[1]["upload_file_key"] == "uf-a"
    kept = [item for item in bridge.client.scan(TableName=bridge.table)["Items"] if item["pk"]["S"].startswith("R#")]
    assert [item["source"]["S"] for item in kept] == ["platform_callback"]


def test_ready_means_playable_and_listings_leave_deleted_contents_out(bridge: Bridge) -> None:
    key = uploaded(bridge)["upload_file_key"]

    def listed(query: str) -> list[tuple[str, str, str | None]]:
        status, page = bridge.call("GET", "/v1/contents", query)
        assert status == 200
        return [(item["upload_file_key"], item["status"], item["media_content_key"]) for item in page["items"]]

    bridge.platform({"upload_file_key": key, "filename": "a.mp4", "transcoding_result": "success"})
    # Transcoded, but in no channel yet: no key a player could use, so not ready.
    assert listed("status=ready") == [] and listed("status=transcoding") == [(key, "transcoding", None)]
    join = {
        "upload_file_key": key,
        "media_content_key": "mck-1",
        "channel_key": "lectures",
        "update_type": "channel_join",
    }
    bridge.platform(join)
    assert listed("status=ready") == [(key, "ready", "mck-1")] and listed("status=transcoding") == []
    status, _ = bridge.call("DELETE", f"/v1/contents/{key}")
    assert status == 200 and listed("") == [] and listed("status=deleted") == [(key, "deleted", "mck-1")]
