"""The DRM callback's decisions, item by item: a download (kind 1) only for an entitled learner and
never to outlive the enrolment; a finished download (kind 2) recorded; an offline play or refresh
(kind 3) marked expired once the learner is no longer entitled. An approved download or offline play
is remembered for the device, so that its offline sessions' progress is accepted."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kollus_bridge.errors import StorageUnavailable
from kollus_bridge.kollus.drm import DrmItem, item_data
from kollus_bridge.observability import logger
from kollus_bridge.settings import Settings

from .entitlement import Enrolment
from .play import Session, approve, device_refusal, entitled, message
from .ports import AccessStore, Decision


def decide_drm(
    items: list[DrmItem], settings: Settings, store: AccessStore, now: int, nonce_keys: Callable[[], list[str]] = list
) -> list[dict[str, Any]]:
    """One answer per item, in order, each logged. A download (kind 1) passes the entitlement and the
    device rules as a play does. Without storage, each answer follows `PLAY_FAIL_OPEN` (an approved
    download then lasts at most an hour)."""
    answers = []
    decisions: list[Decision] = []
    reads = _ReadOnce(store)  # the items of one request share their learner and contents: read each once
    for item in items:
        device = item.device(settings.playback_nonce_slot)
        try:
            found = entitled(item.client_user_id, item.media_content_key, reads, now)
            refusal = None
            if found.allowed and found.course_id and item.kind == 1:
                session = Session(item.client_user_id, item.media_content_key, device, item.uservalues)
                refusal = device_refusal(session, found.course_id, settings, store, now, nonce_keys)
        except StorageUnavailable:
            logger.warning("DRM callback answered without storage", extra={"fail_open": settings.play_fail_open})
            allowed = settings.play_fail_open
            text = None if allowed else message(settings, "unavailable")
            answers.append(item_data(item, allowed, now // 1000 + 3600, False, text))
            continue
        expiry = now // 1000 + settings.drm_expiry_seconds
        if found.until is not None:
            expiry = min(expiry, found.until // 1000)
        granted = found.allowed and refusal is None
        allowed = granted or item.kind == 2  # a finished download is recorded, whatever it is
        if granted and item.kind in (1, 3) and device:
            # Progress from this download's offline sessions is accepted within this approval.
            approve(item.client_user_id, item.media_content_key, device, "download", now, expiry, store)
        text = None if allowed else message(settings, refusal or found.reason)
        answers.append(item_data(item, allowed, expiry, not found.allowed, text))
        decisions.append(Decision(
            now, item.client_user_id, item.media_content_key, device, f"drm_{item.kind}",
            granted, refusal or found.reason.value, found.course_id,
        ))  # fmt: skip
    try:
        store.log_accesses(decisions, settings.access_log_days)
    except StorageUnavailable:
        logger.warning("the DRM callback's access decisions could not be logged")
    return answers


class _ReadOnce:
    """The entitlement reads of one DRM request, each asked of storage once."""

    def __init__(self, store: AccessStore) -> None:
        self.store = store
        self.enrolments: dict[str, list[Enrolment]] = {}
        self.holding: dict[str, set[str]] = {}

    def enrolments_of(self, client_user_id: str) -> list[Enrolment]:
        if client_user_id not in self.enrolments:
            self.enrolments[client_user_id] = self.store.enrolments_of(client_user_id)
        return self.enrolments[client_user_id]

    def courses_holding(self, media_content_key: str) -> set[str]:
        if media_content_key not in self.holding:
            self.holding[media_content_key] = self.store.courses_holding(media_content_key)
        return self.holding[media_content_key]
