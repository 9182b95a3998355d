"""Signed view links and the analytics pages' HTML: what a link grants, what a page may load."""

from __future__ import annotations

import base64
import hashlib
import re

from kollus_bridge.analytics.charts import clock, shade
from kollus_bridge.analytics.links import View, read_view, sign_view
from kollus_bridge.analytics.metrics import content_insights
from kollus_bridge.analytics.page import (
    STYLE,
    TablePage,
    content_page,
    content_security_policy,
    language,
    learner_content_page,
    learner_page,
    local_time,
)

from tests.unit.test_analytics import cohort


def test_a_link_grants_its_view_until_it_expires() -> None:
    view = View("learner_content", 2000, "m-1", "u-1", "c-1", "en")
    token = sign_view("new", view)
    assert read_view(["new"], token, now=1999) == view
    assert read_view(["old", "new"], token, now=1999) == view  # during a rotation
    assert read_view(["new"], token, now=2000) is None  # expired
    assert read_view(["other"], token, now=0) is None
    version, payload, mac = token.split(".")
    widened = base64.urlsafe_b64encode(b'{"k":"content","x":9999999999}').decode().rstrip("=")
    for bad in (f"{version}.{widened}.{mac}", f"v2.{payload}.{mac}", token[:-1], "", "v1..", "v1.e30."):
        assert read_view(["new"], bad, now=0) is None
    assert read_view(["k"], sign_view("k", View("learner", 10, client_user_id="u")), now=0) == View(
        "learner", 10, client_user_id="u"
    )


def test_the_policy_allows_the_one_style_block_and_nothing_else() -> None:
    policy = content_security_policy("https://lms.example.com")
    digest = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in policy and "default-src 'none'" in policy
    assert policy.endswith("frame-ancestors https://lms.example.com")
    figures = {
        "media_content_key": "m<1>",
        "as_of": "2026-11-22T00:00:00.000Z",
        "scope": {},
        **content_insights(cohort()),
    }
    html = content_page(figures, [{"client_user_id": "a&b", "status": "started", "progress": 25.0,
                                   "strip": ["once", "touched", "not_viewed", "more"]}], "en")  # fmt: skip
    assert re.findall(r"<style>(.*?)</style>", html) == [STYLE]
    assert not re.search(r"<script|\sstyle=|\son[a-z]+=|https?://(?!www\.w3\.org/2000/svg)", html)
    assert "m&lt;1&gt;" in html and "a&amp;b" in html
    assert html.count('class="tier"') == 4 + 5  # the learner's strip and the legend's five tiers


def test_languages_and_clock() -> None:
    assert language("en", "ko-KR") == "en" and language(None, "en-GB,en;q=0.8") == "en"
    assert language(None, "fr-FR, ko;q=0.5") == "ko" and language(None, None) == "ko" and language("fr", None) == "ko"
    assert (clock(0), clock(59.6), clock(600), clock(3725)) == ("0:00", "1:00", "10:00", "1:02:05")
    assert shade(0, ("a", "b")) == "#eeeeee" and shade(0.49, ("a", "b")) == "a" and shade(1, ("a", "b")) == "b"


def test_a_learners_page_says_what_is_left() -> None:
    view = {"media_content_key": "m", "title": "Week 3", "progress": 50.0, "missing_ranges": [[60.0, 120.0]],
            "minutes_left_at_own_speed": 1.5, "strip": ["once", "not_viewed"]}  # fmt: skip
    html = learner_content_page(view, [1.0, 0.4], "en")
    assert "1:00\u20132:00" in html and "1:30" in html and html.count('class="share"') == 2
    assert 'class="share"' not in learner_content_page(view, None, "en")  # fewer than five learners: no class strip
    done = learner_content_page({**view, "missing_ranges": []}, None, "ko")
    assert "모든 구간을 보았습니다" in done


def test_a_completed_record_says_so_with_its_date_and_nothing_is_left() -> None:
    view = {"media_content_key": "m", "title": "Week 3", "progress": 90.0, "status": "completed",
            "completed_at": "2026-12-02T15:24:54.632Z", "missing_ranges": [[540.0, 600.0]],
            "minutes_left_at_own_speed": 1.0, "strip": []}  # fmt: skip
    korean = learner_content_page(view, None, "ko")
    assert "<strong>완료</strong> 2026년 12월 3일 00:24 KST" in korean and "남은 구간" not in korean
    english = learner_content_page(view, None, "en", zone="UTC")
    assert "<strong>Completed</strong> 2 Dec 2026, 15:24 UTC" in english and "Still to watch" not in english
    assert "9:00" not in english  # what is left is not shown once complete
    going = learner_content_page({**view, "status": "started", "completed_at": None}, None, "en")
    assert "Still to watch" in going and "9:00\u201310:00" in going and "Completed" not in going


