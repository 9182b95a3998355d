"""The analytics pages behind signed view links: which figures each page reads, and its HTML.

A content's page reads the cached insights (a page asked for before they exist says they are being
computed, with a link to load it again) and the learner table written with them, so its figures and its table
are one snapshot; a course's page reads each lecture's; a learner's pages read their records.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from kollus_bridge.settings import Settings

from .compute import Scope, cached_insights, is_stale, learner_overview, learner_view
from .course import course_view
from .course_page import course_page
from .learner_table import page_of, page_row, parse_sort, sorted_rows
from .links import View
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
    sort: str | None = None,
) -> str:
    """The page a view link shows. `sign` makes the links a page gives on (a learner's list links each
    lecture's page, for the same learner, course and expiry); `after` and `sort`, the content page's
    learner table from a later row on and in another order."""
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
    return _content(view, store, settings, lang=lang, now=now, after=after, sort=sort)


def _content(
    view: View, store: AnalyticsStore, settings: Settings, *, lang: str, now: int, after: str | None, sort: str | None
) -> str:
    """A content's page: the cached insights and, from the same computation, its learner table sorted
    by `sort` from the row `after` on."""
    key, scope = view.media_content_key or "", Scope(course=view.course)
    cached = cached_insights(store, settings, key, scope, now)
    if cached is not None and cached.job is None:  # kept before their learner table was: counted again
        store.want_insights(key, scope.key, now, again_after_ms=settings.analytics_max_age_seconds * 1000)
        cached = None
    if cached is None or cached.job is None:
        return computing_page(lang)
    insights = {**cached.body, "stale": is_stale(cached, settings, now)}
    column, descending = parse_sort(sort)
    rows = sorted_rows(map(page_row, store.table_rows(key, scope.key, cached.job)), column, descending)
    offset = int(after) if after and after.isascii() and after.isdigit() else 0
    shown, following = page_of(rows, offset, PAGE_LEARNERS)
    base = f"?lang={lang}"
    here = base if (column, descending) == ("name", False) else f"{base}&sort={'-' if descending else ''}{column}"
    table_page = TablePage(
        here if offset else None, f"{here}&after={following}" if following is not None else None, len(rows),
        (column, descending), base,
    )  # fmt: skip
    return content_page(insights, shown, lang, settings.display_timezone, table_page)


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
