"""The completion sync on DynamoDB Local, delivering to a real local HTTP server playing the LMS."""

from __future__ import annotations

import os
import random
import threading
from collections import Counter, deque
from collections.abc import Mapping
from typing import Any

import pytest
from kollus_bridge.api.service import redeliver, sync_ledger
from kollus_bridge.delivery.ledger import Attempt, Sent, StoredRecord, SyncState
from kollus_bridge.delivery.lms import post_webhook
from kollus_bridge.delivery.sync import SyncRun
from kollus_bridge.kollus.callback import RawCallback
from kollus_bridge.progress.ingest import ingest_callback
from kollus_bridge.settings import Settings, settings_from
from kollus_bridge.store.changes import changed_records
from kollus_bridge.store.dynamo import DynamoStore
from kollus_bridge.store.ledger import DUE_INDEX
from kollus_bridge.store.table import record_key

from local.dynamodb_local import DynamoDBLocal
from local.lms_receiver import Answer, LmsReceiver
from local.stack import LOCAL_DEFAULTS
from local.streams import StreamPoller
from local.template import load_template, stream_functions
from tests import reliability
from tests.helpers import REPLAY, serving
from tests.payloads import FORM, Snapshot

pytestmark = pytest.mark.dynamodb_local

SECRET = LOCAL_DEFAULTS["LMS_WEBHOOK_SECRET"]
HOUR_MS = 3_600_000


def settings_for(store: DynamoStore, lms: LmsReceiver, **overrides: str) -> Settings:
    return settings_from(
        {
            "TABLE_NAME": store.table_name,
            "KOLLUS_CALLBACK_TOKEN": "t",
            "API_TOKEN": "a",
            "LMS_WEBHOOK_URL": lms.url,
            "LMS_WEBHOOK_SECRET": SECRET,
            "SYNC_HTTP_TIMEOUT_SECONDS": "0.5",
            "SYNC_RETRY_BASE_SECONDS": "1",
            **REPLAY,
            **overrides,
        }
    )


class Clock:
    """Milliseconds, moved by hand so retries fall due without waiting."""

    def __init__(self, start: int = 1_800_000_000_000) -> None:
        self.now = start

    def __call__(self) -> int:
        return self.now


def complete(store: DynamoStore, settings: Settings, learner: str, content: str, now: int, **extra: Any) -> None:
    snapshot = Snapshot(client_user_id=learner, media_content_key=content, serial=1, **extra)
    snapshot.block_times = dict.fromkeys(range(10), 60.0)
    ingest_callback(RawCallback(snapshot.form_body(), FORM), settings, store, now)


def sync(store: Any, settings: Settings, clock: Clock, remaining_ms: int = 60_000, sender: Any = post_webhook) -> Any:
    run = SyncRun(store, sender, settings, [SECRET], lambda: remaining_ms, clock=clock, rng=random.Random(5))
    return run.run()


def due(store: DynamoStore) -> int:
    response = store.client.scan(TableName=store.table_name, IndexName=DUE_INDEX, Select="COUNT")
    count: int = response["Count"]
    return count


def test_each_completion_is_delivered_once_signed_and_shaped(store: DynamoStore, lms: LmsReceiver) -> None:
    settings = settings_for(store, lms)
    clock = Clock()
    for learner in range(5):
        complete(store, settings, f"learner-{learner}", "content-1", clock.now, uservalues={"uservalue0": "course-7"})
    report = sync(store, settings, clock)
    assert (report.delivered, report.retried, report.failed, report.due_seen) == (5, 0, 0, 5)
    delivered = lms.delivered()
    assert len(delivered) == 5 and len({message.message_id for message in delivered}) == 5
    body = delivered[0].body
    assert body["type"] == "progress.completed"
    assert body["timestamp"].endswith("Z")
    assert set(body["data"]) == {
        "client_user_id", "media_content_key", "title", "progress", "watched_blocks", "block_count", "completed_at",
        "last_position", "play_time", "real_play_time", "uservalues",
    }  # fmt: skip
    assert (body["data"]["progress"], body["data"]["watched_blocks"], body["data"]["block_count"]) == (100.0, 10, 10)
    assert body["data"]["uservalues"] == {"uservalue0": "course-7"}
    assert due(store) == 0
    clock.now += HOUR_MS
    assert sync(store, settings, clock).due_seen == 0
    assert len(lms.received) == 5


