"""Scheduled: reconcile the catalog with the Kollus VOD API (details asked for by callbacks, channel
attachments, and a periodic sweep of every channel's content list), within Kollus's rate limit."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from kollus_bridge.content.reconcile import Reconciler
from kollus_bridge.observability import logger, metrics
from kollus_bridge.runtime.vod import vod_client
from kollus_bridge.settings import get_settings
from kollus_bridge.store.dynamo import dynamo_store
from kollus_bridge.times import now_ms

#: X-Ray subsegments for this function's AWS calls.
tracer = Tracer()

settings = get_settings()
store = dynamo_store(settings.table_name, settings.rejected_ttl_days)
vod = vod_client(settings, store)


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if not settings.kollus_api_configured:
        logger.warning("the Kollus VOD API is not configured: nothing to reconcile")
        return {"configured": False}
    reconciler = Reconciler(
        store,
        vod,
        now_ms,
        context.get_remaining_time_in_millis,
        channel_keys=settings.kollus_channel_keys,
        sweep_every_ms=int(settings.reconcile_sweep_minutes * 60_000),
    )
    report = reconciler.run()
    for name, value in (
        ("Reconcile_refreshed", report.refreshed),
        ("Reconcile_attached", report.attached),
        ("Reconcile_repaired", report.repaired + report.added + report.left + report.deleted),
        ("Reconcile_errors", report.errors),
    ):
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    summary = {name: value for name, value in vars(report).items() if name != "error_messages"}
    summary["error_messages"] = report.error_messages
    logger.info("reconciliation finished", extra=summary)
    return summary
