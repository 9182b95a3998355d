"""One request a second to the Kollus VOD API for the whole deployment, however many functions run.

The slot is one table item holding the earliest time the next request may start; taking it is a
conditional write (`store.take_slot`), so two functions can never take the same slot. A slot is
stamped with the taker's clock before its write, so the write's own latency would eat into the
spacing: a slot whose write took longer than `interval_ms - spacing_ms` is given up and the next one
taken. Requests are therefore at least `spacing_ms` apart (1000 for Kollus), which also keeps any
minute to sixty. A caller that does not get the slot sleeps until the time the item names and tries
again, up to `max_wait_seconds`. Functions' clocks are NTP-synchronised; a skew between them counts
against the same margin.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from kollus_bridge.errors import KollusUnavailable
from kollus_bridge.times import now_ms

from .ports import SlotStore

#: The slot's name in the table.
VOD_API = "kollus-vod-api"


class RateLimited(KollusUnavailable):
    """No slot within the wait allowed: the caller tries again later."""


@dataclass
class Limiter:
    store: SlotStore
    interval_ms: int = 1100
    spacing_ms: int = 1000
    max_wait_seconds: float = 30.0
    name: str = VOD_API
    clock: Callable[[], int] = now_ms
    sleep: Callable[[float], None] = time.sleep

    def __post_init__(self) -> None:
        if self.interval_ms <= self.spacing_ms:
            raise ValueError("the interval must leave a margin over the spacing it guarantees")

    def acquire(self) -> None:
        """Return once this process holds a slot it may use at once."""
        deadline = self.clock() + int(self.max_wait_seconds * 1000)
        while True:
            now = self.clock()
            busy_until = self.store.take_slot(self.name, now, self.interval_ms)
            if busy_until is None:
                if self.clock() - now <= self.interval_ms - self.spacing_ms:
                    return
                busy_until = now + self.interval_ms  # taken too slowly to use: wait for the next one
            if busy_until > deadline:
                raise RateLimited("the Kollus API's rate limit is taken by other functions; try again shortly")
            self.sleep(max(0.0, (busy_until - now) / 1000) + 0.005)
