"""The play callback's decisions: entitled or not, how long, and in words a learner understands.

Kollus blocks playback until it has our answer, so this path reads two small things (the learner's
enrolments and the courses holding the content, one query each) and writes one log entry (and, with
`REQUIRE_APPROVED_PLAY`, the device's approval; with a device limit, the learner's devices). When
storage is unreachable it answers per `PLAY_FAIL_OPEN`, never with an error the player cannot read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from kollus_bridge.errors import Forbidden, StorageUnavailable
from kollus_bridge.kollus.play import PlayRequest, kind1_data, kind3_data
from kollus_bridge.kollus.playback import read_nonce
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
        "no_device_identity": "이 기기를 확인할 수 없어 재생할 수 없습니다. 강의 페이지를 다시 열어 주세요.",
        "no_signed_session": "강의 페이지에서 발급한 재생 주소가 아닙니다. 강의 페이지를 다시 열어 주세요.",
    },
    "en": {
        Reason.NOT_IN_A_COURSE: "This lecture is not part of a course you can take yet.",
        Reason.NOT_ENROLLED: "You are not enrolled in a course that includes this lecture.",
        Reason.NOT_YET: "Your enrolment has not started yet.",
        Reason.ENDED: "Your enrolment has ended.",
        "too_many_devices": "You are already playing on as many devices as allowed. Stop one and try again.",
        "unavailable": "Playback is unavailable for a moment. Please try again shortly.",
        "no_device_identity": "This device cannot be told apart from others. Open the lecture page again.",
        "no_signed_session": "This playback was not opened from the lecture page. Open the lecture page again.",
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


def decide_play(
    request: PlayRequest, settings: Settings, store: AccessStore, now: int, nonce_keys: Callable[[], list[str]] = list
) -> PlayAnswer:
    """The answer to one play callback (kind 1 or 3: both pass the entitlement and the device rules), logged."""
    device = request.device(settings.playback_nonce_slot)
    try:
        found = entitled(request.client_user_id, request.media_content_key, store, now)
        allowed, reason = found.allowed, found.reason.value
        if allowed and found.course_id:
            session = Session(request.client_user_id, request.media_content_key, device, request.uservalues)
            refusal = device_refusal(session, found.course_id, settings, store, now, nonce_keys)
            if refusal is not None:
                allowed, reason = False, refusal
    except StorageUnavailable:
        logger.warning("play callback answered without storage", extra={"fail_open": settings.play_fail_open})
        return _unavailable(request, settings, now)
    expiry = now // 1000 + settings.play_expiry_seconds
    if allowed and found.until is not None:
        expiry = min(expiry, found.until // 1000)
    if allowed and settings.require_approved_play and device:
        approve(request.client_user_id, request.media_content_key, device, "streaming", now, expiry, store)
    if request.kind == 1:
        data = kind1_data(allowed, expiry, None if allowed else message(settings, reason))
    else:
        data = kind3_data(allowed, found.reason is Reason.ENDED, None if allowed else message(settings, reason))
    decision = Decision(
        now,
        request.client_user_id,
        request.media_content_key,
        device,
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


@dataclass(frozen=True)
class Session:
    """What a play or DRM request says of the playback it asks for."""

    client_user_id: str
    media_content_key: str
    device: str | None
    uservalues: Mapping[str, str]


def device_refusal(  # noqa: PLR0917 (the request, its course, the rules, storage, time and keys)
    session: Session,
    course_id: str,
    settings: Settings,
    store: AccessStore,
    now: int,
    nonce_keys: Callable[[], list[str]],
) -> str | None:
    """Why the device may not play (None: it may). With signed playback on, only a device holding a
    valid playback URL of this learner's may take a place; under a device limit, only a device that can
    be told apart, within the limit (the course's, else the deployment's). Admission is a write
    conditioned on the devices read, so two devices that start in the same instant cannot both take the
    last place."""
    if settings.require_signed_playback:
        nonce = session.uservalues.get(settings.playback_nonce_slot)
        window = (
            None
            if nonce is None
            else read_nonce(nonce_keys(), session.client_user_id, session.media_content_key, nonce, now // 1000)
        )
        slack = settings.session_start_slack_seconds
        if window is None or not window.issued_at - slack <= now // 1000 <= window.expires_at + slack:
            return "no_signed_session"
    limit = settings.max_concurrent_devices
    if limit:
        course = store.get_course(course_id)
        limit = course.max_devices if course and course.max_devices else limit
    if not limit:
        return None
    if session.device is None:
        return "no_device_identity"
    idle_ms = settings.device_idle_seconds * 1000
    for _ in range(ADMIT_TRIES):
        devices, rev = store.get_devices(session.client_user_id)
        admitted = admit(devices, session.device, now, idle_ms, limit)
        if admitted is None:
            return "too_many_devices"
        if store.put_devices(session.client_user_id, admitted, rev):
            return None
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
