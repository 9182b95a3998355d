"""The LMS-facing API (bearer token): progress, the content catalog and uploads, per-content rules,
playback URLs, the sync ledger."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from kollus_bridge.access.play import require_entitled
from kollus_bridge.api import models as api_models
from kollus_bridge.api.contents import (
    Content,
    ContentPage,
    ContentPatch,
    Upload,
    UploadInput,
    content_json,
    contents_csv,
    upload_json,
)
from kollus_bridge.api.http import (
    ContentKey,
    bearer_auth,
    declared_query_only,
    ledger_json,
    make_resolver,
    model_response,
    progress_csv,
    progress_detail_json,
    progress_record,
    responses,
    wants_csv,
)
from kollus_bridge.api.refusals import Routes
from kollus_bridge.api.route_groups import LTI_PUBLIC_PATHS, VIEWS_PREFIX, LazyRoutes, RouteGroup
from kollus_bridge.api.service import (
    PlaybackInput,
    RulesInput,
    issue_playback_url,
    progress_detail,
    progress_page,
    redeliver,
    set_rules,
    sync_ledger,
)
from kollus_bridge.auth import playback_keys
from kollus_bridge.content import manage
from kollus_bridge.content.catalog import Status
from kollus_bridge.delivery.ledger import SyncState, Target
from kollus_bridge.errors import NotFound
from kollus_bridge.observability import logger, metrics
from kollus_bridge.progress.ingest import rules_for
from kollus_bridge.progress.rules import RulesCache
from kollus_bridge.runtime.vod import vod_client
from kollus_bridge.settings import get_settings
from kollus_bridge.store.api_tables import api_store
from kollus_bridge.times import iso_time, now_ms
from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from kollus_bridge.store.dynamo import DynamoStore

OPENAPI_DOCUMENT = Path(__file__).with_name("openapi.json")

settings = get_settings()
store = api_store(settings.table_name, settings.rejected_ttl_days)
rules_cache = RulesCache(lambda key: rules_for(key, settings, store), settings.rules_cache_seconds)
vod = vod_client(settings, store)


@cache
def documented_routes() -> Routes:
    """The routes of the OpenAPI document beside this module, read when a request first matches none."""
    return Routes(json.loads(OPENAPI_DOCUMENT.read_text(encoding="utf-8"))["paths"])


app = make_resolver(settings, documented_routes)
app.use(
    middlewares=[
        bearer_auth(settings, public_paths={"/v1/openapi.json", *LTI_PUBLIC_PATHS}, public_prefix=VIEWS_PREFIX),
        declared_query_only,
    ]
)


def block_watch_ratio(media_content_key: str) -> float:
    return rules_cache.get(media_content_key).min_block_watch_ratio


@cache
def whole_store() -> DynamoStore:
    """Every aggregate (the route groups' rosters, LTI platforms, insights), on the same client."""
    from kollus_bridge.store.dynamo import dynamo_store  # noqa: PLC0415

    return dynamo_store(settings.table_name, settings.rejected_ttl_days)


# Each group's modules are imported when a request first asks for one of its paths (route_groups).
def _course_routes() -> Router:
    from kollus_bridge.api.routes_courses import course_routes  # noqa: PLC0415

    return course_routes(whole_store())


def _lti_routes() -> Router:
    from kollus_bridge.api.routes_lti import lti_routes  # noqa: PLC0415
    from kollus_bridge.lti.jwks import KeySets  # noqa: PLC0415
    from kollus_bridge.runtime.lti import rotate_tool_keys, tool_keys  # noqa: PLC0415

    platform_keys = KeySets(max_age=settings.lti_jwks_cache_seconds)
    return lti_routes(
        whole_store(),
        settings,
        tool_keys=lambda: tool_keys(settings),
        rotate=lambda: rotate_tool_keys(settings),
        key_for=platform_keys.key_for,
    )


def _analytics_routes() -> Router:
    from kollus_bridge.api.routes_analytics import analytics_routes  # noqa: PLC0415

    return analytics_routes(whole_store(), settings, block_watch_ratio)


def _view_routes() -> Router:
    from kollus_bridge.api.routes_views import view_routes  # noqa: PLC0415

    return view_routes(whole_store(), settings, block_watch_ratio)


lazy_routes = LazyRoutes(
    app,
    [
        RouteGroup("courses", ("/v1/courses", "/v1/learners", "/v1/access-log"), _course_routes),
        RouteGroup("lti", ("/.well-known/jwks.json", "/lti", "/v1/lti"), _lti_routes),
        RouteGroup("analytics", ("/v1/analytics",), _analytics_routes),
        RouteGroup("views", ("/v1/view-links", "/v1/views"), _view_routes),
    ],
)


class RecordIdentity(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={
            "examples": [
                {"client_user_id": "user-1042", "media_content_key": "nY3CaQtl"},
                {"media_content_key": "nY3CaQtl"},
            ]
        },
    )

    client_user_id: str | None = Field(
        default=None, min_length=1, max_length=256, description="Omit to redeliver the content's content.* webhook."
    )
    media_content_key: str = Field(min_length=1, max_length=256)
    target: Literal["webhook", "ags", "xapi"] = Field(
        default="webhook", description="The LMS webhook, the LTI platform's gradebook (ags) or the LRS (xapi)."
    )


@app.get(
    "/v1/progress",
    summary="Progress: one record (with what is missing), a learner's records, or a content's",
    description="Both identifiers: one record with missing_ranges and blocks_needed (ProgressDetail). One of "
    "them: a page of records (ProgressPage). `Accept: text/csv` returns the page's rows as CSV.",
    responses=responses(
        api_models.ProgressDetail | api_models.ProgressPage,
        *(400, 401, 404, 503),
        description="ProgressDetail for one record, ProgressPage for a listing",
    ),
)
def get_progress(
    client_user_id: Annotated[str | None, Query(min_length=1, max_length=256, examples=["user-1042"])] = None,
    media_content_key: Annotated[str | None, Query(min_length=1, max_length=256, examples=["nY3CaQtl"])] = None,
    limit: Annotated[int, Query(ge=1, le=500, examples=[100])] = 100,
    next_token: Annotated[str | None, Query(max_length=4096)] = None,
) -> Response[str]:
    now = now_ms()
    metrics.add_metric(name="ProgressRead", unit=MetricUnit.Count, value=1)
    if client_user_id is not None and media_content_key is not None and not wants_csv(app):
        item = progress_detail(
            client_user_id, media_content_key, settings, store, rules=rules_cache, now=now, cards=store.content_cards
        )
        return model_response(200, progress_detail_json(item))
    if client_user_id is not None and media_content_key is not None:
        item = progress_detail(
            client_user_id, media_content_key, settings, store, rules=rules_cache, now=now, cards=store.content_cards
        )
        return Response(200, "text/csv; charset=utf-8", progress_csv([progress_record(item)]))
    page = progress_page(
        settings,
        store,
        rules_cache,
        now,
        client_user_id=client_user_id,
        media_content_key=media_content_key,
        limit=limit,
        next_token=next_token,
        cards=store.content_cards,
    )
    records = [progress_record(item) for item in page.items]
    if wants_csv(app):
        headers = {"x-next-token": page.next_token} if page.next_token else None
        return Response(200, "text/csv; charset=utf-8", progress_csv(records), headers=headers)
    return model_response(200, api_models.ProgressPage(items=records, next_token=page.next_token))


def _rules_body(media_content_key: str) -> api_models.Rules:
    rules = rules_for(media_content_key, settings, store)
    return api_models.Rules(
        media_content_key=media_content_key,
        completion_threshold=rules.completion_threshold,
        min_block_watch_ratio=rules.min_block_watch_ratio,
        max_playback_rate=rules.max_playback_rate,
        block_count=rules.block_count,
        grid=rules.grid,
        source=rules.source,
        updated_at=iso_time(rules.updated_at),
    )


@app.get(
    "/v1/progress/flags",
    summary="A content's sessions credited less than they claimed (the playback clock, another grid)",
    description="Newest callback of each flagged session: what it claimed and what was credited, and why.",
    responses=responses(api_models.FlagPage, 400, 401, 503),
)
def get_flags(
    media_content_key: Annotated[str, Query(min_length=1, max_length=256, examples=["nY3CaQtl"])],
    limit: Annotated[int, Query(ge=1, le=500, examples=[100])] = 100,
    next_token: Annotated[str | None, Query(max_length=4096)] = None,
) -> Response[str]:
    flags, token = store.flagged_sessions(media_content_key, limit, next_token)
    items = [
        api_models.FlaggedSession(
            client_user_id=flag.client_user_id,
            session=flag.session_key,
            start_at=flag.start_at,
            grid=flag.grid,
            claimed_blocks=flag.claimed,
            credited_blocks=flag.credited,
            limit=flag.limit,  # type: ignore[arg-type]
            suspicious=flag.suspicious,
            received_at=iso_time(flag.received_at),
        )
        for flag in flags
    ]
    return model_response(200, api_models.FlagPage(items=items, next_token=token))


@app.get(
    "/v1/contents/<media_content_key>/rules",
    summary="The completion rules in force for a content (the defaults when none are set)",
    responses=responses(api_models.Rules, 400, 401, 503),
)
def get_rules(media_content_key: ContentKey) -> Response[str]:
    return model_response(200, _rules_body(media_content_key))


@app.put(
    "/v1/contents/<media_content_key>/rules",
    summary="Set a content's completion rules; existing records are re-evaluated as they are next read or updated",
    responses=responses(api_models.Rules, 400, 401, 503),
)
def put_rules(media_content_key: ContentKey, rules: Annotated[RulesInput, Body()]) -> Response[str]:
    set_rules(media_content_key, rules, store, now_ms())
    rules_cache.forget(media_content_key)
    return model_response(200, _rules_body(media_content_key))


@app.delete(
    "/v1/contents/<media_content_key>/rules",
    summary="Go back to the default rules for a content",
    responses=responses(api_models.Rules, 400, 401, 503),
)
def delete_rules(media_content_key: ContentKey) -> Response[str]:
    store.delete_rules(media_content_key)
    rules_cache.forget(media_content_key)
    return model_response(200, _rules_body(media_content_key))


@app.post(
    "/v1/playback-urls",
    summary="A signed Kollus playback URL (Unified JWT) bound to the learner and content by a session nonce",
    description="With REQUIRE_ENROLLMENT, only for a learner entitled to the content (else 403).",
    responses=responses(api_models.PlaybackUrl, 400, 401, 403, 503),
)
def post_playback_url(request: Annotated[PlaybackInput, Body()]) -> Response[str]:
    if settings.require_enrollment:
        require_entitled(request.client_user_id, request.media_content_key, settings, store, now_ms())
    issued = issue_playback_url(request, settings, store, playback_keys(settings), now_ms())
    metrics.add_metric(name="PlaybackUrlIssued", unit=MetricUnit.Count, value=1)
    return model_response(200, api_models.PlaybackUrl(**issued))


@app.get(
    "/v1/sync",
    summary="The completion sync ledger, one state at a time: a row per delivery target (webhook, ags, xapi)",
    description="`target` keeps one target's rows (a page may then hold fewer than `limit`; follow next_token).",
    responses=responses(api_models.LedgerPage, 400, 401, 503),
)
def get_sync_ledger(
    state: Annotated[SyncState, Query(examples=["failed"])] = SyncState.FAILED,
    limit: Annotated[int, Query(ge=1, le=500, examples=[50])] = 50,
    next_token: Annotated[str | None, Query(max_length=4096)] = None,
    target: Annotated[Target | None, Query(examples=["ags"])] = None,
) -> Response[str]:
    page = sync_ledger(state, limit, next_token, store, target)
    metrics.add_metric(name="SyncLedgerRead", unit=MetricUnit.Count, value=1)
    items = [ledger_json(entry) for entry in page.entries]
    return model_response(200, api_models.LedgerPage(items=items, next_token=page.next_token))


@app.post(
    "/v1/sync/redeliver",
    summary="Put a completion back in line for delivery to one target (idempotent; the webhook-id stays the same)",
    responses=responses(api_models.Redelivery, 400, 401, 404, 503, status=202),
)
def post_redeliver(identity: Annotated[RecordIdentity, Body()]) -> Response[str]:
    if identity.client_user_id is None:
        if identity.target != "webhook":
            raise NotFound("a content's content.* events go to the webhook only")
        manage.redeliver_content(store, identity.media_content_key, now_ms())
    else:
        redeliver(identity.client_user_id, identity.media_content_key, store, now_ms(), Target(identity.target))
    metrics.add_metric(name="SyncRedeliver", unit=MetricUnit.Count, value=1)
    return model_response(202, api_models.Redelivery(**identity.model_dump(), state="pending"))


@app.post(
    "/v1/uploads",
    summary="An upload URL from Kollus; the browser posts the file there, and the catalog follows it from now on",
    responses=responses(Upload, 400, 401, 502, 503, status=201),
)
def post_upload(request: Annotated[UploadInput, Body()]) -> Response[str]:
    ticket, entry = manage.create_upload(
        vod,
        store,
        settings,
        now_ms(),
        title=request.title,
        uploaded_by=request.uploaded_by,
        category_key=request.category_key,
        channel_key=request.channel_key,
        encrypt=request.encrypt,
        audio=request.audio_only,
    )
    metrics.add_metric(name="UploadUrlIssued", unit=MetricUnit.Count, value=1)
    return model_response(201, upload_json(ticket, entry))


@app.get(
    "/v1/contents",
    summary="The content catalog, filtered and paginated (`Accept: text/csv` for CSV)",
    description="A page may hold fewer than `limit` items when filters leave few matches; follow next_token.",
    responses=responses(ContentPage, 400, 401, 503),
)
def get_contents(
    status: Annotated[Status | None, Query(examples=["ready"])] = None,
    channel_key: Annotated[str | None, Query(min_length=1, max_length=128, examples=["lectures"])] = None,
    title: Annotated[str | None, Query(min_length=1, max_length=200, examples=["recursion"])] = None,
    limit: Annotated[int, Query(ge=1, le=500, examples=[100])] = 100,
    next_token: Annotated[str | None, Query(max_length=4096)] = None,
) -> Response[str]:
    found, token = store.list_contents(
        status=status, channel_key=channel_key, title_contains=title, limit=limit, next_token=next_token
    )
    items = [content_json(item.entry) for item in found]
    if wants_csv(app):
        headers = {"x-next-token": token} if token else None
        return Response(200, "text/csv; charset=utf-8", contents_csv(items), headers=headers)
    return model_response(200, ContentPage(items=items, next_token=token))


@app.get(
    "/v1/contents/<media_content_key>",
    summary="One content of the catalog, by its media content key (or its upload file key before it has one)",
    responses=responses(Content, 400, 401, 404, 503),
)
def get_content(media_content_key: ContentKey) -> Response[str]:
    return model_response(200, content_json(manage.find(store, media_content_key).entry))


@app.patch(
    "/v1/contents/<media_content_key>",
    summary="Rename a content: in Kollus first, then in the catalog",
    responses=responses(Content, 400, 401, 404, 502, 503),
)
def patch_content(media_content_key: ContentKey, change: Annotated[ContentPatch, Body()]) -> Response[str]:
    entry = manage.rename(vod, store, media_content_key, change.title, now_ms())
    return model_response(200, content_json(entry))


@app.delete(
    "/v1/contents/<media_content_key>",
    summary="Delete a content's file from the Kollus library and mark it deleted (learners' progress stays)",
    responses=responses(Content, 400, 401, 404, 502, 503),
)
def delete_content(media_content_key: ContentKey) -> Response[str]:
    entry = manage.delete(vod, store, media_content_key, now_ms())
    metrics.add_metric(name="ContentDeleted", unit=MetricUnit.Count, value=1)
    return model_response(200, content_json(entry))


@app.get("/v1/openapi.json", summary="This API's OpenAPI document", include_in_schema=False)
def get_openapi() -> Response[str]:
    return Response(200, "application/json", OPENAPI_DOCUMENT.read_text(encoding="utf-8"))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    lazy_routes.load_for(str(event.get("rawPath", "")))
    return app.resolve(event, context)
