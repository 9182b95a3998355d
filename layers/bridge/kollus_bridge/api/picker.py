"""The deep-linking picker: the page an instructor sees inside the LMS to choose Kollus videos. Pure:
the catalog's playable contents in, one HTML document and its Content-Security-Policy out. Styled like
the analytics pages (their one style block), Korean and English, each content with its poster, length
and date; a search box and paging are plain GET forms and links (no script)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from urllib.parse import urlencode, urlsplit

from kollus_bridge.analytics.charts import clock
from kollus_bridge.analytics.page import STYLE_HASH, document, local_time
from kollus_bridge.times import iso_time

#: Contents to a page of the picker.
PICK_PAGE = 24

WORDS = {
    "en": {
        "title": "Choose Kollus videos", "search": "Search titles", "go": "Search", "choose": "Add the chosen videos",
        "none": "No video matches.", "empty": "The catalog has no playable video yet.", "keys": "Or give media "
        "content keys, one per line", "next": "Next page", "first": "First page", "all": "All videos",
        "found": "Videos matching \u201c{query}\u201d", "listed": "Playable videos", "hint": "Tick the videos to "
        "add on this page, then add them; each becomes a graded link in the course.",
        "length": "Length", "added": "Added",
    },
    "ko": {
        "title": "Kollus 동영상 선택", "search": "제목 검색", "go": "검색", "choose": "선택한 동영상 추가",
        "none": "맞는 동영상이 없습니다.", "empty": "재생할 수 있는 동영상이 아직 없습니다.",
        "keys": "또는 미디어 콘텐츠 키를 한 줄에 하나씩 입력", "next": "다음 페이지", "first": "첫 페이지",
        "all": "모든 동영상", "found": "\u201c{query}\u201d 검색 결과", "listed": "재생할 수 있는 동영상",
        "hint": "이 페이지에서 추가할 동영상을 고른 다음 추가하세요. 동영상마다 강의실에 성적이 있는 링크가 생깁니다.",
        "length": "길이", "added": "등록",
    },
}  # fmt: skip


@dataclass(frozen=True)
class PickItem:
    media_content_key: str
    title: str
    duration: float | None = None
    poster_url: str | None = None
    created_at: int | None = None  # epoch ms


def https_or_loopback(url: str | None) -> bool:
    """An https URL, or http to this machine (a local stand-in): what a page may load or post to."""
    if not url:
        return False
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return False
    if parts.scheme == "https" and host:
        return True
    return parts.scheme == "http" and host in ("localhost", "127.0.0.1", "::1")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _item(item: PickItem, lang: str, zone: str, words: dict[str, str]) -> str:
    key = escape(item.media_content_key, quote=True)
    poster = (
        f'<img src="{escape(str(item.poster_url), quote=True)}" alt="" width="320" height="180" loading="lazy">'
        if https_or_loopback(item.poster_url)
        else '<span class="noposter"></span>'
    )
    facts = [f"{words['length']} {clock(item.duration)}" if item.duration else ""]
    if item.created_at:
        facts.append(f"{words['added']} {local_time(iso_time(item.created_at), zone, lang)}")
    meta = " · ".join(escape(fact) for fact in facts if fact)
    return (
        f'<li><label>{poster}<input type="checkbox" name="media_content_key" value="{key}">'
        f'<span class="t">{escape(item.title)}</span><span class="m">{meta}</span></label></li>'
    )


def picker_page(  # noqa: PLR0917 (what to list, the signed session, how, and where the pages go on)
    items: Sequence[PickItem],
    session: str,
    lang: str,
    zone: str,
    frame_ancestors: str,
    query: str = "",
    next_token: str | None = None,
    first_page: bool = True,
) -> tuple[str, str]:
    """The page and its Content-Security-Policy (posters only from their own origins)."""
    words = WORDS[lang]
    hidden = (f'<input type="hidden" name="session" value="{escape(session, quote=True)}">'
              f'<input type="hidden" name="lang" value="{lang}">')  # fmt: skip
    search = (
        f'<form class="search" method="get" action="deep-link" role="search">{hidden}'
        f'<label>{escape(words["search"])}<br><input type="search" name="q" value="{escape(query, quote=True)}" '
        f'maxlength="200"></label><button type="submit">{escape(words["go"])}</button></form>'
    )
    heading = words["found"].format(query=query) if query else words["listed"]
    listed = "".join(_item(item, lang, zone, words) for item in items)
    empty = words["none"] if query else words["empty"]
    listing = f'<ul class="picks">{listed}</ul>' if items else f"<p>{escape(empty)}</p>"
    base = {"session": session, "lang": lang}
    here = {**base, **({"q": query} if query else {})}

    def link(params: dict[str, str], text: str) -> str:
        return f'<a href="deep-link?{escape(urlencode(params))}">{escape(text)}</a>'

    links = [] if first_page else [link(here, words["first"])]
    if next_token:
        links.append(link({**here, "after": next_token}, words["next"]))
    if query:
        links.append(link(base, words["all"]))
    keys = (
        f"<details><summary>{escape(words['keys'])}</summary><label>{escape(words['keys'])}<br>"
        '<textarea name="keys" rows="3"></textarea></label></details>'
    )
    choose = (
        f'<form method="post" action="deep-link">{hidden}<h2>{escape(heading)}</h2>'
        f'<p class="muted">{escape(words["hint"])}</p>{listing}{keys}'
        f'<p><button type="submit">{escape(words["choose"])}</button></p></form>'
    )
    nav = f'<p class="pages">{" · ".join(links)}</p>' if links else ""
    body = f"<h1>{escape(words['title'])}</h1>{search}{choose}{nav}"
    origins = sorted({_origin(str(item.poster_url)) for item in items if https_or_loopback(item.poster_url)})
    images = " ".join(origins) or "'none'"
    csp = (
        f"default-src 'none'; style-src 'sha256-{STYLE_HASH}'; img-src {images}; base-uri 'none'; "
        f"form-action 'self'; frame-ancestors {frame_ancestors}"
    )
    return document(words["title"], body, lang), csp
