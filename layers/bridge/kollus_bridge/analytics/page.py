"""The analytics pages: an instructor's page per content, a learner's page per content and a learner's
list of contents. Pure: figures in, one self-contained HTML document out (inline SVG, one hashed
style block, no scripts, nothing fetched from elsewhere). Korean and English."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from .charts import (
    COVERAGE_COLOURS,
    REWATCH_COLOURS,
    TIER_COLOURS,
    bars,
    clock,
    daily_bars,
    heat_strip,
    reach_line,
    scale_legend,
    share_strip,
    tier_strip,
)
from .words import ENVIRONMENT_WORDS, LABELS, LANGUAGES, status_word

#: Class figures beside a learner's own only when at least this many learners count.
CLASS_MINIMUM = 5

#: The zone the pages give times in when none is named (DISPLAY_TIMEZONE's default).
DEFAULT_ZONE = "Asia/Seoul"
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def local_time(iso: str | None, zone: str, lang: str) -> str:
    """An ISO-8601 UTC time as people write it, in `zone`: `2026년 12월 3일 13:32 KST`, `3 Dec 2026, 13:32 KST`."""
    if not iso:
        return ""
    at = datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(ZoneInfo(zone))
    name = at.tzname() or zone
    if lang == "ko":
        return f"{at.year}년 {at.month}월 {at.day}일 {at:%H:%M} {name}"
    return f"{at.day} {_MONTHS[at.month - 1]} {at.year}, {at:%H:%M} {name}"


STYLE = (
    "body{font:14px/1.45 system-ui,sans-serif;color:#222;margin:16px;max-width:960px}"
    "h1{font-size:20px;margin:0 0 4px;overflow-wrap:anywhere}h2{font-size:16px;margin:20px 0 6px}"
    "svg.chart{display:block;width:100%;max-width:720px;height:auto}"
    "svg.strip{display:block;width:100%;max-width:480px;height:auto}"
    "@media (max-width:600px){svg.chart text{font-size:19px}}"
    ".wide{overflow-x:auto;max-width:100%}"
    "table{border-collapse:collapse;margin:6px 0}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left;"
    "white-space:nowrap}caption{text-align:left}"
    ".summary{display:flex;flex-wrap:wrap;gap:6px 18px;margin:10px 0}.summary div{min-width:90px}"
    ".summary b{display:block;font-size:18px}"
    ".ends{display:flex;justify-content:space-between;max-width:480px;font-size:12px;color:#555}"
    ".muted{color:#555}.legend span{display:inline-block;margin-right:10px}"
    ".legend svg{vertical-align:middle;margin-right:4px}details{margin:4px 0}"
    # The deep-linking picker (kollus_bridge.api.picker): a grid of videos to tick, a search form.
    ".picks{list-style:none;padding:0;margin:8px 0;display:grid;gap:10px;"
    "grid-template-columns:repeat(auto-fill,minmax(220px,1fr))}"
    ".picks label{display:grid;grid-template-columns:auto 1fr;gap:4px 8px;border:1px solid #ccc;"
    "border-radius:6px;padding:8px;cursor:pointer}"
    ".picks img,.picks .noposter{grid-column:1/3;width:100%;aspect-ratio:16/9;object-fit:cover;background:#eee}"
    ".picks .t{font-weight:600;overflow-wrap:anywhere}.picks .m{grid-column:2;color:#555;font-size:13px}"
    "form.search{display:flex;flex-wrap:wrap;gap:6px;align-items:end}input[type=search]{min-width:12em}"
    "textarea{width:100%;max-width:28em}button{padding:6px 12px}"
)
STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()


def content_security_policy(frame_ancestors: str) -> str:
    """Nothing but the one style block; framed only by `frame_ancestors` (VIEW_FRAME_ANCESTORS)."""
    return (
        f"default-src 'none'; style-src 'sha256-{STYLE_HASH}'; img-src 'none'; base-uri 'none'; "
        f"form-action 'none'; frame-ancestors {frame_ancestors}"
    )


def language(asked: str | None, accept_language: str | None) -> str:
    """`ko` or `en`: asked for, else the browser's first known preference, else Korean."""
    if asked in LANGUAGES:
        return str(asked)
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return "ko"


