"""Real conditional writes on DynamoDB Local: the store carries out the pure merge exactly, and
callbacks from many threads at once give the records the pure merge computes."""

from __future__ import annotations

import dataclasses
import os
import random
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from types import ModuleType
from typing import Any

import pytest
from kollus_bridge.kollus.callback import RawCallback, parse_callback
from kollus_bridge.progress.credit import claim_of, on_grid
from kollus_bridge.progress.ingest import ingest_callback
from kollus_bridge.progress.rule import Outcome, RecordState, SessionUpdate, merge, plain_update, summarize
from kollus_bridge.settings import Settings, settings_from
from kollus_bridge.store.dynamo import DynamoStore
from kollus_bridge.store.record_items import state_from_item
from kollus_bridge.store.table import record_key

from local.dynamodb_local import DynamoDBLocal
from local.simulator import Content, Report, Session, deliver, play_session, random_script
from local.template import load_handler_module, load_template, routes
from tests import reliability
from tests.helpers import REPLAY, body_of, invoke
from tests.payloads import FORM, Snapshot, callback_event, progress_event

pytestmark = pytest.mark.dynamodb_local


SUITE = "concurrency on DynamoDB Local"


def settings_for(table: str) -> Settings:
    return settings_from({"TABLE_NAME": table, "KOLLUS_CALLBACK_TOKEN": "t", "API_TOKEN": "a", **REPLAY})


def update_from(snapshot: Snapshot, received_at: int = 1) -> SessionUpdate:
    return update_from_body(snapshot.form_body(), received_at)


def update_from_body(body: bytes, received_at: int = 1) -> SessionUpdate:
    callback = parse_callback(RawCallback(body, FORM), settings_for("table"))
    return plain_update(callback, received_at, 0.5)


def stored_state(store: DynamoStore, learner: str = "learner-1", content: str = "content-1") -> RecordState:
    item = store.client.get_item(TableName=store.table_name, Key=record_key(learner, content), ConsistentRead=True)
    return state_from_item(item["Item"])


class TestConditionalWrites:
    def test_apply_returns_the_record_without_a_read(self, store: DynamoStore) -> None:
        first = store.apply(update_from(Snapshot(serial=1, block_times={0: 60})))
        assert first.outcome is Outcome.ACCEPTED
        assert first.state.watched == {10: {0}}
        assert (store.requests, store.consumed_read_units) == (1, 0)

    def test_duplicate_and_stale_fail_the_condition_and_still_return_the_record(self, store: DynamoStore) -> None:
        newer = update_from(Snapshot(serial=2, block_times={0: 60, 1: 60}))
        store.apply(newer)
        duplicate = store.apply(newer)
        stale = store.apply(update_from(Snapshot(serial=1, block_times={0: 60})))
        assert (duplicate.outcome, stale.outcome) == (Outcome.DUPLICATE, Outcome.STALE)
        assert duplicate.state.watched == stale.state.watched == {10: {0, 1}}
        assert store.consumed_read_units == 0

    def test_the_store_carries_out_the_pure_merge(self, store: DynamoStore) -> None:
        rng = random.Random(7)
        updates = []
        for start_at, player in [(100, "khp"), (100, "phone"), (200, "khp")]:
            times: dict[int, float] = {}
            for serial in range(6):
                block = rng.randrange(10)
                times[block] = times.get(block, 0.0) + rng.choice([10.0, 35.0, 61.0])
                snapshot = Snapshot(start_at=start_at, player_id=player, serial=serial, play_time=serial * 30.0)
                snapshot.block_times = dict(times)
                updates.append(update_from(snapshot, received_at=start_at))
        delivered = updates + rng.sample(updates, 6)
        rng.shuffle(delivered)
        expected = RecordState()
        for update in delivered:
            result = store.apply(update)
            expected, outcome = merge(expected, update)
            assert result.outcome is outcome
        stored = stored_state(store)
        assert stored.sessions == expected.sessions
        assert stored.watched == expected.watched
        assert summarize(stored, 90) == summarize(expected, 90)

    def test_completion_is_stamped_once(self, store: DynamoStore) -> None:
        store.apply(update_from(Snapshot(serial=1, block_times=dict.fromkeys(range(10), 60))))
        store.mark_completed("learner-1", "content-1", now=1000)
        store.mark_completed("learner-1", "content-1", now=2000)
        assert stored_state(store).completed_at == 1000

    def test_snapshot_keeps_the_newest_raw_callback(self, store: DynamoStore, table: str) -> None:
        newer, older = Snapshot(serial=5, play_time=50), Snapshot(serial=4, play_time=40)
        for snapshot in (newer, older):
            store.save_snapshot(update_from(snapshot), RawCallback(snapshot.form_body(), FORM, "q=1"))
        items = store.client.scan(TableName=table)["Items"]
        assert len(items) == 1
        assert int(items[0]["version"]["N"]) == update_from(newer).summary.version

    def test_a_crash_before_the_completion_stamp_is_repaired_by_the_resend(
        self, store: DynamoStore, table: str
    ) -> None:
        settings = settings_for(table)
        body = Snapshot(serial=3, block_times=dict.fromkeys(range(10), 60)).form_body()
        store.apply(plain_update(parse_callback(RawCallback(body, FORM), settings), 500, 0.5))  # then "crash"
        assert stored_state(store).completed_at is None
        result = ingest_callback(RawCallback(body, FORM), settings, store, now=900)
        assert result.outcome is Outcome.DUPLICATE
        assert stored_state(store).completed_at == 900

    def test_a_record_kept_too_large_before_the_bounds_takes_an_honest_callback(
        self, store: DynamoStore, table: str
    ) -> None:
        """A record filled before the bounds (a set per grid, as credit was then kept) until DynamoDB
        refuses to grow it: the next callback compacts it onto the grid of record and is accepted."""
        grids = 0
        for grid in range(9_950, 10_001):
            try:
                store.client.update_item(
                    TableName=table, Key=record_key("learner-1", "content-1"),
                    UpdateExpression="ADD #w :blocks", ExpressionAttributeNames={"#w": f"w:{grid}"},
                    ExpressionAttributeValues={":blocks": {"NS": [str(block) for block in range(grid)]}},
                )  # fmt: skip
            except store.client.exceptions.ClientError:
                break  # the item is at DynamoDB's limit
            grids += 1
        assert 5 <= grids < 51
        honest = Snapshot(block_count=10_000, block_times={0: 0.06, 1: 0.06}, duration=600)
        result = ingest_callback(RawCallback(honest.form_body(), FORM), settings_for(table), store, now=1)
        assert result.outcome is Outcome.ACCEPTED
        state = stored_state(store)
        assert set(state.watched) == {10_000} and {0, 1} <= state.watched[10_000]
        assert state.lowered is not None  # the blocks of the other grids had no callbacks to prove them


