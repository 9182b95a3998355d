"""The learning data as Parquet datasets (docs/exports.md). Three events:

- the schedule (EventBridge Scheduler): start the table's export, a full one daily and an incremental
  one hourly, into the exports bucket;
- an export's `manifest-summary.json` written to the bucket (EventBridge, S3 "Object Created"):
  check and route the export by partition, and queue a job per partition;
- the queue (SQS FIFO, grouped by partition): apply each partition's job, rewriting its Parquet
  files (the catalog's queues the contents whose courses changed).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from aws_lambda_powertools import Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from kollus_bridge.auth import pseudonymise_key
from kollus_bridge.observability import logger, metrics
from kollus_bridge.runtime.exports import SUMMARY, Job, apply, process_export
from kollus_bridge.settings import get_settings
from kollus_bridge.store.export_bucket import S3Bucket, send_jobs, start_export

#: X-Ray subsegments for this function's AWS calls.
tracer = Tracer()

settings = get_settings()
bucket = S3Bucket(settings.export_bucket or "")


def _start(event: dict[str, Any]) -> dict[str, Any]:
    at = datetime.fromisoformat(str(event["at"]).replace("Z", "+00:00")).replace(second=0, microsecond=0)
    arn = start_export(settings.export_table_arn or "", bucket.name, str(event["start"]), at)
    logger.info("export started", extra={"export_arn": arn, "kind": event["start"], "at": at.isoformat()})
    return {"started": arn}


def _send(jobs: Sequence[Job], cause: str) -> None:
    send_jobs(settings.export_queue_url or "", [job.to_json() for job in jobs], cause)


def _route(key: str) -> dict[str, Any]:
    jobs = process_export(bucket, key, lambda jobs: _send(jobs, key))
    metrics.add_metric(name="ExportPartitionsQueued", unit=MetricUnit.Count, value=len(jobs))
    logger.info("export routed", extra={"summary": key, "partitions": len(jobs)})
    return {"queued": len(jobs)}


def _apply(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Jobs in the queue's order; after a failure, the rest of the batch is handed back too (a FIFO
    queue keeps a partition's jobs in order only if none is skipped)."""
    failed: list[dict[str, str]] = []
    key = pseudonymise_key(settings)
    for record in records:
        if failed:
            failed.append({"itemIdentifier": record["messageId"]})
            continue
        try:
            due = apply(bucket, Job.from_json(json.loads(record["body"])), settings, key)
            _send(due, record["messageId"])  # contents whose courses the catalog's job changed
        except Exception:
            logger.exception("partition not applied", extra={"message_id": record["messageId"]})
            failed.append({"itemIdentifier": record["messageId"]})
    metrics.add_metric(name="ExportPartitionsApplied", unit=MetricUnit.Count, value=len(records) - len(failed))
    metrics.add_metric(name="ExportPartitionFailures", unit=MetricUnit.Count, value=len(failed))
    return {"batchItemFailures": failed}


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "Records" in event:
        return _apply(event["Records"])
    if "start" in event:
        return _start(event)
    key = str(event.get("detail", {}).get("object", {}).get("key", ""))
    if not key.endswith(SUMMARY):
        logger.warning("not an export's summary: ignored", extra={"key": key})
        return {"ignored": key}
    return _route(key)
