"""The reports' SQL over the exported datasets gives the analytics module's figures on the same data
(coverage, reach, funnel, median watch time), in DuckDB; and every report and view, transpiled,
parses as Trino's SQL (what Athena runs)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
import sqlglot
from kollus_bridge.access.entitlement import Enrolment
from kollus_bridge.access.ports import Course
from kollus_bridge.analytics.activity import LearnerActivity, SessionActivity
from kollus_bridge.analytics.metrics import content_insights
from kollus_bridge.content.catalog import Entry, Status
from kollus_bridge.exports.datasets import Learning, as_dicts, rows
from kollus_bridge.exports.parquet import write_datasets
from kollus_bridge.exports.reports import VIEWS, run, trino

from local.template import ROOT

REPORTS = ROOT / "reports"
#: Contents of the fixture: key, block count, duration.
CONTENTS = (("mck-a", 10, 600.0), ("mck-b", 4, 240.0), ("mck-c", 11, 660.0))


def viewing(rng: random.Random, number: int, grid: int, duration: float) -> tuple[SessionActivity, ...]:
    """One to three sessions of random blocks and seconds."""
    return tuple(
        SessionActivity(
            start_at=1_764_000_000 + 3600 * number + 600 * index, player_id="khp", block_count=grid,
            duration=duration,
            block_seconds={block: rng.choice([10.0, 60.0, 130.0])
                           for block in rng.sample(range(grid), rng.randint(1, grid))},
            play_time=rng.uniform(10, 900), run_time=rng.uniform(10, 1200), device="PC",
        )
        for index in range(rng.randint(1, 3))
    )  # fmt: skip


def cohort(seed: int = 7) -> list[tuple[str, LearnerActivity]]:
    """Learners of two contents with random viewing; two of the first content's are on another grid."""
    rng = random.Random(seed)
    learners = []
    for key, blocks, duration in CONTENTS:
        for number in range(rng.randint(15, 25)):
            grid = blocks if number >= 2 or key == "mck-b" else blocks * 2  # the first two: another grid
            sessions = viewing(rng, number, grid, duration)
            watched = frozenset(rng.sample(range(grid), rng.randint(0, grid)))
            done = 1_764_100_000_000 + number if len(watched) >= 0.9 * grid else None
            tags = {"uservalue0": f"dept-{'ab'[number % 2]}"} if number % 3 else {}
            learners.append((key, LearnerActivity(f"learner-{number:02d}", {grid: watched}, sessions, done,
                                                  1_764_000_000_000, 1_764_200_000_000, tags)))  # fmt: skip
    return learners


def entries() -> list[Entry]:
    return [Entry(f"uf-{key}", Status.READY, key.upper(), duration, channels={"lectures": key}, created_at=1)
            for key, _, duration in CONTENTS]  # fmt: skip


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("exports")
    courses = [Course("algo", "Algorithms", ("mck-a", "mck-b", "mck-c"), 1)]
    enrolments = [Enrolment("algo", f"learner-{number:02d}") for number in range(20)]
    enrolments.append(Enrolment("algo", "learner-20", source="dropped"))
    written = write_datasets(rows(Learning(cohort(), entries(), courses, enrolments)), root)
    assert written["learner_content"] == len(cohort()) and written["course"] == 1
    return root


def report(data: Path, name: str) -> list[dict[str, Any]]:
    columns, found = run(REPORTS, REPORTS / f"{name}.sql", data)
    return [dict(zip(columns, row, strict=True)) for row in found]


def insights(key: str) -> dict[str, Any]:
    duration = {content: length for content, _, length in CONTENTS}[key]
    return content_insights([learner for content, learner in cohort() if content == key], duration=duration)


@pytest.mark.parametrize("key", [key for key, _, _ in CONTENTS])
def test_the_reports_give_the_analytics_figures(data: Path, key: str) -> None:
    figures = insights(key)
    assert figures["learners_counted"] > 0
    coverage = {row["block"]: row["learners"] for row in report(data, "coverage") if row["media_content_key"] == key}
    assert coverage == {block: count for block, count in enumerate(figures["coverage"]) if count}
    reach = [row["learners"] for row in report(data, "reach") if row["media_content_key"] == key]
    assert reach == figures["reach"]
    (funnel,) = [row for row in report(data, "funnel") if row["media_content_key"] == key]
    assert {name: value for name, value in funnel.items() if name != "media_content_key"} == figures["funnel"]
    (median,) = [row for row in report(data, "median_watch_time") if row["media_content_key"] == key]
    assert median["learners"] == figures["learners_counted"]
    assert median["median_unique_seconds"] == pytest.approx(figures["watch_time"]["unique_seconds"]["median"])


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def test_completion_by_uservalue(data: Path) -> None:
    found = {(row["name"], row["value"]): row for row in report(data, "completion_by_uservalue")}
    assert set(found) == {("uservalue0", "dept-a"), ("uservalue0", "dept-b")}
    for (name, value), row in found.items():
        tagged = [learner for _, learner in cohort() if learner.uservalues.get(name) == value]
        progress = [100 * len(next(iter(learner.watched.values()))) / next(iter(learner.watched)) for learner in tagged]
        assert row["records"] == len(tagged) and row["learners"] == len({learner.client_user_id for learner in tagged})
        assert row["completed"] == sum(learner.completed_at is not None for learner in tagged)
        assert row["median_progress"] == pytest.approx(round(median(progress), 1), abs=0.051)


