"""DynamoDB Streams: deliver a record to the LMS the moment it becomes due (a new completion, a
redelivery), instead of waiting for the scheduled sweep. The sweep stays as the safety net for retries
and anything this path misses."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext
from kollus_bridge.delivery.sync import publish
from kollus_bridge.observability import logger, metrics
from kollus_bridge.runtime.delivery import delivery_run
from kollus_bridge.settings import get_settings
from kollus_bridge.store.changes import changed_records
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
    # Never raises for one record: a delivery that fails stays due, and the sweep tries it again.
    return publish(run.deliver_now(changed_records(event)))
