"""The VOD API limiter's waiting (pure, on a fake slot store and a fake clock)."""

from __future__ import annotations

import pytest
from kollus_bridge.content.limiter import Limiter, RateLimited


class Slots:
    """One slot item, as the table keeps it; `write_ms` is how long each take takes."""

    def __init__(self, clock: list[int], write_ms: int = 0) -> None:
        self.clock, self.write_ms = clock, write_ms
        self.next_at: int | None = None
        self.taken: list[int] = []

    def take_slot(self, name: str, now: int, interval_ms: int) -> int | None:
        self.clock[0] += self.write_ms
        if self.next_at is not None and self.next_at > now:
            return self.next_at
        self.next_at = now + interval_ms
        self.taken.append(now)
        return None


def limiter(slots: Slots, clock: list[int], **options: int) -> tuple[Limiter, list[float]]:
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock[0] += int(seconds * 1000)

    return Limiter(slots, clock=lambda: clock[0], sleep=sleep, **options), slept  # type: ignore[arg-type]


def test_a_caller_waits_for_the_time_the_slot_names() -> None:
    clock = [10_000]
    slots = Slots(clock)
    first, _ = limiter(slots, clock)
    first.acquire()
    second, slept = limiter(slots, clock)
    second.acquire()
    assert slots.taken[1] - slots.taken[0] >= 1100 and slept and slept[0] >= 1.1


def test_a_slot_taken_too_slowly_is_given_up() -> None:
    clock = [10_000]
    slots = Slots(clock, write_ms=150)  # a cold write: longer than the 100 ms margin
    waiting, slept = limiter(slots, clock, max_wait_seconds=5)
    with pytest.raises(RateLimited):
        waiting.acquire()  # every take is too slow: it never sends, and gives up after the wait allowed
    assert len(slots.taken) >= 2 and slept
    fast = Slots(clock, write_ms=20)
    ok, _ = limiter(fast, clock)
    ok.acquire()
    assert len(fast.taken) == 1


def test_no_slot_within_the_wait_is_rate_limited() -> None:
    clock = [10_000]
    slots = Slots(clock)
    slots.next_at = 10_000 + 60_000  # taken for a minute elsewhere
    waiting, slept = limiter(slots, clock, max_wait_seconds=20)
    with pytest.raises(RateLimited):
        waiting.acquire()
    assert slept == []


def test_the_interval_must_leave_a_margin() -> None:
    with pytest.raises(ValueError, match="margin"):
        Limiter(Slots([0]), interval_ms=1000, spacing_ms=1000)
