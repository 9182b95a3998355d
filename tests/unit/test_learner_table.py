"""The learner table as a computation keeps it, sorted and paged when a page reads it. Pure."""

from __future__ import annotations

from typing import Any

from kollus_bridge.analytics.activity import LearnerActivity
from kollus_bridge.analytics.learner_table import (
    page_of,
    page_row,
    parse_sort,
    sorted_rows,
    stored_row,
    waiting_row,
)
from kollus_bridge.analytics.metrics import Grid
from kollus_bridge.analytics.page import TablePage, content_page

from tests.unit.test_analytics import session

DAY = 86_400_000


def rows() -> list[dict[str, Any]]:
    grid = Grid(4, 240.0)
    ann = LearnerActivity("ann", {4: frozenset({0, 1, 2, 3})}, (session(1, {0: 60, 1: 60, 2: 60, 3: 200}),),
                          completed_at=5 * DAY, updated_at=5 * DAY)  # fmt: skip
    bob = LearnerActivity("bob", {4: frozenset({0})}, (session(2, {0: 60, 1: 10}),), updated_at=9 * DAY)
    cy = LearnerActivity("cy", {4: frozenset({0, 1})}, (session(3, {0: 60, 1: 60}),), updated_at=1 * DAY)
    stored = [stored_row(learner, grid, 0.9, 10 * DAY, 7) for learner in (ann, bob, cy)] + [waiting_row("dee")]
    return [page_row(row) for row in stored]


def names(found: Any) -> list[str]:
    return [row["client_user_id"] for row in found]


def test_a_stored_row_keeps_what_the_table_shows() -> None:
    ann, bob, cy, dee = rows()
    assert (ann["status"], ann["progress"], ann["strip"]) == ("completed", 100.0, ["once", "once", "once", "more"])
    assert (bob["status"], bob["strip"]) == ("started", ["once", "touched", "not_viewed", "not_viewed"])
    assert cy["status"] == "stalled"  # nine days without a callback, seven allowed
    assert (dee["status"], dee["progress"], dee["strip"], dee["last_active_at"]) == ("not_started", 0.0, [], None)
    assert ann["last_active_at"] == "1970-01-06T00:00:00.000Z"


def test_every_column_sorts_both_ways_and_ties_go_by_name() -> None:
    table = rows()
    assert names(sorted_rows(table, "name", False)) == ["ann", "bob", "cy", "dee"]
    assert names(sorted_rows(table, "name", True)) == ["dee", "cy", "bob", "ann"]
    assert names(sorted_rows(table, "status", False)) == ["ann", "bob", "cy", "dee"]  # completed ... not started
    assert names(sorted_rows(table, "progress", True)) == ["ann", "cy", "bob", "dee"]
    assert names(sorted_rows(table, "last_active", True)) == ["bob", "ann", "cy", "dee"]  # never active: last
    assert names(sorted_rows(table, "last_active", False)) == ["dee", "cy", "ann", "bob"]
    assert names(sorted_rows(table, "watch_time", True)) == ["ann", "cy", "bob", "dee"]
    tied = [{**row, "progress": 10.0} for row in table]
    assert names(sorted_rows(tied, "progress", True)) == ["ann", "bob", "cy", "dee"]


def test_a_sort_we_do_not_know_sorts_by_name() -> None:
    assert parse_sort("-progress") == ("progress", True)
    assert parse_sort("watch_time") == ("watch_time", False)
    assert parse_sort("-") == parse_sort("password") == parse_sort(None) == ("name", False)


def test_pages_follow_on_by_offset() -> None:
    table = rows()
    assert page_of(table, 0, 3) == (table[:3], 3)
    assert page_of(table, 3, 3) == (table[3:], None)
    assert page_of(table, 9, 3) == ([], None)


INSIGHTS = {"media_content_key": "m-1", "as_of": "2026-12-01T00:00:00.000Z", "learners_counted": 3,
            "grid": None}  # fmt: skip


def test_the_headers_sort_within_the_signed_page_and_say_which_order() -> None:
    table = sorted_rows(rows(), "progress", True)
    where = TablePage(None, "?lang=en&sort=-progress&after=3", 4, ("progress", True), "?lang=en")
    html = content_page({**INSIGHTS, "grid": {"block_count": 4, "duration": 240.0, "block_length": 60.0},
                         "learners_counted": 3, "coverage": [3, 2, 1, 1], "rewatch": {"learners": [0, 0, 0, 1]},
                         "reach": [3, 2, 1, 1], "funnel": {"started": 3, "reached_25": 3, "reached_50": 2,
                         "reached_75": 1, "reached_90": 1, "completed": 1}, "environment": {"device": [],
                         "player": [], "host": []}}, table[:3], "en", "UTC", where)  # fmt: skip
    assert '<th scope="col" aria-sort="descending"><a href="?lang=en&amp;sort=progress">Progress</a>' in html
    assert '<a href="?lang=en&amp;sort=name">Learner</a>' in html  # names first A to Z
    assert '<a href="?lang=en&amp;sort=-last_active">Last active</a>' in html  # times: the latest first
    assert html.count('aria-sort="') == 1 and "3 of 4 learners." in html
    assert '<a href="?lang=en&amp;sort=-progress&amp;after=3">Next page</a>' in html
    assert html.index(">ann<") < html.index(">cy<") < html.index(">bob<")
    assert "6 Jan 1970, 00:00 UTC" in html  # ann's last active time, in the page's zone
