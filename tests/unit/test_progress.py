"""The progress rule: watched blocks, newest-wins per session, union per grid, completion."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from kollus_bridge.kollus.callback import BlockReport, Callback
from kollus_bridge.progress.rule import (
    Outcome,
    RecordState,
    SessionUpdate,
    complete,
    merge,
    percent,
    plain_update,
    summarize,
    version_of,
    watched_blocks,
)


def callback(**fields: object) -> Callback:
    base: dict[str, Any] = {
        "client_user_id": "u",
        "media_content_key": "m",
        "start_at": 100,
        "player_id": "p",
        "block_count": 10,
        "duration": 600.0,
    }
    base.update(fields)
    return Callback(**base)


def played(**seconds: float | None) -> dict[int, BlockReport]:
    """played(b0=30, b3=None): blocks reported played with those block times."""
    return {int(name[1:]): BlockReport(played=True, seconds=value) for name, value in seconds.items()}


def apply_all(updates: list[SessionUpdate], threshold: float = 90, grid: int | None = None) -> RecordState:
    state = RecordState()
    for update in updates:
        state, _ = merge(state, update)
        state = complete(state, now=update.summary.received_at, completion_threshold=threshold, grid=grid)
    return state


class TestWatchedBlocks:
    def test_block_time_must_reach_the_ratio_of_a_block(self) -> None:
        # 600 s / 10 blocks = 60 s a block; half of it is 30 s.
        reported = callback(blocks=played(b0=30, b1=29.9, b2=60))
        assert watched_blocks(reported, 0.5) == {0, 2}
        assert watched_blocks(reported, 1.0) == {2}
        assert watched_blocks(reported, 0.0) == {0, 1, 2}

    def test_flag_alone_counts_without_block_time_or_duration(self) -> None:
        assert watched_blocks(callback(blocks=played(b4=None)), 0.5) == {4}
        assert watched_blocks(callback(duration=None, blocks=played(b4=1)), 0.5) == {4}

    def test_unplayed_blocks_never_count(self) -> None:
        reported = callback(blocks={1: BlockReport(played=False, seconds=0)})
        assert watched_blocks(reported, 0.0) == frozenset()

    def test_short_clip_with_duration_below_block_count(self) -> None:
        # 4 s over 10 blocks: a block is 0.4 s; sub-second play is reported as 1 s.
        reported = callback(duration=4.0, blocks={index: BlockReport(played=True, seconds=1) for index in range(10)})
        assert watched_blocks(reported, 1.0) == set(range(10))

    def test_repeats_add_up_within_a_block(self) -> None:
        # A 60 s block played 20 s twice reports 40 s: over half.
        assert watched_blocks(callback(blocks=played(b0=40)), 0.5) == {0}


class TestVersion:
    def test_serial_decides_first(self) -> None:
        assert version_of(callback(serial=3, play_time=1)) > version_of(callback(serial=2, play_time=500))

    def test_without_serial_play_time_then_run_time(self) -> None:
        assert version_of(callback(play_time=61, run_time=0)) > version_of(callback(play_time=60, run_time=900))
        assert version_of(callback(play_time=60, run_time=91)) > version_of(callback(play_time=60, run_time=90))

    def test_version_fits_a_dynamodb_number(self) -> None:
        huge = callback(serial=10**9, play_time=10**9, run_time=10**9)
        assert len(str(version_of(huge))) <= 38


class TestMerge:
    def test_duplicate_and_stale_change_nothing(self) -> None:
        newer = plain_update(callback(serial=2, blocks=played(b0=60)), 10, 0.5)
        older = plain_update(callback(serial=1, blocks=played(b0=10)), 20, 0.5)
        state, outcome = merge(RecordState(), newer)
        assert outcome is Outcome.ACCEPTED
        assert merge(state, newer) == (state, Outcome.DUPLICATE)
        assert merge(state, older) == (state, Outcome.STALE)

    def test_sessions_are_learner_content_start_at_and_player(self) -> None:
        phone = plain_update(callback(player_id="phone", blocks=played(b0=60)), 1, 0.5)
        laptop = plain_update(callback(player_id="laptop", blocks=played(b1=60)), 2, 0.5)
        view = summarize(apply_all([phone, laptop]), 90)
        assert view.sessions == 2 and view.watched_blocks == 2

    def test_play_time_sums_each_sessions_newest_value(self) -> None:
        first = [plain_update(callback(start_at=1, serial=n, play_time=30 * n), n, 0.5) for n in range(1, 4)]
        second = [
            plain_update(callback(start_at=2, serial=n, play_time=10 * n, real_play_time=5 * n), n, 0.5)
            for n in range(1, 3)
        ]
        view = summarize(apply_all(first + second + first), 90)
        assert view.play_time == 90 + 20
        assert view.real_play_time == 10

    def test_last_position_comes_from_the_newest_session_and_callback(self) -> None:
        old_session = plain_update(callback(start_at=50, serial=9, last_play_at=500), 300, 0.5)
        new_session = plain_update(callback(start_at=60, serial=1, last_play_at=42), 100, 0.5)
        newer_in_session = plain_update(callback(start_at=60, serial=2, last_play_at=77), 90, 0.5)
        assert summarize(apply_all([new_session, newer_in_session, old_session]), 90).last_position == 77

    def test_progress_is_rounded_down_to_two_decimals(self) -> None:
        assert percent(1, 3) == Decimal("33.33")
        assert percent(2, 3) == Decimal("66.66")
        assert percent(3, 3) == Decimal("100.00")
        update = plain_update(callback(block_count=3, duration=3.0, blocks=played(b0=1, b1=1)), 1, 0.5)
        assert summarize(apply_all([update]), 90).progress == Decimal("66.66")

    def test_completion_is_stamped_once_and_never_reverts(self) -> None:
        nine = plain_update(callback(blocks=played(**{f"b{i}": 60 for i in range(9)})), 1000, 0.5)
        state = apply_all([nine], threshold=90)
        assert state.completed_at == 1000
        later = plain_update(callback(start_at=200, block_count=20, blocks=played(b0=30)), 2000, 0.5)
        state, _ = merge(state, later)
        state = complete(state, now=2000, completion_threshold=90)
        view = summarize(state, 90)
        assert view.completed and view.completed_at == 1000

    def test_below_threshold_is_not_complete(self) -> None:
        eight = plain_update(callback(blocks=played(**{f"b{i}": 60 for i in range(8)})), 1, 0.5)
        view = summarize(apply_all([eight]), 90)
        assert not view.completed and view.completed_at is None and view.progress == 80

    def test_block_count_change_keeps_both_grids_and_reports_the_finest(self) -> None:
        coarse = plain_update(
            callback(start_at=1, block_count=4, duration=400.0, blocks=played(b0=100, b1=100)), 1, 0.5
        )
        fine = plain_update(callback(start_at=2, block_count=10, duration=400.0, blocks=played(b0=40)), 2, 0.5)
        state = apply_all([coarse, fine])
        assert state.watched == {4: {0, 1}, 10: {0}}
        view = summarize(state, 90)  # a coarser grid never stands in for the finer one (ingest maps it onto it)
        assert (view.block_count, view.watched_blocks, view.progress) == (10, 1, Decimal(10))
        assert summarize(state, 90, grid=4).progress == Decimal(50)

    def test_empty_record_reports_zero(self) -> None:
        update = plain_update(callback(block_count=7), 1, 0.5)
        view = summarize(apply_all([update]), 90)
        assert (view.block_count, view.watched_blocks, view.progress, view.completed) == (7, 0, Decimal(0), False)


# --- properties: the same callbacks in any order, any number of times, give the same record -----

SESSIONS = [(100, "khp"), (100, "phone"), (160, "khp")]
#: The content's grid of record, as ingestion fixes it (the finest grid the histories draw).
GRID_OF_RECORD = 10


@st.composite
def session_histories(draw: st.DrawFn) -> list[SessionUpdate]:
    """Every callback of a few sessions: cumulative block times that only grow with the serial."""
    updates = []
    for start_at, player in draw(st.lists(st.sampled_from(SESSIONS), min_size=1, max_size=3, unique=True)):
        block_count = draw(st.sampled_from([4, 10]))
        times: dict[int, float] = {}
        play_time = 0.0
        for serial in range(draw(st.integers(1, 5))):
            for _ in range(draw(st.integers(0, 3))):
                block = draw(st.integers(0, block_count - 1))
                gained = draw(st.sampled_from([1.0, 20.0, 45.0]))
                times[block] = times.get(block, 0.0) + gained
                play_time += gained
            reported = callback(
                start_at=start_at,
                player_id=player,
                block_count=block_count,
                serial=serial,
                play_time=play_time,
                real_play_time=play_time / 2,
                last_play_at=float(serial * 7),
                blocks={index: BlockReport(played=True, seconds=seconds) for index, seconds in times.items()},
            )
            updates.append(plain_update(reported, received_at=0, min_block_watch_ratio=0.5))
    return updates


def final_record(updates: list[SessionUpdate]) -> tuple[object, ...]:
    """The stored state that must not depend on delivery (the completion time is when it happened)."""
    state = apply_all(updates, threshold=50, grid=GRID_OF_RECORD)
    return state.sessions, state.watched, state.completed_at is not None, summarize(state, 50, GRID_OF_RECORD)


@settings(max_examples=300, deadline=None)
@given(history=session_histories(), data=st.data())
def test_order_and_duplicates_do_not_change_the_record(history: list[SessionUpdate], data: st.DataObject) -> None:
    delivered = history + data.draw(st.lists(st.sampled_from(history), max_size=len(history)))
    shuffled = data.draw(st.permutations(delivered))
    assert final_record(shuffled) == final_record(history)


@settings(max_examples=200, deadline=None)
@given(history=session_histories(), data=st.data())
def test_progress_is_monotone_and_completion_never_reverts(history: list[SessionUpdate], data: st.DataObject) -> None:
    state = RecordState()
    previous_blocks: dict[int, frozenset[int]] = {}
    was_completed = False
    for update in data.draw(st.permutations(history)):
        state, _ = merge(state, update)
        state = complete(state, now=1, completion_threshold=50, grid=GRID_OF_RECORD)
        for grid, blocks in previous_blocks.items():
            assert blocks <= state.watched[grid]
        previous_blocks = dict(state.watched)
        completed = summarize(state, 50, GRID_OF_RECORD).completed
        assert completed or not was_completed
        was_completed = completed


@settings(max_examples=200, deadline=None)
@given(history=session_histories())
def test_applying_everything_twice_is_applying_it_once(history: list[SessionUpdate]) -> None:
    once = apply_all(history)
    assert apply_all(history + history) == once
