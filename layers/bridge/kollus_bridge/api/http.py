"""The API function's HTTP edge: one resolver setup with CORS, bearer auth, request validation and
the one error shape (`kollus_bridge.edge` maps errors to statuses)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Mapping
from re import Match
from typing import Annotated, Any
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, CORSConfig, Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.params import Form, Query
from aws_lambda_powertools.event_handler.openapi.params import Path as PathParam
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from pydantic import BaseModel

from kollus_bridge.auth import require_api_token
from kollus_bridge.delivery.ledger import StoredLedgerEntry
from kollus_bridge.edge import CORS_ALLOW_HEADERS, CORS_MAX_AGE_SECONDS, refusal
from kollus_bridge.errors import (
    BridgeError,
    InvalidPayload,
    InvalidRequest,
    MethodNotAllowed,
    NotFound,
    UnsupportedMediaType,
)
from kollus_bridge.kollus.values import refuse_lone_surrogates
from kollus_bridge.progress.rule import blocks_needed, missing_ranges
from kollus_bridge.settings import Settings
from kollus_bridge.times import iso_time

from .models import ErrorBody, LedgerEntry, Lowered, ProgressDetail, ProgressRecord, SessionCredit
from .refusals import JSON_TYPES, Routes, invalid_request, media_type, wrong_media_type
from .service import RecordView

_ERROR_DESCRIPTIONS = {
    400: "Invalid input (the error names the field)",
    401: "Missing or invalid credentials",
    403: "Not allowed: no valid session nonce",
    404: "Not found",
    409: "Conflict: the state of things does not allow it (the message says why)",
    413: "Body too large",
    415: "Unsupported content type",
    422: "The record would exceed the storage item size",
    429: "A bounded resource is used up for now (the message says which); retry later",
    502: "The Kollus VOD API refused the request (kollus_refused; the message says why)",
    503: "Storage or the Kollus VOD API unavailable: nothing was changed; retry",
}


#: Path and query parameters the routes share.
ContentKey = Annotated[str, PathParam(min_length=1, max_length=256, examples=["nY3CaQtl"])]
LearnerId = Annotated[str, PathParam(min_length=1, max_length=256, examples=["user-1042"])]
PageToken = Annotated[str | None, Query(max_length=4096)]
#: A page's size, for the listings of up to 500 items a page.
Limit = Annotated[int, Query(ge=1, le=500, examples=[100])]


def error_responses(*statuses: int) -> dict[int, OpenAPIResponse]:
    """OpenAPI declarations of error responses, all in the one error shape."""
    return {
        status: {"description": _ERROR_DESCRIPTIONS[status], "content": {"application/json": {"model": ErrorBody}}}
        for status in statuses
    }


def responses(model: Any, *errors: int, status: int = 200, description: str = "OK") -> dict[int, OpenAPIResponse]:
    """OpenAPI declarations of a route's success body and its errors."""
    success: OpenAPIResponse = {"description": description, "content": {"application/json": {"model": model}}}
    return {status: success, **error_responses(*errors)}


def redirect_responses(description: str, *errors: int, status: int = 302) -> dict[int, OpenAPIResponse]:
    """OpenAPI declarations of a redirecting route (no body) and its errors."""
    empty: OpenAPIResponse = {
        "description": description,
        "content": {"text/plain": {"schema": {"type": "string", "maxLength": 0, "examples": [""]}}},
    }
    return {status: empty, **error_responses(*errors)}


def page_responses(description: str, *errors: int) -> dict[int, OpenAPIResponse]:
    """OpenAPI declarations of a route answering an HTML page, and its errors."""
    schema = {"type": "string", "examples": ['<!doctype html><html lang="en">...</html>']}
    page: OpenAPIResponse = {"description": description, "content": {"text/html": {"schema": schema}}}
    return {200: page, **error_responses(*errors)}


def error_response(error: BridgeError) -> Response[str]:
    """Every refusal in the one error shape (logged and counted by `edge.refusal`); a 405 names the
    methods the path takes in `Allow`."""
    status, body = refusal(error)
    headers = {"Allow": ", ".join(error.allowed)} if isinstance(error, MethodNotAllowed) else None
    return Response(status, "application/json", ErrorBody.model_validate(body).model_dump_json(), headers=headers)


