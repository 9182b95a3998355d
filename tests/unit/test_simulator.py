"""The player simulator reports what the Kollus player reports (Kollus's own worked example first)."""

from __future__ import annotations

import random

from kollus_bridge.kollus.callback import RawCallback, parse_callback
from kollus_bridge.progress.rule import watched_blocks
from kollus_bridge.settings import settings_from

from local.simulator import Content, Pause, Play, Seek, Session, deliver, expected_watched, play_session, random_script

SETTINGS = settings_from({"TABLE_NAME": "table", "KOLLUS_CALLBACK_TOKEN": "t", "API_TOKEN": "a"})
LECTURE = Content("lecture-1", duration=600.0, block_count=10)
FORM = "application/x-www-form-urlencoded"


def test_kollus_worked_example() -> None:
    # Watch 0-10 s of wall time at 2x, jump back to 0, watch 0-10 s again at 2x, pause 10 s:
    # PLAY_TIME 40, REAL_PLAYTIME 20, RUN_TIME 30, SHOW_TIME 20.
    session = Session("learner-1", LECTURE, start_at=1_710_395_296)
    final = play_session(session, [Play(0, 20, 2.0), Seek(0), Play(0, 20, 2.0), Pause(10)], period=60)[-1]
    assert (final.play_time, final.real_play_time, final.run_time, final.show_time) == (40, 20, 30, 20)
    assert final.block_seconds == {0: 40.0}  # repeats add up within a block


def test_a_callback_every_period_and_on_pause_with_rising_serials() -> None:
    reports = play_session(Session("u", LECTURE, 1), [Play(0, 100), Pause(45), Play(100, 130)], period=30)
    assert [report.serial for report in reports] == list(range(len(reports)))
    assert [report.paused for report in reports] == [False, False, False, True, True, False, True]
    assert [report.run_time for report in reports] == [30, 60, 90, 100, 130, 160, 175]


def test_sub_second_play_rounds_up_and_short_clips_work() -> None:
    clip = Content("clip", duration=4.0, block_count=10)
    final = play_session(Session("u", clip, 1), [Play(0, 4)])[-1]
    assert final.block_seconds == dict.fromkeys(range(10), 1.0)  # 0.4 s in each block reports 1 s


def test_both_wire_forms_say_the_same() -> None:
    rng = random.Random(3)
    for _ in range(20):
        reports = play_session(Session("u", LECTURE, 1), random_script(rng, LECTURE))
        for report in reports:
            from_json = parse_callback(RawCallback(report.form_body(), FORM), SETTINGS)
            from_flat = parse_callback(RawCallback(report.flat_body(), FORM), SETTINGS)
            assert watched_blocks(from_json, 0.5) == watched_blocks(from_flat, 0.5)
            assert (from_json.play_time, from_json.last_play_at) == (from_flat.play_time, from_flat.last_play_at)
            assert from_json.serial == report.serial and from_flat.serial is None


def test_delivery_faults_keep_every_callback() -> None:
    reports = play_session(Session("u", LECTURE, 1), [Play(0, 600)])
    delivered = deliver(reports, random.Random(1), duplicates=0.5, offline_burst=0.3)
    assert set(map(id, delivered)) == set(map(id, reports))
    assert len(delivered) > len(reports)


def test_expected_watched_uses_each_sessions_newest_report() -> None:
    two_devices = [Session("u", LECTURE, 1, player_id="phone"), Session("u", LECTURE, 1, player_id="laptop")]
    reports = play_session(two_devices[0], [Play(0, 120)]) + play_session(two_devices[1], [Play(300, 329)])
    assert expected_watched(reports, 0.5) == {10: {0, 1}}  # 29 s of block 5 is under half a block
    assert expected_watched(reports, 0.4) == {10: {0, 1, 5}}
