"""The LMS-facing API (bearer token): progress, the content catalog and uploads, per-content rules,
playback URLs, the sync ledger."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from kollus_bridge.api import models as api_models
from kollus_bridge.api.http import (
    Limit,
    PageToken,
    bearer_auth,
    declared_query_only,
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
from kollus_bridge.api.service import progress_detail, progress_page
from kollus_bridge.observability import logger, metrics
from kollus_bridge.progress.ingest import rules_for
from kollus_bridge.progress.rules import RulesCache
from kollus_bridge.settings import get_settings
from kollus_bridge.store.api_tables import api_store
from kollus_bridge.times import iso_time, now_ms

if TYPE_CHECKING:
    from kollus_bridge.store.dynamo import DynamoStore

OPENAPI_DOCUMENT = Path(__file__).with_name("openapi.json")

settings = get_settings()
store = api_store(settings.table_name, settings.rejected_ttl_days)
rules_cache = RulesCache(lambda key: rules_for(key, settings, store), settings.rules_cache_seconds)


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


# Each group's modules are imported when a request first asks for one of its paths (route_groups):
# the core, progress, is the LMS's most frequent read.
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


def _content_routes() -> Router:
    from kollus_bridge.api.routes_contents import content_routes  # noqa: PLC0415
    from kollus_bridge.runtime.vod import vod_client  # noqa: PLC0415

    return content_routes(store, settings, rules_cache, vod_client(settings, store))


def _playback_routes() -> Router:
    from kollus_bridge.api.routes_playback import playback_routes  # noqa: PLC0415

    return playback_routes(store, settings)


def _sync_routes() -> Router:
    from kollus_bridge.api.routes_sync import sync_routes  # noqa: PLC0415

    return sync_routes(store)


def _view_routes() -> Router:
    from kollus_bridge.api.routes_views import view_routes  # noqa: PLC0415

    return view_routes(whole_store(), settings, block_watch_ratio)


lazy_routes = LazyRoutes(
    app,
    [
        RouteGroup("contents", ("/v1/contents", "/v1/uploads"), _content_routes),
        RouteGroup("playback", ("/v1/playback-urls",), _playback_routes),
        RouteGroup("sync", ("/v1/sync",), _sync_routes),
        RouteGroup("courses", ("/v1/courses", "/v1/learners", "/v1/access-log"), _course_routes),
        RouteGroup("lti", ("/.well-known/jwks.json", "/lti", "/v1/lti"), _lti_routes),
        RouteGroup("analytics", ("/v1/analytics",), _analytics_routes),
        RouteGroup("views", ("/v1/view-links", "/v1/views"), _view_routes),
    ],
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
    limit: Limit = 100,
    next_token: PageToken = None,
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


@app.get(
    "/v1/progress/flags",
    summary="A content's sessions credited less than they claimed (the playback clock, another grid)",
    description="Newest callback of each flagged session: what it claimed and what was credited, and why.",
    responses=responses(api_models.FlagPage, 400, 401, 503),
)
def get_flags(
    media_content_key: Annotated[str, Query(min_length=1, max_length=256, examples=["nY3CaQtl"])],
    limit: Limit = 100,
    next_token: PageToken = None,
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


@app.get("/v1/openapi.json", summary="This API's OpenAPI document", include_in_schema=False)
def get_openapi() -> Response[str]:
    return Response(200, "application/json", OPENAPI_DOCUMENT.read_text(encoding="utf-8"))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    lazy_routes.load_for(str(event.get("rawPath", "")))
    return app.resolve(event, context)