def _no_lone_surrogates(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response[str]:
    """A JSON body escaping a lone UTF-16 surrogate (`"\\ud800"`) decodes to a string nothing can
    store: refused before any route reads it."""
    body = app.current_event.decoded_body
    if body and "\\u" in body:
        try:
            document = json.loads(body)
        except ValueError:
            document = None  # the route's own reading says what is wrong with it
        try:
            refuse_lone_surrogates(body, document, "body")
        except InvalidPayload as error:
            raise InvalidRequest(error.message, field="body") from None
    return next_middleware(app)


class Resolver(APIGatewayHttpResolver):
    """Powertools' HTTP API resolver, reading path parameters as values: API Gateway hands over the
    path as the client encoded it (`rawPath`), so `/v1/courses/algo%20101` names the course `algo 101`."""

    def _convert_matches_into_route_keys(self, match: Match[str]) -> dict[str, str]:
        return {name: unquote(value) for name, value in match.groupdict().items()}


def _takes_json(app: APIGatewayHttpResolver) -> bool:
    """Whether the matched route reads a JSON body (rather than a form, or none)."""
    route = app.context.get("_route")
    params = route.dependant.body_params if route is not None else []
    return bool(params) and not any(isinstance(param.field_info, Form) for param in params)


def _sent_json(app: APIGatewayHttpResolver) -> bool:
    return media_type(app.current_event.headers.get("content-type")) in ("", *JSON_TYPES)


def _json_sent_otherwise(app: APIGatewayHttpResolver) -> UnsupportedMediaType | None:
    """The refusal of a body sent as anything but JSON to a route that reads JSON, else None."""
    if app.current_event.body and _takes_json(app) and not _sent_json(app):
        return wrong_media_type(app.current_event.headers.get("content-type"))
    return None


def _json_bodies_only(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response[str]:
    """Middleware: a route that reads JSON refuses a body sent as anything else, even one the request
    validation could read as a form, saying which content type to send."""
    if (refused := _json_sent_otherwise(app)) is not None:
        raise refused
    response: Response[str] = next_middleware(app)
    return response


def make_resolver(settings: Settings, documented: Callable[[], Routes] | None = None) -> APIGatewayHttpResolver:
    """An HTTP API (payload 2.0) resolver with CORS and the project's error handling. `documented`
    gives the routes of the OpenAPI document: a request no route serves is then answered 405 (with
    the methods its path takes) or 404."""
    app = Resolver(
        cors=CORSConfig(
            allow_origin=settings.cors_allow_origin,
            allow_headers=[CORS_ALLOW_HEADERS],
            max_age=CORS_MAX_AGE_SECONDS,
        ),
        enable_validation=True,
    )

    @app.exception_handler(BridgeError)  # type: ignore[untyped-decorator]
    def _bridge_error(error: BridgeError) -> Response[str]:
        return error_response(error)

    app.use(middlewares=[_no_lone_surrogates])

    @app.exception_handler(RequestValidationError)  # type: ignore[untyped-decorator]
    def _invalid_request(error: RequestValidationError) -> Response[str]:
        # The mistake that explains the others first: the content type, then a misspelt parameter.
        if (refused := _json_sent_otherwise(app)) is not None:
            return error_response(refused)
        unknown = _unknown_query(app)
        if unknown is not None:
            return error_response(unknown)
        return error_response(invalid_request(error.errors(), app.current_event.decoded_body))

    @app.exception_handler(RequestUnsupportedContentType)  # type: ignore[untyped-decorator]
    def _unsupported_media_type(_: RequestUnsupportedContentType) -> Response[str]:
        return error_response(wrong_media_type(app.current_event.headers.get("content-type")))

    @app.exception_handler(ValueError)  # type: ignore[untyped-decorator]
    def _unreadable_body(error: ValueError) -> Response[str]:
        # The request validation reads non-JSON bodies (form, multipart) itself and raises ValueError
        # on a malformed one: the client's error. Any other ValueError is ours and stays a 500.
        if isinstance(error, UnicodeDecodeError | json.JSONDecodeError):
            return error_response(InvalidRequest("the body is not valid UTF-8 JSON", field="body"))
        if (refused := _json_sent_otherwise(app)) is not None:
            return error_response(refused)
        if app.current_event.body and not _sent_json(app):  # a form route: a multipart body it cannot read
            content_type = app.current_event.headers.get("content-type")
            return error_response(wrong_media_type(content_type, "application/x-www-form-urlencoded"))
        raise error

    @app.not_found
    def _not_found(_: NotFoundError) -> Response[str]:
        event = app.current_event
        if documented is None:
            return error_response(NotFound(f"there is no route {event.http_method} {event.path}"))
        return error_response(documented().refusal(event.http_method, event.path))

    app.use(middlewares=[_json_bodies_only])
    return app


def bearer_auth(
    settings: Settings, public_paths: frozenset[str] | set[str] = frozenset(), public_prefix: str | None = None
) -> Callable[[APIGatewayHttpResolver, NextMiddleware], Response[str]]:
    """Middleware: every route of the API but `public_paths` and the paths under `public_prefix` needs
    `Authorization: Bearer <api token>`."""

    def middleware(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response[str]:
        path = app.current_event.path
        public = path in public_paths or bool(public_prefix and path.startswith(public_prefix))
        if not public and not _unmatched(app):  # no route: 404 or 405 says so, to anyone (the document is public)
            require_api_token(app.current_event.headers.get("authorization"), settings)
        response: Response[str] = next_middleware(app)
        return response

    return middleware


def _unmatched(app: APIGatewayHttpResolver) -> bool:
    """No route matched: Powertools runs the middlewares around its not-found handler (405 or 404 there)."""
    route = app.context.get("_route")
    return route is None or getattr(route.func, "__name__", "") == "not_found_handler"


def _unknown_query(app: APIGatewayHttpResolver) -> InvalidRequest | None:
    route = app.context.get("_route")
    if route is None or _unmatched(app):
        return None
    declared = {parameter.alias for parameter in route.dependant.query_params}
    unknown = sorted(set(app.current_event.query_string_parameters or {}) - declared)
    if not unknown:
        return None
    known = ", ".join(sorted(declared)) or "none"
    return InvalidRequest(f"unknown query parameter {unknown[0]!r} (this route takes: {known})", field=unknown[0])


def declared_query_only(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response[str]:
    """Middleware: a query parameter the route does not declare is refused (a misspelt `limt` would
    otherwise be silently ignored)."""
    unknown = _unknown_query(app)
    if unknown is not None:
        raise unknown
    response: Response[str] = next_middleware(app)
    return response


def progress_record(item: RecordView) -> ProgressRecord:
    """The public representation of one progress record."""
    view = item.view
    return ProgressRecord(
        client_user_id=item.client_user_id,
        media_content_key=item.media_content_key,
        title=item.title,
        block_count=view.block_count,
        duration=view.duration,
        watched_blocks=view.watched_blocks,
        progress=float(view.progress),
        completed=view.completed,
        completed_at=iso_time(view.completed_at),
        last_position=view.last_position,
        play_time=view.play_time,
        real_play_time=view.real_play_time,
        sessions=view.sessions,
        suspicious_sessions=view.suspicious_sessions,
        limited_sessions=view.limited_sessions,
        completion_threshold=item.rules.completion_threshold,
        updated_at=iso_time(view.updated_at),
    )


def progress_detail_json(item: RecordView) -> ProgressDetail:
    """One record with what is missing: the unwatched ranges and the blocks still needed."""
    state = item.state
    sessions = sorted(state.sessions.items(), key=lambda entry: (entry[1].start_at, entry[0])) if state else []
    lowered = state.lowered if state else None
    return ProgressDetail(
        **progress_record(item).model_dump(),
        missing_ranges=missing_ranges(item.view),
        blocks_needed=blocks_needed(item.view, item.rules.completion_threshold),
        credit=[
            SessionCredit(
                session=key,
                start_at=session.start_at,
                block_count=session.block_count,
                grid=session.grid,
                claimed_blocks=session.claimed,
                credited_blocks=session.credited,
                limit=session.limit,  # type: ignore[arg-type]
                suspicious=session.suspicious,
            )
            for key, session in sessions
        ],
        lowered=None
        if lowered is None
        else Lowered(at=iso_time(lowered[0]), progress_before=float(lowered[1]), progress_after=float(lowered[2])),
    )


CSV_COLUMNS = list(ProgressRecord.model_fields)


def csv_cell(value: object) -> object:
    # A cell a spreadsheet would run as a formula is quoted (CSV injection).
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def csv_table(columns: list[str], rows: Iterable[Mapping[str, Any]]) -> str:
    """Rows as CSV (CRLF lines, a header row), each cell safe to open in a spreadsheet."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([csv_cell(row[column]) for column in columns])
    return buffer.getvalue()


def progress_csv(records: list[ProgressRecord]) -> str:
    return csv_table(CSV_COLUMNS, (record.model_dump() for record in records))


def accepts(app: APIGatewayHttpResolver | Router, media_type: str) -> bool:
    """Whether the request's Accept header names `media_type`."""
    return media_type in (app.current_event.headers.get("accept") or "").lower()


def wants_csv(app: APIGatewayHttpResolver | Router) -> bool:
    return accepts(app, "text/csv")


def model_response(status: int, model: BaseModel) -> Response[str]:
    return Response(status_code=status, content_type="application/json", body=model.model_dump_json())


def ledger_json(entry: StoredLedgerEntry) -> LedgerEntry:
    """The public representation of one sync ledger entry."""
    ledger = entry.ledger
    return LedgerEntry(
        subject="progress" if entry.client_user_id is not None else "content",
        target=entry.target.value,
        client_user_id=entry.client_user_id,
        media_content_key=entry.media_content_key,
        upload_file_key=entry.upload_file_key,
        state=ledger.state.value if ledger.state else None,
        attempts=ledger.attempts,
        completed_at=iso_time(entry.completed_at),
        last_attempt_at=iso_time(ledger.last_attempt_at),
        next_attempt_at=iso_time(ledger.next_attempt_at),
        last_status=ledger.last_status,
        last_error=ledger.last_error,
        delivered_at=iso_time(ledger.delivered_at),
        webhook_id=ledger.message_id,
    )
