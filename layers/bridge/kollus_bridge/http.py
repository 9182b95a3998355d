"""The HTTP edge shared by the functions: one resolver setup, one error shape, one status map."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, CORSConfig, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from .auth import require_api_token
from .dal import StoredLedgerEntry
from .errors import (
    BridgeError,
    InvalidPayload,
    InvalidRequest,
    NotFound,
    PayloadTooLarge,
    RecordTooLarge,
    StorageUnavailable,
    Unauthorized,
    UnsupportedMediaType,
)
from .kollus import RawCallback
from .observability import logger
from .progress import ProgressView
from .settings import Settings
from .times import iso_time

#: The one place where domain errors become HTTP status codes.
STATUS_BY_ERROR: dict[type[BridgeError], int] = {
    InvalidPayload: 400,
    InvalidRequest: 400,
    Unauthorized: 401,
    NotFound: 404,
    PayloadTooLarge: 413,
    UnsupportedMediaType: 415,
    RecordTooLarge: 422,
    StorageUnavailable: 503,
}


def json_response(status: int, body: dict[str, Any]) -> Response[str]:
    return Response(
        status_code=status,
        content_type="application/json",
        body=json.dumps(body, separators=(",", ":"), ensure_ascii=False),
    )


def error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "field": field}}


def error_response(error: BridgeError) -> Response[str]:
    status = next((code for kind, code in STATUS_BY_ERROR.items() if isinstance(error, kind)), 500)
    return json_response(status, error_body(error.code, error.message, error.field))


def _validation_field(error: RequestValidationError) -> str | None:
    for detail in error.errors():
        location = [str(part) for part in detail.get("loc", ()) if part not in ("query", "path", "body", "header")]
        if location:
            return ".".join(location)
    return None


def make_resolver(settings: Settings) -> APIGatewayHttpResolver:
    """An HTTP API (payload 2.0) resolver with CORS and the project's error handling."""
    app = APIGatewayHttpResolver(
        cors=CORSConfig(allow_origin=settings.cors_allow_origin, allow_headers=["Content-Type"], max_age=600),
        enable_validation=True,
    )

    @app.exception_handler(BridgeError)  # type: ignore[untyped-decorator]
    def _bridge_error(error: BridgeError) -> Response[str]:
        logger.info("request refused", extra={"error_code": error.code, "field": error.field})
        return error_response(error)

    @app.exception_handler(RequestValidationError)  # type: ignore[untyped-decorator]
    def _invalid_request(error: RequestValidationError) -> Response[str]:
        field = _validation_field(error)
        message = f"missing or invalid parameter {field}" if field else "invalid request"
        return error_response(InvalidRequest(message, field=field))

    @app.not_found
    def _not_found(_: NotFoundError) -> Response[str]:
        return error_response(NotFound("no such route"))

    return app


def bearer_auth(settings: Settings) -> Callable[[APIGatewayHttpResolver, NextMiddleware], Response[str]]:
    """Middleware: every route of the API needs `Authorization: Bearer <api token>`."""

    def middleware(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response[str]:
        require_api_token(app.current_event.headers.get("authorization"), settings)
        response: Response[str] = next_middleware(app)
        return response

    return middleware


def raw_callback(app: APIGatewayHttpResolver) -> RawCallback:
    """The request as the callback parser wants it: body bytes, content type, raw query string."""
    event = app.current_event
    body = event.body or ""
    if event.is_base64_encoded:
        try:
            data = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidPayload("the body is not valid base64", field="body") from None
    else:
        data = body.encode("utf-8", "surrogatepass")
    return RawCallback(body=data, content_type=event.headers.get("content-type"), query=event.raw_query_string or "")


def progress_json(client_user_id: str, media_content_key: str, view: ProgressView) -> dict[str, Any]:
    """The public representation of one progress record."""
    return {
        "client_user_id": client_user_id,
        "media_content_key": media_content_key,
        "block_count": view.block_count,
        "duration": view.duration,
        "watched_blocks": view.watched_blocks,
        "progress": float(view.progress),
        "completed": view.completed,
        "completed_at": iso_time(view.completed_at),
        "last_position": view.last_position,
        "play_time": view.play_time,
        "real_play_time": view.real_play_time,
        "sessions": view.sessions,
        "updated_at": iso_time(view.updated_at),
    }


def ledger_json(entry: StoredLedgerEntry) -> dict[str, Any]:
    """The public representation of one sync ledger entry."""
    ledger = entry.ledger
    return {
        "client_user_id": entry.client_user_id,
        "media_content_key": entry.media_content_key,
        "state": ledger.state.value if ledger.state else None,
        "attempts": ledger.attempts,
        "completed_at": iso_time(entry.completed_at),
        "last_attempt_at": iso_time(ledger.last_attempt_at),
        "next_attempt_at": iso_time(ledger.next_attempt_at),
        "last_status": ledger.last_status,
        "last_error": ledger.last_error,
        "delivered_at": iso_time(ledger.delivered_at),
        "webhook_id": ledger.message_id,
    }
