"""Storage faults on DynamoDB Local: throttling and server errors injected under the SDK (a botocore
`before-send` hook answers in DynamoDB's place), so its own retry logic runs for real."""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse, HTTPHeaders
from kollus_bridge.errors import StorageUnavailable
from kollus_bridge.kollus.callback import RawCallback
from kollus_bridge.progress.ingest import ingest_callback
from kollus_bridge.settings import Settings, settings_from
from kollus_bridge.store.dynamo import DynamoStore
from kollus_bridge.store.record_items import state_from_item
from kollus_bridge.store.table import record_key

from local.simulator import Content, Play, Session, expected_watched, play_session, random_script
from tests import reliability
from tests.helpers import REPLAY

pytestmark = pytest.mark.dynamodb_local
FORM = "application/x-www-form-urlencoded"


SUITE = "storage faults"


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Any:
        yield self.body


class Faults:
    """Answers DynamoDB requests with errors while `decide(operation, attempt)` says so."""

    def __init__(self, decide: Callable[[str, int], str | None]) -> None:
        self.decide = decide
        self.injected: Counter[str] = Counter()
        self.attempts: Counter[str] = Counter()

    def __call__(self, request: Any, **_: Any) -> AWSResponse | None:
        operation = request.headers.get("X-Amz-Target", b"")
        operation = (operation.decode() if isinstance(operation, bytes) else operation).rpartition(".")[2]
        self.attempts[operation] += 1
        kind = self.decide(operation, self.attempts[operation])
        if kind is None:
            return None
        self.injected[kind] += 1
        status, code = (400, "ThrottlingException") if kind == "throttle" else (500, "InternalServerError")
        body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": "injected"}).encode()
        headers = HTTPHeaders()
        headers["x-amzn-RequestId"] = "fault"
        return AWSResponse(request.url, status, headers, _Raw(body))


@contextmanager
def with_faults(store: DynamoStore, faults: Faults) -> Iterator[Faults]:
    """Inject `faults` into the store's DynamoDB requests for the duration of the block."""
    hook: Any = faults  # a before-send handler that returns a response stands in for the service
    store.client.meta.events.register("before-send.dynamodb", hook)
    try:
        yield faults
    finally:
        store.client.meta.events.unregister("before-send.dynamodb", hook)
        reliability.record(SUITE, requests_attempted=faults.attempts.total(),
                           **{f"injected {kind}": count for kind, count in faults.injected.items()})  # fmt: skip


def settings_for(store: DynamoStore) -> Settings:
    return settings_from({"TABLE_NAME": store.table_name, "KOLLUS_CALLBACK_TOKEN": "t", "API_TOKEN": "a", **REPLAY})


def record_blocks(store: DynamoStore, learner: str, content: str) -> dict[int, frozenset[int]]:
    item = store.client.get_item(TableName=store.table_name, Key=record_key(learner, content)).get("Item")
    return {} if item is None else dict(state_from_item(item).watched)


def test_transient_faults_are_retried_and_nothing_is_lost(store: DynamoStore) -> None:
    rng = random.Random(11)
    content = Content("content-1", 600.0, 10)
    reports = play_session(Session("learner-1", content, 1_700_000_000), random_script(rng, content))
    # Every fourth request attempt fails, throttled or with a server error: the SDK retries each once.
    faults = Faults(lambda _operation, attempt: ("throttle", "server")[attempt // 4 % 2] if attempt % 4 == 1 else None)
    with with_faults(store, faults):
        for report in reports:
            ingest_callback(RawCallback(report.form_body(), FORM), settings_for(store), store, 1_000)
    assert faults.injected["throttle"] >= 3 and faults.injected["server"] >= 3  # faults met, and retried through
    stored = record_blocks(store, "learner-1", "content-1")
    expected = {grid: frozenset(blocks) for grid, blocks in expected_watched(reports, 0.5).items()}
    lost = reliability.missing_blocks(expected, stored)
    reliability.record(SUITE, callbacks=len(reports), lost_blocks=lost)
    assert stored == expected


def test_when_retries_run_out_the_callback_fails_whole_and_a_resend_repairs(store: DynamoStore) -> None:
    content = Content("content-1", 600.0, 10)
    first = play_session(Session("learner-1", content, 1_700_000_000), [Play(0, 300)])[-1]
    throttled = Faults(lambda operation, _attempt: "throttle" if operation == "UpdateItem" else None)
    with with_faults(store, throttled), pytest.raises(StorageUnavailable):
        ingest_callback(RawCallback(first.form_body(), FORM), settings_for(store), store, 1_000)
    half_written = record_blocks(store, "learner-1", "content-1")
    result = ingest_callback(RawCallback(first.form_body(), FORM), settings_for(store), store, 2_000)
    repaired = result.outcome.value == "accepted" and result.view.watched_blocks == 5
    reliability.record(SUITE, callbacks=2, answered_503=1, half_written_records=int(bool(half_written)),
                       repaired_by_the_resend=int(repaired))  # fmt: skip
    assert half_written == {}  # nothing half-written
    assert repaired


def test_a_snapshot_write_that_fails_leaves_the_record_right(store: DynamoStore) -> None:
    content = Content("content-1", 600.0, 10)
    report = play_session(Session("learner-1", content, 1_700_000_000), [Play(0, 300)])[-1]
    failing = Faults(lambda operation, _attempt: "server" if operation == "PutItem" else None)
    with with_faults(store, failing), pytest.raises(StorageUnavailable):
        ingest_callback(RawCallback(report.form_body(), FORM), settings_for(store), store, 1_000)
    # The record (written first) has the blocks; the player resends and it is a duplicate.
    assert record_blocks(store, "learner-1", "content-1") == {10: frozenset(range(5))}
    result = ingest_callback(RawCallback(report.form_body(), FORM), settings_for(store), store, 2_000)
    assert (result.outcome.value, result.view.watched_blocks) == ("duplicate", 5)
