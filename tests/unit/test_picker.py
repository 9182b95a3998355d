"""The deep-linking picker's page. Pure."""

from __future__ import annotations

from kollus_bridge.api.picker import PickItem, https_or_loopback, picker_page


def test_posters_come_only_from_https_or_this_machine() -> None:
    assert https_or_loopback("https://cdn.kollus.com/p/1.jpg")
    assert https_or_loopback("http://127.0.0.1:3200/poster/uf-1.svg")
    assert not https_or_loopback("http://cdn.example.com/p.jpg")
    assert not https_or_loopback("javascript:alert(1)") and not https_or_loopback("data:image/svg+xml,<svg/>")
    assert not https_or_loopback(None) and not https_or_loopback("https://[::1")


def test_the_page_lists_each_video_with_its_poster_length_and_date_and_pages_on() -> None:
    items = [
        PickItem("mck-1", 'Week 1 "intro"', 3725.0, "https://cdn.kollus.com/1.jpg", 1_764_720_000_000),
        PickItem("mck-2", "Week 2", None, "http://evil.example/2.jpg", None),
    ]
    page, policy = picker_page(items, "s.e.ssion", "en", "Asia/Seoul", "https://lms.example.com", "week", "tok")
    assert '<html lang="en">' in page and 'value="week"' in page and "Videos matching \u201cweek\u201d" in page
    assert "Week 1 &quot;intro&quot;" in page and "Length 1:02:05" in page and "Added 3 Dec 2025, 09:00 KST" in page
    assert page.count("<img ") == 1 and '<span class="noposter"></span>' in page  # http from elsewhere: no image
    assert 'href="deep-link?session=s.e.ssion&amp;lang=en&amp;q=week&amp;after=tok">Next page' in page
    assert "First page" not in page and 'href="deep-link?session=s.e.ssion&amp;lang=en">All videos' in page
    assert "img-src https://cdn.kollus.com;" in policy and "frame-ancestors https://lms.example.com" in policy
    assert "script" not in page.lower() and "script" not in policy


def test_an_empty_catalog_says_so_in_korean_and_shows_no_image_source() -> None:
    page, policy = picker_page([], "s", "ko", "Asia/Seoul", "'none'", first_page=False)
    assert "재생할 수 있는 동영상이 아직 없습니다." in page and "첫 페이지" in page and "img-src 'none'" in policy
    searched, _ = picker_page([], "s", "ko", "Asia/Seoul", "'none'", "없는 제목")
    assert "맞는 동영상이 없습니다." in searched