def document(title: str, body: str, lang: str) -> str:
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>{body}</body></html>"
    )


def computing_note(words: Mapping[str, str]) -> str:
    """That figures are being computed, and a link that loads the page again (no timed refresh: a page
    that reloads itself moves a reader's place and a screen reader's, WCAG 2.2.1)."""
    return f'<p role="status">{escape(words["computing"])} <a href="">{escape(words["refresh_now"])}</a></p>'


def expired_page(lang: str) -> str:
    """What a browser shows for a view link that is not (or no longer) valid, instead of an error body."""
    words = LABELS[lang]
    body = f'<h1>{escape(words["expired"])}</h1><p class="muted">{escape(words["expired_hint"])}</p>'
    return document(words["expired"], body, lang)


def wide(table: str, label: str) -> str:
    """A table that scrolls in its own box when it is wider than a phone, never the page; the box takes
    the keyboard's focus (so it scrolls without a mouse) and is named for screen readers."""
    return f'<div class="wide" tabindex="0" role="region" aria-label="{label}">{table}</div>'


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], caption: str) -> str:
    head = "".join(f"<th>{escape(str(cell))}</th>" for cell in headers)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(cell))}</td>" for cell in row) + "</tr>" for row in rows)
    html = f"<table><caption>{escape(caption)}</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    return wide(html, escape(caption))


def data(headers: Sequence[str], rows: Sequence[Sequence[Any]], caption: str, words: Mapping[str, str]) -> str:
    """The table behind a chart, for screen readers and anyone who wants the numbers."""
    return f"<details><summary>{escape(words['data'])}</summary>{table(headers, rows, caption)}</details>"


def _ranges(parts: Sequence[Sequence[float]]) -> str:
    return ", ".join(f"{clock(start)}\u2013{clock(end)}" for start, end in parts)  # an en dash


def _legend(words: Mapping[str, str]) -> str:
    items = "".join(
        f"<span>{tier_strip([tier], words[tier], width=14)}{escape(words[tier])}</span>" for tier in TIER_COLOURS
    )
    return f'<p class="legend">{escape(words["legend"])}: {items}</p>'


def computing_page(lang: str) -> str:
    words = LABELS[lang]
    return document(words["content"], f"<h1>{escape(words['content'])}</h1>{computing_note(words)}", lang)


@dataclass(frozen=True)
class TablePage:
    """The links from the learner table's page to the first page (None: this is it) and to the next
    (None: this is the last); how many rows the whole table has; its order (column, descending) and
    the link its column headers extend with `&sort=` (None: the headers are not links)."""

    first_link: str | None = None
    next_link: str | None = None
    total: int | None = None
    order: tuple[str, bool] = ("name", False)
    sort_base: str | None = None


#: The learner table's columns, each with what a click on its header sorts by (None: not sortable)
#: and the direction a first click takes (numbers and times: the largest and latest first).
COLUMNS = (("learner", "name", False), ("status", "status", False), ("progress", "progress", True),
           ("minutes", "watch_time", True), ("last_active", "last_active", True), ("strip", None, False))  # fmt: skip


