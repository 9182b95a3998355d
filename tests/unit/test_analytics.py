"""Learning analytics: each figure by hand on a small cohort, independence of order and repeats, and
the figures of simulated cohorts against a brute-force, second-by-second reckoning of their scripts."""

from __future__ import annotations

import json
import random
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from kollus_bridge.analytics.activity import LearnerActivity, SessionActivity
from kollus_bridge.analytics.learners import Status, learner_content, learner_row, status, tier
from kollus_bridge.analytics.metrics import Tally, choose_grid, content_insights, figures, summary, tally

from local.simulator import Action, Content, Pause, Play, Seek, Session, play_session

DAY = 86_400_000


def session(start_at: int, seconds: dict[int, float], **extra: Any) -> SessionActivity:
    fields: dict[str, Any] = {"player_id": "khp", "block_count": 4, "duration": 240.0, "block_seconds": seconds}
    return SessionActivity(start_at=start_at, **(fields | extra))


def cohort() -> list[LearnerActivity]:
    # Blocks of 60 s. Ann watches 0-1, rewatches 1 (130 s), leaves in block 1 ... then completes later.
    ann = LearnerActivity(
        "ann", {4: frozenset({0, 1, 2, 3})},
        (session(1_000, {0: 60, 1: 130}, play_time=190, run_time=200, last_play_at=100, device="PC"),
         session(2_000, {2: 60, 3: 60}, play_time=120, run_time=150, last_play_at=240, device="mobile",
                 player_id="A" * 40)),
        completed_at=10_000_000, created_at=1_000_000,
    )  # fmt: skip
    # Bob skims block 0 (10 s), skips 1 and 2, watches 3.
    bob = LearnerActivity(
        "bob", {4: frozenset({3})},
        (session(3_000, {0: 10, 3: 60}, play_time=70, run_time=80, last_play_at=230, device="PC"),),
    )  # fmt: skip
    # Cy is on another grid; Dee has no session at all.
    cy = LearnerActivity("cy", {10: frozenset({0})}, (session(4_000, {0: 60}, block_count=10, duration=600.0),))
    dee = LearnerActivity("dee", {})
    return [ann, bob, cy, dee]


def test_each_figure_on_a_small_cohort() -> None:
    figures = content_insights(cohort())
    assert figures["grid"] == {"block_count": 4, "duration": 240.0, "block_length": 60.0}
    assert (figures["learners_counted"], figures["excluded"]) == (2, {"no_sessions": 1, "other_grid": 1})
    assert figures["coverage"] == [1, 1, 1, 2]
    assert figures["reach"] == [2, 2, 2, 2]  # both watched the last block
    assert figures["exits"] == [0, 1, 0, 2]  # 100 s is in block 1; 230 and 240 (the end) in block 3
    assert figures["rewatch"] == {"passes": [1.167, 2.167, 1.0, 2.0], "learners": [0, 1, 0, 0]}
    assert figures["skips"] == [0, 1, 1, 0]
    assert figures["skims"] == [1, 0, 0, 0]
    assert figures["funnel"] == {
        "started": 2, "reached_25": 2, "reached_50": 1, "reached_75": 1, "reached_90": 1, "completed": 1,
    }  # fmt: skip
    watch = figures["watch_time"]
    assert watch["unique_seconds"] == {"count": 2, "total": 300.0, "median": 150.0, "q1": 105.0, "q3": 195.0}
    assert (watch["content_seconds"]["total"], watch["wall_seconds"]["total"]) == (380.0, 430.0)
    assert figures["time_to_complete_seconds"]["median"] == 9000.0
    assert figures["sessions_to_complete"]["median"] == 2  # both of Ann's sessions started before it
    assert figures["sessions_per_learner"]["median"] == 1.5
    devices = {row["name"]: row for row in figures["environment"]["device"]}
    assert devices["PC"] == {"name": "PC", "sessions": 2, "learners": 2, "content_seconds": 260.0}
    assert [row["name"] for row in figures["environment"]["player"]] == ["khp", "app"]
    assert figures["environment"]["host"][0]["name"] == "unknown"


def test_asking_for_a_grid_and_nothing_to_count() -> None:
    figures = content_insights(cohort(), grid=10)
    assert (figures["learners_counted"], figures["coverage"][0]) == (1, 1)
    assert content_insights([]) == {"grid": None, "learners_counted": 0, "excluded": {}}
    assert content_insights([LearnerActivity("dee", {})])["excluded"] == {"no_sessions": 1}
    assert summary([]) == {"count": 0, "total": 0, "median": None, "q1": None, "q3": None}


