"""The benchmark prices DynamoDB requests by item size (DynamoDB Local reports no consumed capacity):
the sizing rules of the DynamoDB Developer Guide, "DynamoDB item sizes and formats"."""

from __future__ import annotations

import pytest

from local.bench.storage import item_size


@pytest.mark.parametrize(
    ("value", "size"),
    [
        ({"S": "héllo"}, 6),  # UTF-8 bytes
        ({"B": b"\x00\x01\x02"}, 3),  # raw bytes, not base64
        ({"BOOL": True}, 1),
        ({"NULL": True}, 1),
        ({"N": "7"}, 2),  # 1 byte per two significant digits, plus 1
        ({"N": "123"}, 3),
        ({"N": "600.0"}, 2),  # trailing zeros trimmed
        ({"N": "0.0005"}, 2),  # leading zeros trimmed
        ({"N": "-1234.5"}, 4),
        ({"N": "0"}, 2),
        ({"SS": ["ab", "c"]}, 3),  # sets: their elements
        ({"NS": ["1", "22"]}, 4),
        ({"L": []}, 3),  # lists and maps: 3 bytes, plus 1 per element
        ({"L": [{"N": "1"}, {"S": "ab"}]}, 3 + (1 + 2) + (1 + 2)),
        ({"M": {"k": {"S": "v"}}}, 3 + 1 + 1 + 1),
    ],
)
def test_attribute_sizes(value: dict[str, object], size: int) -> None:
    assert item_size({"a": value}) == 1 + size  # the attribute name counts too


def test_an_item_is_the_sum_of_its_attributes() -> None:
    assert item_size({"pk": {"S": "L#u"}, "count": {"N": "10"}}) == (2 + 3) + (5 + 2)
    assert item_size(None) == 0


def test_the_exports_row_says_whether_one_lambda_holds_a_million_sessions() -> None:
    from local.bench.exports import export_rows  # noqa: PLC0415

    sql = {"coverage": 0.5, "completion_by_course": 1.0}
    heavy = {100_000: {"seconds": 180.0, "peak_mib": 2600.0, "sessions": 100_000, "per_second_per_gb": 217.0}}
    light = {100_000: {"seconds": 30.0, "peak_mib": 500.0, "sessions": 100_000, "per_second_per_gb": 6800.0}}
    assert "NOT one Lambda" in export_rows({"build": heavy, "sql": sql})[0][4]
    assert "one Lambda does" in export_rows({"build": light, "sql": sql})[0][4]
    assert "~25 GB" in export_rows({"build": heavy, "sql": sql})[0][4]