def content_page(
    insights: Mapping[str, Any], learners: Sequence[Mapping[str, Any]], lang: str, zone: str = DEFAULT_ZONE,
    table_page: TablePage | None = None,
) -> str:  # fmt: skip
    """The instructor's page: heat strip with the rewatch layer, reach, funnel, environment, learners."""
    words = LABELS[lang]
    key = insights["media_content_key"]
    head = f"<h1>{escape(words['content'])}: {escape(key)}</h1>"
    stale = f" ({escape(words['stale'])})" if insights.get("stale") else ""
    head += f'<p class="muted">{escape(words["as_of"])} {escape(local_time(insights["as_of"], zone, lang))}{stale} · '
    head += f"{escape(words['learners'])} {insights['learners_counted']}</p>"
    grid = insights.get("grid")
    if not grid or not insights["learners_counted"]:
        return document(words["content"], head + f"<p>{escape(words['none'])}</p>", lang)
    n, duration, length = grid["block_count"], grid["duration"], grid["block_length"]
    counted = insights["learners_counted"]
    coverage, rewatchers, reach = insights["coverage"], insights["rewatch"]["learners"], insights["reach"]
    spans = [(clock(i * length), clock(min(duration, (i + 1) * length))) for i in range(n)]
    parts = [head, summary(insights, words), f"<h2>{escape(words['heat'])}</h2>"]

    def hover(name: str, values: Sequence[int]) -> list[str]:
        return [
            words[name].format(n=i + 1, start=spans[i][0], end=spans[i][1], count=values[i], total=counted,
                               share=round(100 * values[i] / counted)) for i in range(n)
        ]  # fmt: skip

    titles = (hover("cell_watched", coverage), hover("cell_rewatched", rewatchers))
    names = (words["coverage"], words["rewatch"])
    parts.append(heat_strip(coverage, rewatchers, counted, duration, names, words["heat"], titles))
    parts.append(f'<p class="muted">{escape(words["heat_caption"].format(total=counted))}</p>')
    for colours, name in ((COVERAGE_COLOURS, "coverage"), (REWATCH_COLOURS, "rewatch")):
        key = scale_legend(colours, f"{words['scale']}: {words[name]}", words["scale_low"], words["scale_high"])
        parts.append(f'<div class="legend"><span>{escape(words[name])}</span>{key}</div>')
    block_rows = [(i + 1, *spans[i], coverage[i], rewatchers[i], reach[i]) for i in range(n)]
    columns = [words["block"], words["from"], words["to"], words["coverage"], words["rewatch"], words["reach"]]
    parts.append(data(columns, block_rows, words["heat"], words))
    for name, found in (("hard", insights.get("hard_parts")), ("skipped", insights.get("skipped_parts"))):
        if found:
            parts.append(f"<p>{escape(words[name])}: {escape(_ranges(found))}</p>")
    parts += [f"<h2>{escape(words['reach'])}</h2>", reach_line(reach, counted, duration, words["reach"])]
    funnel = [(words[name], insights["funnel"][name]) for name in
              ("started", "reached_25", "reached_50", "reached_75", "reached_90", "completed")]  # fmt: skip
    if insights.get("not_started") is not None:
        funnel.insert(0, (words["not_started"], insights["not_started"]))
    parts += [f"<h2>{escape(words['funnel'])}</h2>", bars(funnel, words["funnel"])]
    parts.append(data([words["status"], words["learners"]], funnel, words["funnel"], words))
    parts.append(activity(insights.get("activity"), words))
    parts.append(f"<h2>{escape(words['environment'])}</h2>")
    for name in ("device", "player", "host"):
        named = ENVIRONMENT_WORDS[lang]
        rows = [(named.get(row["name"], row["name"]), row["sessions"], row["learners"])
                for row in insights["environment"][name]]  # fmt: skip
        parts.append(table([words[name], words["sessions"], words["table"]], rows, words[name]))
    parts.append(f"<h2>{escape(words['table'])}</h2>{_legend(words)}")
    where = table_page or TablePage()
    parts.append(_learner_table(learners, words, lang, zone, where))
    parts.append(_table_pages(len(learners), insights, where, words))
    return document(f"{words['content']}: {key}", "".join(parts), lang)


