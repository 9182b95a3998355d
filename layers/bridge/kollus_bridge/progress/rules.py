"""Per-content completion rules: stored overrides of the deployment's defaults."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from kollus_bridge.settings import Settings

from .credit import record_grid


@dataclass(frozen=True)
class ContentRules:
    completion_threshold: float
    min_block_watch_ratio: float
    source: Literal["default", "content"] = "default"
    updated_at: int | None = None
    #: The highest playback rate the playback clock allows (the deployment's MAX_PLAYBACK_RATE unless set).
    max_playback_rate: float = 2.0
    #: A grid of record set for the content (None: the finest grid seen, `known_grid`).
    block_count: int | None = None
    known_grid: int | None = None
    known_duration: float | None = None

    def grid_for(self, block_count: int) -> int:
        """The grid of record for a callback on `block_count` blocks."""
        return record_grid(self.block_count, self.known_grid, block_count)

    @property
    def grid(self) -> int | None:
        """The grid records are reported on (None: nothing seen yet; each record's own finest)."""
        return self.block_count or self.known_grid


def default_rules(settings: Settings) -> ContentRules:
    return ContentRules(
        settings.completion_threshold, settings.min_block_watch_ratio, max_playback_rate=settings.max_playback_rate
    )


class RulesCache:
    """A content's rules, reused for `ttl` seconds (so a callback almost never reads them)."""

    def __init__(self, load: Callable[[str], ContentRules], ttl: float, clock: Callable[[], float] = time.monotonic):
        self._load = load
        self._ttl = ttl
        self._clock = clock
        self._entries: dict[str, tuple[float, ContentRules]] = {}
        self._lock = threading.Lock()

    def get(self, media_content_key: str) -> ContentRules:
        now = self._clock()
        with self._lock:
            entry = self._entries.get(media_content_key)
        if entry is not None and entry[0] > now:
            return entry[1]
        rules = self._load(media_content_key)
        with self._lock:
            if len(self._entries) > 10_000:
                self._entries.clear()  # bounded memory in a long-lived container
            self._entries[media_content_key] = (now + self._ttl, rules)
        return rules

    def forget(self, media_content_key: str) -> None:
        with self._lock:
            self._entries.pop(media_content_key, None)
