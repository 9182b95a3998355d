"""Learning analytics' storage on DynamoDB Local: cached results only move forward, a burst of asks
makes one mark, a mark renewed during a computation survives it."""

from __future__ import annotations

import pytest
from kollus_bridge.store.dynamo import DynamoStore

pytestmark = pytest.mark.dynamodb_local


def test_results_only_move_forward_and_marks_are_renewed_sparingly(store: DynamoStore) -> None:
    assert store.get_insights("m#1", "course=a") is None
    store.put_insights("m#1", "course=a", {"learners_counted": 2}, as_of=2000)
    store.put_insights("m#1", "course=a", {"learners_counted": 1}, as_of=1000)  # an older computation finishing late
    cached = store.get_insights("m#1", "course=a")
    assert cached is not None and (cached.body, cached.as_of) == ({"learners_counted": 2}, 2000)
    assert store.get_insights("m#1", "") is None  # another scope

    assert store.want_insights("m#1", "", now=10_000, again_after_ms=5000)
    assert not store.want_insights("m#1", "", now=12_000, again_after_ms=5000)  # asked 2 s ago
    assert store.want_insights("m#1", "", now=16_000, again_after_ms=5000)  # renewed
    store.drop_wanted("m#1", "", requested_at=10_000)  # the first computation ends: the renewed mark stays
    marks = [item for item in store.client.scan(TableName=store.table_name)["Items"] if "insights_wanted" in item]
    assert [item["insights_wanted"]["N"] for item in marks] == ["16000"]
    store.drop_wanted("m#1", "", requested_at=16_000)
    records, _ = store.records_of_content("m#1", 10, None)
    assert list(records) == []  # neither results nor marks are progress records of the content
    assert not [item for item in store.client.scan(TableName=store.table_name)["Items"] if "insights_wanted" in item]


def test_a_long_scope_has_its_own_place(store: DynamoStore) -> None:
    long_a, long_b = "uservalue=uservalue0%3D" + "a" * 3000, "uservalue=uservalue0%3D" + "a" * 2999 + "b"
    store.put_insights("m", long_a, {"n": 1}, as_of=1)
    store.put_insights("m", long_b, {"n": 2}, as_of=1)
    assert store.want_insights("m", long_a, now=10, again_after_ms=5)
    found_a, found_b = store.get_insights("m", long_a), store.get_insights("m", long_b)
    assert found_a is not None and found_b is not None and (found_a.body, found_b.body) == ({"n": 1}, {"n": 2})
    (mark,) = [item for item in store.client.scan(TableName=store.table_name)["Items"] if "insights_wanted" in item]
    assert mark["wanted_scope"]["S"] == long_a  # the computation gets the scope itself


def test_a_learner_table_is_kept_by_job_in_parts(store: DynamoStore) -> None:
    from kollus_bridge.store.insight_rows import ROWS_PER_ITEM  # noqa: PLC0415

    rows = [{"u": f"learner-{number:05d}", "s": "started", "p": 50.0, "m": [1, 2, 3], "a": number, "t": "0123"}
            for number in range(ROWS_PER_ITEM + 5)]  # fmt: skip
    store.put_table_rows("m", "course=a", 2000, 0, rows)
    store.put_table_rows("m", "course=a", 2000, 1, rows[:2])  # a second shard's part
    store.put_table_rows("m", "course=a", 2000, 999_999, [{"u": "late", "s": "not_started"}])
    store.put_table_rows("m", "course=a", 1000, 0, rows[:1])  # an older job's table
    store.put_insights("m", "course=a", {"learners_counted": 3}, as_of=2500, job=2000)
    cached = store.get_insights("m", "course=a")
    assert cached is not None and cached.job == 2000
    found = store.table_rows("m", "course=a", cached.job)
    assert found == [*rows, *rows[:2], {"u": "late", "s": "not_started"}]  # in part order, every row once
    assert store.table_rows("m", "", 2000) == [] and len(store.table_rows("m", "course=a", 1000)) == 1
    records, _ = store.records_of_content("m", 10, None)
    assert list(records) == []  # the table's parts are not progress records
