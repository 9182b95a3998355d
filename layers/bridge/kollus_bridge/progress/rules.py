"""Per-content completion rules: stored overrides of the deployment's defaults."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from kollus_bridge.settings import Settings


@dataclass(frozen=True)
class ContentRules:
    completion_threshold: float
    min_block_watch_ratio: float
    source: Literal["default", "content"] = "default"
    updated_at: int | None = None


def default_rules(settings: Settings) -> ContentRules:
    return ContentRules(settings.completion_threshold, settings.min_block_watch_ratio)


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