def test_an_unreliable_lms_loses_nothing_and_duplicates_keep_their_id(store: DynamoStore, lms: LmsReceiver) -> None:
    settings = settings_for(store, lms)
    clock = Clock()
    learners = [f"learner-{index}" for index in range(6)]
    for learner in learners:
        complete(store, settings, learner, "content-1", clock.now)
    lms.script.answers = deque(
        [
            Answer(status=500),
            Answer(status=429, retry_after="120"),
            Answer(status=200, delay_seconds=1.5),  # answered after our timeout: the LMS got it, we did not hear
            Answer(drop_connection=True),
            Answer(status=503),
            Answer(status=502),
            Answer(status=500),
            Answer(status=408),
        ]
    )
    runs = 0
    while due(store) and runs < 10:
        sync(store, settings, clock)
        clock.now += HOUR_MS
        runs += 1
    delivered = lms.delivered()
    by_learner = Counter(message.body["data"]["client_user_id"] for message in delivered)
    assert set(by_learner) == set(learners), "a completion was lost"
    ids_by_learner: dict[str, set[str]] = {}
    for message in lms.received:
        ids_by_learner.setdefault(message.body["data"]["client_user_id"], set()).add(message.message_id)
    assert all(len(ids) == 1 for ids in ids_by_learner.values()), "a retry changed the webhook-id"
    assert sum(by_learner.values()) <= len(learners) + 1  # at most the one the LMS got after our timeout
    page = sync_ledger(SyncState.DELIVERED, 50, None, store)
    assert {entry.client_user_id for entry in page.entries} == set(learners)


def test_a_redirect_is_a_failed_attempt_that_names_where_it_pointed(store: DynamoStore, lms: LmsReceiver) -> None:
    elsewhere = LmsReceiver(("127.0.0.1", 0), [SECRET], tolerance=10**9)
    with serving(elsewhere):
        settings, clock = settings_for(store, lms), Clock()
        lms.script.answers.append(Answer(status=302, location=elsewhere.url, body=b"<html>internal admin page</html>"))
        complete(store, settings, "learner-1", "content-1", clock.now)
        report = sync(store, settings, clock)
    assert (report.failed, report.retried, report.delivered) == (1, 0, 0)
    assert elsewhere.received == []  # not followed, neither as a POST nor as a GET
    (entry,) = sync_ledger(SyncState.FAILED, 10, None, store).entries
    assert entry.ledger.last_status == 302
    assert entry.ledger.last_error is not None
    assert elsewhere.url in entry.ledger.last_error
    assert "admin" not in entry.ledger.last_error  # nothing of the answer is reflected
    assert due(store) == 0


def test_retry_after_is_honoured(store: DynamoStore, lms: LmsReceiver) -> None:
    settings = settings_for(store, lms)
    clock = Clock()
    complete(store, settings, "learner-1", "content-1", clock.now)
    lms.script.answers = deque([Answer(status=429, retry_after="600")])
    assert sync(store, settings, clock).retried == 1
    stored = store.get_stored("learner-1", "content-1")
    assert stored is not None and stored.ledger.next_attempt_at is not None
    assert stored.ledger.next_attempt_at - clock.now >= 600_000
    assert (stored.ledger.attempts, stored.ledger.last_status) == (1, 429)
    clock.now += 300_000
    assert sync(store, settings, clock).due_seen == 0  # not before Retry-After
    clock.now += 301_000
    assert sync(store, settings, clock).delivered == 1


