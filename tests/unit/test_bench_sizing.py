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


def test_the_exports_row_says_whether_routing_a_million_sessions_fits_one_lambda() -> None:
    from local.bench.exports import export_rows  # noqa: PLC0415

    sql = {"coverage": 0.5, "completion_by_course": 1.0}

    def built(route_seconds: float) -> dict[int, dict[str, float]]:
        return {100_000: {"route_seconds": route_seconds, "route_peak_mib": 300.0, "seconds": 200.0,
                          "slowest_job_seconds": 9.5, "peak_mib": 900.0, "jobs": 21, "sessions": 100_000, "applied": 9,
                          "per_second_per_gb": 570.0}}  # fmt: skip

    slow, fast = export_rows({"build": built(120.0), "sql": sql})[0], export_rows({"build": built(30.0), "sql": sql})[0]
    assert "routing ~20 min in one invocation (NOT within" in slow[4]
    assert "routing ~5 min in one invocation (within" in fast[4] and "9.5 s each at most" in fast[4]
    assert "100,000 sessions in 21 partitions: 200 s in all (routing 30 s, peak 0.29 GB; 9 jobs applied" in fast[2]
    assert fast[3].startswith("570 sessions")


def test_rows_are_spliced_into_the_benchmarks_table_in_place_or_after_the_row_before() -> None:
    from local.bench.exports import splice  # noqa: PLC0415

    document = "| 8 | a |\n| 9 | b |\n| 10 | old |\n\nafter\n"
    assert (
        splice(document, [("10", "new"), ("11", "added")])
        == "| 8 | a |\n| 9 | b |\n| 10 | new |\n| 11 | added |\n\nafter\n"
    )
