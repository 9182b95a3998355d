"""POST /callbacks/kollus/{token}: the Kollus player's LMS callbacks."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from kollus_bridge import api_models
from kollus_bridge.auth import nonce_keys, require_callback_token
from kollus_bridge.dal import progress_store
from kollus_bridge.http import make_resolver, model_response, raw_callback, responses
from kollus_bridge.observability import logger, metrics, tracer
from kollus_bridge.rules import RulesCache
from kollus_bridge.service import ingest_callback, rules_for
from kollus_bridge.settings import get_settings
from kollus_bridge.times import now_ms

settings = get_settings()
store = progress_store(settings.table_name, settings.rejected_ttl_days)
rules_cache = RulesCache(lambda key: rules_for(key, settings, store), settings.rules_cache_seconds)
app = make_resolver(settings)


@app.post(
    "/callbacks/kollus/<token>",
    summary="A Kollus LMS callback (form-encoded as the player sends it, or JSON)",
    description="Configured in the Kollus console. The body is the customer's template of Kollus variables, "
    "e.g. json_data={JSON_DATA}; the query string is merged in (the body wins).",
    responses=responses(api_models.CallbackResult, 400, 401, 403, 413, 415, 422, 503),
)
def receive_callback(token: str) -> Response[str]:
    require_callback_token(token, settings)
    result = ingest_callback(
        raw_callback(app), settings, store, now_ms(), rules=rules_cache, nonce_keys=lambda: nonce_keys(settings)
    )
    metrics.add_metric(name=f"Callback_{result.outcome.value}", unit=MetricUnit.Count, value=1)
    if result.suspicious:
        metrics.add_metric(name="SuspiciousSession", unit=MetricUnit.Count, value=1)
    view = result.view
    body = api_models.CallbackResult(
        result=result.outcome.value,
        watched_blocks=view.watched_blocks,
        block_count=view.block_count,
        progress=float(view.progress),
        completed=view.completed,
    )
    return model_response(200, body)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