# --- many threads at once, through the handler ----------------------------------------------------


def simulated_traffic(rng: random.Random, learners: int, contents: int) -> list[Report]:
    """Every callback of a few sessions per learner and content, as the simulated player sends them:
    realistic viewing (seeks, 0.5x-2x, pauses), two devices of one learner in the same START_AT
    second, and a block-count change between sessions."""
    reports: list[Report] = []
    for learner in range(learners):
        for number in range(contents):
            for start_at, player, block_count in [
                (1_700_000_000, "khp", 10),
                (1_700_000_000, "phone", 10),  # the same second on a second device
                (1_700_003_600, "khp", 20 if (learner + number) % 3 == 0 else 10),
            ]:
                content = Content(f"content-{number}", duration=600.0, block_count=block_count)
                session = Session(f"learner-{learner}", content, start_at, player)
                reports += play_session(session, random_script(rng, content), period=30)
    return reports


def expected_records(callbacks: list[Report]) -> dict[tuple[str, str], RecordState]:
    records: dict[tuple[str, str], RecordState] = {}
    for report in callbacks:
        update = update_from_body(report.form_body(), received_at=0)
        key = (report.session.client_user_id, report.session.content.media_content_key)
        records[key], _ = merge(records.get(key, RecordState()), update)
    return records