def test_stand_out_parts_are_content_time_ranges() -> None:
    learners = [
        LearnerActivity(f"l{n}", {4: frozenset({0, 1, 2, 3})}, (session(n, {0: 60, 1: 150, 2: 150, 3: 60}),))
        for n in range(3)
    ]
    learners += [LearnerActivity(f"s{n}", {4: frozenset({0, 3})}, (session(n, {0: 60, 3: 60}),)) for n in range(3)]
    figures = content_insights(learners)
    assert figures["rewatch"]["learners"] == [0, 3, 3, 0]
    assert figures["hard_parts"] == [[60.0, 180.0]]
    assert figures["skips"] == [0, 3, 3, 0] and figures["skipped_parts"] == [[60.0, 180.0]]


def test_learner_status_tiers_and_view() -> None:
    ann = cohort()[0]
    assert status(None, 0, 7) is Status.NOT_STARTED
    assert status(ann, 0, 7) is Status.COMPLETED
    bob = cohort()[1]
    assert status(bob, 6 * DAY, 7) is Status.STARTED and status(bob, 7 * DAY, 7) is Status.STALLED
    assert [tier(p, 0.5).value for p in (0, 0.4, 0.5, 1.49, 1.5, 2.49, 2.5)] == [
        "not_viewed", "touched", "once", "once", "twice", "twice", "more",
    ]  # fmt: skip
    view = learner_content(bob, ratio=0.5, now=0, stalled_after_days=7)
    assert view["strip"] == ["touched", "not_viewed", "not_viewed", "once"]
    assert view["missing_ranges"] == [[0.0, 180.0]]
    assert (view["minutes_left"], view["minutes_left_at_own_speed"]) == (3.0, 3.43)  # 70 content s in 80 wall s
    assert (view["status"], view["progress"], view["sessions"]) == ("started", 25.0, 1)
    assert (view["active_days"], view["longest_streak_days"]) == (1, 1)
    assert learner_row(None, "eve", 0, 7) == {
        "client_user_id": "eve", "status": "not_started", "progress": 0.0, "sessions": 0,
    }  # fmt: skip


sessions_strategy = st.lists(
    st.builds(
        SessionActivity,
        start_at=st.integers(1, 5),
        player_id=st.sampled_from(["khp", "kfp"]),
        block_count=st.sampled_from([4, 5]),
        duration=st.just(300.0),
        block_seconds=st.dictionaries(st.integers(0, 4), st.sampled_from([1.0, 30.0, 60.0, 150.0]), max_size=5),
        play_time=st.sampled_from([0.0, 100.0]),
        run_time=st.sampled_from([0.0, 120.0]),
        last_play_at=st.one_of(st.none(), st.floats(0, 300)),
        device=st.sampled_from([None, "PC", "mobile"]),
    ),
    max_size=4,
    unique_by=lambda s: (s.start_at, s.player_id),
)
learners_strategy = st.lists(
    st.builds(
        LearnerActivity,
        client_user_id=st.sampled_from(["a", "b", "c", "d", "e"]),
        watched=st.dictionaries(st.sampled_from([4, 5]), st.frozensets(st.integers(0, 4)), max_size=2),
        sessions=sessions_strategy,
        completed_at=st.one_of(st.none(), st.integers(1, 10**6)),
        created_at=st.just(0),
    ),
    max_size=6,
    unique_by=lambda learner: learner.client_user_id,
)


