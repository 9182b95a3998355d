"""The table's exports, as DynamoDB writes them, become the datasets: a full export read with the
store's own decoders, incremental exports applied by key and write time (updates, deletes, changes
out of order), every data file checked against its manifest's checksum."""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from kollus_bridge.errors import InvalidRequest
from kollus_bridge.exports.datasets import SCHEMAS
from kollus_bridge.exports.parquet import query
from kollus_bridge.runtime.exports import route, state_key
from kollus_bridge.settings import EXPORT_DATASETS, Secret, SettingsError, settings_from
from kollus_bridge.store.export_files import TableState, key_of
from kollus_bridge.store.export_items import from_export

from local.export import (
    DirectoryBucket,
    export_datasets,
    scan,
    to_export,
    write_full_export,
    write_incremental_export,
)
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


def dataset(bucket: DirectoryBucket, name: str) -> dict[str, dict[str, Any]]:
    """A dataset's rows by learner, read back from its Parquet files with DuckDB."""
    names, found = query(bucket.root / "datasets", f"SELECT * FROM {name} ORDER BY client_user_id")
    return {row[names.index("client_user_id")]: dict(zip(names, row, strict=True)) for row in found}


def summary(export: Path, root: Path) -> str:
    return f"{export.relative_to(root)}/manifest-summary.json"


def test_a_full_export_and_incremental_ones_make_the_tables_datasets(bridge: Bridge, tmp_path: Path) -> None:
    course(bridge)
    bridge.watch("ann", {0: 60, 1: 60}, uservalues={"uservalue0": "c-7"})
    bridge.watch("bob", {0: 60})
    first = scan(bridge.client, bridge.table)
    full = write_full_export(first, tmp_path, "01-full")
    settings = bridge.functions["ApiFunction"].settings
    bucket = DirectoryBucket(tmp_path)
    jobs = export_datasets(bucket, summary(full, tmp_path), settings)
    # the catalog's job first; lecture-1's courses are new to it, so the catalog's job makes it due again
    assert [job.partition for job in jobs] == ["_catalog", "lecture-1", "lecture-1"]
    assert dataset(bucket, "learner_content")["bob"]["course_ids"] == ["algo"]
    assert set(dataset(bucket, "enrollment")) == {"ann", "bob"}

    bridge.watch("ann", {0: 60, 1: 60, 2: 60, 3: 60}, start_at=5)  # a second session: completes
    path = "/v1/courses/algo/enrollments/bob"
    assert bridge.send("DELETE", path, "/v1/courses/{course_id}/enrollments/{client_user_id}", None,
                       course_id="algo", client_user_id="bob") == 200  # fmt: skip
    second = scan(bridge.client, bridge.table)
    start = int((time.time() + 60) * 1_000_000)  # after the full export's time
    listed = changes(first, second, start=start)
    stale = [{**change, "at": start - 120_000_000, "new": None} for change in listed]  # before the full: ignored
    shuffled = listed + stale
    random.Random(3).shuffle(shuffled)
    export_datasets(bucket, summary(write_incremental_export(shuffled, tmp_path, "02-incremental"), tmp_path), settings)
    assert TableState.load(bucket.get(state_key("lecture-1"))).items == {
        key_of(item): to_export(item) for item in second if key_of(item)[1].startswith(("P#", "S#"))
    }

    found = dataset(bucket, "learner_content")
    assert found["ann"]["watched"] == [0, 1, 2, 3] and found["ann"]["completed_at"] is not None
    assert found["ann"]["uservalues"] == {"uservalue0": "c-7"} and found["ann"]["course_ids"] == ["algo"]
    assert found["bob"]["watched"] == [0] and found["bob"]["course_ids"] == []  # bob left the course
    assert found["ann"]["media_content_key"] == "lecture-1"  # from the partition's directory
    assert set(dataset(bucket, "enrollment")) == {"ann"}
    assert len(query(bucket.root / "datasets", "SELECT * FROM session")[1]) == 3
    assert sorted(path.name for path in (tmp_path / "datasets" / "learner_content").iterdir()) == [
        "media_content_key=lecture-1"
    ]


def test_exports_applied_in_any_order_agree(bridge: Bridge, tmp_path: Path) -> None:
    """An hourly export applied before the daily one taken earlier changes nothing of the result; a
    content no longer in a full export has its partition emptied."""
    course(bridge)
    bridge.watch("ann", {0: 60})
    first = scan(bridge.client, bridge.table)
    full = write_full_export(first, tmp_path, "01-full")
    bridge.watch("ann", {0: 60, 1: 60}, start_at=5)
    later = int((time.time() + 60) * 1_000_000)
    incremental = write_incremental_export(changes(first, scan(bridge.client, bridge.table), later), tmp_path, "02-inc")
    settings = bridge.functions["ApiFunction"].settings
    bucket = DirectoryBucket(tmp_path)
    export_datasets(bucket, summary(incremental, tmp_path), settings)
    export_datasets(bucket, summary(full, tmp_path), settings)
    assert dataset(bucket, "learner_content")["ann"]["watched"] == [0, 1]

    empty = write_full_export([], tmp_path, "03-full")
    (empty / "manifest-summary.json").write_text(json.dumps({"exportType": "FULL_EXPORT",
                                                              "exportTime": "2099-01-01T00:00:00Z"}))  # fmt: skip
    export_datasets(bucket, summary(empty, tmp_path), settings)
    assert not list((tmp_path / "datasets").rglob("media_content_key=*/*.parquet"))
    assert bucket.get(state_key("lecture-1")) is None


