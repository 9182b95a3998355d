"""DynamoDB Streams to Lambda, locally: what an event source mapping does for the template's stream
functions (DeliverFunction), against DynamoDB Local's own streams.

A poller reads every shard of the table's stream, keeps the records that match the mapping's
`FilterCriteria` and hands them to the function in batches of its `BatchSize`, in the event shape
Lambda uses. Filter patterns follow Lambda's event filtering rules for the operators the template
uses (exact values and `exists`); any other operator stops the stack rather than be misread.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from .http_api import LambdaContext
from .template import StreamFunction, load_handler_module

_MISSING = object()
#: Look for new shards every this many polls (DynamoDB rolls shards over now and then).
DISCOVER_EVERY = 20


def _matches_values(allowed: list[Any], value: Any) -> bool:
    for option in allowed:
        if isinstance(option, dict):
            if set(option) != {"exists"}:
                raise NotImplementedError(f"filter operator {sorted(option)} is not supported locally")
            if option["exists"] is (value is not _MISSING and not isinstance(value, dict)):
                return True
        elif value is not _MISSING and value == option:
            return True
    return False


def matches(pattern: Mapping[str, Any], event: Any) -> bool:
    """Whether a stream record matches one filter pattern (Lambda's event filtering rules)."""
    for name, expected in pattern.items():
        value = event.get(name, _MISSING) if isinstance(event, dict) else _MISSING
        if isinstance(expected, dict):
            if not matches(expected, value if isinstance(value, dict) else {}):
                return False
        elif isinstance(expected, list):
            if not _matches_values(expected, value):
                return False
        else:
            raise ValueError(f"a filter pattern's leaf must be a list of values, not {expected!r}")
    return True


def lambda_record(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """A GetRecords record as Lambda delivers it (epoch seconds, the stream's ARN)."""
    data = dict(record.get("dynamodb") or {})
    created = data.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        data["ApproximateCreationDateTime"] = created.timestamp()
    return {**{key: value for key, value in record.items() if key != "dynamodb"}, "dynamodb": data,
            "eventSourceARN": stream_arn}  # fmt: skip


class StreamPoller:
    """Feeds one stream function from one table's stream, every `interval` seconds."""

    def __init__(
        self,
        function: StreamFunction,
        table_name: str,
        client: Any,
        streams: Any,
        *,
        interval: float = 0.1,
        handler: Callable[[dict[str, Any], Any], Any] | None = None,
    ) -> None:
        self.function = function
        self.interval = interval
        self.streams = streams
        self.stream_arn: str = client.describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
        self.handler = handler or getattr(load_handler_module(function), function.handler.rpartition(".")[2])
        self.invocations = 0
        self._polls = 0
        self._iterators: dict[str, str] = {}
        self._closed: set[str] = set()
        self._discover(initial=True)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"stream-{function.function}", daemon=True)

    def _discover(self, initial: bool = False) -> None:
        """Open an iterator on each shard not seen yet: from now on at start, from its start later."""
        start: dict[str, str] = {}
        while True:
            description = self.streams.describe_stream(StreamArn=self.stream_arn, **start)["StreamDescription"]
            for shard in description.get("Shards", []):
                shard_id = shard["ShardId"]
                if shard_id in self._iterators or shard_id in self._closed:
                    continue
                kind = "LATEST" if initial else "TRIM_HORIZON"
                self._iterators[shard_id] = self.streams.get_shard_iterator(
                    StreamArn=self.stream_arn, ShardId=shard_id, ShardIteratorType=kind
                )["ShardIterator"]
            last = description.get("LastEvaluatedShardId")
            if not last:
                return
            start = {"ExclusiveStartShardId": last}

    def poll_once(self) -> int:
        """Read every shard once and invoke the function on what matches; the number of records passed."""
        self._polls += 1
        if self._polls % DISCOVER_EVERY == 0 or not self._iterators:
            self._discover()
        passed: list[dict[str, Any]] = []
        for shard_id, iterator in list(self._iterators.items()):
            response = self.streams.get_records(ShardIterator=iterator, Limit=1000)
            following = response.get("NextShardIterator")
            if following:
                self._iterators[shard_id] = following
            else:
                del self._iterators[shard_id]
                self._closed.add(shard_id)
            passed += [
                lambda_record(record, self.stream_arn)
                for record in response.get("Records", [])
                if not self.function.filters or any(matches(pattern, record) for pattern in self.function.filters)
            ]
        for first in range(0, len(passed), self.function.batch_size):
            batch = passed[first : first + self.function.batch_size]
            self.invocations += 1
            try:
                self.handler({"Records": batch}, LambdaContext(self.function.function, self.function.timeout_seconds))
            except Exception as error:  # as in AWS, a failed batch is logged; the sweep covers its records
                print(f"{self.function.function} failed: {error!r}", file=sys.stderr, flush=True)
        return len(passed)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.poll_once()
            except Exception as error:  # DynamoDB Local going away at shutdown, mostly
                if not self._stop.is_set():
                    print(f"stream poller: {error!r}", file=sys.stderr, flush=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
