"""The table's exports, as DynamoDB writes them, become the datasets: a full export read with the
store's own decoders, incremental exports applied by key and write time (updates, deletes, changes
out of order), every data file checked against its manifest's checksum."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from kollus_bridge.errors import InvalidRequest
from kollus_bridge.exports.datasets import as_dicts, rows
from kollus_bridge.runtime.exports import build, learning, read_export
from kollus_bridge.store.export_files import key_of
from kollus_bridge.store.export_items import from_export

from local.export import scan, to_export, write_full_export, write_incremental_export
from tests.handler import test_analytics
from tests.handler.test_analytics import Bridge

#: The functions on moto, as the analytics tests have them.
bridge = test_analytics.bridge


def course(bridge: Bridge) -> None:
    body = {"title": "Algo", "media_content_keys": ["lecture-1"]}
    assert bridge.send("PUT", "/v1/courses/algo", "/v1/courses/{course_id}", body, course_id="algo") == 200
    enrolments = {"enrollments": [{"client_user_id": name} for name in ("ann", "bob")]}
    path = "/v1/courses/algo/enrollments"
    assert bridge.send("PUT", path, "/v1/courses/{course_id}/enrollments", enrolments, course_id="algo") == 200


def changes(before: list[dict[str, Any]], after: list[dict[str, Any]], start: int) -> list[dict[str, Any]]:
    """What an incremental export between two scans holds: each new or changed item, each deleted key."""
    old = {key_of(item): item for item in before}
    new = {key_of(item): item for item in after}
    found: list[dict[str, Any]] = [
        {"keys": {"pk": item["pk"], "sk": item["sk"]}, "new": item} for key, item in new.items() if old.get(key) != item
    ]
    found += [
        {"keys": {"pk": item["pk"], "sk": item["sk"]}, "new": None} for key, item in old.items() if key not in new
    ]
    return [{**change, "at": start + index} for index, change in enumerate(found)]


def test_a_full_export_and_incremental_ones_make_the_tables_datasets(bridge: Bridge, tmp_path: Path) -> None:
    course(bridge)
    bridge.watch("ann", {0: 60, 1: 60}, uservalues={"uservalue0": "c-7"})
    bridge.watch("bob", {0: 60})
    first = scan(bridge.client, bridge.table)
    full = write_full_export(first, tmp_path, "01-full")
    settings = bridge.functions["ApiFunction"].settings
    state = read_export(tmp_path, full)
    assert state.items == {key_of(item): to_export(item) for item in first}

    bridge.watch("ann", {0: 60, 1: 60, 2: 60, 3: 60}, start_at=5)  # a second session: completes
    path = "/v1/courses/algo/enrollments/bob"
    assert bridge.send("DELETE", path, "/v1/courses/{course_id}/enrollments/{client_user_id}", None,
                       course_id="algo", client_user_id="bob") == 200  # fmt: skip
    second = scan(bridge.client, bridge.table)
    listed = changes(first, second, start=2_000_000)
    stale = [{**change, "at": 1_000_000, "new": None} for change in listed]  # older than every change: ignored
    shuffled = listed + stale
    random.Random(3).shuffle(shuffled)
    state = read_export(tmp_path, write_incremental_export(shuffled, tmp_path, "02-incremental"), state)
    assert state.items == {key_of(item): to_export(item) for item in second}

    out = tmp_path / "datasets"
    written = build(state, settings, out)
    assert written["learner_content"] == 2 and written["session"] == 3 and written["enrollment"] == 1
    table = rows(learning(state, settings))["learner_content"]
    found = {row["client_user_id"]: row for row in as_dicts("learner_content", table)}
    assert found["ann"]["watched"] == [0, 1, 2, 3] and found["ann"]["completed_at"] is not None
    assert found["ann"]["uservalues"] == {"uservalue0": "c-7"} and found["ann"]["course_ids"] == ["algo"]
    assert found["bob"]["watched"] == [0] and found["bob"]["course_ids"] == []  # bob left the course
    assert sorted(path.name for path in (out / "learner_content").iterdir()) == ["media_content_key=lecture-1"]


def test_a_data_file_that_is_not_the_manifests_is_refused(bridge: Bridge, tmp_path: Path) -> None:
    bridge.watch("ann", {0: 60})
    export = write_full_export(scan(bridge.client, bridge.table), tmp_path, "01-full")
    (listed,) = [json.loads(line) for line in (export / "manifest-files.json").read_text().splitlines()]
    data = tmp_path / listed["dataFileS3Key"]
    data.write_bytes(data.read_bytes()[:-4] + b"\0\0\0\0")
    with pytest.raises(InvalidRequest, match="md5"):
        read_export(tmp_path, export)


def test_an_incremental_export_needs_the_state_it_applies_to(tmp_path: Path) -> None:
    export = write_incremental_export([], tmp_path, "02-incremental")
    with pytest.raises(ValueError, match="on top of a full one"):
        read_export(tmp_path, export)


def test_binary_values_round_trip_through_an_exports_base64() -> None:
    item = {"pk": {"S": "L#a"}, "sk": {"S": "S#m#k"}, "raw_body": {"B": b"\x00\xffbody"}, "n": {"L": [{"B": b"x"}]}}
    assert from_export(json.loads(json.dumps(to_export(item)))) == item
