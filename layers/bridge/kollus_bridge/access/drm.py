"""The DRM callback's decisions, item by item: a download (kind 1) only for an entitled learner and
never to outlive the enrolment; a finished download (kind 2) recorded; an offline play or refresh
(kind 3) marked expired once the learner is no longer entitled. An approved download or offline play
is remembered for the device, so that its offline sessions' progress is accepted."""

from __future__ import annotations

from typing import Any

from kollus_bridge.errors import StorageUnavailable
from kollus_bridge.kollus.drm import DrmItem, item_data
from kollus_bridge.observability import logger
from kollus_bridge.settings import Settings

from .play import approve, entitled, message
from .ports import AccessStore, Decision


def decide_drm(items: list[DrmItem], settings: Settings, store: AccessStore, now: int) -> list[dict[str, Any]]:
    """One answer per item, in order, each logged. Without storage, each answer follows
    `PLAY_FAIL_OPEN` (an approved download then lasts at most an hour)."""
    answers = []
    for item in items:
        try:
            found = entitled(item.client_user_id, item.media_content_key, store, now)
        except StorageUnavailable:
            logger.warning("DRM callback answered without storage", extra={"fail_open": settings.play_fail_open})
            allowed = settings.play_fail_open
            text = None if allowed else message(settings, "unavailable")
            answers.append(item_data(item, allowed, now // 1000 + 3600, False, text))
            continue
        expiry = now // 1000 + settings.drm_expiry_seconds
        if found.until is not None:
            expiry = min(expiry, found.until // 1000)
        allowed = found.allowed or item.kind == 2  # a finished download is recorded, whatever it is
        if found.allowed and item.kind in (1, 3) and item.device:
            # Progress from this download's offline sessions is accepted within this approval.
            approve(item.client_user_id, item.media_content_key, item.device, "download", now, expiry, store)
        text = None if allowed else message(settings, found.reason)
        answers.append(item_data(item, allowed, expiry, not found.allowed, text))
        decision = Decision(
            now, item.client_user_id, item.media_content_key, item.device, f"drm_{item.kind}",
            found.allowed, found.reason.value, found.course_id,
        )  # fmt: skip
        try:
            store.log_access(decision, settings.access_log_days)
        except StorageUnavailable:
            logger.warning("an access decision could not be logged")
    return answers
