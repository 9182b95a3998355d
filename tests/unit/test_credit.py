"""What a session is credited: claims judged on the grid of record, within the playback clock, and a
record that no sequence of callbacks can push past DynamoDB's item limit."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from kollus_bridge.kollus.callback import BlockReport, Callback
from kollus_bridge.progress.bounds import MAX_SESSIONS, fold, needs_fold
from kollus_bridge.progress.credit import (
    REPORT_INTERVAL_SECONDS,
    Limit,
    claim_of,
    clock_blocks,
    credit,
    on_grid,
    record_grid,
    reference_needed,
)
from kollus_bridge.progress.rule import RecordState, merge, session_update, summarize
from kollus_bridge.store.attributes import serialize
from kollus_bridge.store.record_items import folded_value, summary_value

NOW = 1_800_000_000_000


def callback(
    block_count: int, blocks: dict[int, float | None], duration: float | None = 600.0, **fields: Any
) -> Callback:
    reports = {index: BlockReport(played=True, seconds=seconds) for index, seconds in blocks.items()}
    base: dict[str, Any] = {"client_user_id": "u", "media_content_key": "m", "start_at": 100, "player_id": "khp"}
    return Callback(**base | fields, block_count=block_count, duration=duration, blocks=reports)


class TestGridOfRecord:
    def test_the_pinned_grid_else_the_finest_seen(self) -> None:
        assert record_grid(None, None, 10) == 10
        assert record_grid(None, 50, 10) == 50 and record_grid(None, 50, 100) == 100
        assert record_grid(20, 50, 100) == 20

    def test_a_coarse_block_proves_only_its_time_a_flag_proves_nothing(self) -> None:
        one_block = claim_of(callback(1, {0: None}), 0.5)
        assert one_block.watched == {0} and on_grid(one_block, 50, 0.5, 600.0) == frozenset()
        timed = claim_of(callback(1, {0: 120.0}), 0.5)  # two minutes somewhere in the lecture: 10 blocks of 12 s
        assert on_grid(timed, 50, 0.5, 600.0) == frozenset(range(10))
        five = claim_of(callback(5, {1: 120.0, 3: 30.0}), 0.5)  # 120 s blocks: all of block 1, a quarter of block 3
        assert on_grid(five, 50, 0.5, 600.0) == frozenset([*range(10, 20), 30, 31, 32])  # 32 holds half of its 12 s

    def test_finer_blocks_add_up_to_a_coarser_one(self) -> None:
        fine = claim_of(callback(100, {0: 3.0, 1: 3.0, 2: 6.0}), 0.5)  # 6 s blocks onto 60 s ones
        assert on_grid(fine, 10, 0.5, 600.0) == frozenset()  # 12 s of 60: under half
        more = claim_of(callback(100, dict.fromkeys(range(5), 6.0)), 0.5)
        assert on_grid(more, 10, 0.5, 600.0) == {0}

    def test_a_coarse_grid_alone_never_completes_a_record(self) -> None:
        whole = claim_of(callback(1, {0: 600.0}), 0.5)
        found = credit(whole, 50, 0.5, 600.0, 2.0, NOW, None)  # no clock: all 50 blocks proven
        assert len(found.credited) == 50 and found.limit is None
        state, _ = merge(RecordState(), session_update(callback(1, {0: 600.0}), NOW, found))
        view = summarize(state, 90, 50)
        assert view.progress == 100 and not view.completed
        honest = claim_of(callback(50, {0: 12.0}, start_at=200), 0.5)
        state, _ = merge(
            state,
            session_update(callback(50, {0: 12.0}, start_at=200), NOW, credit(honest, 50, 0.5, 600.0, 2.0, NOW, None)),
        )
        assert summarize(state, 90, 50).completed  # with evidence on the grid of record itself


class TestPlaybackClock:
    def test_a_fresh_session_gets_one_reporting_interval_at_the_highest_rate(self) -> None:
        everything = claim_of(callback(50, dict.fromkeys(range(50), 12.0)), 0.5)
        found = credit(everything, 50, 0.5, 600.0, 2.0, NOW, NOW)
        assert (len(found.claimed), found.credited, found.limit) == (50, frozenset(range(10)), Limit.CLOCK)
        later = credit(everything, 50, 0.5, 600.0, 2.0, NOW + 150_000, NOW)
        assert later.credited == frozenset(range(35))  # (150 + 60) s at 2x = 420 s = 35 blocks
        assert credit(everything, 50, 0.5, 600.0, 2.0, NOW + 240_000, NOW).limit is None

    def test_leaving_times_or_the_duration_out_never_helps(self) -> None:
        timed = claim_of(callback(50, dict.fromkeys(range(50), 12.0)), 0.5)
        flags = claim_of(callback(50, dict.fromkeys(range(50))), 0.5)
        bare = claim_of(callback(50, dict.fromkeys(range(50)), duration=None), 0.5)
        assert (
            credit(flags, 50, 0.5, 600.0, 2.0, NOW, NOW).credited
            == credit(timed, 50, 0.5, 600.0, 2.0, NOW, NOW).credited
        )
        unknown = credit(bare, 50, 0.5, None, 2.0, NOW, NOW)
        assert (unknown.credited, unknown.limit) == (frozenset(), Limit.NO_DURATION)

    @settings(max_examples=300, deadline=None)
    @given(
        blocks=st.integers(0, 10_000),
        rate=st.sampled_from([1.0, 1.5, 2.0, 16.0]),
        length=st.floats(0.01, 600),
        now=st.integers(0, 10**13),
    )
    def test_the_reference_a_claim_needs_allows_it(self, blocks: int, rate: float, length: float, now: int) -> None:
        reference = reference_needed(blocks, now, rate, length)
        assert reference <= now and clock_blocks(reference, now, rate, length) >= blocks
        if reference < now:  # and a millisecond later would not
            assert clock_blocks(reference + 1, now, rate, length) <= blocks
        assert clock_blocks(now, now, rate, length) == int((rate * REPORT_INTERVAL_SECONDS + 1e-6) // length)


# --- bounds: the worst sequences against one record --------------------------------------------


def item_bytes(state: RecordState) -> int:
    """What a record item holds, by DynamoDB's sizing (names plus values; a number is a byte per two
    significant digits and one more)."""
    size = 200 + len(json.dumps(serialize(dict(state.uservalues))))  # keys, ledger, rev
    size += sum(19 + len(json.dumps(summary_value(summary))) for summary in state.sessions.values())
    size += sum(19 + 8 for _ in state.sessions)  # f:<session>
    size += sum(8 + sum(len(str(block)) // 2 + 2 for block in blocks) for blocks in state.watched.values())
    return size + len(json.dumps(folded_value(state.folded)))


hostile = st.tuples(
    st.integers(1, 10_000),  # grid
    st.integers(0, 2**40),  # start_at
    st.sampled_from(["khp", "p" * 40]),
    st.integers(0, 4),  # uservalues of 1,000 bytes
)


@settings(max_examples=40, deadline=None)
@given(sequence=st.lists(hostile, min_size=1, max_size=400))
def test_no_sequence_of_callbacks_pushes_a_record_past_its_bound(sequence: list[tuple[int, int, str, int]]) -> None:
    state, grid = RecordState(), 1
    for number, (block_count, start_at, player, values) in enumerate(sequence):
        grid = max(grid, block_count)  # the content's grid of record: the finest seen
        reported = callback(
            block_count, dict.fromkeys(range(block_count), 600.0 / block_count), start_at=start_at, player_id=player,
            uservalues={f"uservalue{slot}": "v" * 1000 for slot in range(values)},
        )  # fmt: skip
        found = credit(claim_of(reported, 0.5), grid, 0.5, 600.0, 2.0, NOW + number, None)
        state, _ = merge(state, session_update(reported, NOW + number, found))
        state = replace(state, watched={grid: state.watched.get(grid, frozenset())})  # re-evaluated onto the grid
        if needs_fold(state):
            state, _ = fold(state)
        assert len(state.sessions) <= MAX_SESSIONS
        assert item_bytes(state) < 400 * 1024 // 2
    assert summarize(state, 90, grid).sessions == len({(start_at, player) for _, start_at, player, _ in sequence})
