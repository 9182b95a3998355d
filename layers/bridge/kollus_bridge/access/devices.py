"""The concurrent-device limit, pure: which of a learner's devices are playing, and whether one more
may start. A device plays from its play approval until it has been silent (no approval, no progress
callback) for the idle time."""

from __future__ import annotations

from collections.abc import Mapping


def playing(devices: Mapping[str, int], now: int, idle_ms: int) -> dict[str, int]:
    """The devices seen within the idle time (device -> last seen, epoch ms)."""
    return {device: seen for device, seen in devices.items() if now - seen < idle_ms}


def admit(devices: Mapping[str, int], device: str, now: int, idle_ms: int, limit: int) -> dict[str, int] | None:
    """The learner's devices after `device` starts playing, or None when it would pass `limit`
    (a device already playing always continues)."""
    active = playing(devices, now, idle_ms)
    if device not in active and len(active) >= limit:
        return None
    return {**active, device: now}
