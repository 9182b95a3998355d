"""The exports function on moto, as AWS invokes it: the schedule starts the table's exports; an
export's summary written to the bucket is routed and its partitions queued (FIFO, grouped by
partition); each queued job writes its partition's Parquet files to the bucket; a job that fails is
handed back with the rest of its batch."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from kollus_bridge.exports.parquet import query

from local.export import scan, write_full_export
from local.http_api import LambdaContext
from local.template import invoked_function, load_handler_module, load_template
from tests.handler import test_analytics
from tests.handler.test_analytics import Bridge
from tests.handler.test_exports import course

#: The functions on moto, as the analytics tests have them.
bridge = test_analytics.bridge

BUCKET = "learning-exports"
CONTEXT = LambdaContext("test")


@pytest.fixture
def exports(bridge: Bridge, monkeypatch: pytest.MonkeyPatch) -> tuple[ModuleType, Any, Any, str]:
    """The exports function loaded against moto's bucket and queue: (module, s3, sqs, queue url)."""
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    sqs = boto3.client("sqs", region_name="us-east-1")
    queue = sqs.create_queue(QueueName="jobs.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    table_arn = bridge.client.describe_table(TableName=bridge.table)["Table"]["TableArn"]
    bridge.client.update_continuous_backups(
        TableName=bridge.table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    environment = {"EXPORT_BUCKET": BUCKET, "EXPORT_QUEUE_URL": queue, "EXPORT_TABLE_ARN": table_arn}
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    from kollus_bridge.settings import get_settings  # noqa: PLC0415

    get_settings.cache_clear()
    module = load_handler_module(invoked_function(load_template(), "ExportsFunction"), fresh=True)
    return module, s3, sqs, queue


def upload(s3: Any, root: Path) -> None:
    for path in root.rglob("*"):
        if path.is_file():
            s3.put_object(Bucket=BUCKET, Key=str(path.relative_to(root)), Body=path.read_bytes())


def object_created(key: str) -> dict[str, Any]:
    """EventBridge's event for an object written to the bucket."""
    return {"source": "aws.s3", "detail-type": "Object Created",
            "detail": {"bucket": {"name": BUCKET}, "object": {"key": key}}}  # fmt: skip


def queued(sqs: Any, queue: str) -> list[dict[str, Any]]:
    """The queue's messages as Lambda's SQS event hands them over, deleted as Lambda deletes a batch
    handled (a FIFO queue holds a group's next message back until then)."""
    found: list[dict[str, Any]] = []
    while True:
        answer = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, AttributeNames=["MessageGroupId"])
        if not answer.get("Messages"):
            return found
        found += [{"messageId": message["MessageId"], "body": message["Body"],
                   "attributes": message["Attributes"]} for message in answer["Messages"]]  # fmt: skip
        for message in answer["Messages"]:
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])


def test_an_export_written_to_the_bucket_becomes_the_datasets(
    bridge: Bridge, exports: tuple[ModuleType, Any, Any, str], tmp_path: Path
) -> None:
    module, s3, sqs, queue = exports
    course(bridge)
    bridge.watch("ann", {0: 60, 1: 60})
    upload(s3, _exported(bridge, tmp_path))
    summary = "exports/AWSDynamoDB/01-full/manifest-summary.json"
    assert module.lambda_handler(object_created(summary), CONTEXT) == {"queued": 2}
    records = queued(sqs, queue)
    assert [json.loads(record["body"])["partition"] for record in records] == ["_catalog", "lecture-1"]
    assert len({record["attributes"]["MessageGroupId"] for record in records}) == 2  # a group each
    assert module.lambda_handler({"Records": records}, CONTEXT) == {"batchItemFailures": []}
    again = queued(sqs, queue)  # the catalog's job found lecture-1's courses new: it is due again
    assert [(json.loads(record["body"])["partition"], json.loads(record["body"])["export"]) for record in again] == [
        ("lecture-1", None)
    ]
    assert module.lambda_handler({"Records": again}, CONTEXT) == {"batchItemFailures": []}
    assert queued(sqs, queue) == []

    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix="datasets/")["Contents"]
    assert {entry["Key"] for entry in listed} >= {
        "datasets/learner_content/media_content_key=lecture-1/data.parquet",
        "datasets/session/media_content_key=lecture-1/data.parquet",
        "datasets/enrollment/data.parquet", "datasets/course/data.parquet", "datasets/content/data.parquet",
    }  # fmt: skip
    local = tmp_path / "read"
    for entry in listed:
        (local / entry["Key"]).parent.mkdir(parents=True, exist_ok=True)
        (local / entry["Key"]).write_bytes(s3.get_object(Bucket=BUCKET, Key=entry["Key"])["Body"].read())
    _, rows = query(local / "datasets", "SELECT client_user_id, watched, course_ids FROM learner_content")
    assert rows == [("ann", [0, 1], ["algo"])]


def _exported(bridge: Bridge, tmp_path: Path) -> Path:
    root = tmp_path / "bucket"
    write_full_export(scan(bridge.client, bridge.table), root, "01-full", prefix="exports")
    return root


def test_a_job_that_fails_is_handed_back_with_the_rest_of_its_batch(exports: tuple[ModuleType, Any, Any, str]) -> None:
    module = exports[0]
    good = json.dumps({"partition": "lecture-1", "export": None, "kind": "INCREMENTAL_EXPORT", "at": 0})
    records = [{"messageId": "1", "body": good}, {"messageId": "2", "body": "{not json"},
               {"messageId": "3", "body": good}]  # fmt: skip
    answer = module.lambda_handler({"Records": records}, CONTEXT)
    assert answer == {"batchItemFailures": [{"itemIdentifier": "2"}, {"itemIdentifier": "3"}]}


def test_a_summary_that_names_no_manifest_fails_loudly_and_other_objects_are_ignored(
    exports: tuple[ModuleType, Any, Any, str],
) -> None:
    module, s3 = exports[0], exports[1]
    assert module.lambda_handler(object_created("datasets/course/data.parquet"), CONTEXT) == {
        "ignored": "datasets/course/data.parquet"
    }
    key = "exports/AWSDynamoDB/02/manifest-summary.json"
    s3.put_object(Bucket=BUCKET, Key=key, Body=b'{"exportType": "INCREMENTAL_EXPORT"}')
    with pytest.raises(ValueError, match=r"no manifest-files\.json"):
        module.lambda_handler(object_created(key), CONTEXT)  # Lambda retries, then ExportEventFailures


@pytest.mark.parametrize("kind", ["FULL_EXPORT", "INCREMENTAL_EXPORT"])
def test_the_schedule_starts_the_tables_export_into_the_bucket(
    exports: tuple[ModuleType, Any, Any, str], kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = exports[0]
    asked: list[tuple[Any, ...]] = []
    started = module.start_export

    def recorded(*args: Any) -> str:
        asked.append(args)
        return str(started(*args))

    monkeypatch.setattr(module, "start_export", recorded)
    answer = module.lambda_handler({"start": kind, "at": "2026-12-03T10:00:00Z"}, CONTEXT)
    assert answer["started"].startswith("arn:aws:dynamodb:")
    ((arn, bucket, named, at),) = asked
    assert (bucket, named, at.isoformat()) == (BUCKET, kind, "2026-12-03T10:00:00+00:00")
    assert arn == module.settings.export_table_arn
