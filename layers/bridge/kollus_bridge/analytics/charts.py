"""Inline SVG charts of learning analytics. Pure: figures in, SVG text out (no scripts, no styles:
colours are presentation attributes, so the pages' Content-Security-Policy stays strict).

Palettes stay apart for colour-blind readers and in greyscale: sequential ones run light to dark
(viridis for coverage and the tiers, magma for rewatch), and every chart has a table beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

#: Light to dark, one step per tenth of the learners counted: a higher share is a darker cell.
COVERAGE_COLOURS = ("#fde725", "#b5de2b", "#6ece58", "#35b779", "#1f9e89", "#26828e", "#31688e", "#3e4989",
                    "#482878", "#440154")  # fmt: skip
REWATCH_COLOURS = ("#fcfdbf", "#fec488", "#fd9567", "#f7705c", "#de4968", "#b73779", "#8c2981", "#641a80",
                   "#3b0f70", "#1c1044")  # fmt: skip
EMPTY = "#eeeeee"
TIER_COLOURS = {"not_viewed": EMPTY, "touched": "#fde725", "once": "#35b779", "twice": "#31688e", "more": "#440154"}
LINE = "#2a788e"
WIDTH, LEFT = 720, 96


def clock(seconds: float) -> str:
    """`m:ss`, or `h:mm:ss` from an hour."""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def shade(share: float, colours: Sequence[str]) -> str:
    """The colour of a share in [0, 1]: nothing is `EMPTY`, anything else one of `colours` by sixths."""
    if share <= 0:
        return EMPTY
    return colours[min(len(colours) - 1, int(share * len(colours)))]


def _svg(height: int, label: str, body: list[str], width: int = WIDTH, fluid: bool = False) -> str:
    """A full-width chart, or a `fluid` strip, scales to the page (classes `chart` and `strip`: the pages'
    style fits them to narrow screens); a small strip keeps its size."""
    size = 'class="chart"' if width == WIDTH else 'class="strip"' if fluid else f'width="{width}" height="{height}"'
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(label)}" '
        f'viewBox="0 0 {width} {height}" {size}>'
        f"<title>{escape(label)}</title>{''.join(body)}</svg>"
    )


def _axis(duration: float, y: int) -> list[str]:
    parts = [f'<line x1="{LEFT}" y1="{y}" x2="{WIDTH}" y2="{y}" stroke="#555555"/>']
    for step in range(5):
        x = LEFT + (WIDTH - LEFT) * step / 4
        anchor = "start" if step == 0 else "end" if step == 4 else "middle"
        parts.append(f'<line x1="{x:.1f}" y1="{y}" x2="{x:.1f}" y2="{y + 4}" stroke="#555555"/>')
        parts.append(
            f'<text x="{x:.1f}" y="{y + 16}" font-size="11" text-anchor="{anchor}" fill="#222222">'
            f"{clock(duration * step / 4)}</text>"
        )
    return parts


def _row(  # noqa: PLR0917 (a row's values, scale, colours, place, name and hover texts)
    values: Sequence[float], total: int, colours: Sequence[str], y: int, height: int, name: str,
    titles: Sequence[str] | None = None,
) -> list[str]:  # fmt: skip
    width = (WIDTH - LEFT) / max(1, len(values))
    parts = [f'<text x="0" y="{y + height - 6}" font-size="12" fill="#222222">{escape(name)}</text>']
    for index, value in enumerate(values):
        share = value / total if total else 0.0
        hover = f"<title>{escape(titles[index])}</title>" if titles else ""
        parts.append(
            f'<rect class="cell" data-block="{index}" data-value="{value:g}" x="{LEFT + index * width:.2f}" y="{y}" '
            f'width="{width:.2f}" height="{height}" fill="{shade(share, colours)}">{hover}</rect>'
        )
    return parts


def heat_strip(  # noqa: PLR0917 (two layers, their scale, the timeline, the labels, hover texts)
    coverage: Sequence[int],
    rewatchers: Sequence[int],
    learners: int,
    duration: float,
    names: tuple[str, str],
    label: str,
    titles: tuple[Sequence[str], Sequence[str]] | None = None,
) -> str:
    """Coverage above the rewatch layer, block by block, on a timeline; `titles`, each cell's figures
    in words (shown on hover)."""
    body = [
        *_row(coverage, learners, COVERAGE_COLOURS, 4, 28, names[0], titles[0] if titles else None),
        *_row(rewatchers, learners, REWATCH_COLOURS, 36, 18, names[1], titles[1] if titles else None),
        *_axis(duration, 60),
    ]
    return _svg(84, label, body)


def scale_legend(colours: Sequence[str], label: str, low: str, high: str) -> str:
    """A colour scale's key: no one (grey), then each tenth light to dark, its ends labelled."""
    step, left = 22, 0
    body = [f'<rect class="key" x="{left}" y="0" width="{step - 2}" height="12" fill="{EMPTY}"/>']
    body += [
        f'<rect class="key" x="{left + (index + 1) * step}" y="0" width="{step - 2}" height="12" fill="{colour}"/>'
        for index, colour in enumerate(colours)
    ]
    end = left + (len(colours) + 1) * step - 2
    body += [
        f'<text x="0" y="26" font-size="11" fill="#222222">{escape(low)}</text>',
        f'<text x="{end}" y="26" font-size="11" text-anchor="end" fill="#222222">{escape(high)}</text>',
    ]
    return _svg(30, label, body, width=end)