def activity(days: Sequence[Mapping[str, Any]] | None, words: Mapping[str, str]) -> str:
    """Learners active and completions per day (the last 30), as bars with the figures behind them."""
    if not days:
        return ""
    rows = [(day["date"], day["active"], day["completed"]) for day in days]
    titles = [words["cell_day"].format(date=date, active=active, completed=done) for date, active, done in rows]
    chart = daily_bars(rows, (words["active"], words["completions"]), words["activity"], titles)
    table_of = data([words["day"], words["active"], words["completions"]], rows, words["activity"], words)
    return f"<h2>{escape(words['activity'])}</h2>{chart}{table_of}"


def summary(insights: Mapping[str, Any], words: Mapping[str, str]) -> str:
    """The figures an instructor looks at first: enrolled (in a course), started, completed and the rate,
    median watch time and progress, and the sessions the integrity checks flagged."""
    started, completed = insights["funnel"]["started"], insights["funnel"]["completed"]
    enrolled = insights.get("enrolled")
    base = enrolled or started
    unique = (insights.get("watch_time") or {}).get("unique_seconds") or {}
    duration = (insights.get("grid") or {}).get("duration") or 0
    median = unique.get("median")
    figures = [
        *([("enrolled", enrolled)] if enrolled is not None else []),
        ("started", started),
        ("completed", completed),
        ("rate", f"{round(100 * completed / base)}%" if base else "\u2013"),
        ("median_watch", clock(median) if median is not None else "\u2013"),
        ("median_progress", f"{round(100 * median / duration)}%" if median is not None and duration else "\u2013"),
        ("flagged", insights.get("suspicious_sessions", 0)),
    ]
    cells = "".join(f"<div><b>{escape(str(value))}</b>{escape(words[name])}</div>" for name, value in figures)
    return f'<h2>{escape(words["summary"])}</h2><div class="summary">{cells}</div>'


def _table_pages(shown: int, insights: Mapping[str, Any], where: TablePage, words: Mapping[str, str]) -> str:
    """How many the table shows of how many, and the links to the first and the next page."""
    total = where.total if where.total is not None else insights.get("enrolled") or insights["learners_counted"]
    links = [f'<a href="{escape(where.first_link)}">{escape(words["first_page"])}</a>'] if where.first_link else []
    if where.next_link:
        links.append(f'<a href="{escape(where.next_link)}">{escape(words["next_page"])}</a>')
    count = escape(words["shown"].format(shown=shown, total=total))
    return f'<p class="pages">{count} {" · ".join(links)}</p>'


def _header(name: str, sort: str | None, first_descending: bool, words: Mapping[str, str], where: TablePage) -> str:
    """A column's header: a link that sorts by it (again: the other way), marked when it is the order."""
    label = escape(words[name])
    if sort is None or where.sort_base is None:
        return f'<th scope="col">{label}</th>'
    current, descending = where.order
    marked = f' aria-sort="{"descending" if descending else "ascending"}"' if current == sort else ""
    going_down = not descending if current == sort else first_descending
    arrow = (" \u2193" if descending else " \u2191") if current == sort else ""
    href = f"{where.sort_base}&sort={'-' if going_down else ''}{sort}"
    return f'<th scope="col"{marked}><a href="{escape(href)}">{label}</a>{arrow}</th>'


def _learner_table(
    learners: Sequence[Mapping[str, Any]], words: Mapping[str, str], lang: str, zone: str, where: TablePage
) -> str:
    head = "".join(_header(name, sort, first, words, where) for name, sort, first in COLUMNS)
    rows = []
    for row in learners:
        minutes = " / ".join(
            f"{row.get(name) or 0:g}" for name in ("unique_minutes", "content_minutes", "wall_minutes")
        )
        strip = tier_strip(row["strip"], f"{row['client_user_id']}: {words['strip']}") if row.get("strip") else ""
        status = status_word(row["status"], lang)
        rows.append(
            f'<tr class="learner"><td>{escape(row["client_user_id"])}</td><td>{escape(status)}</td>'
            f"<td>{row['progress']:g}%</td><td>{minutes}</td>"
            f"<td>{escape(local_time(row.get('last_active_at'), zone, lang))}</td><td>{strip}</td></tr>"
        )
    caption = escape(words["table"])
    html = f"<table><caption>{caption}</caption><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    return wide(html, caption)


