"""POST /callbacks/kollus/{token}: the Kollus player's LMS callbacks."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from kollus_bridge.auth import require_callback_token
from kollus_bridge.dal import progress_store
from kollus_bridge.http import json_response, make_resolver, raw_callback
from kollus_bridge.observability import logger, metrics, tracer
from kollus_bridge.service import ingest_callback
from kollus_bridge.settings import get_settings
from kollus_bridge.times import now_ms

settings = get_settings()
store = progress_store(settings.table_name, settings.rejected_ttl_days)
app = make_resolver(settings)


@app.post("/callbacks/kollus/<token>")
def receive_callback(token: str) -> Any:
    require_callback_token(token, settings)
    result = ingest_callback(raw_callback(app), settings, store, now=now_ms())
    metrics.add_metric(name=f"Callback_{result.outcome.value}", unit=MetricUnit.Count, value=1)
    view = result.view
    return json_response(
        200,
        {
            "result": result.outcome.value,
            "watched_blocks": view.watched_blocks,
            "block_count": view.block_count,
            "progress": float(view.progress),
            "completed": view.completed,
        },
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
