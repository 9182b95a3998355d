"""The LMS API's content routes: the catalog, uploads, and each content's completion rules, as a
Powertools router the API function includes (with the VOD API client it makes for them)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.metrics import MetricUnit

from kollus_bridge.content import manage
from kollus_bridge.content.catalog import Status
from kollus_bridge.kollus.vod import VodClient
from kollus_bridge.observability import metrics
from kollus_bridge.progress.ingest import rules_for
from kollus_bridge.progress.rules import RulesCache
from kollus_bridge.settings import Settings
from kollus_bridge.store.api_tables import ApiTables
from kollus_bridge.times import iso_time, now_ms

from . import models as api_models
from .contents import Content, ContentPage, ContentPatch, Upload, UploadInput, content_json, contents_csv, upload_json
from .http import ContentKey, Limit, model_response, responses, wants_csv
from .http import PageToken as Token
from .service import RulesInput, set_rules


def content_routes(store: ApiTables, settings: Settings, rules_cache: RulesCache, vod: VodClient) -> Router:
    router = Router()  # type: ignore[no-untyped-call]

    def rules_body(media_content_key: str) -> api_models.Rules:
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

    @router.get(
        "/v1/contents/<media_content_key>/rules",
        summary="The completion rules in force for a content (the defaults when none are set)",
        responses=responses(api_models.Rules, 400, 401, 503),
    )
    def get_rules(media_content_key: ContentKey) -> Response[str]:
        return model_response(200, rules_body(media_content_key))

    @router.put(
        "/v1/contents/<media_content_key>/rules",
        summary="Set a content's completion rules; existing records are re-evaluated as they are next read or updated",
        responses=responses(api_models.Rules, 400, 401, 503),
    )
    def put_rules(media_content_key: ContentKey, rules: Annotated[RulesInput, Body()]) -> Response[str]:
        set_rules(media_content_key, rules, store, now_ms())
        rules_cache.forget(media_content_key)
        return model_response(200, rules_body(media_content_key))

    @router.delete(
        "/v1/contents/<media_content_key>/rules",
        summary="Go back to the default rules for a content",
        responses=responses(api_models.Rules, 400, 401, 503),
    )
    def delete_rules(media_content_key: ContentKey) -> Response[str]:
        store.delete_rules(media_content_key)
        rules_cache.forget(media_content_key)
        return model_response(200, rules_body(media_content_key))

    @router.post(
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

    @router.get(
        "/v1/contents",
        summary="The content catalog, filtered and paginated (`Accept: text/csv` for CSV)",
        description="A page may hold fewer than `limit` items when filters leave few matches; follow next_token.",
        responses=responses(ContentPage, 400, 401, 503),
    )
    def get_contents(
        status: Annotated[Status | None, Query(examples=["ready"])] = None,
        channel_key: Annotated[str | None, Query(min_length=1, max_length=128, examples=["lectures"])] = None,
        title: Annotated[str | None, Query(min_length=1, max_length=200, examples=["recursion"])] = None,
        limit: Limit = 100,
        next_token: Token = None,
    ) -> Response[str]:
        found, token = store.list_contents(
            status=status, channel_key=channel_key, title_contains=title, limit=limit, next_token=next_token
        )
        items = [content_json(item.entry) for item in found]
        if wants_csv(router):
            headers = {"x-next-token": token} if token else None
            return Response(200, "text/csv; charset=utf-8", contents_csv(items), headers=headers)
        return model_response(200, ContentPage(items=items, next_token=token))

    @router.get(
        "/v1/contents/<media_content_key>",
        summary="One content of the catalog, by its media content key (or its upload file key before it has one)",
        responses=responses(Content, 400, 401, 404, 503),
    )
    def get_content(media_content_key: ContentKey) -> Response[str]:
        return model_response(200, content_json(manage.find(store, media_content_key).entry))

    @router.patch(
        "/v1/contents/<media_content_key>",
        summary="Rename a content: in Kollus first, then in the catalog",
        responses=responses(Content, 400, 401, 404, 502, 503),
    )
    def patch_content(media_content_key: ContentKey, change: Annotated[ContentPatch, Body()]) -> Response[str]:
        entry = manage.rename(vod, store, media_content_key, change.title, now_ms())
        return model_response(200, content_json(entry))

    @router.delete(
        "/v1/contents/<media_content_key>",
        summary="Delete a content's file from the Kollus library and mark it deleted (learners' progress stays)",
        responses=responses(Content, 400, 401, 404, 502, 503),
    )
    def delete_content(media_content_key: ContentKey) -> Response[str]:
        entry = manage.delete(vod, store, media_content_key, now_ms())
        metrics.add_metric(name="ContentDeleted", unit=MetricUnit.Count, value=1)
        return model_response(200, content_json(entry))

    return router
