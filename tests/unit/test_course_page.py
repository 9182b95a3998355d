"""Activity over time, a course's lecture figures and the course page. Pure."""

from __future__ import annotations

from datetime import UTC, datetime

from kollus_bridge.analytics.activity import LearnerActivity
from kollus_bridge.analytics.compute import Scope
from kollus_bridge.analytics.course import LectureRow, median_progress, steepest_drop
from kollus_bridge.analytics.course_page import course_page
from kollus_bridge.analytics.metrics import Grid, tally
from kollus_bridge.analytics.over_time import active_days, count_days, daily, day_of, last_days
from kollus_bridge.analytics.shards import Plan, finish

from tests.unit.test_analytics import session


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


def test_days_are_calendar_days_in_the_zone() -> None:
    late = ms("2026-12-02T16:30:00")  # 01:30 on 3 December in Seoul
    assert day_of(late, "UTC") == "2026-12-02"
    assert day_of(late, "Asia/Seoul") == "2026-12-03"
    days = last_days(late, "Asia/Seoul")
    assert len(days) == 30 and days[-1] == "2026-12-03" and days[0] == "2026-11-04"


def test_a_learner_counts_once_a_day_however_many_sessions() -> None:
    monday, tuesday = ms("2026-11-30T01:00:00"), ms("2026-12-01T01:00:00")
    ann = LearnerActivity(
        "ann", {4: frozenset({0})},
        (session(monday // 1000, {0: 60}), session(monday // 1000 + 600, {1: 60}, player_id="B" * 40)),
        completed_at=tuesday, updated_at=tuesday,
    )  # fmt: skip
    bob = LearnerActivity("bob", {4: frozenset({0})}, (session(tuesday // 1000, {0: 60}),), updated_at=tuesday)
    assert active_days(ann, "UTC") == {"2026-11-30", "2026-12-01"}
    active, completed = count_days([ann, bob], "UTC")
    assert active == {"2026-11-30": 1, "2026-12-01": 2}
    assert completed == {"2026-12-01": 1}
    rows = daily(active, completed, tuesday, "UTC")
    assert rows[-2:] == [
        {"date": "2026-11-30", "active": 1, "completed": 0},
        {"date": "2026-12-01", "active": 2, "completed": 1},
    ]
    assert sum(row["active"] for row in rows[:-2]) == 0


def test_the_tally_counts_days_and_shards_merge_them() -> None:
    day = ms("2026-12-01T03:00:00")
    grid = Grid(4, 240.0)
    ann = LearnerActivity("ann", {4: frozenset({0, 1, 2, 3})}, (session(day // 1000, {0: 60}),), completed_at=day)
    bob = LearnerActivity("bob", {4: frozenset({0})}, (session(day // 1000, {0: 60}),), updated_at=day + 86_400_000)
    off_grid = LearnerActivity("cy", {10: frozenset({0})}, (session(day // 1000, {0: 60}, block_count=10),))
    whole = tally([ann, bob, off_grid], grid, "Asia/Seoul")
    assert whole.active_days == {"2026-12-01": 2, "2026-12-02": 1}  # only learners on the grid count
    assert whole.completed_days == {"2026-12-01": 1}
    merged = tally([ann], grid, "Asia/Seoul").merge(tally([bob, off_grid], grid, "Asia/Seoul"))
    assert (merged.active_days, merged.completed_days) == (whole.active_days, whole.completed_days)
    body = finish("m-1", Scope(), Plan(grid, ("ann", "bob"), {}), whole, day + 86_400_000, "Asia/Seoul")
    assert len(body["activity"]) == 30 and body["activity"][-1] == {"date": "2026-12-02", "active": 1, "completed": 0}


INSIGHTS = {
    "grid": {"block_count": 4, "duration": 240.0, "block_length": 60.0},
    "reach": [10, 9, 4, 3],
    "funnel": {"started": 10, "completed": 3},
    "watch_time": {"unique_seconds": {"median": 120.0}},
    "enrolled": 12,
}


def test_the_steepest_drop_and_the_median_progress() -> None:
    assert steepest_drop(INSIGHTS) == (60.0, 120.0, 5)  # five stop after the second minute's block
    assert steepest_drop({**INSIGHTS, "reach": [4, 4, 4, 4]}) is None
    assert steepest_drop({**INSIGHTS, "reach": [5, 3, 1, 0]}) == (0.0, 60.0, 2)  # a tie goes to the earlier
    assert median_progress(INSIGHTS) == 50.0
    assert median_progress({"grid": None}) is None


def test_the_course_page_lists_each_lecture_in_order_with_its_link() -> None:
    rows = [
        LectureRow("m-1", "Week 1 <intro>", INSIGHTS),
        LectureRow("m-2", None, {**INSIGHTS, "funnel": {"started": 6, "completed": 1}, "reach": [6, 6, 6, 6]}),
    ]
    days = [{"date": "2026-12-01", "active": 4, "completed": 1}]
    html = course_page("algo-101", "Algorithms", rows, 12, days, "en", {"m-1": "v1.a.b?lang=en"})
    assert "<h1>Course: Algorithms</h1>" in html and "Enrolled 12" in html
    assert html.index("Week 1 &lt;intro&gt;") < html.index("m-2")
    assert '<a href="v1.a.b?lang=en">Week 1 &lt;intro&gt;</a>' in html
    assert "<td>10</td><td>3 (25%)</td><td>50%</td><td>1:00\u20132:00 (\u22125)</td>" in html
    assert ">m-2</a>" not in html and "<td>m-2</td>" in html
    assert "<td>6</td><td>1 (8%)</td><td>50%</td><td>\u2013</td>" in html
    assert 'class="day"' in html and "2026-12-01: 4 learners active, 1 completed" in html
    assert 'http-equiv="refresh"' not in html


def test_a_lecture_being_computed_says_so_with_a_link_to_load_the_page_again() -> None:
    html = course_page("algo-101", None, [LectureRow("m-1", None, None)], 0, [], "ko")
    assert "<h1>과정: algo-101</h1>" in html and "계산 중" in html
    note = "분석을 계산하고 있습니다. 몇 초 뒤에 페이지를 다시 불러오세요."
    assert f'<p role="status">{note} <a href="">다시 불러오기</a></p>' in html
    assert "http-equiv" not in html  # no timed refresh (WCAG 2.2.1; axe: meta-refresh)
    empty = course_page("algo-101", None, [], 0, [], "en")
    assert "This course holds no lecture yet." in empty
