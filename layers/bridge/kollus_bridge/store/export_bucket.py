"""The exports' side of AWS: the bucket the table is exported into (and the datasets written to), the
table's exports started on the schedule, and the queue of partitions to apply."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from .session import aws_session

#: Where the table's exports land in the bucket (DynamoDB adds `AWSDynamoDB/<export id>/`).
EXPORTS_PREFIX = "exports"


class S3Bucket:
    """`runtime.exports.Bucket` over an S3 bucket."""

    def __init__(self, name: str, client: Any = None) -> None:
        self.name = name
        self.client: Any = client or aws_session().create_client("s3")

    def get(self, key: str) -> bytes | None:
        try:
            body: bytes = self.client.get_object(Bucket=self.name, Key=key)["Body"].read()
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise
        return body

    def put(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.name, Key=key, Body=data)

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.name, Key=key)

    def keys(self, prefix: str) -> list[str]:
        found: list[str] = []
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.name, Prefix=prefix):
            found += [entry["Key"] for entry in page.get("Contents", [])]
        return found


def start_export(table_arn: str, bucket: str, kind: str, at: datetime, client: Any = None) -> str:
    """Start the table's export at `at` (a full one, or the incremental one of the hour before it); its ARN."""
    client = client or aws_session().create_client("dynamodb")
    asked: dict[str, Any] = {
        "TableArn": table_arn, "S3Bucket": bucket, "S3Prefix": EXPORTS_PREFIX, "ExportFormat": "DYNAMODB_JSON",
        "ClientToken": f"{kind}-{at:%Y%m%dT%H%M}",  # a retried schedule starts the same export once
    }  # fmt: skip
    if kind == "INCREMENTAL_EXPORT":
        asked["ExportType"] = "INCREMENTAL_EXPORT"
        asked["IncrementalExportSpecification"] = {
            "ExportFromTime": at - timedelta(hours=1), "ExportToTime": at, "ExportViewType": "NEW_AND_OLD_IMAGES"
        }  # fmt: skip
    else:
        asked["ExportType"] = "FULL_EXPORT"
        asked["ExportTime"] = at
    arn: str = client.export_table_to_point_in_time(**asked)["ExportDescription"]["ExportArn"]
    return arn


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def send_jobs(queue_url: str, jobs: Sequence[dict[str, Any]], cause: str, client: Any = None) -> None:
    """Each job to the FIFO queue, grouped by partition so that one partition is applied at a time;
    `cause` (the export that made them due) tells a resent job from a new one."""
    client = client or aws_session().create_client("sqs")
    for start in range(0, len(jobs), 10):
        entries = [
            {"Id": str(index), "MessageBody": json.dumps(job), "MessageGroupId": _digest(job["partition"]),
             "MessageDeduplicationId": _digest(cause + json.dumps(job, sort_keys=True))}
            for index, job in enumerate(jobs[start:start + 10])
        ]  # fmt: skip
        failed = client.send_message_batch(QueueUrl=queue_url, Entries=entries).get("Failed", [])
        if failed:
            raise RuntimeError(f"the queue refused {len(failed)} jobs: {failed[0].get('Message')}")
