"""The HTTP edge without a web framework: API Gateway (HTTP API, payload 2.0) events in, proxy
responses out. The callback function answers with it alone, because its cold start is on the hot path;
the API function's resolver (`kollus_bridge.api.http`) shares its status map and error shape.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from .errors import (
    BridgeError,
    Conflict,
    Forbidden,
    InvalidPayload,
    InvalidRequest,
    KollusRefused,
    KollusUnavailable,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    RecordTooLarge,
    StorageUnavailable,
    TooManyRequests,
    Unauthorized,
    UnsupportedMediaType,
)
from .kollus.callback import RawCallback
from .observability import logger, metrics

#: The one place where domain errors become HTTP status codes.
STATUS_BY_ERROR: dict[type[BridgeError], int] = {
    InvalidPayload: 400,
    InvalidRequest: 400,
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    MethodNotAllowed: 405,
    Conflict: 409,
    PayloadTooLarge: 413,
    UnsupportedMediaType: 415,
    RecordTooLarge: 422,
    TooManyRequests: 429,
    StorageUnavailable: 503,
    KollusRefused: 502,
    KollusUnavailable: 503,
}

#: The headers a browser may send with a cross-origin request, and how long it may cache a preflight.
CORS_ALLOW_HEADERS = "Content-Type"
CORS_MAX_AGE_SECONDS = 600


def refusal(error: BridgeError) -> tuple[int, dict[str, Any]]:
    """Every refusal: its status and the one error shape (`api_models.ErrorBody`), logged and counted."""
    logger.info("request refused", extra={"error_code": error.code, "field": error.field})
    metrics.add_metric(name=f"Refused_{error.code}", unit=MetricUnit.Count, value=1)
    status = next((code for kind, code in STATUS_BY_ERROR.items() if isinstance(error, kind)), 500)
    return status, {"error": {"code": error.code, "message": error.message, "field": error.field}}


def json_response(status: int, body: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> dict[str, Any]:
    """An API Gateway proxy response with a JSON body."""
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json", **(headers or {})},
        "body": json.dumps(body, separators=(",", ":"), ensure_ascii=False),
        "isBase64Encoded": False,
    }


def header(event: Mapping[str, Any], name: str) -> str | None:
    """A request header, by its lowercase name (API Gateway lowercases them; tests and tools may not)."""
    headers = event.get("headers") or {}
    value = headers.get(name)
    if value is None:
        value = next((value for key, value in headers.items() if key.lower() == name), None)
    return value if isinstance(value, str) else None


def method(event: Mapping[str, Any]) -> str:
    http = (event.get("requestContext") or {}).get("http") or {}
    return str(http.get("method", "")).upper()


def path_parameter(event: Mapping[str, Any], name: str) -> str:
    value = (event.get("pathParameters") or {}).get(name)
    if not isinstance(value, str):
        raise NotFound("no such route")
    return value


def cors_headers(allow_origin: str, origin: str | None, methods: str | None = None) -> dict[str, str]:
    """The CORS headers for a request from `origin` (none when the origin is not allowed); `methods`
    for a preflight."""
    if origin is None or allow_origin not in ("*", origin):
        return {}
    headers = {
        "Access-Control-Allow-Origin": allow_origin,
        "Access-Control-Allow-Headers": CORS_ALLOW_HEADERS,
        "Access-Control-Max-Age": str(CORS_MAX_AGE_SECONDS),
    }
    if allow_origin != "*":
        headers["Vary"] = "Origin"
    if methods:
        headers["Access-Control-Allow-Methods"] = methods
    return headers


def raw_callback(event: Mapping[str, Any]) -> RawCallback:
    """The request as the callback parser wants it: body bytes, content type, raw query string."""
    body = event.get("body") or ""
    if not isinstance(body, str):
        raise InvalidPayload("the body is not text", field="body")
    if event.get("isBase64Encoded"):
        try:
            data = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidPayload("the body is not valid base64", field="body") from None
    else:
        data = body.encode("utf-8", "surrogatepass")
    query = event.get("rawQueryString") or ""
    return RawCallback(body=data, content_type=header(event, "content-type"), query=query)


def post_only(event: Mapping[str, Any], receive: Callable[[Mapping[str, Any]], dict[str, Any]]) -> dict[str, Any]:
    """A route that answers POST only: `receive`'s response, or any refusal in the one error shape."""
    try:
        if method(event) != "POST":
            raise NotFound("no such route")
        return receive(event)
    except BridgeError as error:
        status, body = refusal(error)
        return json_response(status, body, {})
