"""The functions in-process against moto, fed with the `events/` files (single-threaded: moto loses
concurrent updates, so concurrency is tested on DynamoDB Local instead)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any
from unittest import mock

import boto3
import pytest
from botocore.exceptions import ClientError
from kollus_bridge.api import callback_models
from kollus_bridge.api import models as api_models
from kollus_bridge.settings import get_settings
from kollus_bridge.store.pages import encode_token
from moto import mock_aws

from local.dynamodb_local import create_tables
from local.http_api import LambdaContext
from local.lms_receiver import LmsReceiver
from local.stack import LOCAL_DEFAULTS
from tests.helpers import body_of, captured_logs, invoke, load_event, serving
from tests.payloads import API_TOKEN, Snapshot, callback_event, http_event, progress_event


class Deployment:
    """The two functions on a moto table."""

    def __init__(self, functions: dict[str, ModuleType], client: Any, table: str) -> None:
        self.callback = functions["CallbackFunction"]
        self.api = functions["ApiFunction"]
        self.client = client
        self.table = table

    def items(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = self.client.scan(TableName=self.table)["Items"]
        return items

    def items_with(self, prefix: str) -> list[dict[str, Any]]:
        return [
            item for item in self.items() if item["sk"]["S"].startswith(prefix) or item["pk"]["S"].startswith(prefix)
        ]

    def post(self, event: dict[str, Any]) -> tuple[int, Any]:
        response = invoke(self.callback, event)
        return response["statusCode"], body_of(response) if response.get("body") else None

    def get(self, event: dict[str, Any]) -> tuple[int, Any]:
        response = invoke(self.api, event)
        return response["statusCode"], body_of(response)


@pytest.fixture
def deployment(
    function_environment: Callable[[dict[str, str]], None],
    load_functions: Callable[[], dict[str, ModuleType]],
) -> Iterator[Deployment]:
    with mock_aws():
        function_environment({})
        client = boto3.client("dynamodb", region_name="us-east-1")
        table = create_tables(client)["ProgressTable"]
        function_environment({"TABLE_NAME": table})
        yield Deployment(load_functions(), client, table)


def reference_progress(deployment: Deployment) -> tuple[int, Any]:
    return deployment.get(load_event("api/get-progress.json"))


class TestCallbackEndpoint:
    def test_json_data_form_is_accepted_then_duplicate(self, deployment: Deployment) -> None:
        status, body = deployment.post(load_event("callback/json-data-form.json"))
        assert status == 200
        assert body == {
            "result": "accepted",
            "watched_blocks": 1,
            "block_count": 10,
            "progress": 10.0,
            "completed": False,
        }
        status, body = deployment.post(load_event("callback/json-data-form.json"))
        assert (status, body["result"], body["watched_blocks"]) == (200, "duplicate", 1)
        assert len(deployment.items_with("S#")) == 1  # one raw snapshot for the one session

    def test_flat_form_with_query_string(self, deployment: Deployment) -> None:
        status, body = deployment.post(load_event("callback/flat-form.json"))
        # 4 blocks of 60 s: 60 and 45 s reach half a block, 20 s does not.
        assert (status, body["watched_blocks"], body["block_count"], body["progress"]) == (200, 2, 4, 50.0)

    def test_json_body(self, deployment: Deployment) -> None:
        status, body = deployment.post(load_event("callback/json-body.json"))
        assert (status, body["result"]) == (200, "accepted")

    def test_wrong_token_is_401_and_stores_nothing(self, deployment: Deployment) -> None:
        status, body = deployment.post(load_event("callback/bad-token.json"))
        assert status == 401
        assert body["error"]["code"] == "unauthorized"
        assert "not-the-token" not in json.dumps(body)
        assert deployment.items() == []

    def test_invalid_payload_is_400_and_kept_in_the_rejected_store(self, deployment: Deployment) -> None:
        status, body = deployment.post(load_event("callback/invalid-payload.json"))
        assert status == 400
        assert body["error"] == {
            "code": "invalid_payload",
            "message": "duration must not be negative",
            "field": "duration",
        }
        rejected = deployment.items_with("R#")
        assert len(rejected) == 1
        assert rejected[0]["reason_code"]["S"] == "invalid_payload"
        assert int(rejected[0]["expires_at"]["N"]) - int(rejected[0]["received_at"]["N"]) // 1000 == 30 * 86400
        assert deployment.items_with("L#") == []  # no partial write

    @pytest.mark.parametrize(
        ("body", "content_type", "status", "code"),
        [
            (b"not a form at all", "text/plain", 415, "unsupported_media_type"),
            (b"x" * (1_048_576 + 1), "application/x-www-form-urlencoded", 413, "payload_too_large"),
            (b"json_data=%7B%22user_info%22", "application/x-www-form-urlencoded", 400, "invalid_payload"),
            (b"{}", "application/json", 400, "invalid_payload"),
        ],
    )
    def test_refusals_have_the_error_shape(
        self, deployment: Deployment, body: bytes, content_type: str, status: int, code: str
    ) -> None:
        got_status, got = deployment.post(callback_event(body, content_type=content_type))
        assert got_status == status
        assert got["error"]["code"] == code
        assert set(got["error"]) == {"code", "message", "field"}
        assert len(deployment.items_with("R#")) == 1
        assert deployment.items_with("L#") == []

    def test_plain_text_body_event(self, deployment: Deployment) -> None:
        event = callback_event(Snapshot(block_times={0: 60}).form_body())
        event["body"] = Snapshot(block_times={0: 60}).form_body().decode()
        event["isBase64Encoded"] = False
        assert deployment.post(event)[0] == 200

    def test_cors_preflight(self, deployment: Deployment) -> None:
        event = callback_event(None)
        event["requestContext"]["http"]["method"] = "OPTIONS"
        event["routeKey"] = "OPTIONS /callbacks/kollus/{token}"
        event["headers"].update({"origin": "https://lms.example.com", "access-control-request-method": "POST"})
        response = invoke(deployment.callback, event)
        assert response["statusCode"] == 204
        assert response["headers"]["Access-Control-Allow-Origin"] == "*"
        assert "POST" in response["headers"]["Access-Control-Allow-Methods"]

    def test_answers_match_the_documented_models_and_carry_cors(self, deployment: Deployment) -> None:
        accepted = callback_event(Snapshot(block_times={0: 60}).form_body())
        refused = callback_event(b"json_data=%7B", content_type="application/x-www-form-urlencoded")
        for event, model in ((accepted, callback_models.CallbackResult), (refused, api_models.ErrorBody)):
            event["headers"]["origin"] = "https://player.example.com"
            response = invoke(deployment.callback, event)
            assert response["headers"]["Content-Type"] == "application/json"
            assert response["headers"]["Access-Control-Allow-Origin"] == "*"
            body = body_of(response)
            assert model.model_validate(body).model_dump() == body

    def test_other_methods_are_404_in_the_error_shape(self, deployment: Deployment) -> None:
        event = callback_event(Snapshot(block_times={0: 60}).form_body())
        event["requestContext"]["http"]["method"] = "PUT"
        status, body = deployment.post(event)
        assert (status, body["error"]["code"]) == (404, "not_found")
        assert deployment.items() == []

    def test_storage_failure_is_503_and_leaves_nothing(self, deployment: Deployment) -> None:
        failure = ClientError(
            {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow"}}, "UpdateItem"
        )
        with mock.patch.object(deployment.callback.store.client, "update_item", side_effect=failure):
            status, body = deployment.post(load_event("callback/json-data-form.json"))
        assert (status, body["error"]["code"]) == (503, "storage_unavailable")
        assert deployment.items() == []
        assert deployment.post(load_event("callback/json-data-form.json"))[1]["result"] == "accepted"

    def test_completion_is_reported_and_stamped_once(self, deployment: Deployment) -> None:
        snapshot = Snapshot(block_count=10, duration=600, block_times=dict.fromkeys(range(9), 60), serial=1)
        status, body = deployment.post(callback_event(snapshot.form_body()))
        assert (status, body["completed"], body["progress"]) == (200, True, 90.0)
        _, record = deployment.get(progress_event("client_user_id=learner-1&media_content_key=content-1"))
        first = record["completed_at"]
        assert first is not None
        snapshot.serial, snapshot.block_times[9] = 2, 60
        deployment.post(callback_event(snapshot.form_body()))
        _, record = deployment.get(progress_event("client_user_id=learner-1&media_content_key=content-1"))
        assert (record["completed_at"], record["progress"]) == (first, 100.0)


class TestProgressApi:
    def test_reads_the_record(self, deployment: Deployment) -> None:
        deployment.post(load_event("callback/json-data-form.json"))
        status, body = reference_progress(deployment)
        assert status == 200
        assert body["client_user_id"] == "user-1042" and body["media_content_key"] == "nY3CaQtl"
        assert (body["block_count"], body["duration"], body["watched_blocks"], body["progress"]) == (10, 600.0, 1, 10.0)
        assert (body["last_position"], body["play_time"], body["real_play_time"], body["sessions"]) == (
            406.0,
            75.0,
            75.0,
            1,
        )
        assert body["completed"] is False and body["completed_at"] is None
        assert body["updated_at"].endswith("Z")

    def test_unknown_record_is_404(self, deployment: Deployment) -> None:
        status, body = reference_progress(deployment)
        assert (status, body["error"]["code"]) == (404, "not_found")

    @pytest.mark.parametrize("token", [None, "wrong"])
    def test_without_a_valid_token_is_401(self, deployment: Deployment, token: str | None) -> None:
        deployment.post(load_event("callback/json-data-form.json"))
        status, body = deployment.get(
            progress_event("client_user_id=user-1042&media_content_key=nY3CaQtl", token=token)
        )
        assert (status, body["error"]["code"]) == (401, "unauthorized")
        assert "watched_blocks" not in body

    @pytest.mark.parametrize(
        ("query", "field"),
        [("", "client_user_id"), ("client_user_id=&media_content_key=m", "client_user_id"),
         ("client_user_id=u&limit=0", "limit"), ("client_user_id=u&next_token=abc", "next_token")],
    )  # fmt: skip
    def test_bad_parameters_are_400(self, deployment: Deployment, query: str, field: str) -> None:
        status, body = deployment.get(progress_event(query))
        assert (status, body["error"]["code"], body["error"]["field"]) == (400, "invalid_request", field)

    def test_unknown_route_is_404_with_the_error_shape(self, deployment: Deployment) -> None:
        event = progress_event("")
        event["rawPath"] = event["requestContext"]["http"]["path"] = "/v1/nothing"
        status, body = deployment.get(event)
        assert (status, body["error"]["code"]) == (404, "not_found")


def test_tokens_never_reach_the_logs(deployment: Deployment) -> None:
    with captured_logs() as buffer:
        deployment.post(load_event("callback/json-data-form.json"))
        deployment.post(load_event("callback/invalid-payload.json"))
        deployment.get(load_event("api/get-progress.json"))
        deployment.post(load_event("callback/bad-token.json"))
    written = buffer.getvalue()
    assert "request refused" in written  # the logs were captured at all
    assert '"correlation_id":"request-1"' in written
    for secret in (API_TOKEN, "local-callback-token", "not-the-token"):
        assert secret not in written


def test_tokens_from_secrets_manager_with_rotation(
    function_environment: Callable[[dict[str, str]], None], load_functions: Callable[[], dict[str, ModuleType]]
) -> None:
    """In AWS the tokens live in Secrets Manager: several comma-separated tokens work during rotation."""
    with mock_aws():
        function_environment({})
        client = boto3.client("dynamodb", region_name="us-east-1")
        table = create_tables(client)["ProgressTable"]
        secrets = boto3.client("secretsmanager", region_name="us-east-1")
        callback_arn = secrets.create_secret(Name="callback", SecretString="new-token,old-token")["ARN"]
        api_arn = secrets.create_secret(Name="api", SecretString="api-secret-token")["ARN"]
        function_environment(
            {
                "TABLE_NAME": table,
                "KOLLUS_CALLBACK_TOKEN": "",
                "API_TOKEN": "",
                "CALLBACK_TOKEN_SECRET_ARN": callback_arn,
                "API_TOKEN_SECRET_ARN": api_arn,
            }
        )
        deployment = Deployment(load_functions(), client, table)
        body = Snapshot(block_times={0: 60}).form_body()
        assert deployment.post(callback_event(body, token="new-token"))[0] == 200
        assert deployment.post(callback_event(body, token="old-token"))[1]["result"] == "duplicate"
        assert deployment.post(callback_event(body, token="local-callback-token"))[0] == 401
        query = "client_user_id=learner-1&media_content_key=content-1"
        assert deployment.get(progress_event(query, token="api-secret-token"))[0] == 200
        assert deployment.get(progress_event(query))[0] == 401


class TestSyncEndpoints:
    def test_ledger_needs_the_api_token(self, deployment: Deployment) -> None:
        event = progress_event("state=failed", token=None)
        event["rawPath"] = event["requestContext"]["http"]["path"] = "/v1/sync"
        event["routeKey"] = "GET /v1/sync"
        assert deployment.get(event)[0] == 401

    @pytest.mark.parametrize(
        ("query", "field"),
        [
            ("state=lost", "state"),
            ("limit=0", "limit"),
            ("limit=501", "limit"),
            ("next_token=bm90LWEta2V5", "next_token"),
            ("next_token=%25%25%25", "next_token"),
        ],
    )
    def test_bad_ledger_parameters_are_400(self, deployment: Deployment, query: str, field: str) -> None:
        event = progress_event(query)
        event["rawPath"] = event["requestContext"]["http"]["path"] = "/v1/sync"
        event["routeKey"] = "GET /v1/sync"
        status, body = deployment.get(event)
        assert (status, body["error"]["code"], body["error"]["field"]) == (400, "invalid_request", field)

    def test_a_token_for_another_state_is_refused(self, deployment: Deployment) -> None:
        forged = encode_token(
            {"pk": {"S": "L#x"}, "sk": {"S": "P#y"}, "sync_state": {"S": "delivered"}, "sync_changed_at": {"N": "1"}}
        )
        event = progress_event(f"state=failed&next_token={forged}")
        event["rawPath"] = event["requestContext"]["http"]["path"] = "/v1/sync"
        event["routeKey"] = "GET /v1/sync"
        assert deployment.get(event)[0] == 400

    def redeliver_event(self, body: bytes) -> dict[str, Any]:
        return http_event(
            "POST", "/v1/sync/redeliver", "POST /v1/sync/redeliver", body=body, content_type="application/json",
            headers={"authorization": f"Bearer {API_TOKEN}"}, base64_body=False,
        )  # fmt: skip

    def test_redeliver_of_an_unknown_record_is_404(self, deployment: Deployment) -> None:
        status, body = deployment.get(self.redeliver_event(b'{"client_user_id": "u", "media_content_key": "m"}'))
        assert (status, body["error"]["code"]) == (404, "not_found")

    @pytest.mark.parametrize(
        "body", [b"{", b"[]", b'{"client_user_id": "u"}', b'{"client_user_id": "", "media_content_key": "m"}']
    )
    def test_redeliver_with_a_bad_body_is_400(self, deployment: Deployment, body: bytes) -> None:
        status, answer = deployment.get(self.redeliver_event(body))
        assert (status, answer["error"]["code"]) == (400, "invalid_request")


def test_the_scheduled_sync_delivers_to_the_lms(deployment: Deployment, load_functions: Any, monkeypatch: Any) -> None:
    receiver = LmsReceiver(("127.0.0.1", 0), [LOCAL_DEFAULTS["LMS_WEBHOOK_SECRET"]])
    with serving(receiver):
        snapshot = Snapshot(block_times=dict.fromkeys(range(10), 60.0), uservalues={"uservalue0": "course-7"})
        assert deployment.post(callback_event(snapshot.form_body()))[1]["completed"] is True
        monkeypatch.setenv("LMS_WEBHOOK_URL", receiver.url)
        get_settings.cache_clear()
        sync_function = load_functions()["SyncFunction"]
        result = sync_function.lambda_handler(load_event("sync/scheduled.json"), LambdaContext("sync", 300))
        assert (result["delivered"], result["failed"]) == (1, 0)
        (message,) = receiver.delivered()
        assert message.body["data"]["uservalues"] == {"uservalue0": "course-7"}


def test_the_stream_delivers_a_record_that_became_due(
    deployment: Deployment, load_functions: Any, monkeypatch: Any
) -> None:
    receiver = LmsReceiver(("127.0.0.1", 0), [LOCAL_DEFAULTS["LMS_WEBHOOK_SECRET"]])
    with serving(receiver):
        snapshot = Snapshot(block_times=dict.fromkeys(range(10), 60.0))
        assert deployment.post(callback_event(snapshot.form_body()))[1]["completed"] is True
        monkeypatch.setenv("LMS_WEBHOOK_URL", receiver.url)
        get_settings.cache_clear()
        deliver_function = load_functions()["DeliverFunction"]
        event = load_event("deliver/became-due.json")
        result = deliver_function.lambda_handler(event, LambdaContext("deliver", 60))
        assert (result["delivered"], result["failed"], result["errors"]) == (1, 0, 0)
        again = deliver_function.lambda_handler(event, LambdaContext("deliver", 60))  # Lambda may hand it over twice
        assert (again["delivered"], again["not_due"]) == (0, 1)
        assert [message.body["type"] for message in receiver.delivered()] == ["progress.completed"]