def test_a_rejection_fails_at_once_is_listed_and_can_be_redelivered(store: DynamoStore, lms: LmsReceiver) -> None:
    settings = settings_for(store, lms)
    clock = Clock()
    complete(store, settings, "learner-1", "content-1", clock.now)
    lms.script.answers = deque([Answer(status=400)])
    report = sync(store, settings, clock)
    assert (report.failed, report.retried) == (1, 0)
    failed = sync_ledger(SyncState.FAILED, 50, None, store).entries
    assert [(entry.client_user_id, entry.ledger.last_status, entry.ledger.attempts) for entry in failed] == [
        ("learner-1", 400, 1)
    ]
    assert failed[0].ledger.message_id is not None
    assert due(store) == 0
    clock.now += HOUR_MS
    assert sync(store, settings, clock).due_seen == 0  # failed stays failed until redelivered
    redeliver("learner-1", "content-1", store, clock.now)
    redeliver("learner-1", "content-1", store, clock.now)  # idempotent
    assert sync(store, settings, clock).delivered == 1
    assert [message.message_id for message in lms.received] == [failed[0].ledger.message_id] * 2
    assert sync_ledger(SyncState.FAILED, 50, None, store).entries == []


def test_retries_run_out_into_failed(store: DynamoStore, lms: LmsReceiver) -> None:
    settings = settings_for(store, lms, SYNC_MAX_ATTEMPTS="3")
    clock = Clock()
    complete(store, settings, "learner-1", "content-1", clock.now)
    lms.script.default = Answer(status=503)
    outcomes = []
    for _ in range(4):
        report = sync(store, settings, clock)
        outcomes.append((report.retried, report.failed))
        clock.now += HOUR_MS
    assert outcomes == [(1, 0), (1, 0), (0, 1), (0, 0)]
    (entry,) = sync_ledger(SyncState.FAILED, 50, None, store).entries
    assert (entry.ledger.attempts, entry.ledger.last_status) == (3, 503)


class RecordChangesDuringSend:
    """A sender that lets a new callback land on the record while the LMS is being called."""

    def __init__(self, store: DynamoStore, settings: Settings, clock: Clock) -> None:
        self.store, self.settings, self.clock = store, settings, clock

    def __call__(self, url: str, headers: Mapping[str, str], body: bytes, timeout: float) -> Attempt:
        later = Snapshot(client_user_id="learner-1", media_content_key="content-1", start_at=2_000_000_000, serial=1)
        later.block_times = {0: 60.0}
        ingest_callback(RawCallback(later.form_body(), FORM), self.settings, self.store, self.clock.now)
        return post_webhook(url, headers, body, timeout)


def test_a_record_updated_during_a_run_keeps_its_due_marker(store: DynamoStore, lms: LmsReceiver) -> None:
    settings = settings_for(store, lms, SYNC_PROGRESS_UPDATES="true")
    clock = Clock()
    complete(store, settings, "learner-1", "content-1", clock.now)
    assert sync(store, settings, clock, sender=RecordChangesDuringSend(store, settings, clock)).delivered == 1
    assert due(store) == 1, "the update that landed mid-send was dropped from the due index"
    stored = store.get_stored("learner-1", "content-1")
    assert stored is not None and stored.ledger.completion_sent
    clock.now += 1000
    assert sync(store, settings, clock).nothing_to_send == 1  # progress is unchanged at 100: nothing new
    assert due(store) == 0
    assert [message.body["type"] for message in lms.received] == ["progress.completed"]
    stored = store.get_stored("learner-1", "content-1")
    assert stored is not None and stored.ledger.state is SyncState.DELIVERED  # not pending for ever