def reach_line(reach: Sequence[int], learners: int, duration: float, label: str) -> str:
    """The share of learners whose furthest watched block is at or past each block."""
    top, height = 8, 120
    width = (WIDTH - LEFT) / max(1, len(reach))
    points = " ".join(
        f"{LEFT + (index + 0.5) * width:.1f},{top + height * (1 - (value / learners if learners else 0)):.1f}"
        for index, value in enumerate(reach)
    )
    body = [
        f'<text x="0" y="{top + 10}" font-size="11" fill="#222222">100%</text>',
        f'<text x="0" y="{top + height}" font-size="11" fill="#222222">0%</text>',
        f'<line x1="{LEFT}" y1="{top}" x2="{WIDTH}" y2="{top}" stroke="#dddddd"/>',
        f'<polyline class="reach" points="{points}" fill="none" stroke="{LINE}" stroke-width="2.5"/>',
        *_axis(duration, top + height + 4),
    ]
    return _svg(top + height + 28, label, body)


def bars(rows: Sequence[tuple[str, int]], label: str) -> str:
    """Horizontal bars, one per (name, count), scaled to the largest."""
    largest = max((count for _, count in rows), default=0) or 1
    body = []
    for index, (name, count) in enumerate(rows):
        y = 4 + index * 24
        length = (WIDTH - LEFT - 60) * count / largest
        body += [
            f'<text x="0" y="{y + 14}" font-size="12" fill="#222222">{escape(name)}</text>',
            f'<rect class="bar" x="{LEFT}" y="{y}" width="{length:.1f}" height="18" fill="{COVERAGE_COLOURS[3]}"/>',
            f'<text x="{LEFT + length + 6:.1f}" y="{y + 14}" font-size="12" fill="#222222">{count}</text>',
        ]
    return _svg(8 + 24 * len(rows), label, body)


def _strip(  # noqa: PLR0917 (the cells, their kind and name, the size)
    cells: Sequence[tuple[str, str]], kind: str, label: str, width: int, height: int, fluid: bool = False
) -> str:
    """A thin strip of equal cells, each (extra attributes, colour)."""
    cell = width / max(1, len(cells))
    body = [
        f'<rect class="{kind}"{extra} x="{index * cell:.2f}" y="0" width="{cell:.2f}" height="{height}" '
        f'fill="{colour}"/>'
        for index, (extra, colour) in enumerate(cells)
    ]
    return _svg(height, label, body, width=width, fluid=fluid)


def tier_strip(strip: Sequence[str], label: str, width: int = 240, height: int = 14, fluid: bool = False) -> str:
    """A learner's per-block tiers as a thin strip (`fluid`: scaled to the page's width)."""
    cells = [(f' data-tier="{tier}"', TIER_COLOURS.get(tier, EMPTY)) for tier in strip]
    return _strip(cells, "tier", label, width, height, fluid)


def share_strip(shares: Sequence[float], label: str, width: int = 240, height: int = 14, fluid: bool = False) -> str:
    """Per block, a share in [0, 1] (the class's coverage) as a thin strip (`fluid`: scaled to the page)."""
    cells = [("", shade(share, COVERAGE_COLOURS)) for share in shares]
    return _strip(cells, "share", label, width, height, fluid)


def daily_bars(rows: Sequence[tuple[str, int, int]], names: tuple[str, str], label: str, titles: Sequence[str]) -> str:
    """Per day (date, active, completed): learners active as a pale bar, completions as a dark one
    inside it, both on one scale; the first and last dates under the axis; `titles`, each day's
    figures in words (shown on hover)."""
    top, height = 8, 110
    largest = max((max(active, completed) for _, active, completed in rows), default=0) or 1
    width = (WIDTH - LEFT) / max(1, len(rows))
    body = [
        f'<text x="0" y="{top + 10}" font-size="11" fill="#222222">{largest}</text>',
        f'<text x="0" y="{top + height}" font-size="11" fill="#222222">0</text>',
        f'<line x1="{LEFT}" y1="{top + height}" x2="{WIDTH}" y2="{top + height}" stroke="#555555"/>',
    ]
    for index, (day, active, completed) in enumerate(rows):
        x = LEFT + index * width
        group = [f"<title>{escape(titles[index])}</title>"]
        for kind, value, colour, inset in (("active", active, COVERAGE_COLOURS[1], 1.0), ("completed", completed,
                                           COVERAGE_COLOURS[9], width / 4)):  # fmt: skip
            tall = height * value / largest
            group.append(
                f'<rect class="{kind}" data-day="{day}" data-value="{value}" x="{x + inset:.2f}" '
                f'y="{top + height - tall:.2f}" width="{max(0.5, width - 2 * inset):.2f}" height="{tall:.2f}" '
                f'fill="{colour}"/>'
            )
        body.append(f'<g class="day">{"".join(group)}</g>')
    if rows:
        body += [
            f'<text x="{LEFT}" y="{top + height + 16}" font-size="11" fill="#222222">{escape(rows[0][0])}</text>',
            f'<text x="{WIDTH}" y="{top + height + 16}" font-size="11" text-anchor="end" fill="#222222">'
            f"{escape(rows[-1][0])}</text>",
        ]
    key = [
        f'<rect x="{LEFT}" y="{top + height + 24}" width="12" height="10" fill="{COVERAGE_COLOURS[1]}"/>',
        f'<text x="{LEFT + 16}" y="{top + height + 33}" font-size="11" fill="#222222">{escape(names[0])}</text>',
        f'<rect x="{LEFT + 200}" y="{top + height + 24}" width="12" height="10" fill="{COVERAGE_COLOURS[9]}"/>',
        f'<text x="{LEFT + 216}" y="{top + height + 33}" font-size="11" fill="#222222">{escape(names[1])}</text>',
    ]
    return _svg(top + height + 40, label, body + key)
