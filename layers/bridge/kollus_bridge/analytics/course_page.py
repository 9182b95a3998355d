"""The instructor's page of a course: every lecture in order with started, completed, median progress
and where learners drop off, each linking to the lecture's page; the course's activity over the last
30 days. Pure: figures in, one self-contained HTML document out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from .charts import clock
from .course import LectureRow, median_progress, steepest_drop
from .page import activity, computing_note, document, wide
from .words import LABELS


def _cells(row: LectureRow, enrolled: int, words: Mapping[str, str]) -> list[str]:
    insights = row.insights
    if insights is None:
        return [escape(words["computing_short"])] + [""] * 3
    funnel = insights.get("funnel") or {"started": 0, "completed": 0}
    base = insights.get("enrolled") or enrolled
    share = f" ({round(100 * funnel['completed'] / base)}%)" if base else ""
    progress = median_progress(insights)
    drop = steepest_drop(insights)
    where = words["drop_words"].format(start=clock(drop[0]), end=clock(drop[1]), count=drop[2]) if drop else "\u2013"
    return [
        str(funnel["started"]),
        f"{funnel['completed']}{share}",
        f"{progress:g}%" if progress is not None else "\u2013",
        escape(where),
    ]


def course_page(  # noqa: PLR0917 (the course, its lectures, who and when, how and where to link)
    course_id: str,
    title: str | None,
    lectures: Sequence[LectureRow],
    enrolled: int,
    days: Sequence[Mapping[str, Any]],
    lang: str,
    links: Mapping[str, str] | None = None,
) -> str:
    words = LABELS[lang]
    name = title or course_id
    parts = [f"<h1>{escape(words['course'])}: {escape(name)}</h1>",
             f'<p class="muted">{escape(words["enrolled"])} {enrolled}</p>']  # fmt: skip
    if not lectures:
        return document(name, "".join(parts) + f"<p>{escape(words['course_none'])}</p>", lang)
    columns = ("lecture", "started", "completed", "median_short", "drop_off")
    head = "<th>#</th>" + "".join(f"<th>{escape(words[column])}</th>" for column in columns)
    body = []
    for number, row in enumerate(lectures, start=1):
        label = escape(row.title or row.media_content_key)
        href = (links or {}).get(row.media_content_key)
        lecture = f'<a href="{escape(href)}">{label}</a>' if href else label
        cells = [str(number), lecture, *_cells(row, enrolled, words)]
        body.append('<tr class="lecture">' + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>")
    caption = escape(words["lectures"])
    html = f"<table><caption>{caption}</caption><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    parts += [wide(html, caption), f'<p class="muted">{escape(words["course_caption"])}</p>']
    parts.append(activity(days, words))
    if any(row.insights is None for row in lectures):
        parts.insert(2, computing_note(words))
    return document(f"{words['course']}: {name}", "".join(parts), lang)
