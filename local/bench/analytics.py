"""Row 9: computing a content's learning analytics at 1,000 and 10,000 learners on DynamoDB Local:
the time, the read units (DynamoDB's sizing rules, as row 1), and what one computation costs in AWS.

The class: 1,000 simulated learners of one ten-minute lecture of 100 blocks, one to three sessions
each, ingested through the callback use case; for 10,000, their records and session snapshots are
copied under new learner ids (nine copies each), so the items are the ones the bridge writes.
"""

from __future__ import annotations

import math
import random
import statistics
import time
from typing import Any

from local.dynamodb_local import DynamoDBLocal, create_tables, unique_suffix
from local.simulator import Content, Session, play_session, random_script

from .storage import Capacity, MeteredClient, item_size
from .workload import FORM

LECTURE = Content("bench-lecture", 600.0, 100)
BASE_LEARNERS = 1000


class MeteredReads(MeteredClient):
    """Row 1's meter, with batch reads priced too (consistent: 1 unit per 4 KB per item)."""

    def batch_get_item(self, **request: Any) -> Any:
        response = self._client.batch_get_item(**request)
        items = [item for found in response.get("Responses", {}).values() for item in found]
        self.capacity.add(reads=sum(max(1, math.ceil(item_size(item) / 4096)) for item in items))
        return response


def _ingest_class(store: Any, settings: Any) -> int:
    from kollus_bridge.kollus.callback import RawCallback  # noqa: PLC0415
    from kollus_bridge.progress.ingest import ingest_callback  # noqa: PLC0415

    rng = random.Random(7)  # noqa: S311 (a reproducible class)
    callbacks = 0
    for number in range(BASE_LEARNERS):
        for start_at in range(rng.randint(1, 3)):
            session = Session(f"learner-{number:05d}", LECTURE, 1_800_000_000 + start_at, rng.choice(["khp", "kfp"]))
            newest = play_session(session, random_script(rng, LECTURE))[-1]  # the state a session ends in
            ingest_callback(RawCallback(newest.form_body(), FORM), settings, store, 1_000)
            callbacks += 1
    return callbacks


def _copy_class(client: Any, table: str, copies: int) -> None:
    """Each learner's record and snapshots again under `copies` new learner ids, in batches of 25."""
    items: list[dict[str, Any]] = []
    start: dict[str, Any] | None = None
    while True:
        page = client.scan(TableName=table, **({"ExclusiveStartKey": start} if start else {}))
        items += [item for item in page["Items"] if item["pk"]["S"].startswith("L#")]
        start = page.get("LastEvaluatedKey")
        if start is None:
            break
    puts = []
    for copy in range(1, copies + 1):
        for item in items:
            clone = {**item, "pk": {"S": f"{item['pk']['S']}~{copy}"}}
            if "client_user_id" in item:
                clone["client_user_id"] = {"S": f"{item['client_user_id']['S']}~{copy}"}
            puts.append({"PutRequest": {"Item": clone}})
    for at in range(0, len(puts), 25):
        pending = {table: puts[at : at + 25]}
        while pending:
            pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}


def _compute(store: Any, settings: Any, capacity: Capacity) -> tuple[float, float, int]:
    from kollus_bridge.analytics.compute import Scope  # noqa: PLC0415
    from kollus_bridge.analytics.shards import compute  # noqa: PLC0415

    before_requests, before_units = capacity.requests, capacity.read_units
    started = time.perf_counter()
    body = compute(store, settings, LECTURE.media_content_key, Scope(), 1_000)
    seconds = time.perf_counter() - started
    units = capacity.read_units - before_units
    assert capacity.requests > before_requests
    return seconds, units, int(body["learners_counted"])


def measure_insights(database: DynamoDBLocal) -> dict[Any, Any]:
    from kollus_bridge.settings import settings_from  # noqa: PLC0415
    from kollus_bridge.store.dynamo import DynamoStore  # noqa: PLC0415

    client = database.client()
    table = create_tables(client, suffix=unique_suffix())["ProgressTable"]
    # A class's viewing replayed in a moment: the playback clock off, as for any replay.
    settings = settings_from(
        {"TABLE_NAME": table, "KOLLUS_CALLBACK_TOKEN": "t", "API_TOKEN": "a", "ENFORCE_PLAYBACK_CLOCK": "false"}
    )
    callbacks = _ingest_class(DynamoStore(table, client), settings)
    capacity = Capacity()
    store = DynamoStore(table, MeteredReads(client, capacity))  # type: ignore[arg-type]
    results: dict[Any, Any] = {"sessions": callbacks, "table": table}
    for learners, runs in ((BASE_LEARNERS, 3), (BASE_LEARNERS * 10, 1)):
        if learners > BASE_LEARNERS:
            _copy_class(client, table, learners // BASE_LEARNERS - 1)
        measured = [_compute(store, settings, capacity) for _ in range(runs)]
        counted = {count for _, _, count in measured}
        assert counted == {learners}, counted
        results[learners] = {
            "seconds": statistics.median(seconds for seconds, _, _ in measured),
            "read_units": statistics.median(units for _, units, _ in measured),
            "runs": runs,
        }
    return results