def learner_content_page(
    view: Mapping[str, Any], class_shares: Sequence[float] | None, lang: str, zone: str = DEFAULT_ZONE
) -> str:
    """A learner's page for one content: completed (and when), or what is left and how long it takes
    at their pace; their strip beside the class's."""
    words = LABELS[lang]
    title = view.get("title") or view["media_content_key"]
    parts = [f"<h1>{escape(title)}</h1>", f'<p class="muted">{escape(words["progress"])} {view["progress"]:g}%</p>']
    missing = view.get("missing_ranges") or []
    if view.get("status") == "completed":
        when = local_time(view.get("completed_at"), zone, lang)
        parts.append(f'<p class="done"><strong>{escape(words["completed_on"])}</strong> {escape(when)}</p>')
    else:
        parts.append(f"<h2>{escape(words['left'])}</h2>")
        parts.append(f"<p>{escape(_ranges(missing))}</p>" if missing else f"<p>{escape(words['done'])}</p>")
    if view.get("status") != "completed" and missing and view.get("minutes_left_at_own_speed") is not None:
        parts.append(f"<p>{escape(words['time_left'])}: {clock(view['minutes_left_at_own_speed'] * 60)}</p>")
    if view.get("strip"):
        duration = (view.get("grid") or {}).get("duration")
        ends = f'<div class="ends"><span>0:00</span><span>{clock(duration)}</span></div>' if duration else ""
        parts.append(f"<h2>{escape(words['strip'])}</h2>")
        mine = tier_strip(view["strip"], words["you"], width=480, height=18, fluid=True)
        parts.append(f"<p>{escape(words['you'])}<br>{mine}{ends}</p>{_legend(words)}")
        if class_shares is not None:
            strip = share_strip(class_shares, words["class"], width=480, height=18, fluid=True)
            key = scale_legend(COVERAGE_COLOURS, f"{words['scale']}: {words['class']}", words["scale_low"],
                               words["scale_high"])  # fmt: skip
            parts.append(
                f'<p>{escape(words["class"])}<br>{strip}{ends}</p><div class="legend">{key}</div>'
                f'<p class="muted">{escape(words["class_key"])}</p>'
            )
        rows = [(index + 1, words[tier], f"{round(100 * class_shares[index])}%" if class_shares else "")
                for index, tier in enumerate(view["strip"])]  # fmt: skip
        parts.append(data([words["block"], words["you"], words["class"]], rows, words["strip"], words))
    return document(str(title), "".join(parts), lang)


def learner_page(
    client_user_id: str, rows: Sequence[Mapping[str, Any]], lang: str, zone: str = DEFAULT_ZONE,
    links: Mapping[str, str] | None = None,
) -> str:  # fmt: skip
    """A learner's list of lectures with status and progress, each title a link to the lecture's page
    (`links`, by media content key)."""
    words = LABELS[lang]
    body = []
    for row in rows:
        title = escape(str(row.get("title") or row["media_content_key"]))
        href = (links or {}).get(row["media_content_key"])
        cells = [f'<a href="{escape(href)}">{title}</a>' if href else title, escape(status_word(row["status"], lang)),
                 f"{row['progress']:g}%", escape(local_time(row.get("last_active_at"), zone, lang))]  # fmt: skip
        body.append("<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>")
    head = "".join(f"<th>{escape(words[name])}</th>" for name in ("title", "status", "progress", "last_active"))
    caption = escape(client_user_id)
    html = f"<table><caption>{caption}</caption><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    content = f"<h1>{escape(words['your_contents'])}</h1>" + wide(html, caption)
    return document(words["your_contents"], content, lang)