@settings(max_examples=200, deadline=None)
@given(learners_strategy, st.randoms(use_true_random=False))
def test_figures_depend_on_neither_order_nor_repeats(learners: list[LearnerActivity], rng: random.Random) -> None:
    expected = content_insights(learners)
    shuffled = [
        LearnerActivity(
            learner.client_user_id,
            learner.watched,
            tuple(rng.sample(list(learner.sessions) * 2, 2 * len(learner.sessions))),
            learner.completed_at,
            learner.created_at,
        )
        for learner in learners
    ]
    repeated = shuffled + rng.sample(shuffled, len(shuffled) // 2)
    rng.shuffle(repeated)
    assert content_insights(repeated) == expected


@settings(max_examples=200, deadline=None)
@given(learners_strategy, st.randoms(use_true_random=False), st.integers(1, 4))
def test_tallies_of_shards_merge_into_the_whole(
    learners: list[LearnerActivity], rng: random.Random, shards: int
) -> None:
    grid = choose_grid(learners, None, 300.0)
    if grid is None:
        return
    parts: list[list[LearnerActivity]] = [[] for _ in range(shards)]
    for learner in learners:
        rng.choice(parts).append(learner)
    merged = Tally(grid.blocks)
    for part in parts:
        partial = Tally.from_json(json.loads(json.dumps(tally(part, grid).to_json())))  # as stored between shards
        merged = merged.merge(partial)
    assert figures(merged, grid) == figures(tally(learners, grid), grid)


# --- simulated cohorts against a second-by-second reckoning ------------------------------------------

CONTENT = Content("lecture", 600.0, 10)  # blocks of 60 s
RATIO = 0.5


def integer_script(rng: random.Random) -> list[Action]:
    """A viewing script on whole seconds: plays at 0.5x-2x, seeks back and ahead, pauses."""
    script: list[Action] = []
    position = 0
    for _ in range(rng.randint(1, 6)):
        if rng.random() < 0.3:
            position = rng.randrange(0, 600)
            script.append(Seek(position))
        end = min(600, position + rng.randint(1, 300))
        script.append(Play(position, end, rng.choice([0.5, 1.0, 1.5, 2.0])))
        position = end
        if rng.random() < 0.3:
            script.append(Pause(rng.randint(1, 90)))
    return script


def reckon(script: list[Action]) -> tuple[list[int], int, int]:
    """Times each content second was played, the content seconds played, and where the player stopped."""
    played = [0] * 600
    position = 0
    for action in script:
        if isinstance(action, Seek):
            position = int(action.to)
        elif isinstance(action, Play):
            for second in range(int(action.start), int(action.end)):
                played[second] += 1
            position = int(action.end)
    return played, sum(played), position


def test_simulated_cohorts_match_a_brute_force_reckoning() -> None:
    rng = random.Random(20261122)
    learners: list[LearnerActivity] = []
    brute: dict[str, list[tuple[list[int], int, int]]] = {}
    for number in range(40):
        name = f"learner-{number}"
        activities, reckoned = [], []
        for start_at in range(rng.randint(1, 3)):
            script = integer_script(rng)
            newest = play_session(Session(name, CONTENT, start_at, "khp"), script)[-1]
            activities.append(
                SessionActivity(
                    start_at=start_at, player_id="khp", block_count=10, duration=600.0,
                    block_seconds=newest.block_seconds, play_time=newest.play_time, run_time=newest.run_time,
                    last_play_at=newest.last_play_at,
                )
            )  # fmt: skip
            reckoned.append(reckon(script))
        per_block = [[sum(played[60 * b : 60 * b + 60]) for b in range(10)] for played, _, _ in reckoned]
        merged = frozenset(b for blocks in per_block for b in range(10) if blocks[b] >= RATIO * 60)
        learners.append(LearnerActivity(name, {10: merged}, tuple(activities)))
        brute[name] = reckoned

    figures = content_insights(learners)
    coverage, reach, exits, rewatchers, skips, skims = ([0] * 10 for _ in range(6))
    passes = [0.0] * 10
    unique, content_seconds, funnel = [], [], dict.fromkeys((25, 50, 75, 90), 0)
    for learner in learners:
        reckoned = brute[learner.client_user_id]
        seconds = [sum(sum(played[60 * b : 60 * b + 60]) for played, _, _ in reckoned) for b in range(10)]
        any_play = [b for b in range(10) if seconds[b] > 0]
        watched = [b for b in range(10) if any(sum(played[60 * b : 60 * b + 60]) >= 30 for played, _, _ in reckoned)]
        unique.append(60.0 * len(watched))
        content_seconds.append(sum(total for _, total, _ in reckoned))
        for mark in funnel:
            funnel[mark] += 10 * len(watched) >= mark
        for b in range(10):
            coverage[b] += b in watched
            reach[b] += bool(watched) and max(watched) >= b
            passes[b] += seconds[b] / 60
            rewatchers[b] += seconds[b] >= 120
            skips[b] += bool(any_play) and max(any_play) > b and b not in any_play
            skims[b] += b in any_play and b not in watched
        for _, _, stop in reckoned:
            exits[min(9, stop // 60)] += 1
    assert figures["learners_counted"] == 40
    assert figures["coverage"] == coverage and figures["reach"] == reach and figures["exits"] == exits
    assert figures["rewatch"]["learners"] == rewatchers
    assert figures["rewatch"]["passes"] == [round(value, 3) for value in passes]
    assert figures["skips"] == skips and figures["skims"] == skims
    assert figures["watch_time"]["unique_seconds"] == summary(unique)
    assert figures["watch_time"]["content_seconds"] == summary(content_seconds)
    assert figures["funnel"] == {"started": 40, **{f"reached_{mark}": funnel[mark] for mark in funnel}, "completed": 0}
    assert min(sum(skips), sum(rewatchers), sum(skims), sum(exits)) > 0  # the cohort exercises every figure
