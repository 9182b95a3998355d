"""The LMS API's playback route: signed Kollus playback URLs, as a Powertools router the API function
includes (the JWT signing and the enrolment check come with it)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.metrics import MetricUnit

from kollus_bridge.access.play import require_entitled
from kollus_bridge.auth import playback_keys
from kollus_bridge.observability import metrics
from kollus_bridge.settings import Settings
from kollus_bridge.store.api_tables import ApiTables
from kollus_bridge.times import now_ms

from . import models as api_models
from .http import model_response, responses
from .service import PlaybackInput, issue_playback_url


def playback_routes(store: ApiTables, settings: Settings) -> Router:
    router = Router()  # type: ignore[no-untyped-call]

    @router.post(
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

    return router
