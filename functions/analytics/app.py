"""DynamoDB Streams: compute a content's learning analytics when a request marks them wanted (a large
content in shards, each handed over by the stream in turn), and cache them with `as_of`, so that the
API never computes on a request's time."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from kollus_bridge.analytics.shards import fulfil, fulfil_shards
from kollus_bridge.observability import logger, metrics
from kollus_bridge.settings import get_settings
from kollus_bridge.store.changes import insight_shards, wanted_insights
from kollus_bridge.store.dynamo import dynamo_store
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
    now = now_ms()
    done = fulfil(store, settings, wanted_insights(event), now)
    merged = fulfil_shards(store, settings, insight_shards(event), now)
    computed = len(done) + len(merged)
    metrics.add_metric(name="InsightsComputed", unit=MetricUnit.Count, value=computed)
    logger.info("insights computed", extra={"computed": computed})
    return {"computed": computed}
