"""The play callback's decisions: entitled or not, how long, and in words a learner understands.

Kollus blocks playback until it has our answer, so this path reads two small things (the learner's
enrolments and the courses holding the content, one query each) and writes one log entry (and, with
`REQUIRE_APPROVED_PLAY`, the device's approval; with a device limit, the learner's devices). When
storage is unreachable it answers per `PLAY_FAIL_OPEN`, never with an error the player cannot read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kollus_bridge.errors import Forbidden, StorageUnavailable
from kollus_bridge.kollus.play import PlayRequest, kind1_data, kind3_data
from kollus_bridge.observability import logger
from kollus_bridge.settings import Settings

from .devices import admit
from .entitlement import Entitlement, Reason, entitlement
from .ports import AccessStore, Decision, EntitlementStore

MESSAGES = {
    "ko": {
        Reason.NOT_IN_A_COURSE: "이 강의는 아직 수강할 수 있는 과정에 포함되어 있지 않습니다.",
        Reason.NOT_ENROLLED: "이 강의를 포함한 과정에 수강 등록되어 있지 않습니다.",
        Reason.NOT_YET: "수강 기간이 아직 시작되지 않았습니다.",
        Reason.ENDED: "수강 기간이 종료되었습니다.",
        "too_many_devices": (
            "동시에 재생할 수 있는 기기 수를 넘었습니다. 다른 기기에서 재생을 멈춘 뒤 다시 시도해 주세요."
        ),
        "unavailable": "일시적인 오류로 재생할 수 없습니다. 잠시 후 다시 시도해 주세요.",
    },
    "en": {
        Reason.NOT_IN_A_COURSE: "This lecture is not part of a course you can take yet.",
        Reason.NOT_ENROLLED: "You are not enrolled in a course that includes this lecture.",
        Reason.NOT_YET: "Your enrolment has not started yet.",
        Reason.ENDED: "Your enrolment has ended.",
        "too_many_devices": "You are already playing on as many devices as allowed. Stop one and try again.",
        "unavailable": "Playback is unavailable for a moment. Please try again shortly.",
    },
}


def entitled(client_user_id: str, media_content_key: str, store: EntitlementStore, now: int) -> Entitlement:
    """The one answer to "may this learner play this content now?" (two small reads)."""
    return entitlement(store.enrolments_of(client_user_id), store.courses_holding(media_content_key), now)


@dataclass(frozen=True)
class PlayAnswer:
    data: dict[str, Any]
    allowed: bool
    reason: str


def message(settings: Settings, reason: str) -> str:
    return MESSAGES[settings.play_message_language][reason]


def decide_play(request: PlayRequest, settings: Settings, store: AccessStore, now: int) -> PlayAnswer:
    """The answer to one play callback (kind 1 or 3), logged."""
    try:
        found = entitled(request.client_user_id, request.media_content_key, store, now)
        allowed, reason = found.allowed, found.reason.value
        course = found.course_id
        if request.kind == 1 and allowed and course and not _device_admitted(request, course, settings, store, now):
            allowed, reason = False, "too_many_devices"
    except StorageUnavailable:
        logger.warning("play callback answered without storage", extra={"fail_open": settings.play_fail_open})
        return _unavailable(request, settings, now)
    expiry = now // 1000 + settings.play_expiry_seconds
    if allowed and found.until is not None:
        expiry = min(expiry, found.until // 1000)
    if allowed and settings.require_approved_play and request.device:
        approve(request.client_user_id, request.media_content_key, request.device, "streaming", now, expiry, store)
    if request.kind == 1:
        data = kind1_data(allowed, expiry, None if allowed else message(settings, reason))
    else:
        refusal = None if found.allowed else message(settings, found.reason)
        data = kind3_data(found.allowed, found.reason is Reason.ENDED, refusal)
    decision = Decision(
        now,
        request.client_user_id,
        request.media_content_key,
        request.device,
        f"play_{request.kind}",
        allowed,
        reason,
        found.course_id,
    )
    try:
        store.log_access(decision, settings.access_log_days)
    except StorageUnavailable:
        logger.warning("an access decision could not be logged")
    return PlayAnswer(data, allowed, reason)


def approve(  # noqa: PLR0917 (learner, content, device, way, from, until and the store)
    client_user_id: str, media_content_key: str, device: str, via: str, now: int, until: int, store: AccessStore
) -> None:
    """Remember that the device may send progress for this content (REQUIRE_APPROVED_PLAY, offline sessions)."""
    try:
        store.approve(client_user_id, media_content_key, device, via=via, at=now // 1000, until=until)
    except StorageUnavailable:
        logger.warning("a play approval could not be recorded", extra={"via": via})


#: Tries of one device admission against concurrent plays of the same learner.
ADMIT_TRIES = 6


def _device_admitted(request: PlayRequest, course_id: str, settings: Settings, store: AccessStore, now: int) -> bool:
    """Whether the device may start under the learner's device limit (the course's, else the
    deployment's). Admission is a write conditioned on the devices read, so two devices that start in
    the same instant cannot both take the last place."""
    limit = settings.max_concurrent_devices
    if limit:
        course = store.get_course(course_id)
        limit = course.max_devices if course and course.max_devices else limit
    device = request.device
    if not limit or device is None:
        return True
    idle_ms = settings.device_idle_seconds * 1000
    for _ in range(ADMIT_TRIES):
        devices, rev = store.get_devices(request.client_user_id)
        admitted = admit(devices, device, now, idle_ms, limit)
        if admitted is None:
            return False
        if store.put_devices(request.client_user_id, admitted, rev):
            return True
    raise StorageUnavailable("the learner's devices keep changing; try again")


def _unavailable(request: PlayRequest, settings: Settings, now: int) -> PlayAnswer:
    allowed = settings.play_fail_open
    text = None if allowed else message(settings, "unavailable")
    if request.kind == 1:
        # Failing open grants a short playback only: the next kind 1 asks again.
        data = kind1_data(allowed, now // 1000 + min(settings.play_expiry_seconds, 3600), text)
    else:
        data = kind3_data(allowed, False, text)
    return PlayAnswer(data, allowed, "storage_unavailable")


def require_entitled(
    client_user_id: str, media_content_key: str, settings: Settings, store: AccessStore, now: int
) -> None:
    """`REQUIRE_ENROLLMENT`: a playback URL only for a learner entitled to the content (else 403, logged)."""
    found = entitled(client_user_id, media_content_key, store, now)
    decision = Decision(
        now, client_user_id, media_content_key, None, "playback_url", found.allowed, found.reason.value, found.course_id
    )
    store.log_access(decision, settings.access_log_days)
    if not found.allowed:
        raise Forbidden(f"not entitled: {found.reason.value}", field="client_user_id")