def test_reach_by_length_sets_each_lecture_beside_its_band(data: Path) -> None:
    found = {row["media_content_key"]: row for row in report(data, "reach_by_length")}
    shares = {}
    for key, blocks, _ in CONTENTS:
        figures = insights(key)
        shares[key] = figures["reach"][blocks // 2] / figures["learners_counted"]
    assert {key: row["half_way_share"] for key, row in found.items()} == {
        key: round(share, 3) for key, share in shares.items()
    }
    assert (found["mck-b"]["band_minutes"], found["mck-b"]["band_contents"], found["mck-b"]["below_band"]) == (0, 1, 0)
    band = (shares["mck-a"] + shares["mck-c"]) / 2  # 10 and 11 minutes: one band
    assert found["mck-a"]["band_median_share"] == round(band, 3) and found["mck-a"]["band_contents"] == 2
    assert found["mck-a"]["below_band"] == pytest.approx(band - shares["mck-a"], abs=0.0011)
    assert next(iter(found)) == max(found, key=lambda key: found[key]["below_band"])  # the furthest below first


def test_speed_by_block_spreads_each_sessions_wall_time_over_its_blocks(data: Path) -> None:
    found = {(row["media_content_key"], row["block"]): row for row in report(data, "speed_by_block")}
    expected: dict[tuple[str, int], list[float]] = {}
    for key, learner in cohort():
        for session in learner.sessions:
            if session.block_count != {name: blocks for name, blocks, _ in CONTENTS}[key]:
                continue  # another grid than the content's
            speed = session.play_time / session.run_time
            for block, seconds in session.block_seconds.items():
                figures = expected.setdefault((key, block), [0, 0.0, 0.0])
                figures[0] += 1
                figures[1] += seconds
                figures[2] += seconds / speed
    assert set(found) == set(expected)
    for place, (sessions, content, wall) in expected.items():
        assert found[place]["sessions"] == sessions and found[place]["content_seconds"] == pytest.approx(content)
        assert found[place]["speed"] == pytest.approx(round(content / wall, 2), abs=0.0051)


def test_completion_by_content_over_every_record(data: Path) -> None:
    found = {row["media_content_key"]: row for row in report(data, "completion_by_content")}
    for key, _, duration in CONTENTS:
        learners = [learner for content, learner in cohort() if content == key]
        progress = [
            100 * len(next(iter(learner.watched.values()))) / next(iter(learner.watched)) for learner in learners
        ]
        completed = sum(learner.completed_at is not None for learner in learners)
        row = found[key]
        assert (row["title"], row["duration"], row["started"], row["completed"]) == (
            key.upper(),
            duration,
            len(learners),
            completed,
        )
        assert row["completion_rate"] == round(100 * completed / len(learners), 1)
        assert row["median_progress"] == pytest.approx(round(median(progress), 1), abs=0.051)
    assert len(found) == len(CONTENTS)


def test_completion_by_course_counts_enrolled_learners_only(data: Path) -> None:
    (row,) = report(data, "completion_by_course")
    learners = [(key, learner) for key, learner in cohort() if int(learner.client_user_id[-2:]) < 20]
    completed = sum(learner.completed_at is not None for _, learner in learners)
    assert (row["course_id"], row["lectures"], row["enrolled"]) == ("algo", 3, 20)  # the dropped one is not
    assert (row["started"], row["completed"]) == (len(learners), completed)
    assert row["completion_rate"] == round(100 * completed / 60, 1)


def test_learner_ids_can_be_pseudonymised_and_still_join() -> None:
    learning = Learning(
        cohort()[:3], entries(), [Course("algo", "A", ("mck-a",), 1)], [Enrolment("algo", "learner-00")]
    )
    plain, hashed = rows(learning), rows(learning, pseudonymise_key=b"research-key")
    names = {row["client_user_id"] for row in as_dicts("learner_content", hashed["learner_content"])}
    assert not names & {row["client_user_id"] for row in as_dicts("learner_content", plain["learner_content"])}
    assert all(len(name) == 64 for name in names)
    assert hashed["enrollment"][0][1] in names  # the same learner, the same pseudonym in every dataset
    assert rows(learning, pseudonymise_key=b"other-key")["enrollment"][0][1] != hashed["enrollment"][0][1]


@pytest.mark.parametrize("path", sorted([*REPORTS.glob("*.sql"), *(REPORTS / "views").glob("*.sql")]), ids=str)
def test_every_report_parses_as_trino_once_transpiled(path: Path) -> None:
    text = trino(path.read_text(encoding="utf-8"))
    parsed = sqlglot.parse_one(text, read="trino")
    assert parsed is not None and "LENGTH(" not in text.upper().replace("ARRAY_LENGTH(", "")


def test_the_views_come_in_an_order_that_resolves() -> None:
    assert [path.stem for path in sorted((REPORTS / "views").glob("*.sql"))] == sorted(VIEWS)
