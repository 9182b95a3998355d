"""xAPI statements delivered to a real LRS (ralph), through the same delivery machinery as the webhook."""

from __future__ import annotations

import random
from collections import deque
from typing import Any

import pytest
from kollus_bridge.delivery.ledger import SyncState, Target
from kollus_bridge.delivery.sync import SyncRun
from kollus_bridge.kollus.callback import RawCallback
from kollus_bridge.progress.ingest import ingest_callback
from kollus_bridge.runtime.delivery import delivery_run
from kollus_bridge.settings import Settings
from kollus_bridge.store.dynamo import DynamoStore
from kollus_bridge.xapi.statements import COMPLETED, PAUSED

from local.lms_receiver import Answer, LmsReceiver
from local.lrs import Lrs
from tests.integration.test_sync import HOUR_MS, Clock, complete, due, settings_for
from tests.payloads import FORM, Snapshot

pytestmark = pytest.mark.dynamodb_local


def xapi_settings(store: DynamoStore, lms: LmsReceiver, lrs: Lrs, **overrides: str) -> Settings:
    return settings_for(
        store,
        lms,
        XAPI_LRS_URL=lrs.url,
        XAPI_LRS_AUTH=lrs.auth,
        XAPI_ACTOR_HOMEPAGE="https://lms.example.com",
        XAPI_ACTIVITY_BASE="https://videos.example.com/kollus/",
        SYNC_HTTP_TIMEOUT_SECONDS="10",  # ralph checks a bcrypt password on each request
        ALLOW_PRIVATE_TARGETS="true",  # ralph listens on 127.0.0.1, as in the local stack
        **overrides,
    )


def run(store: DynamoStore, settings: Settings, clock: Clock) -> Any:
    base = delivery_run(settings, store, lambda: 60_000)
    sync = SyncRun(
        store, base.sender, settings, base.secrets, base.remaining_ms, clock=clock, rng=random.Random(3),
        channels=base.channels,
    )  # fmt: skip
    return sync.run()


def statements_of(lrs: Lrs, learner: str) -> list[Any]:
    return [s for s in lrs.statements() if s["actor"]["account"]["name"] == learner]


def test_a_completion_becomes_one_video_profile_statement_and_redelivery_keeps_it_one(
    store: DynamoStore, lms: LmsReceiver, lrs: Lrs
) -> None:
    settings = xapi_settings(store, lms, lrs)
    clock = Clock()
    complete(store, settings, "xapi-learner-1", "lecture/1", clock.now)
    report = run(store, settings, clock)
    assert report.delivered == 1  # the webhook; the record's statement is due now (the stream's fast path
    assert due(store) == 1  # delivers it at once in AWS), so the sweep's next run sends it
    clock.now += 1000
    assert run(store, settings, clock).delivered == 1
    assert due(store) == 0
    found = statements_of(lrs, "xapi-learner-1")
    assert len(found) == 1
    statement = found[0]
    assert statement["verb"]["id"] == COMPLETED
    assert statement["object"]["id"] == "https://videos.example.com/kollus/lecture%2F1"
    assert statement["actor"]["account"] == {"homePage": "https://lms.example.com", "name": "xapi-learner-1"}
    extensions = statement["result"]["extensions"]
    assert extensions["https://w3id.org/xapi/video/extensions/progress"] == 1.0
    assert extensions["https://w3id.org/xapi/video/extensions/played-segments"] == "0[.]600"
    assert statement["result"]["completion"] is True
    checked = lrs.validate(found)
    assert checked.returncode == 0, checked.stderr[-2000:]

    assert store.redeliver_target("xapi-learner-1", "lecture/1", Target.XAPI, clock.now)
    clock.now += 1000
    again = run(store, settings, clock)
    assert again.delivered == 1 and again.failed == 0
    assert len(statements_of(lrs, "xapi-learner-1")) == 1  # the same id: the LRS keeps it once
    rows, _ = store.ledger(SyncState.DELIVERED, 50, None)
    targets = {(row.client_user_id, row.target) for row in rows}
    assert {("xapi-learner-1", Target.WEBHOOK), ("xapi-learner-1", Target.XAPI)} <= targets


def play(store: DynamoStore, settings: Settings, learner: str, blocks: int, serial: int, now: int) -> None:
    snapshot = Snapshot(
        client_user_id=learner, media_content_key="lecture-2", serial=serial, last_play_at=blocks * 60.0
    )
    snapshot.block_times = dict.fromkeys(range(blocks), 60.0)
    ingest_callback(RawCallback(snapshot.form_body(), FORM), settings, store, now)


def test_progress_statements_pass_ralphs_models_and_a_failing_lms_holds_nothing_up(
    store: DynamoStore, lms: LmsReceiver, lrs: Lrs
) -> None:
    settings = xapi_settings(store, lms, lrs, SYNC_PROGRESS_UPDATES="true")
    clock = Clock()
    lms.script.answers = deque([Answer(status=503)] * 10)
    play(store, settings, "xapi-learner-2", 5, 1, clock.now)
    first = run(store, settings, clock)
    assert first.retried == 1  # the webhook
    clock.now += 1000
    second = run(store, settings, clock)
    item = store.get_delivery("xapi-learner-2", "lecture-2", Target.XAPI)
    assert second.delivered == 1, item  # the statement goes while the webhook waits
    clock.now += 1000
    play(store, settings, "xapi-learner-2", 10, 2, clock.now)
    clock.now += HOUR_MS
    run(store, settings, clock)
    clock.now += 1000
    run(store, settings, clock)
    found = sorted(statements_of(lrs, "xapi-learner-2"), key=lambda statement: statement["timestamp"])
    assert [s["verb"]["id"] for s in found] == [PAUSED, COMPLETED]
    paused = found[0]["result"]["extensions"]
    assert paused["https://w3id.org/xapi/video/extensions/progress"] == 0.5
    assert paused["https://w3id.org/xapi/video/extensions/played-segments"] == "0[.]300"
    assert paused["https://w3id.org/xapi/video/extensions/time"] == 300.0
    checked = lrs.validate(found)
    assert checked.returncode == 0, checked.stderr[-2000:]
    record = store.get_delivery("xapi-learner-2", "lecture-2", Target.XAPI)
    assert record is not None and record.ledger.state is SyncState.DELIVERED and record.ledger.completion_sent
    webhook = store.get_stored("xapi-learner-2", "lecture-2")
    assert webhook is not None and webhook.ledger.state is SyncState.PENDING and webhook.ledger.attempts >= 1
