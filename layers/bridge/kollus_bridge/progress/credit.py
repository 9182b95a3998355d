"""What a session is credited, pure: its claims judged on the content's grid of record, within the time
the server saw pass.

A callback *claims* blocks (played, with enough block time, on the grid it brings). The record
*credits* them on the content's **grid of record** (`record_grid`): the content's pinned grid, else the
finest grid seen for it. A claim on another grid counts only for the content time its block times
prove, laid over the grid of record; a block reported without a time proves nothing there.

The **playback clock** bounds the credit: a session is credited at most the content time the highest
permitted playback rate allows between its reference time (the playback URL's issue, a download's
approval, else the session's first callback received) and the callback's arrival, plus one reporting
interval. Both times are the server's; nothing a callback carries or leaves out widens the bound.
Within the bound, the lowest blocks claimed are credited, so a session's credit only grows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum

from kollus_bridge.kollus.callback import BlockReport, Callback

#: One reporting interval: players report every 30-60 s, so a session may be this far ahead of the clock.
REPORT_INTERVAL_SECONDS = 60
#: Content seconds counted as exact (block lengths are not whole numbers).
_EPSILON = 1e-6


class Limit(StrEnum):
    """Why a session was credited less than it claimed."""

    CLOCK = "clock"  # more content time than the playback clock allows
    GRID = "grid"  # claimed on another grid: only the content time its block times prove counts
    NO_DURATION = "no_duration"  # no duration known: blocks cannot be measured against the clock


@dataclass(frozen=True)
class Claim:
    """A callback's claim: the blocks it says were watched on its own grid, and the blocks as reported
    (whose times say what content time each proves on another grid)."""

    grid: int
    duration: float | None
    watched: frozenset[int]
    blocks: Mapping[int, BlockReport]

    def proven(self) -> dict[int, float]:
        """The content seconds each played block proves: its time, at most a block's length (none
        without a time or a duration)."""
        if not self.duration:
            return {}
        length = self.duration / self.grid
        return {
            index: min(block.seconds, length) for index, block in self.blocks.items() if block.played and block.seconds
        }


@dataclass(frozen=True)
class Credit:
    """A session's claim on the grid of record, and what of it is credited."""

    grid: int
    claimed: frozenset[int]
    credited: frozenset[int]
    limit: Limit | None = None


def claim_of(callback: Callback, min_block_watch_ratio: float) -> Claim:
    """The blocks a callback claims on its own grid: played with a block time of at least
    `min_block_watch_ratio` of a block; without a block time or a usable duration, the flag alone
    claims it (such a block then proves no content time on another grid)."""
    duration = callback.duration
    needed = min_block_watch_ratio * duration / callback.block_count if duration else None
    watched = frozenset(
        index
        for index, (played, seconds, _) in callback.blocks.items()
        if played and (seconds is None or needed is None or seconds >= needed)
    )
    return Claim(callback.block_count, duration, watched, callback.blocks)


def record_grid(pinned: int | None, known: int | None, claim_grid: int) -> int:
    """The grid of record: the pinned one, else the finest of what is known and what this claim brings."""
    if pinned:
        return pinned
    return max(known or 0, claim_grid)


def on_grid(claim: Claim, grid: int, min_block_watch_ratio: float, duration: float | None) -> frozenset[int]:
    """The blocks of `grid` the claim proves watched. Its own grid: its watched blocks. Another grid:
    each played block's proven seconds poured, in order, into the blocks of `grid` it overlaps (each
    takes at most its overlap); a block of `grid` counts once it holds the ratio of its length."""
    if grid == claim.grid:
        return claim.watched
    duration = claim.duration or duration
    if not duration:
        return frozenset()
    source, target = duration / claim.grid, duration / grid
    needed = max(min_block_watch_ratio * target, _EPSILON)
    held: dict[int, float] = {}
    proven = replace(claim, duration=duration).proven()
    for index in sorted(proven):
        left = proven[index]
        start, end = index * source, (index + 1) * source
        block = int(start // target + _EPSILON)
        while left > _EPSILON and block < grid and block * target < end - _EPSILON:
            overlap = min(end, (block + 1) * target) - max(start, block * target)
            given = min(left, max(overlap, 0.0))
            held[block] = held.get(block, 0.0) + given
            left -= given
            block += 1
    return frozenset(block for block, seconds in held.items() if seconds >= needed - _EPSILON)


def clock_blocks(reference: int, now: int, rate: float, block_seconds: float) -> int:
    """Blocks of `block_seconds` the playback clock allows a session whose reference time is `reference`
    (epoch ms) at `now`: `rate` x (elapsed + one reporting interval)."""
    elapsed = max(0, now - reference) / 1000
    return math.floor((rate * (elapsed + REPORT_INTERVAL_SECONDS) + _EPSILON) / block_seconds)


def reference_needed(blocks: int, now: int, rate: float, block_seconds: float) -> int:
    """The latest reference time (epoch ms) at which the clock allows `blocks` blocks at `now`."""
    seconds = blocks * block_seconds / rate - REPORT_INTERVAL_SECONDS
    return now - max(0, math.ceil(seconds * 1000))


def credit(  # noqa: PLR0917 (a claim, its grid of record, and the clock's four inputs)
    claim: Claim,
    grid: int,
    min_block_watch_ratio: float,
    duration: float | None,
    rate: float,
    now: int,
    reference: int | None,
) -> Credit:
    """What a claim is credited on `grid`; `reference` None: the clock is not enforced."""
    claimed = on_grid(claim, grid, min_block_watch_ratio, duration)
    limit = None
    if claim.grid != grid and _seconds(claimed, grid, duration) + _EPSILON < _seconds(
        claim.watched, claim.grid, duration
    ):
        limit = Limit.GRID
    if reference is None or not claimed:
        return Credit(grid, claimed, claimed, limit)
    duration = duration or claim.duration
    if not duration:
        return Credit(grid, claimed, frozenset(), Limit.NO_DURATION)
    allowed = clock_blocks(reference, now, rate, duration / grid)
    if len(claimed) <= allowed:
        return Credit(grid, claimed, claimed, limit)
    return Credit(grid, claimed, frozenset(sorted(claimed)[:allowed]), Limit.CLOCK)


def _seconds(blocks: frozenset[int], grid: int, duration: float | None) -> float:
    return len(blocks) * (duration / grid) if duration else float(len(blocks))
