"""Time formats: epoch milliseconds inside, ISO-8601 UTC outside."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def iso_time(epoch_ms: int | None) -> str | None:
    """`2026-11-22T09:14:03.120Z`, or None."""
    if epoch_ms is None:
        return None
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