def test_the_sweep_and_the_fast_path_at_once_send_once(store: DynamoStore, lms: LmsReceiver) -> None:
    settings, clock = settings_for(store, lms), Clock()
    learners = [(f"learner-{learner}", "content-1") for learner in range(3)]
    for learner, content in learners:
        complete(store, settings, learner, content, clock.now)
    fast = SyncRun(store, post_webhook, settings, [SECRET], lambda: 60_000, clock=clock, rng=random.Random(5))

    class FastPathBetweenReadAndSend:
        """The sweep's store: right after the sweep read the due records, the fast path delivers them."""

        def __getattr__(self, name: str) -> Any:
            return getattr(store, name)

        def read_due(self, *args: Any) -> Any:
            found = store.read_due(*args)
            assert fast.deliver_now(learners).delivered == 3
            return found

    report = sync(FastPathBetweenReadAndSend(), settings, clock)
    assert (report.delivered, report.not_due) == (0, 3)  # its claims failed: the records moved since it read them
    assert len(lms.received) == 3 and len({message.message_id for message in lms.received}) == 3
    for learner, content in learners:
        stored = store.get_stored(learner, content)
        assert stored is not None and stored.ledger.state is SyncState.DELIVERED and stored.ledger.last_status == 204


def test_progress_updates_are_coalesced(store: DynamoStore, lms: LmsReceiver) -> None:
    settings = settings_for(store, lms, SYNC_PROGRESS_UPDATES="true")
    clock = Clock()
    for serial, blocks in enumerate([1, 2, 3], start=1):
        snapshot = Snapshot(serial=serial)
        snapshot.block_times = dict.fromkeys(range(blocks), 60.0)
        ingest_callback(RawCallback(snapshot.form_body(), FORM), settings, store, clock.now)
    assert sync(store, settings, clock).delivered == 1
    assert [(m.body["type"], m.body["data"]["progress"]) for m in lms.received] == [("progress.updated", 30.0)]
    clock.now += 1000
    assert sync(store, settings, clock).delivered == 0


class CrashingStore:
    """The store, except that recording a delivery dies (as a Lambda killed mid-run would)."""

    def __init__(self, store: DynamoStore) -> None:
        self.store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def record_sent(self, record: StoredRecord, sent: Sent, now: int) -> None:
        raise RuntimeError("the function died here")


def test_a_crash_between_sending_and_recording_redelivers_with_the_same_id(
    store: DynamoStore, lms: LmsReceiver
) -> None:
    settings = settings_for(store, lms)
    clock = Clock()
    complete(store, settings, "learner-1", "content-1", clock.now)
    report = sync(CrashingStore(store), settings, clock)
    assert (report.delivered, report.errors) == (0, 1)
    assert due(store) == 1
    clock.now += 1000
    assert sync(store, settings, clock).delivered == 0  # its claim holds: the send may still be open
    clock.now += 60_000
    assert sync(store, settings, clock).delivered == 1
    ids = [message.message_id for message in lms.received]
    assert len(ids) == 2 and len(set(ids)) == 1


def test_two_runs_never_overlap(store: DynamoStore, lms: LmsReceiver) -> None:
    settings = settings_for(store, lms)
    clock = Clock()
    assert store.acquire_lease("other-run", clock.now, clock.now + 60_000)
    complete(store, settings, "learner-1", "content-1", clock.now)
    report = sync(store, settings, clock)
    assert report.lease_held_elsewhere and report.delivered == 0
    clock.now += 61_000  # the other run's lease expired (it died)
    assert sync(store, settings, clock).delivered == 1
    store.release_lease("other-run")  # a late release must not free someone else's lease
    assert sync(store, settings, clock).lease_held_elsewhere is False


def test_no_new_work_when_time_runs_short(store: DynamoStore, lms: LmsReceiver) -> None:
    settings = settings_for(store, lms)
    clock = Clock()
    complete(store, settings, "learner-1", "content-1", clock.now)
    report = sync(store, settings, clock, remaining_ms=5_000)  # below the 15 s margin
    assert report.stopped_early and report.delivered == 0 and due(store) == 1