def test_times_are_given_in_the_deployments_zone_as_people_write_them() -> None:
    assert local_time("2026-12-02T15:24:54.632Z", "Asia/Seoul", "ko") == "2026년 12월 3일 00:24 KST"
    assert local_time("2026-07-01T09:05:00.000Z", "America/New_York", "en") == "1 Jul 2026, 05:05 EDT"
    assert local_time(None, "UTC", "en") == ""
    rows = [
        {"media_content_key": "m", "status": "started", "progress": 10.0, "last_active_at": "2026-12-02T15:24:54.632Z"}
    ]
    assert "2026년 12월 3일 00:24 KST" in learner_page("u", rows, "ko") and "진행 중" in learner_page("u", rows, "ko")


def test_the_heat_strip_says_what_it_counts_and_each_part_its_figures() -> None:
    figures = {"media_content_key": "m", "as_of": "2026-11-22T00:00:00.000Z", "scope": {}, **content_insights(cohort())}
    html = content_page(figures, [], "en")
    counted, coverage = figures["learners_counted"], figures["coverage"]
    first = f"Part 1 (0:00\u2013{clock(figures['grid']['block_length'])}): watched by {coverage[0]} of {counted}"
    assert f"<title>{first}" in html
    assert html.count("<title>Part ") == 2 * figures["grid"]["block_count"]  # both rows, every part
    assert f"the more of the {counted} learners counted watched it" in html
    keys = re.findall(r'<rect class="key"[^>]*fill="(#[0-9a-f]{6})"', html)
    assert len(set(keys[: len(keys) // 2])) >= 7 and "no one" in html and "everyone" in html  # a scale of 7+ steps


def test_the_instructors_page_opens_with_the_figures_at_a_glance() -> None:
    figures = {"media_content_key": "m", "as_of": "2026-11-22T00:00:00.000Z", "scope": {}, **content_insights(cohort())}
    started, completed = figures["funnel"]["started"], figures["funnel"]["completed"]
    html = content_page({**figures, "enrolled": 2 * started, "suspicious_sessions": 3}, [], "en")
    glance = html.split('<div class="summary">')[1].split("</div></div>")[0]
    assert f"<b>{2 * started}</b>Enrolled" in glance and f"<b>{started}</b>Started" in glance
    assert f"<b>{round(100 * completed / (2 * started))}%</b>Completion rate" in glance and "<b>3</b>Flagged" in glance
    median = figures["watch_time"]["unique_seconds"]["median"]
    assert f"<b>{clock(median)}</b>Median watch time" in glance
    assert f"<b>{round(100 * median / figures['grid']['duration'])}%</b>Median progress" in glance
    assert "Enrolled" not in content_page(figures, [], "en").split("At a glance")[1].split("</div></div>")[0]


def test_each_strip_has_its_key_and_its_time_ends_and_the_list_links_each_lecture() -> None:
    view = {"media_content_key": "m", "title": "Week 3", "progress": 50.0, "status": "started",
            "missing_ranges": [[600.0, 1200.0]], "strip": ["once", "not_viewed"],
            "grid": {"block_count": 2, "duration": 1200.0, "block_length": 600.0}}  # fmt: skip
    html = learner_content_page(view, [1.0, 0.4], "en")
    assert html.count('<div class="ends"><span>0:00</span><span>20:00</span></div>') == 2  # under both strips
    assert html.count('class="key"') == 11 and "not viewed" in html  # the class's scale, and the tiers' legend
    rows = [{"media_content_key": "m<1>", "title": "Week & 3", "status": "completed", "progress": 100.0}]
    listed = learner_page("u", rows, "en", links={"m<1>": "v1.abc.def?lang=en"})
    assert '<a href="v1.abc.def?lang=en">Week &amp; 3</a>' in listed
    assert "<a " not in learner_page("u", rows, "en")


def test_the_learner_table_says_how_many_of_how_many_and_links_on() -> None:
    figures = {"media_content_key": "m", "as_of": "2026-11-22T00:00:00.000Z", "scope": {}, **content_insights(cohort())}
    first = content_page({**figures, "enrolled": 60}, [], "en", table_page=TablePage(None, "?lang=en&after=t%2B1"))
    assert '<p class="pages">0 of 60 learners. <a href="?lang=en&amp;after=t%2B1">Next page</a></p>' in first
    last = content_page(figures, [], "ko", table_page=TablePage("?lang=ko", None))
    assert f"수강생 {figures['learners_counted']}명 중 0명." in last and '<a href="?lang=ko">첫 페이지</a>' in last
