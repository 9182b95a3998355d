"""The exported table's state: whatever order a full export and incremental ones are applied in, each
key ends with its newest write (or its deletion); the state survives being written and read back."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from kollus_bridge.store.export_files import TableState
from kollus_bridge.store.export_items import CATALOG_PARTITION, partition_of

KEYS = [("L#a", "P#m1"), ("L#b", "P#m1"), ("L#a", "S#m2#s1")]


def item(key: tuple[str, str], value: int) -> dict[str, Any]:
    return {"pk": {"S": key[0]}, "sk": {"S": key[1]}, "v": {"N": str(value)}}


def change(key: tuple[str, str], at: int, value: int | None) -> dict[str, Any]:
    line: dict[str, Any] = {"Metadata": {"WriteTimestampMicros": {"N": str(at)}},
                            "Keys": {"pk": {"S": key[0]}, "sk": {"S": key[1]}}}  # fmt: skip
    if value is not None:
        line["NewImage"] = item(key, value)
    return line


writes = st.lists(
    st.tuples(st.sampled_from(KEYS), st.integers(1, 1000), st.one_of(st.none(), st.integers(0, 9))),
    max_size=12,
    unique_by=lambda write: write[1],  # one write a microsecond, as a table's stream has them
)


def truth(history: list[tuple[tuple[str, str], int, int | None]]) -> dict[tuple[str, str], dict[str, Any]]:
    """The table as it stands after every write, applied in time order."""
    table: dict[tuple[str, str], dict[str, Any]] = {}
    for key, _, value in sorted(history, key=lambda write: write[1]):
        if value is None:
            table.pop(key, None)
        else:
            table[key] = item(key, value)
    return table


@given(writes, st.integers(0, 1000), st.randoms(use_true_random=False), st.integers(0, 3))
def test_a_full_export_and_the_changes_after_it_in_any_order_make_the_table(
    history: list[tuple[tuple[str, str], int, int | None]], taken: int, shuffle: Any, full_at: int
) -> None:
    before = [write for write in history if write[1] <= taken]
    snapshot = [{"Item": found} for found in truth(before).values()]
    # every change, those the full export already holds included (an incremental export overlapping it)
    lines = [change(key, at, value) for key, at, value in history]
    shuffle.shuffle(lines)
    batches = [lines[index::3] for index in range(3)]
    state = TableState()
    for position in range(4):
        if position == full_at:
            state.load_full(snapshot, taken)
        if position < 3:
            state.apply_incremental(batches[position])
    assert state.items == truth(history)
    assert TableState.load(state.dump()) == state


def test_a_full_export_forgets_deletions_it_covers_and_keeps_later_ones() -> None:
    state = TableState()
    state.apply_incremental([change(KEYS[0], 10, None), change(KEYS[1], 50, None)])
    state.load_full([{"Item": item(KEYS[2], 1)}], 20)
    assert state.written == {KEYS[1]: 50, KEYS[2]: 20} and state.floor == 20
    state.apply_incremental([change(KEYS[0], 15, 3), change(KEYS[1], 40, 3)])  # both older than what is known
    assert state.items == {KEYS[2]: item(KEYS[2], 1)}


def test_items_belong_to_their_contents_partition_or_the_catalogs() -> None:
    assert partition_of("L#ann", "P#lecture%231") == "lecture#1"
    assert partition_of("L#ann", "S#lecture%231#s-1") == "lecture#1"
    assert partition_of("L#ann", "E#algo") == CATALOG_PARTITION
    assert partition_of("COURSES", "algo") == CATALOG_PARTITION
    assert partition_of("CATALOG", "C#uf-1") == CATALOG_PARTITION
    assert partition_of("CE#algo", "ann") is None and partition_of("L#ann", "D#phone") is None


def test_staging_flushes_to_disk_and_reads_back_every_line_in_order() -> None:
    from kollus_bridge.runtime.exports import _Staging  # noqa: PLC0415
    from kollus_bridge.store.export_files import json_lines  # noqa: PLC0415

    put: dict[str, bytes] = {}
    with _Staging(limit=40) as staging:
        for index in range(25):
            staging.add(f"content/{index % 3}", f'{{"n": {index}}}')
        assert staging.held < 40  # flushed along the way, not held to the end
        assert staging.finish(put.__setitem__) == {"content/0", "content/1", "content/2"}
    assert [line["n"] for line in json_lines(put["content/1"])] == list(range(1, 25, 3))