def test_deliveries_run_in_parallel_within_the_bound(store: DynamoStore, lms: LmsReceiver) -> None:
    settings = settings_for(store, lms, SYNC_CONCURRENCY="4", SYNC_BATCH_SIZE="5", SYNC_HTTP_TIMEOUT_SECONDS="5")
    clock = Clock()
    for learner in range(16):
        complete(store, settings, f"learner-{learner}", "content-1", clock.now)
    lms.script.default = Answer(status=204, delay_seconds=0.2)
    report = sync(store, settings, clock)
    assert report.delivered == 16
    assert 2 <= lms.most_in_flight <= 4


def test_the_ledger_pages(store: DynamoStore, lms: LmsReceiver) -> None:
    settings = settings_for(store, lms, SYNC_HTTP_TIMEOUT_SECONDS="5")  # about paging: no timeouts on a busy machine
    clock = Clock()
    for learner in range(7):
        complete(store, settings, f"learner-{learner}", "content-1", clock.now + learner)
    clock.now += 10
    assert sync(store, settings, clock).delivered == 7
    seen, token, pages = [], None, 0
    while True:
        page = sync_ledger(SyncState.DELIVERED, 3, token, store)
        seen += [entry.client_user_id or "" for entry in page.entries]
        pages += 1
        token = page.next_token
        if token is None:
            break
    assert sorted(seen) == sorted(f"learner-{learner}" for learner in range(7)) and pages >= 3
    assert store.client.get_item(TableName=store.table_name, Key=record_key("learner-0", "content-1"))["Item"]


def test_many_runs_against_a_randomly_failing_lms(store: DynamoStore, lms: LmsReceiver) -> None:
    """Every completion delivered, duplicates only under the same webhook-id (counts are printed)."""
    settings = settings_for(store, lms, SYNC_MAX_ATTEMPTS="100")
    clock = Clock()
    rng = random.Random(99)
    completions = 30 * int(os.environ.get("SOAK_SCALE", "1"))
    for learner in range(completions):
        complete(store, settings, f"learner-{learner}", "content-1", clock.now)
    faults = [Answer(status=500), Answer(status=503), Answer(status=429, retry_after="1"),
              Answer(status=204, delay_seconds=0.6), Answer(drop_connection=True)]  # fmt: skip
    lms.script.answers = deque(rng.choice(faults) if rng.random() < 0.4 else Answer(status=204) for _ in range(400))
    runs = 0
    while due(store) and runs < 60:
        sync(store, settings, clock)
        clock.now += HOUR_MS
        runs += 1
    delivered = {message.body["data"]["client_user_id"] for message in lms.delivered()}
    ids: dict[str, set[str]] = {}
    for message in lms.received:
        ids.setdefault(message.body["data"]["client_user_id"], set()).add(message.message_id)
    reliability.record(
        "LMS faults across sync runs",
        completions=completions,
        requests=len(lms.received),
        failed_answers=sum(1 for m in lms.received if m.answered is None or m.answered >= 400),
        duplicates_with_the_same_webhook_id=len(lms.delivered()) - completions,
        lost=completions - len(delivered),
        runs=runs,
    )
    assert delivered == {f"learner-{learner}" for learner in range(completions)}, "a completion was lost"
    assert all(len(message_ids) == 1 for message_ids in ids.values()), "a retry changed the webhook-id"


# --- the fast path: the table's stream delivers a record the moment it becomes due ----------------


def fast_path(store: DynamoStore, settings: Settings, clock: Clock, database: DynamoDBLocal) -> StreamPoller:
    """DeliverFunction's event source mapping on this table, invoking the same delivery code."""

    def handler(event: dict[str, Any], context: Any) -> Any:
        run = SyncRun(store, post_webhook, settings, [SECRET], lambda: 60_000, clock=clock, rng=random.Random(5))
        return run.deliver_now(changed_records(event))

    (function,) = [job for job in stream_functions(load_template()) if job.function == "DeliverFunction"]
    streams = database.client("dynamodbstreams")
    return StreamPoller(function, store.table_name, store.client, streams, handler=handler)