def test_a_change_of_enrolments_alone_recomputes_the_contents_of_the_course(bridge: Bridge, tmp_path: Path) -> None:
    course(bridge)
    bridge.watch("ann", {0: 60})
    first = scan(bridge.client, bridge.table)
    settings = bridge.functions["ApiFunction"].settings
    bucket = DirectoryBucket(tmp_path)
    export_datasets(bucket, summary(write_full_export(first, tmp_path, "01-full"), tmp_path), settings)
    assert dataset(bucket, "learner_content")["ann"]["course_ids"] == ["algo"]
    path = "/v1/courses/algo/enrollments/ann"
    assert bridge.send("DELETE", path, "/v1/courses/{course_id}/enrollments/{client_user_id}", None,
                       course_id="algo", client_user_id="ann") == 200  # fmt: skip
    listed = changes(first, scan(bridge.client, bridge.table), int((time.time() + 60) * 1_000_000))
    assert listed and not [change for change in listed if change["keys"]["sk"]["S"].startswith(("P#", "S#"))]
    jobs = export_datasets(bucket, summary(write_incremental_export(listed, tmp_path, "02-inc"), tmp_path), settings)
    assert [(job.partition, job.export) for job in jobs] == [("_catalog", "02-inc"), ("lecture-1", None)]
    assert dataset(bucket, "learner_content")["ann"]["course_ids"] == []


def test_a_data_file_that_is_not_the_manifests_is_refused(bridge: Bridge, tmp_path: Path) -> None:
    bridge.watch("ann", {0: 60})
    export = write_full_export(scan(bridge.client, bridge.table), tmp_path, "01-full")
    (listed,) = [json.loads(line) for line in (export / "manifest-files.json").read_text().splitlines()]
    data = tmp_path / listed["dataFileS3Key"]
    data.write_bytes(data.read_bytes()[:-4] + b"\0\0\0\0")
    with pytest.raises(InvalidRequest, match="md5"):
        route(DirectoryBucket(tmp_path), summary(export, tmp_path))
    assert not DirectoryBucket(tmp_path).keys("staging/")  # nothing staged from a file that failed its check


def test_pseudonymised_datasets_join_on_the_same_hash(bridge: Bridge, tmp_path: Path) -> None:
    course(bridge)
    bridge.watch("ann", {0: 60})
    export = write_full_export(scan(bridge.client, bridge.table), tmp_path, "01-full")
    settings = replace(bridge.functions["ApiFunction"].settings, export_pseudonymise=True,
                       export_pseudonymise_key=Secret("research-2026"))  # fmt: skip
    bucket = DirectoryBucket(tmp_path)
    export_datasets(bucket, summary(export, tmp_path), settings)
    hashed = hmac.new(b"research-2026", b"ann", hashlib.sha256).hexdigest()
    assert set(dataset(bucket, "learner_content")) == {hashed}
    assert hashed in dataset(bucket, "enrollment") and "ann" not in dataset(bucket, "enrollment")


def test_binary_values_round_trip_through_an_exports_base64() -> None:
    item = {"pk": {"S": "L#a"}, "sk": {"S": "S#m#k"}, "raw_body": {"B": b"\x00\xffbody"}, "n": {"L": [{"B": b"x"}]}}
    assert from_export(json.loads(json.dumps(to_export(item)))) == item


def test_only_the_datasets_asked_for_are_written_and_the_others_removed(bridge: Bridge, tmp_path: Path) -> None:
    course(bridge)
    bridge.watch("ann", {0: 60}, uservalues={"uservalue0": "c-7"})
    export = write_full_export(scan(bridge.client, bridge.table), tmp_path, "01-full")
    settings = bridge.functions["ApiFunction"].settings
    bucket = DirectoryBucket(tmp_path)
    export_datasets(bucket, summary(export, tmp_path), settings)
    assert sorted(path.name for path in (tmp_path / "datasets").iterdir()) == sorted(SCHEMAS)
    fewer = replace(settings, export_datasets=("learner_content", "course"))
    export_datasets(bucket, summary(export, tmp_path), fewer)
    kept = {path.relative_to(tmp_path / "datasets").parts[0] for path in (tmp_path / "datasets").rglob("*.parquet")}
    assert kept == {"learner_content", "course"}


def test_the_settings_name_every_dataset_and_refuse_others() -> None:
    assert set(EXPORT_DATASETS) == set(SCHEMAS)
    environment = {
        "TABLE_NAME": "t",
        "KOLLUS_CALLBACK_TOKEN": "c",
        "API_TOKEN": "a",
        "EXPORT_DATASETS": "session,grades",
    }
    with pytest.raises(SettingsError, match="EXPORT_DATASETS: unknown datasets grades"):
        settings_from(environment)
    with pytest.raises(SettingsError, match="EXPORT_PSEUDONYMISE_KEY"):
        settings_from({**environment, "EXPORT_DATASETS": "", "EXPORT_PSEUDONYMISE": "true"})
