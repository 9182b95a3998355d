"""Scheduled: the sweep that delivers every due completion to the LMS as a signed webhook
(EventBridge Scheduler, every minute): retries, and anything the stream's fast path missed."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from kollus_bridge.delivery.sync import publish
from kollus_bridge.observability import logger, metrics
from kollus_bridge.runtime.delivery import delivery_run
from kollus_bridge.settings import get_settings
from kollus_bridge.store.dynamo import dynamo_store

#: X-Ray subsegments for this function's AWS calls (the callback function does without).
tracer = Tracer()

settings = get_settings()
store = dynamo_store(settings.table_name, settings.rejected_ttl_days)


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    run = delivery_run(settings, store, context.get_remaining_time_in_millis)
    report = run.run()
    metrics.add_metric(name="SyncDueBacklog", unit=MetricUnit.Count, value=report.due_seen)
    metrics.add_metric(name="SyncOldestDueAgeSeconds", unit=MetricUnit.Seconds, value=report.oldest_due_age_seconds)
    return publish(report)
