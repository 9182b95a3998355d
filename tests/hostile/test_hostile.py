"""Hostile learners on DynamoDB Local, with the playback clock on as in AWS: forged completions, a record
pushed at its size bound by a thousand callbacks, and devices squatted for another learner. Each test
asserts what it records; the figures go to docs/benchmarks.md through `make bench`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

import pytest
from kollus_bridge.access.entitlement import Enrolment
from kollus_bridge.access.play import decide_play
from kollus_bridge.access.ports import Course
from kollus_bridge.errors import BridgeError
from kollus_bridge.kollus.callback import RawCallback
from kollus_bridge.kollus.play import PlayRequest
from kollus_bridge.kollus.playback import sign_nonce
from kollus_bridge.progress.ingest import IngestResult, ingest_callback, rules_for
from kollus_bridge.progress.rules import RulesCache
from kollus_bridge.settings import Settings, settings_from
from kollus_bridge.store.dynamo import DynamoStore
from kollus_bridge.store.table import record_key

from tests import reliability
from tests.payloads import FORM, flat_form

SUITE = "hostile learners on DynamoDB Local"
KEY = "nonce-key"
T0 = 1_800_000_000  # the server's clock, in seconds, at the start of each test
DYNAMODB_ITEM_LIMIT = 400 * 1024


def settings_for(table: str, **extra: str) -> Settings:
    return settings_from({"TABLE_NAME": table, "KOLLUS_CALLBACK_TOKEN": "t", "API_TOKEN": "a", **extra})


class Bridge:
    """The callback use case as the function runs it (rules cached per instance), at a given time."""

    def __init__(self, store: DynamoStore, settings: Settings) -> None:
        self.store, self.settings = store, settings
        self.rules = RulesCache(lambda key: rules_for(key, settings, store), 60)

    def post(self, body: bytes, at: int, query: str = "") -> IngestResult:
        raw = RawCallback(body, FORM, query)
        return ingest_callback(raw, self.settings, self.store, at * 1000, rules=self.rules, nonce_keys=lambda: [KEY])

    def attempt(self, body: bytes, at: int) -> IngestResult | None:
        try:
            return self.post(body, at)
        except BridgeError:
            return None


def flat(learner: str, start_at: int, block_count: int, blocks: Mapping[int, float | None], **fields: object) -> bytes:
    return flat_form(learner, "lecture", start_at, block_count, blocks, **fields)


def honest(bridge: Bridge, learner: str, start_at: int, at: int, watched: int) -> IngestResult:
    """A player that really played `watched` of the 50 blocks (600 s, 12 s each) by `at`."""
    blocks = dict.fromkeys(range(watched), 12.0)
    return bridge.post(flat(learner, start_at, 50, blocks, duration=600, play_time=12 * watched), at)


def test_forgeries_complete_nothing(store: DynamoStore, table: str) -> None:
    bridge = Bridge(store, settings_for(table))
    assert honest(bridge, "honest", T0, T0 + 30, 2).outcome.value == "accepted"  # the content's grid: 50
    old = sign_nonce(KEY, "mallory", "lecture", T0 - 30 * 86_400, T0 - 30 * 86_400 + 600)
    whole = dict.fromkeys(range(50), 12.0)
    forgeries = [
        flat("mallory", T0, 1, {0: None}, duration=600),  # one block on a one-block grid
        flat("mallory", T0 + 1, 1, {0: 600.0}, duration=600),  # ... with a block time for all of it
        flat("mallory", T0 + 2, 5, dict.fromkeys(range(5), 120.0), duration=600),  # a coarse grid, timed
        flat("mallory", T0 + 3, 50, dict.fromkeys(range(50))),  # every block, no times, no duration
        flat("mallory", T0 + 4, 50, whole, duration=600, play_time=600, run_time=300),  # plausible times
        flat("mallory", T0 + 5, 50, whole, duration=600, uservalue99=old),  # a 30-day-old URL
        flat("mallory", T0 - 30 * 86_400 + 10, 50, whole, duration=600, uservalue99=old),  # ... back-dated
        *(flat("mallory", T0 + 10 + n, 50, whole, duration=600) for n in range(20)),  # twenty sessions at once
    ]
    completed = 0
    for body in forgeries:
        result = bridge.attempt(body, T0 + 30)
        completed += bool(result and result.view.completed)
    view = bridge.post(flat("mallory", T0, 1, {0: None}, duration=600), T0 + 30).view
    reliability.record(SUITE, forgeries_tried=len(forgeries), forged_completions=completed)
    assert completed == 0 and not view.completed
    # Twenty sessions of a minute each at twice the speed credit no more than the lowest blocks twice over.
    assert view.watched_blocks == 10 and view.block_count == 50


def test_a_thousand_hostile_callbacks_leave_a_record_that_takes_an_honest_one(store: DynamoStore, table: str) -> None:
    bridge = Bridge(store, settings_for(table))
    count = 1000
    # Thirteen grids of ~10,000 blocks (each once the content's finest), then sessions with 4 KB of
    # uservalues each, four at a time: the sequence that froze a record at 400 KB before the bounds.
    fine = [flat("mallory", T0 + g, g, dict.fromkeys(range(g), 1.0), duration=600) for g in range(9_988, 10_001)]
    values = {f"uservalue{slot}": "v" * 1000 for slot in range(4)}
    small = [
        flat("mallory", T0 + 20_000 + n, 10_000, {(7 * n) % 10_000: 0.06}, duration=600, **values)
        for n in range(count - len(fine))
    ]
    refused = sum(bridge.attempt(body, T0 + at) is None for at, body in enumerate(fine))
    with ThreadPoolExecutor(max_workers=4) as pool:
        refused += sum(result is None for result in pool.map(lambda body: bridge.attempt(body, T0 + 60), small))
    assert refused == 0  # a hostile callback is limited, never a reason to refuse the next
    result = honest(bridge, "mallory", T0 + 50_000, T0 + 70, 1)
    item = store.client.get_item(TableName=table, Key=record_key("mallory", "lecture"))["Item"]
    size = len(json.dumps(item))
    reliability.record(
        SUITE, hostile_callbacks=count, records_still_accepting_honest_callbacks=int(result.outcome.value == "accepted")
    )
    assert result.outcome.value == "accepted" and not result.view.completed  # 70 s at 2x is not 9 minutes
    assert size < DYNAMODB_ITEM_LIMIT // 2
    assert result.view.sessions == count + 1  # folded sessions still count


@pytest.mark.parametrize("signed", [True])
def test_nobody_squats_on_another_learners_devices(store: DynamoStore, table: str, signed: bool) -> None:
    settings = settings_for(table, MAX_CONCURRENT_DEVICES="2", REQUIRE_SIGNED_PLAYBACK=str(signed).lower())
    store.put_course(Course("course", "Course", ("lecture",), 1))
    store.put_enrolments([Enrolment("course", "victim"), Enrolment("course", "mallory")])
    now = T0 * 1000
    squatted = 0
    attempts = [
        PlayRequest(1, "victim", "lecture", player_id="A" * 40),  # made-up device ids, no URL
        PlayRequest(1, "victim", "lecture", player_id="B" * 40, hardware_id="C" * 40),
        PlayRequest(1, "victim", "lecture", player_id="khp", uservalues={"uservalue99": "v3.1.2.x.y"}),
        PlayRequest(  # mallory's own valid URL, for the victim
            1, "victim", "lecture", uservalues={"uservalue99": sign_nonce(KEY, "mallory", "lecture", T0, T0 + 600)}
        ),
    ]
    for request in attempts:
        squatted += decide_play(request, settings, store, now, lambda: [KEY]).allowed
    own = [sign_nonce(KEY, "victim", "lecture", T0, T0 + 600) for _ in range(2)]  # two page loads of hers
    mine = [PlayRequest(1, "victim", "lecture", uservalues={"uservalue99": nonce}) for nonce in own]
    allowed = [decide_play(request, settings, store, now, lambda: [KEY]).allowed for request in mine]
    reliability.record(SUITE, device_squats_tried=len(attempts), devices_squatted=squatted)
    assert squatted == 0 and allowed == [True, True]
