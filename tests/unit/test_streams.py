"""The stream delivery's filter, as the template declares it, evaluated under Lambda's event filtering
rules by the local event source mapping (`local/streams.py`)."""

from __future__ import annotations

from typing import Any

import pytest

from local.streams import matches
from local.template import load_template, stream_functions

(DELIVER,) = [job for job in stream_functions(load_template()) if job.function == "DeliverFunction"]
KEYS = {"pk": {"S": "L#learner-1"}, "sk": {"S": "P#content-1"}}


def record(new: dict[str, Any] | None, old: dict[str, Any] | None) -> dict[str, Any]:
    data: dict[str, Any] = {"Keys": KEYS}
    if new is not None:
        data["NewImage"] = {**KEYS, **new}
    if old is not None:
        data["OldImage"] = {**KEYS, **old}
    return {"eventName": "MODIFY" if old is not None else "INSERT", "dynamodb": data}


def passes(stream_record: dict[str, Any]) -> bool:
    return any(matches(pattern, stream_record) for pattern in DELIVER.filters)


DUE = {"sync_due": {"S": "due"}, "sync_next_at": {"N": "5"}}
COMPLETED = {"completed_at": {"N": "5"}}


@pytest.mark.parametrize(
    ("case", "new", "old", "expected"),
    [
        ("the completion stamp", {**DUE, **COMPLETED}, {"rev": {"N": "1"}}, True),
        ("a completion while a progress update is due", {**DUE, **COMPLETED}, DUE, True),
        ("a redelivery", {**DUE, **COMPLETED}, COMPLETED, True),
        ("a first progress update (insert)", DUE, None, True),
        ("a callback on a record that is due already", DUE, DUE, False),
        ("a callback on a completed record", COMPLETED, COMPLETED, False),
        ("a delivery recorded", COMPLETED, {**DUE, **COMPLETED}, False),
        ("a plain callback", {"rev": {"N": "2"}}, {"rev": {"N": "1"}}, False),
        ("a removal", None, {**DUE, **COMPLETED}, False),
    ],
)
def test_only_records_that_just_became_due_pass(
    case: str, new: dict[str, Any] | None, old: dict[str, Any] | None, expected: bool
) -> None:
    assert passes(record(new, old)) is expected, case


def test_an_operator_the_local_mapping_does_not_know_is_refused() -> None:
    with pytest.raises(NotImplementedError):
        matches({"dynamodb": {"NewImage": {"x": {"N": [{"numeric": [">", 0]}]}}}}, record(DUE, None))


def test_the_mapping_is_read_from_the_template() -> None:
    assert (DELIVER.function, DELIVER.table, DELIVER.handler) == (
        "DeliverFunction",
        "ProgressTable",
        "app.lambda_handler",
    )
    assert DELIVER.batch_size == 25
