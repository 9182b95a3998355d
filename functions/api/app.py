"""The LMS-facing API: GET /v1/progress (bearer token)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from kollus_bridge.auth import require_api_token
from kollus_bridge.dal import progress_store
from kollus_bridge.http import json_response, make_resolver, progress_json
from kollus_bridge.observability import logger, metrics, tracer
from kollus_bridge.service import read_progress
from kollus_bridge.settings import get_settings

settings = get_settings()
store = progress_store(settings.table_name, settings.rejected_ttl_days)
app = make_resolver(settings)

Identifier = Annotated[str, Query(min_length=1, max_length=256)]


@app.get("/v1/progress")
def get_progress(client_user_id: Identifier, media_content_key: Identifier) -> Any:
    require_api_token(app.current_event.headers.get("authorization"), settings)
    view = read_progress(client_user_id, media_content_key, settings, store)
    metrics.add_metric(name="ProgressRead", unit=MetricUnit.Count, value=1)
    return json_response(200, progress_json(client_user_id, media_content_key, view))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
