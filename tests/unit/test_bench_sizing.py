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
    from local.bench.report import splice  # noqa: PLC0415

    document = "| 8 | a |\n| 9 | b |\n| 10 | old |\n\nafter\n"
    assert (
        splice(document, [("10", "new"), ("11", "added")])
        == "| 8 | a |\n| 9 | b |\n| 10 | new |\n| 11 | added |\n\nafter\n"
    )


def test_a_new_cold_start_measurement_replaces_rows_3_and_8_and_its_section_and_nothing_else() -> None:
    from local.bench.report import COLD_HEADING, DOCUMENT, with_cold_start  # noqa: PLC0415

    def run(ms: float, compiled: int = 0, first_event: bool = False) -> dict[str, object]:
        return {"seconds": ms / 1000, "compiled": ["x.py"] * compiled, "first_event": first_event}

    names = ("CallbackFunction", "PlayFunction", "ApiFunction", "ApiFunction, /v1/contents", "SyncFunction")
    measured = {
        "rounds": 7,
        "shipped": {"boto3": run(300), **{name: run(400 + 100 * index, 0, True) for index, name in enumerate(names)}},
        "bare": {name: run(1000, 200) for name in names},
    }
    document = DOCUMENT.read_text(encoding="utf-8")
    written = with_cold_start(document, measured)
    lines = {line.split(" |")[0]: line for line in written.splitlines() if line.startswith("| ")}
    assert "400 ms CPU (import + first event)" in lines["| 3"] and "1.33x; target <= 1.5x: met" in lines["| 3"]
    assert (
        "cold start 500 ms CPU" in lines["| 8"]
        and "cold start 1.67x `import boto3`, target <= 1.5x: NOT met" in (lines["| 8"])
    )
    assert lines["| ApiFunction, /v1/contents"].startswith(
        "| ApiFunction, /v1/contents | import + first event | 700 | 2.33x (target <= 2.5x: met) | 0 | 1000 (200"
    )
    assert "| RosterFunction |" not in written and written.count(COLD_HEADING) == 1
    before, after = document.split(COLD_HEADING), written.split(COLD_HEADING)
    assert after[1][after[1].index("\n### ") :] == before[1][before[1].index("\n### ") :]  # the rest is kept
    assert [line for line in written.splitlines() if line.startswith("| 9 |")] == [
        line for line in document.splitlines() if line.startswith("| 9 |")
    ]
    with pytest.raises(ValueError, match="row 8"):
        with_cold_start(document.replace("cold start", "start"), measured)
