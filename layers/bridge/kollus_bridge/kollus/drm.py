"""Kollus's DRM callback (downloaded content): kind 1 asks to download, kind 2 reports a finished
download, kind 3 asks to play a downloaded file (offline, or a refresh). Form field `items`, a JSON
array of objects; the answer is one HS256 JWT, payload `{"data": [...]}`, one entry per item, every
number a JSON integer. An `expiration_date` once granted cannot be revoked later, so grant no more
than the enrolment allows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from kollus_bridge.errors import InvalidPayload
from kollus_bridge.settings import Settings

from .callback import RawCallback, decode_request
from .play import uservalues_of
from .playback import device_identity
from .values import read_count, read_integer, read_text, refuse_lone_surrogates

#: Items one DRM callback may carry (a bulk refresh lists every downloaded file).
MAX_ITEMS = 200


@dataclass(frozen=True)
class DrmItem:
    kind: int
    client_user_id: str
    media_content_key: str
    player_id: str | None = None
    hardware_id: str | None = None
    session_key: str | None = None
    start_at: int | None = None
    uservalues: dict[str, str] = field(default_factory=dict)

    def device(self, nonce_slot: str) -> str | None:
        """The device, named as the play and LMS callbacks name it (`playback.device_identity`)."""
        return device_identity(self.hardware_id, self.uservalues.get(nonce_slot), self.player_id)


def _item(value: Any, at: int) -> DrmItem:
    where = f"items[{at}]"
    if not isinstance(value, dict):
        raise InvalidPayload(f"{where} must be an object", field=where)
    kind = read_count(value.get("kind"), f"{where}.kind", 10)
    if kind not in (1, 2, 3):
        raise InvalidPayload(f"{where}.kind must be 1, 2 or 3", field=f"{where}.kind")
    learner = read_text(value.get("client_user_id"), f"{where}.client_user_id")
    content = read_text(value.get("media_content_key"), f"{where}.media_content_key")
    if learner is None:
        raise InvalidPayload(f"{where}.client_user_id is required", field=f"{where}.client_user_id")
    if content is None:
        raise InvalidPayload(f"{where}.media_content_key is required", field=f"{where}.media_content_key")
    return DrmItem(
        kind,
        learner,
        content,
        player_id=read_text(value.get("player_id"), f"{where}.player_id"),
        hardware_id=read_text(value.get("hardware_id"), f"{where}.hardware_id"),
        session_key=read_text(value.get("session_key"), f"{where}.session_key"),
        start_at=read_integer(value.get("start_at"), f"{where}.start_at", 10**13),
        uservalues=uservalues_of(value.get("uservalues")),
    )


def parse_drm_callback(raw: RawCallback, settings: Settings) -> list[DrmItem]:
    variables = decode_request(raw, settings)
    text = read_text(variables.get("items"), "items", settings.max_body_bytes)
    if text is None:
        raise InvalidPayload("items is required", field="items")
    try:
        items = json.loads(text)
    except (ValueError, RecursionError):
        raise InvalidPayload("items is not JSON", field="items") from None
    refuse_lone_surrogates(text, items, "items")
    if not isinstance(items, list) or not items:
        raise InvalidPayload("items must be a non-empty JSON array", field="items")
    if len(items) > MAX_ITEMS:
        raise InvalidPayload(f"items holds more than {MAX_ITEMS} entries", field="items")
    return [_item(value, at) for at, value in enumerate(items)]


def item_data(
    item: DrmItem, allowed: bool, expiration_date: int | None, content_expired: bool, message: str | None
) -> dict[str, Any]:
    """One item's answer: `kind`, `media_content_key`, `result`, and what its kind needs."""
    data: dict[str, Any] = {"kind": item.kind, "media_content_key": item.media_content_key, "result": int(allowed)}
    if item.kind == 1 and allowed and expiration_date is not None:
        data["expiration_date"] = int(expiration_date)
    if item.kind == 3:
        data["content_expired"] = int(content_expired)
        if item.session_key is not None:
            data["session_key"] = item.session_key
        if item.start_at is not None:
            data["start_at"] = int(item.start_at)
    if not allowed and message:
        data["message"] = message
    return data