def test_a_completion_is_delivered_from_the_stream_without_a_sweep(
    store: DynamoStore, lms: LmsReceiver, dynamodb_local: DynamoDBLocal
) -> None:
    settings, clock = settings_for(store, lms), Clock()
    stream = fast_path(store, settings, clock, dynamodb_local)
    complete(store, settings, "learner-1", "content-1", clock.now)
    assert stream.poll_once() == 1  # the completion stamp; the callback's own write is filtered out
    assert [message.body["type"] for message in lms.delivered()] == ["progress.completed"]
    assert due(store) == 0
    assert stream.poll_once() == 0  # recording the delivery does not come back
    clock.now += 1000
    assert sync(store, settings, clock).due_seen == 0
    assert len(lms.received) == 1


def test_a_record_handed_over_twice_at_once_is_sent_once(store: DynamoStore, lms: LmsReceiver) -> None:
    settings, clock = settings_for(store, lms), Clock()
    complete(store, settings, "learner-1", "content-1", clock.now)
    reports = []

    def deliver() -> None:
        run = SyncRun(store, post_webhook, settings, [SECRET], lambda: 60_000, clock=clock, rng=random.Random(5))
        reports.append(run.deliver_now([("learner-1", "content-1"), ("learner-1", "content-1")]))

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(lms.received) == 1
    assert sum(report.delivered for report in reports) == 1
    assert sum(report.not_due for report in reports) == 3


def test_a_fast_path_failure_is_retried_by_the_sweep(
    store: DynamoStore, lms: LmsReceiver, dynamodb_local: DynamoDBLocal
) -> None:
    settings, clock = settings_for(store, lms), Clock()
    stream = fast_path(store, settings, clock, dynamodb_local)
    lms.script.answers.append(Answer(status=503))
    complete(store, settings, "learner-1", "content-1", clock.now)
    assert stream.poll_once() == 1
    assert lms.delivered() == [] and due(store) == 1
    assert stream.poll_once() == 0  # a retry is the sweep's: the record was due already
    clock.now += HOUR_MS
    assert sync(store, settings, clock).delivered == 1
    ids = {message.message_id for message in lms.received}
    assert len(lms.received) == 2 and len(ids) == 1


def test_a_claim_that_runs_out_is_the_sweeps_to_deliver(store: DynamoStore, lms: LmsReceiver) -> None:
    settings, clock = settings_for(store, lms), Clock()
    complete(store, settings, "learner-1", "content-1", clock.now)
    stored = store.get_stored("learner-1", "content-1")
    assert stored is not None
    assert store.claim(stored, clock.now + 60_000)  # a fast-path delivery that then died
    assert not store.claim(stored, clock.now + 60_000)  # the claim holds against a second one
    assert sync(store, settings, clock).delivered == 0
    clock.now += 61_000
    assert sync(store, settings, clock).delivered == 1


def test_a_deployment_reaches_no_private_address_unless_told_to(store: DynamoStore, lms: LmsReceiver) -> None:
    from kollus_bridge.runtime.delivery import delivery_run  # noqa: PLC0415 - as the functions build their run

    clock = Clock()

    def sweep(allowed: str) -> Any:
        settings = settings_for(store, lms, ALLOW_PRIVATE_TARGETS=allowed)
        base = delivery_run(settings, store, lambda: 60_000)
        run = SyncRun(store, base.sender, settings, base.secrets, base.remaining_ms, clock=clock, rng=random.Random(1))
        return run.run()

    complete(store, settings_for(store, lms), "learner-1", "content-1", clock.now)
    assert (sweep("false").delivered, len(lms.received)) == (0, 0)  # the LMS at 127.0.0.1 is never reached
    refused = store.get_stored("learner-1", "content-1")
    assert refused is not None and "not a public address" in (refused.ledger.last_error or "")
    clock.now += HOUR_MS
    assert (sweep("true").delivered, len(lms.received)) == (1, 1)  # as the local stack allows
