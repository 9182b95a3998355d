"""DynamoDB Streams: compute a content's learning analytics when a request marks them wanted, and
cache them with `as_of`, so that the API never computes on a request's time."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from kollus_bridge.analytics.compute import fulfil
from kollus_bridge.observability import logger, metrics
from kollus_bridge.settings import get_settings
from kollus_bridge.store import dynamo_store
from kollus_bridge.store.changes import wanted_insights
from kollus_bridge.times import now_ms

#: X-Ray subsegments for this function's AWS calls.
tracer = Tracer()

settings = get_settings()
store = dynamo_store(settings.table_name, settings.rejected_ttl_days)


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # A failure raises: Lambda retries the batch, and the mark stays until a computation succeeds.
    done = fulfil(store, settings, wanted_insights(event), now_ms())
    metrics.add_metric(name="InsightsComputed", unit=MetricUnit.Count, value=len(done))
    logger.info("insights computed", extra={"computed": len(done)})
    return {"computed": len(done)}
