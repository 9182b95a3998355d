"""Courses and enrolments on DynamoDB Local: enrolment windows at their edges, idempotent batches,
and the two small reads a play callback makes."""

from __future__ import annotations

from typing import Any

import pytest
from kollus_bridge.access.entitlement import Enrolment, Reason
from kollus_bridge.access.play import entitled
from kollus_bridge.access.ports import Course
from kollus_bridge.progress.ports import Approval
from kollus_bridge.store.dynamo import DynamoStore

pytestmark = pytest.mark.dynamodb_local

START, END = 1_800_000_000_000, 1_800_086_400_000


def test_windows_at_their_edges_and_batches_that_change_nothing(store: DynamoStore) -> None:
    store.put_course(Course("algo-101", "Algorithms", ("lecture-1", "lecture-2"), 1))
    batch = [Enrolment("algo-101", f"u-{n}", START, END) for n in range(120)]  # over one transaction's size
    store.put_enrolments(batch)
    before = store.client.scan(TableName=store.table_name, Select="COUNT")["Count"]
    store.put_enrolments(batch)  # the same batch again
    assert store.client.scan(TableName=store.table_name, Select="COUNT")["Count"] == before == 1 + 2 + 2 * 120
    assert entitled("u-7", "lecture-2", store, START).allowed
    assert entitled("u-7", "lecture-2", store, END - 1).until == END
    assert entitled("u-7", "lecture-2", store, END).reason is Reason.ENDED
    assert entitled("u-7", "lecture-2", store, START - 1).reason is Reason.NOT_YET
    assert entitled("u-7", "lecture-3", store, START).reason is Reason.NOT_IN_A_COURSE
    assert entitled("stranger", "lecture-1", store, START).reason is Reason.NOT_ENROLLED


def test_a_course_follows_its_content_list(store: DynamoStore) -> None:
    store.put_course(Course("algo-101", "Algorithms", ("lecture-1", "lecture-2"), 1))
    store.put_enrolments([Enrolment("algo-101", "u-1")])
    store.put_course(Course("algo-101", "Algorithms", ("lecture-2", "lecture-3"), 2))
    assert store.courses_holding("lecture-1") == set()
    assert store.courses_holding("lecture-3") == {"algo-101"}
    assert not entitled("u-1", "lecture-1", store, START).allowed
    assert entitled("u-1", "lecture-3", store, START).allowed
    store.delete_enrolment("algo-101", "u-1")
    assert store.enrolments_of("u-1") == []
    deleted = store.delete_course("algo-101")
    assert deleted is not None and deleted.course_id == "algo-101" and store.delete_course("algo-101") is None
    assert store.courses_holding("lecture-2") == set()


def test_a_learners_enrolments_live_beside_their_progress_without_mixing(store: DynamoStore) -> None:
    store.put_course(Course("c/1", "Odd id", ("m#1",), 1))
    store.put_enrolments([Enrolment("c/1", "u#1", None, END)])
    assert store.enrolments_of("u#1") == [Enrolment("c/1", "u#1", None, END)]
    records, _ = store.records_of_learner("u#1", 10, None)
    assert list(records) == []  # the progress listing never sees enrolments
    assert store.courses_holding("m#1") == {"c/1"}


def test_devices_starting_at_once_never_pass_the_limit(store: DynamoStore) -> None:
    """Twelve devices of one learner ask to start in the same instant, from 12 threads, with room for
    two: exactly two are admitted, whatever the interleaving."""
    from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415

    from kollus_bridge.access.play import decide_play  # noqa: PLC0415
    from kollus_bridge.kollus.play import PlayRequest  # noqa: PLC0415
    from kollus_bridge.settings import settings_from  # noqa: PLC0415

    settings = settings_from(
        {"TABLE_NAME": store.table_name, "KOLLUS_CALLBACK_TOKEN": "t", "API_TOKEN": "a", "MAX_CONCURRENT_DEVICES": "2"}
    )
    store.put_course(Course("algo-101", "Algorithms", ("lecture-1",), 1))
    store.put_enrolments([Enrolment("algo-101", "u-1")])

    def ask(device: int, now: int) -> Any:
        return decide_play(PlayRequest(1, "u-1", "lecture-1", player_id=f"p-{device}"), settings, store, now)

    for round_ in range(3):
        now = START + round_ * 10_000_000  # each round after the last one's devices went idle
        with ThreadPoolExecutor(12) as pool:
            answers = list(pool.map(ask, range(12), [now] * 12))
        assert sum(answer.allowed for answer in answers) == 2, round_
        assert {answer.reason for answer in answers if not answer.allowed} == {"too_many_devices"}
    devices, _ = store.get_devices("u-1")
    assert len([seen for seen in devices.values() if seen == START + 20_000_000]) == 2


def test_approvals_keep_their_first_time_and_longest_expiry_per_way(store: DynamoStore) -> None:
    assert store.approval("u/1", "m#1", "phone") is None
    store.approve("u/1", "m#1", "phone", via="streaming", at=100, until=200)
    store.approve("u/1", "m#1", "phone", via="streaming", at=150, until=180)  # shorter: changes nothing
    store.approve("u/1", "m#1", "phone", via="streaming", at=190, until=300)
    store.approve("u/1", "m#1", "phone", via="download", at=120, until=5000)
    store.approve("u/1", "m#1", "phone#2", via="streaming", at=1, until=2)  # a device whose id extends another's
    store.approve("u/1", "m#10", "phone", via="streaming", at=1, until=2)
    assert store.approval("u/1", "m#1", "phone") == Approval(streaming=(100, 300), download=(120, 5000))
    assert store.approval("u/1", "m#1", "phone#2") == Approval(streaming=(1, 2))
    assert store.approval("u/2", "m#1", "phone") is None
    items = store.client.scan(TableName=store.table_name)["Items"]
    assert sorted(int(item["expires_at"]["N"]) for item in items) == sorted(
        [2 + 90 * 86_400, 2 + 90 * 86_400, 300 + 90 * 86_400, 5000 + 90 * 86_400]
    )
    assert store.records_of_learner("u/1", 10, None)[0] == []  # approvals are not progress records
    with pytest.raises(ValueError, match="unknown way"):
        store.approve("u/1", "m#1", "phone", via="teleport", at=1, until=2)
