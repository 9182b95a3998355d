"""The analytics pages behind signed view links: which figures each page reads, and its HTML.

A content's page reads the cached insights (a page asked for before they exist says they are being
computed and refreshes itself) and one page of its learners; a learner's pages read their records.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from urllib.parse import quote

from kollus_bridge.settings import Settings

from .compute import Scope, learner_overview, learner_table, learner_view, requested
from .course import course_view
from .course_page import course_page
from .links import View
from .metrics import Grid
from .page import TablePage, computing_page, content_page, learner_content_page, learner_page
from .ports import AnalyticsStore

#: Learners listed on a content's page.
PAGE_LEARNERS = 50


def render(
    view: View,
    store: AnalyticsStore,
    settings: Settings,
    ratio_of: Callable[[str], float],
    *,
    lang: str,
    now: int,
    sign: Callable[[View], str] | None = None,
    after: str | None = None,
) -> str:
    """The page a view link shows. `sign` makes the links a page gives on (a learner's list links each
    lecture's page, for the same learner, course and expiry); `after`, the content page's learner table
    from a later page on."""
    if view.kind == "course":
        return _course(view, store, settings, lang=lang, now=now, sign=sign)
    if view.kind == "learner":
        rows, _ = learner_overview(store, settings, view.client_user_id or "", limit=100, next_token=None, now=now)
        links = None
        if sign is not None:
            signer = sign

            def link(key: str) -> str:
                return signer(replace(view, kind="learner_content", media_content_key=key)) + f"?lang={lang}"

            links = {row["media_content_key"]: link(row["media_content_key"]) for row in rows}
        return learner_page(view.client_user_id or "", rows, lang, settings.display_timezone, links)
    key = view.media_content_key or ""
    if view.kind == "learner_content":
        found = learner_view(store, settings, view.client_user_id or "", key, ratio=ratio_of(key), now=now)
        if found is None:
            found = {"media_content_key": key, "progress": 0.0, "missing_ranges": [], "strip": []}
        cached = store.get_insights(key, Scope(course=view.course).key)
        shares = None
        if cached and cached.body.get("learners_counted", 0) >= settings.analytics_class_minimum:
            counted, grid = cached.body["learners_counted"], cached.body.get("grid") or {}
            if grid.get("block_count") == len(found.get("strip") or []):
                shares = [value / counted for value in cached.body["coverage"]]
        return learner_content_page(found, shares, lang, settings.display_timezone)
    status, insights = requested(store, settings, key, Scope(course=view.course), now)
    if status != 200:
        return computing_page(lang)
    grid = insights.get("grid")
    strips = (Grid(grid["block_count"], grid["duration"]), ratio_of(key)) if grid else None
    rows, token = learner_table(
        store, settings, key, course=view.course, status=None, limit=PAGE_LEARNERS, next_token=after, now=now,
        strips=strips,
    )  # fmt: skip
    here = f"?lang={lang}"
    table_page = TablePage(None if after is None else here, f"{here}&after={quote(token)}" if token else None)
    return content_page(insights, rows, lang, settings.display_timezone, table_page)


def _course(
    view: View, store: AnalyticsStore, settings: Settings, *, lang: str, now: int, sign: Callable[[View], str] | None
) -> str:
    """A course's page; each lecture links to its own page in the course's scope."""
    course_id = view.course or ""
    found = course_view(store, settings, course_id, now)
    if found is None:
        return course_page(course_id, None, [], 0, [], lang)
    title, lectures, enrolled, days = found
    links = None
    if sign is not None:
        links = {
            row.media_content_key: sign(replace(view, kind="content", media_content_key=row.media_content_key))
            + f"?lang={lang}"
            for row in lectures
        }
    return course_page(course_id, title, lectures, enrolled, days, lang, links)
