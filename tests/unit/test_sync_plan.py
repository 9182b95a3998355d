"""What the sync sends for a record, and how the ledger moves after a failed attempt (pure)."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from types import MappingProxyType

import pytest
from kollus_bridge.content import catalog
from kollus_bridge.content.catalog import Entry, Status
from kollus_bridge.content.ports import ContentCard
from kollus_bridge.delivery.ledger import Attempt, StoredContent, StoredRecord, SyncLedger, SyncState
from kollus_bridge.delivery.messages import plan
from kollus_bridge.delivery.sync import after_failure
from kollus_bridge.kollus.callback import BlockReport, Callback
from kollus_bridge.progress.rule import RecordState, complete, merge, plain_update
from kollus_bridge.settings import settings_from

BASE_ENVIRONMENT = {"TABLE_NAME": "table", "KOLLUS_CALLBACK_TOKEN": "t", "API_TOKEN": "a"}
SETTINGS = settings_from(BASE_ENVIRONMENT)
UPDATES = settings_from(
    {"TABLE_NAME": "table", "KOLLUS_CALLBACK_TOKEN": "t", "API_TOKEN": "a", "SYNC_PROGRESS_UPDATES": "true"}
)


def record(blocks: int, ledger: SyncLedger | None = None) -> StoredRecord:
    callback = Callback(
        client_user_id="u-1",
        media_content_key="m-1",
        start_at=1,
        block_count=10,
        duration=600.0,
        play_time=900.0,
        last_play_at=420.0,
        uservalues={"uservalue0": "course-7"},
        blocks={index: BlockReport(True, 60.0) for index in range(blocks)},
    )
    state, _ = merge(RecordState(), plain_update(callback, 1_795_305_600_000, 0.5))
    state = complete(state, 1_795_305_600_000, 90)
    return StoredRecord("u-1", "m-1", state, rev=1, ledger=ledger or SyncLedger(state=SyncState.PENDING))


def test_completion_body_shape() -> None:
    message = plan(record(10), SETTINGS)
    assert message is not None and message.kind == "progress.completed"
    assert json.loads(message.body) == {
        "type": "progress.completed",
        "timestamp": "2026-11-22T00:00:00.000Z",
        "data": {
            "client_user_id": "u-1",
            "media_content_key": "m-1",
            "title": None,
            "progress": 100.0,
            "watched_blocks": 10,
            "block_count": 10,
            "completed_at": "2026-11-22T00:00:00.000Z",
            "last_position": 420.0,
            "play_time": 900.0,
            "real_play_time": 0.0,
            "uservalues": {"uservalue0": "course-7"},
        },
    }
    assert plan(record(10), SETTINGS) == message  # the same bytes and id on every retry


def test_a_completion_names_the_title_the_catalog_knows() -> None:
    cards = {"m-1": ContentCard("uf-1", "Week 3: Recursion", 600.0), "m-2": ContentCard("uf-2", "Other", None)}
    message = plan(record(10), SETTINGS, cards)
    assert message is not None and json.loads(message.body)["data"]["title"] == "Week 3: Recursion"
    untitled = plan(record(10), SETTINGS)
    assert untitled is not None and message.message_id == untitled.message_id  # the title changes no identity


def content(status: Status, refresh: bool = False, sent: frozenset[str] = frozenset()) -> StoredContent:
    entry = Entry("uf-1", status, title="Intro", duration=61.5, channels=MappingProxyType({"ch": "mck-1"}),
                  created_at=1_795_305_600_000, updated_at=1_795_305_660_000, refresh=refresh)  # fmt: skip
    return StoredContent(entry, rev=3, ledger=SyncLedger(state=SyncState.PENDING), events_sent=sent)


def test_a_content_announces_its_status_once_its_details_are_in() -> None:
    message = plan(content(Status.READY), SETTINGS)
    assert message is not None and message.kind == "content.ready"
    body = json.loads(message.body)
    assert body["type"] == "content.ready" and body["timestamp"] == "2026-11-22T00:01:00.000Z"
    assert body["data"]["media_content_key"] == "mck-1" and body["data"]["duration"] == 61.5
    assert body["data"]["channels"] == [{"channel_key": "ch", "media_content_key": "mck-1"}]
    assert body["data"]["created_at"] == "2026-11-22T00:00:00.000Z"
    assert plan(content(Status.READY), SETTINGS) == message  # the same id on every retry
    # What callbacks claimed waits for the VOD API's check: a pending one holds the webhook.
    assert plan(content(Status.READY, refresh=True), SETTINGS) is None
    unknown = StoredContent(replace(content(Status.READY).entry, unknown_to_kollus=True), rev=1)
    assert plan(unknown, SETTINGS) is None  # the library did not know it: never announced
    assert plan(content(Status.READY, sent=frozenset({"content.ready"})), SETTINGS) is None
    assert plan(content(Status.TRANSCODING), SETTINGS) is None
    unplayable = StoredContent(replace(content(Status.READY).entry, channels=MappingProxyType({})), rev=1)
    assert plan(unplayable, SETTINGS) is None  # not in a channel: nothing to play it by
    failed, deleted = plan(content(Status.FAILED), SETTINGS), plan(content(Status.DELETED), SETTINGS)
    assert failed is not None and failed.kind == "content.failed"
    assert deleted is not None and deleted.kind == "content.deleted" and deleted.message_id != message.message_id


def test_nothing_to_send_once_sent_or_failed_or_incomplete() -> None:
    assert plan(record(10, SyncLedger(completion_sent=True, progress_sent="100.00")), UPDATES) is None
    assert plan(record(10, SyncLedger(state=SyncState.FAILED)), SETTINGS) is None
    assert plan(record(5), SETTINGS) is None


def test_progress_updates_only_when_enabled_and_changed() -> None:
    message = plan(record(5), UPDATES)
    assert message is not None and (message.kind, message.progress) == ("progress.updated", "50.00")
    assert plan(record(5, SyncLedger(progress_sent="50.00")), UPDATES) is None


def test_after_failure_retries_then_fails() -> None:
    rng = random.Random(1)
    ledger = after_failure(SyncLedger(), Attempt(status=503, excerpt="busy"), SETTINGS, now=1000, rng=rng)
    assert (ledger.state, ledger.attempts, ledger.last_status, ledger.last_error) == (SyncState.PENDING, 1, 503, "busy")
    assert ledger.next_attempt_at is not None and 16_000 <= ledger.next_attempt_at <= 31_000
    ledger = after_failure(SyncLedger(attempts=9), Attempt(status=None, error="timeout"), SETTINGS, 1000, rng)
    assert (ledger.state, ledger.attempts, ledger.next_attempt_at) == (SyncState.FAILED, 10, None)
    ledger = after_failure(SyncLedger(), Attempt(status=410), SETTINGS, 1000, rng)
    assert (ledger.state, ledger.attempts) == (SyncState.FAILED, 1)


@pytest.mark.parametrize("timeout", ["0.5", "10", "60"])
def test_a_claim_outlasts_every_request_its_send_may_make(timeout: str) -> None:
    from kollus_bridge.delivery.sync import REQUESTS_PER_SEND, SyncRun  # noqa: PLC0415

    settings = settings_from({**BASE_ENVIRONMENT, "SYNC_HTTP_TIMEOUT_SECONDS": timeout})
    run = SyncRun(None, None, settings, [], lambda: 60_000)  # type: ignore[arg-type]
    # Each request ends at its deadline however slowly the other side answers (outbound's watchdog),
    # so a claim longer than all of a send's requests is never taken over while the send may be open.
    assert run.claim_ms > REQUESTS_PER_SEND * float(timeout) * 1000
    assert run.claim_ms >= 60_000


def test_a_change_to_an_announced_content_is_announced_once_per_change() -> None:
    announced = frozenset({"content.ready"})
    before = content(Status.READY, sent=announced).entry
    renamed = replace(before, title="Intro, revised")
    assert catalog.owes_update(before, renamed, announced)
    assert not catalog.owes_update(before, renamed, frozenset())  # content.ready, still owed, carries it
    assert not catalog.owes_update(before, replace(before, updated_at=1), announced)  # nothing shown changed
    assert not catalog.owes_update(
        before, replace(renamed, status=Status.DELETED), announced
    )  # content.deleted says it
    first = plan(StoredContent(renamed, rev=4, events_sent=announced, update_at=1_795_305_700_000), SETTINGS)
    again = plan(StoredContent(renamed, rev=5, events_sent=announced, update_at=1_795_305_800_000), SETTINGS)
    assert first is not None and again is not None and first.kind == again.kind == "content.updated"
    assert json.loads(first.body)["data"]["title"] == "Intro, revised" and first.message_id != again.message_id
    assert plan(StoredContent(renamed, rev=4, events_sent=announced), SETTINGS) is None  # none owed
