"""The LMS API's learning-analytics routes, as a Powertools router the API function includes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from kollus_bridge.analytics import compute
from kollus_bridge.analytics.learners import Status
from kollus_bridge.errors import NotFound
from kollus_bridge.settings import Settings
from kollus_bridge.store.dynamo import DynamoStore
from kollus_bridge.times import now_ms

from .analytics import (
    Computing,
    ContentInsights,
    LearnerContents,
    LearnerContentView,
    LearnerRow,
    LearnerTable,
    blocks_csv,
    insights_svg,
    learners_csv,
)
from .http import ContentKey, LearnerId, accepts, model_response, responses, wants_csv
from .http import PageToken as Token

Limit = Annotated[int, Query(ge=1, le=100, examples=[50])]
Course = Annotated[str | None, Query(min_length=1, max_length=256, examples=["algo-101"])]
UserValue = Annotated[
    str | None, Query(max_length=2100, pattern=r"^uservalue\d{1,2}:[\s\S]*$", examples=["uservalue0:course-77"])
]
#: Seconds a client should wait before asking again for insights being computed.
RETRY_AFTER = 5

CSV_NOTE = "`Accept: text/csv` answers the table as CSV."


def analytics_routes(store: DynamoStore, settings: Settings, ratio_of: Callable[[str], float]) -> Router:
    """`ratio_of(content)` is the content's block-watch ratio in force."""
    router = Router()  # type: ignore[no-untyped-call]

    def csv_response(body: str) -> Response[str]:
        return Response(status_code=200, content_type="text/csv; charset=utf-8", body=body)

    @router.get(
        "/v1/analytics/contents/<media_content_key>",
        summary="A content's engagement insights (coverage, reach, exits, rewatch, skips, funnel, watch time, ...)",
        description="Computed off the request path and cached: 202 while the first computation runs, then the "
        f"figures with `as_of` (`stale` while newer ones are computed). {CSV_NOTE} (the per-block figures); "
        "`Accept: image/svg+xml`, the heat strip (coverage above the rewatch layer) as an SVG image.",
        responses={
            **responses(ContentInsights, 400, 401, 503),
            202: {"description": "Being computed", "content": {"application/json": {"model": Computing}}},
        },
    )
    def content_insights(
        media_content_key: ContentKey,
        course: Course = None,
        uservalue: UserValue = None,
        grid: Annotated[int | None, Query(ge=1, le=100_000, examples=[10])] = None,
    ) -> Response[str]:
        scope = compute.Scope.parse(course, uservalue, grid)
        status, body = compute.requested(store, settings, media_content_key, scope, now_ms())
        if status == 202:
            answer = model_response(202, Computing.model_validate(body))
            answer.headers["Retry-After"] = str(RETRY_AFTER)
            return answer
        if wants_csv(router):
            return csv_response(blocks_csv(body))
        if accepts(router, "image/svg+xml"):
            return Response(status_code=200, content_type="image/svg+xml", body=insights_svg(body))
        return model_response(200, ContentInsights.model_validate(body))

    @router.get(
        "/v1/analytics/contents/<media_content_key>/learners",
        summary="A content's learners: status, progress, last active, sessions, minutes, devices",
        description="With `course`, the course's enrolled learners, `not_started` included. A page may hold "
        f"fewer rows than `limit` when `status` filters it; follow `next_token`. {CSV_NOTE}",
        responses=responses(LearnerTable, 400, 401, 503),
    )
    def content_learners(
        media_content_key: ContentKey,
        course: Course = None,
        status: Annotated[Status | None, Query(examples=["stalled"])] = None,
        limit: Limit = 50,
        next_token: Token = None,
    ) -> Response[str]:
        rows, token = compute.learner_table(
            store, settings, media_content_key, course=course, status=status, limit=limit, next_token=next_token,
            now=now_ms(),
        )  # fmt: skip
        items = [LearnerRow.model_validate(row) for row in rows]
        if wants_csv(router):
            return csv_response(learners_csv(items))
        return model_response(200, LearnerTable(items=items, next_token=token))

    @router.get(
        "/v1/analytics/learners/<client_user_id>",
        summary="A learner's contents: status, progress, minutes and devices for each",
        responses=responses(LearnerContents, 400, 401, 503),
    )
    def learner(client_user_id: LearnerId, limit: Limit = 50, next_token: Token = None) -> Response[str]:
        rows, token = compute.learner_overview(
            store, settings, client_user_id, limit=limit, next_token=next_token, now=now_ms()
        )
        body: dict[str, Any] = {"client_user_id": client_user_id, "items": rows, "next_token": token}
        return model_response(200, LearnerContents.model_validate(body))

    @router.get(
        "/v1/analytics/learners/<client_user_id>/contents/<media_content_key>",
        summary="A learner's view of one content: sessions, the per-block tier strip, what is left",
        responses=responses(LearnerContentView, 400, 401, 404, 503),
    )
    def learner_content(client_user_id: LearnerId, media_content_key: ContentKey) -> Response[str]:
        view = compute.learner_view(
            store, settings, client_user_id, media_content_key, ratio=ratio_of(media_content_key), now=now_ms()
        )
        if view is None:
            raise NotFound(f"{client_user_id!r} has no record of {media_content_key!r}", field="client_user_id")
        return model_response(200, LearnerContentView.model_validate(view))

    return router
