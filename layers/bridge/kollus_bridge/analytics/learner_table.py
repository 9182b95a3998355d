"""The instructor page's learner table as a computation keeps it: one compact row per learner counted
(and per enrolled learner who has not started), written with the insights so that the table and the
figures above it are one snapshot; sorted and paged when a page is read. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from kollus_bridge.times import iso_time

from .activity import LearnerActivity
from .learners import Status, Tier, learner_row, strip
from .metrics import Grid

#: A tier as one character of the stored strip.
TIER_CODES = {tier.value: str(index) for index, tier in enumerate(Tier)}
TIERS = {code: tier for tier, code in TIER_CODES.items()}
#: What the table sorts by (`sort=`; a leading `-` for descending), the learner's name first.
SORTS = ("name", "status", "progress", "last_active", "watch_time")
#: Status in the order a sort by status lists it.
STATUS_ORDER = {Status.COMPLETED.value: 0, Status.STARTED.value: 1, Status.STALLED.value: 2,
                Status.NOT_STARTED.value: 3}  # fmt: skip


def stored_row(learner: LearnerActivity, grid: Grid, ratio: float, now: int, stalled_after_days: int) -> dict[str, Any]:
    """A counted learner's row: name, status, progress, watch minutes (unique, content, wall), last
    active (epoch ms), and their tier strip on the grid."""
    row = learner_row(learner, learner.client_user_id, now, stalled_after_days)
    minutes = [row["unique_minutes"], row["content_minutes"], row["wall_minutes"]]
    tiers = "".join(TIER_CODES[tier] for tier in strip(learner, grid, ratio))
    return {"u": row["client_user_id"], "s": row["status"], "p": row["progress"], "m": minutes,
            "a": row["last_active_at"], "t": tiers}  # fmt: skip


def waiting_row(client_user_id: str) -> dict[str, Any]:
    """An enrolled learner with no session yet."""
    return {"u": client_user_id, "s": Status.NOT_STARTED.value, "p": 0.0, "m": [0, 0, 0], "a": None, "t": ""}


def page_row(stored: Mapping[str, Any]) -> dict[str, Any]:
    """A stored row as the page shows it."""
    unique, content, wall = stored["m"]
    return {
        "client_user_id": stored["u"], "status": stored["s"], "progress": stored["p"], "unique_minutes": unique,
        "content_minutes": content, "wall_minutes": wall, "last_active": stored["a"],
        "last_active_at": iso_time(stored["a"]), "strip": [TIERS[code] for code in stored["t"]],
    }  # fmt: skip


def parse_sort(text: str | None) -> tuple[str, bool]:
    """(column, descending) from `sort=`; anything else sorts by name."""
    descending = bool(text) and str(text).startswith("-")
    column = str(text or "").removeprefix("-")
    return (column, descending) if column in SORTS else ("name", False)


def _key(column: str, row: Mapping[str, Any]) -> tuple[Any, ...]:
    if column == "status":
        return (STATUS_ORDER.get(row["status"], len(STATUS_ORDER)),)
    if column == "progress":
        return (row["progress"],)
    if column == "last_active":
        return (row["last_active"] is not None, row["last_active"] or 0)  # never active: first ascending
    if column == "watch_time":
        return (row["unique_minutes"],)
    return ()


def sorted_rows(rows: Iterable[Mapping[str, Any]], column: str, descending: bool) -> list[Mapping[str, Any]]:
    """By the column, learners with equal values by name (always ascending, so pages are stable)."""
    by_name = sorted(rows, key=lambda row: str(row["client_user_id"]))
    if column == "name":
        return by_name[::-1] if descending else by_name
    return sorted(by_name, key=lambda row: _key(column, row), reverse=descending)


def page_of(
    rows: Sequence[Mapping[str, Any]], offset: int, size: int
) -> tuple[Sequence[Mapping[str, Any]], int | None]:
    """The rows from `offset`, and the next page's offset (None on the last)."""
    shown = rows[offset : offset + size]
    return shown, offset + size if offset + size < len(rows) else None
