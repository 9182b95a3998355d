"""Row 1: DynamoDB capacity per callback, against a naive design. DynamoDB Local reports no consumed
capacity for writes, so write and read units are computed with DynamoDB's own sizing rules from the
items before and after each request."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from local.dynamodb_local import DynamoDBLocal, create_tables, unique_suffix
from local.simulator import Report

from .workload import FORM


def _value_size(value: dict[str, Any]) -> int:
    ((kind, content),) = value.items()
    if kind == "S":
        return len(content.encode())
    if kind == "N":  # leading and trailing zeros do not count: 1 byte per 2 significant digits, plus 1
        digits = len(Decimal(content).normalize().as_tuple().digits)
        return math.ceil(digits / 2) + 1
    if kind == "B":
        return len(content)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind in ("SS", "NS", "BS"):
        return sum(_value_size({kind[0]: item}) for item in content)
    if kind == "L":
        return 3 + sum(1 + _value_size(item) for item in content)
    if kind == "M":
        return 3 + sum(1 + len(name.encode()) + _value_size(item) for name, item in content.items())
    raise ValueError(kind)


def item_size(item: dict[str, Any] | None) -> int:
    """DynamoDB's item size: attribute names plus values, by the rules in the DynamoDB Developer
    Guide ("DynamoDB item sizes and formats"), which capacity units are computed from."""
    return 0 if not item else sum(len(name.encode()) + _value_size(value) for name, value in item.items())


@dataclass
class Capacity:
    requests: int = 0
    write_units: float = 0.0
    read_units: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, writes: float = 0.0, reads: float = 0.0) -> None:
        with self.lock:
            self.requests += 1
            self.write_units += writes
            self.read_units += reads


class MeteredClient:
    """A DynamoDB client that prices every request by DynamoDB's rules (items read aside, unmetered)."""

    def __init__(self, client: Any, capacity: Capacity) -> None:
        self._client, self.capacity = client, capacity

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def _item(self, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
        item: dict[str, Any] | None = self._client.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
        return item

    def _write(self, operation: str, key: dict[str, Any], **request: Any) -> Any:
        before = item_size(self._item(request["TableName"], key))
        try:
            response = getattr(self._client, operation)(**request)
        except self._client.exceptions.ConditionalCheckFailedException:
            self.capacity.add(writes=max(1, math.ceil(before / 1024)))
            raise
        after = item_size(self._item(request["TableName"], key))
        self.capacity.add(writes=max(1, math.ceil(max(before, after) / 1024)))
        return response

    def update_item(self, **request: Any) -> Any:
        return self._write("update_item", request["Key"], **request)

    def put_item(self, **request: Any) -> Any:
        key = {name: request["Item"][name] for name in ("pk", "sk")}
        return self._write("put_item", key, **request)

    def get_item(self, **request: Any) -> Any:
        response = self._client.get_item(**request)
        units = max(1, math.ceil(item_size(response.get("Item")) / 4096))
        self.capacity.add(reads=units if request.get("ConsistentRead") else units / 2)
        return response

    def query(self, **request: Any) -> Any:
        response = self._client.query(**request)
        size = sum(item_size(item) for item in response.get("Items", []))
        units = max(1, math.ceil(size / 4096))
        self.capacity.add(reads=units if request.get("ConsistentRead") else units / 2)
        return response


def measure_storage(database: DynamoDBLocal, reports: list[Report]) -> dict[str, float]:
    from kollus_bridge.kollus.callback import RawCallback  # noqa: PLC0415
    from kollus_bridge.progress.ingest import ingest_callback  # noqa: PLC0415
    from kollus_bridge.settings import settings_from  # noqa: PLC0415
    from kollus_bridge.store.dynamo import DynamoStore  # noqa: PLC0415

    client = database.client()
    table = create_tables(client, suffix=unique_suffix())["ProgressTable"]
    capacity = Capacity()
    store = DynamoStore(table, MeteredClient(client, capacity))  # type: ignore[arg-type]
    settings = settings_from({"TABLE_NAME": table, "KOLLUS_CALLBACK_TOKEN": "t", "API_TOKEN": "a"})
    outcomes: dict[str, int] = {}
    for report in reports:
        # Each callback arrives when its session has run `run_time`, so the playback clock judges it as in AWS.
        arrival = (report.session.start_at + int(report.run_time)) * 1000
        result = ingest_callback(RawCallback(report.form_body(), FORM), settings, store, arrival)
        outcomes[result.outcome.value] = outcomes.get(result.outcome.value, 0) + 1
    count = len(reports)
    return {
        "callbacks": count,
        "requests": capacity.requests / count,
        "write_units": capacity.write_units / count,
        "read_units": capacity.read_units / count,
        **{f"outcome_{name}": value for name, value in outcomes.items()},
    }


def measure_naive(database: DynamoDBLocal, reports: list[Report]) -> dict[str, float]:
    """The reference design of public sample receivers: read all of the learner's sessions for the
    content, recompute, write the session and the record back (no conditions)."""
    from kollus_bridge.kollus.callback import RawCallback, parse_callback  # noqa: PLC0415
    from kollus_bridge.settings import settings_from  # noqa: PLC0415

    client = database.client()
    table = create_tables(client, suffix=unique_suffix())["ProgressTable"]
    capacity = Capacity()
    metered = MeteredClient(client, capacity)
    settings = settings_from({"TABLE_NAME": table, "KOLLUS_CALLBACK_TOKEN": "t", "API_TOKEN": "a"})
    for report in reports:
        callback = parse_callback(RawCallback(report.form_body(), FORM), settings)
        pk = {"S": f"N#{callback.client_user_id}#{callback.media_content_key}"}
        sessions = metered.query(
            TableName=table, KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": pk}
        )["Items"]
        blocks = {index for index, block in callback.blocks.items() if block.played}
        for item in sessions:
            if item["sk"]["S"] != "RECORD":
                blocks |= {int(number) for number in item.get("blocks", {}).get("NS", [])}
        session_item = {
            "pk": pk,
            "sk": {"S": f"S#{callback.start_at}#{callback.player_id}"},
            "raw": {"B": report.form_body()},
            "blocks": {"NS": [str(index) for index in sorted(blocks)] or ["-1"]},
        }
        metered.put_item(TableName=table, Item=session_item)
        record = {"pk": pk, "sk": {"S": "RECORD"}, "watched": {"N": str(len(blocks))}, "progress": {"N": "0"}}
        metered.put_item(TableName=table, Item=record)
    count = len(reports)
    return {"requests": capacity.requests / count, "write_units": capacity.write_units / count,
            "read_units": capacity.read_units / count}  # fmt: skip
