"""The framework-free HTTP edge of the callback function."""

from __future__ import annotations

import base64
import json

import pytest
from kollus_bridge import edge
from kollus_bridge.api import models as api_models
from kollus_bridge.errors import BridgeError, Forbidden, InvalidPayload, NotFound, StorageUnavailable


class TestCors:
    def test_any_origin(self) -> None:
        headers = edge.cors_headers("*", "https://a.example")
        assert headers["Access-Control-Allow-Origin"] == "*"
        assert "Vary" not in headers and "Access-Control-Allow-Methods" not in headers

    def test_one_origin_is_echoed_and_others_get_nothing(self) -> None:
        assert edge.cors_headers("https://a.example", "https://a.example", "OPTIONS,POST") == {
            "Access-Control-Allow-Origin": "https://a.example",
            "Access-Control-Allow-Headers": "Content-Type",
            "Access-Control-Max-Age": "600",
            "Vary": "Origin",
            "Access-Control-Allow-Methods": "OPTIONS,POST",
        }
        assert edge.cors_headers("https://a.example", "https://b.example") == {}

    def test_no_origin_no_headers(self) -> None:
        assert edge.cors_headers("*", None) == {}


class TestRequest:
    def test_headers_are_found_whatever_their_case(self) -> None:
        assert edge.header({"headers": {"Content-Type": "text/plain"}}, "content-type") == "text/plain"
        assert edge.header({"headers": None}, "content-type") is None

    def test_base64_body_and_query(self) -> None:
        event = {"body": base64.b64encode(b"a=1").decode(), "isBase64Encoded": True, "rawQueryString": "b=2"}
        raw = edge.raw_callback(event)
        assert (raw.body, raw.query, raw.content_type) == (b"a=1", "b=2", None)

    @pytest.mark.parametrize("body", ["%%%not base64", 42])
    def test_unreadable_body_is_invalid_payload(self, body: object) -> None:
        with pytest.raises(InvalidPayload) as caught:
            edge.raw_callback({"body": body, "isBase64Encoded": True})
        assert caught.value.field == "body"

    def test_missing_path_parameter_is_not_found(self) -> None:
        with pytest.raises(NotFound):
            edge.path_parameter({"pathParameters": None}, "token")


class TestRefusal:
    @pytest.mark.parametrize(
        ("error", "status"),
        [
            (InvalidPayload("bad", field="duration"), 400),
            (Forbidden("no"), 403),
            (StorageUnavailable("down"), 503),
            (BridgeError("unmapped"), 500),
        ],
    )
    def test_status_and_documented_shape(self, error: BridgeError, status: int) -> None:
        got_status, body = edge.refusal(error)
        assert got_status == status
        assert api_models.ErrorBody.model_validate(body).error.code == error.code
        response = edge.json_response(got_status, body)
        assert json.loads(response["body"]) == {"error": {"code": error.code, "message": error.message,
                                                          "field": error.field}}  # fmt: skip