@pytest.fixture
def environments(
    table: str,
    dynamodb_local: DynamoDBLocal,
    function_environment: Callable[[dict[str, str]], None],
) -> Callable[[int], dict[str, ModuleType]]:
    """Separate execution environments of the functions, like concurrent Lambda instances."""
    function_environment({"TABLE_NAME": table, "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_local.endpoint})
    template_routes = routes(load_template())

    def load(instance: int) -> dict[str, ModuleType]:
        return {
            route.function: load_handler_module(route, fresh=True, instance=100 + instance) for route in template_routes
        }

    return load


# Powertools' Metrics is one object per process; in-process "environments" on several threads share
# it, so one thread may flush another's metric. Lambda runs one event per process at a time.
@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_concurrent_shuffled_duplicated_callbacks_lose_nothing(
    environments: Callable[[int], dict[str, ModuleType]], dynamodb_local: DynamoDBLocal, table: str
) -> None:
    rng = random.Random(20261122)
    scale = int(os.environ.get("SOAK_SCALE", "1"))  # `make soak` raises it
    callbacks = simulated_traffic(rng, learners=10 * scale, contents=3)
    delivered = deliver(callbacks, rng, duplicates=0.2, offline_burst=0.05)
    assert len(delivered) >= 1500
    threads = 8
    local = threading.local()
    created = iter(range(threads))
    lock = threading.Lock()

    def post(report: Report) -> tuple[int, Any]:
        if not hasattr(local, "callback"):
            with lock:
                local.callback = environments(next(created))["CallbackFunction"]
        response = invoke(local.callback, callback_event(report.form_body()))
        return response["statusCode"], body_of(response)["result"]

    with ThreadPoolExecutor(max_workers=threads) as pool:
        results = list(pool.map(post, delivered))
    reliability.record(SUITE, callbacks_sent=len(delivered), **Counter(f"answered {outcome}" for _, outcome in results))
    assert {status for status, _ in results} == {200}
    outcomes = [outcome for _, outcome in results]
    assert set(outcomes) == {"accepted", "duplicate", "stale"}
    sessions = {(r.session.client_user_id, r.session.content.media_content_key, r.session.start_at, r.session.player_id)
                for r in callbacks}  # fmt: skip
    assert len(sessions) <= outcomes.count("accepted") <= len(callbacks)

    api = environments(threads)["ApiFunction"]
    client = dynamodb_local.client()
    grids: dict[str, int] = {}  # each content's grid of record: the finest grid its players reported
    for report in callbacks:
        played = report.session.content
        grids[played.media_content_key] = max(grids.get(played.media_content_key, 0), played.block_count)
    for (learner, content), expected in expected_records(callbacks).items():
        grid = grids[content]
        # A read first: it re-evaluates a record that still holds blocks credited on another grid.
        body = body_of(invoke(api, progress_event(f"client_user_id={learner}&media_content_key={content}")))
        stored = state_from_item(client.get_item(TableName=table, Key=record_key(learner, content))["Item"])
        mine = [
            r
            for r in callbacks
            if (r.session.client_user_id, r.session.content.media_content_key) == (learner, content)
        ]
        wanted = watched_on_grid(mine, grid, 0.5)
        held = set(stored.watched.get(grid, frozenset()))
        reliability.record(SUITE, records_checked=1, lost_blocks=len(wanted - held), extra_blocks=len(held - wanted))
        assert stored.watched == ({grid: wanted} if wanted else {}), "lost or extra blocks"
        assert {key: summary.version for key, summary in stored.sessions.items()} == {
            key: summary.version for key, summary in expected.sessions.items()
        }
        view = summarize(dataclasses.replace(expected, watched={grid: frozenset(wanted)}), 90, grid)
        assert (body["watched_blocks"], body["block_count"], body["progress"]) == (
            view.watched_blocks,
            view.block_count,
            float(view.progress),
        )
        assert (body["play_time"], body["real_play_time"], body["sessions"]) == (
            view.play_time,
            view.real_play_time,
            3,
        )
        # A completion stamped while an instance still judged on the coarser grid stands (never reverts).
        assert body["completed"] or not view.completed


def watched_on_grid(reports: list[Report], grid: int, ratio: float) -> set[int]:
    """The blocks each session's newest report proves on the grid of record (`credit.on_grid`)."""
    newest: dict[tuple[int, str], Report] = {}
    for report in reports:
        key = (report.session.start_at, report.session.player_id)
        if key not in newest or report.serial > newest[key].serial:
            newest[key] = report
    settings = settings_for("table")
    watched: set[int] = set()
    for report in newest.values():
        callback = parse_callback(RawCallback(report.form_body(), FORM), settings)
        watched |= on_grid(claim_of(callback, ratio), grid, ratio, callback.duration)
    return watched


def test_the_largest_refused_payload_still_fits_the_rejected_store(store: DynamoStore, table: str) -> None:
    incompressible = random.Random(1).randbytes(6_000_000)  # a Lambda request can be this large
    query = "x=" + "q" * 100_000
    store.save_rejected(RawCallback(incompressible, "text/plain", query), "payload_too_large", "big", None, 1)
    (item,) = store.client.scan(TableName=table)["Items"]
    assert item["raw_truncated"]["BOOL"] is True
    assert item["reason_code"]["S"] == "payload_too_large"


def test_an_id_too_long_for_a_key_is_the_inputs_fault_not_an_outage(store: DynamoStore) -> None:
    from kollus_bridge.access.entitlement import Enrolment  # noqa: PLC0415
    from kollus_bridge.errors import InvalidRequest  # noqa: PLC0415

    long = "강의" * 60  # 120 characters, 360 bytes of UTF-8: over 1024 once percent-encoded
    with pytest.raises(InvalidRequest, match="too long to store"):
        store.put_enrolments([Enrolment("algo-101", long)])
    with pytest.raises(InvalidRequest, match="too long to store"):
        store.delete_enrolment("algo-101", long)
    fits = "강의" * 56  # 336 bytes
    store.put_enrolments([Enrolment("algo-101", fits)])
    assert [enrolment.client_user_id for enrolment in store.enrolments_of(fits)] == [fits]
