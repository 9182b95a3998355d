"""POST /callbacks/kollus/{token}/platform: Kollus's platform callbacks (upload complete, transcoding
result, channel add or remove, content update), into the catalog.

Kollus counts only HTTP 200 as received and retries anything else three times, five minutes apart, so
a duplicate is answered 200 like the first. A payload that cannot be used is answered 400 in the one
error shape and kept in the rejected store; 503 when storage failed, so that Kollus retries.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from kollus_bridge import edge
from kollus_bridge.auth import require_callback_token
from kollus_bridge.content.manage import receive_platform_callback
from kollus_bridge.observability import logger, metrics
from kollus_bridge.settings import get_settings
from kollus_bridge.store.dynamo import dynamo_store
from kollus_bridge.times import now_ms

settings = get_settings()
store = dynamo_store(settings.table_name, settings.rejected_ttl_days)


def receive(event: Mapping[str, Any]) -> dict[str, Any]:
    require_callback_token(edge.path_parameter(event, "token"), settings, "platform")
    result = receive_platform_callback(edge.raw_callback(event), settings, store, now_ms())
    outcome = "applied" if result.changed else "duplicate"
    metrics.add_metric(name=f"Platform_{outcome}", unit=MetricUnit.Count, value=1)
    logger.info(
        "platform callback",
        extra={"kind": result.event.kind.value, "upload_file_key": result.event.upload_file_key, "outcome": outcome},
    )
    return {  # api.callback_models.PlatformResult
        "result": outcome,
        "upload_file_key": result.event.upload_file_key,
        "event": result.event.kind.value,
        "status": result.entry.status.value if result.entry else None,
    }


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return edge.post_only(event, lambda request: edge.json_response(200, receive(request), {}))
