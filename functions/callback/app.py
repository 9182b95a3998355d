"""POST /callbacks/kollus/{token}: the Kollus player's LMS callbacks.

The function serves one route and answers it without a web framework: it is the hot path, and its
cold start is measured (docs/benchmarks.md). `local/openapi.py` describes the operation for the
OpenAPI document; a test holds the answers to that description.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from kollus_bridge import edge
from kollus_bridge.auth import nonce_keys, require_callback_token
from kollus_bridge.errors import BridgeError, NotFound
from kollus_bridge.observability import logger, metrics
from kollus_bridge.progress.ingest import ingest_callback, rules_for
from kollus_bridge.progress.rules import RulesCache
from kollus_bridge.settings import get_settings
from kollus_bridge.store.progress_tables import progress_store
from kollus_bridge.times import now_ms

settings = get_settings()
store = progress_store(settings.table_name, settings.rejected_ttl_days)
rules_cache = RulesCache(lambda key: rules_for(key, settings, store), settings.rules_cache_seconds)

#: The methods the route answers; a browser's preflight (OPTIONS) is answered here too.
METHODS = "OPTIONS,POST"


def receive_callback(event: dict[str, Any]) -> dict[str, Any]:
    """Ingest one callback; the body reports the learner's record after it."""
    require_callback_token(edge.path_parameter(event, "token"), settings)
    result = ingest_callback(
        edge.raw_callback(event), settings, store, now_ms(), rules=rules_cache, nonce_keys=lambda: nonce_keys(settings)
    )
    metrics.add_metric(name=f"Callback_{result.outcome.value}", unit=MetricUnit.Count, value=1)
    if result.suspicious:
        metrics.add_metric(name="SuspiciousSession", unit=MetricUnit.Count, value=1)
    if result.limit is not None:
        metrics.add_metric(name="CreditLimited", unit=MetricUnit.Count, value=1)
    view = result.view
    return {  # api.callback_models.CallbackResult
        "result": result.outcome.value,
        "watched_blocks": view.watched_blocks,
        "block_count": view.block_count,
        "progress": float(view.progress),
        "completed": view.completed,
    }


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    origin, method = edge.header(event, "origin"), edge.method(event)
    if method == "OPTIONS":
        preflight = edge.cors_headers(settings.cors_allow_origin, origin, METHODS)
        return {"statusCode": 204, "headers": preflight, "body": "", "isBase64Encoded": False}
    cors = edge.cors_headers(settings.cors_allow_origin, origin)
    try:
        if method != "POST":
            raise NotFound("no such route")
        return edge.json_response(200, receive_callback(event), cors)
    except BridgeError as error:
        status, body = edge.refusal(error)
        return edge.json_response(status, body, cors)
