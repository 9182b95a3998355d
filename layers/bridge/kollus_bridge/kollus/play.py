"""Kollus's play callback (the player asks before it plays; it plays only if we approve).

Request: form-encoded `kind` (1 before playback, 3 the final approval), `client_user_id`,
`media_content_key`, `player_id`, `hardware_id`, `device_name`, and `uservalues`, a JSON string that
may arrive percent-encoded a second time. Answer: an HS256 JWT signed with the security key, payload
`{"data": {...}}`, with the header `X-Kollus-UserKey: <custom key>`. Every number in `data` must be a
JSON integer: Kollus refuses `"1"`, and a refused answer blocks playback.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from kollus_bridge.errors import InvalidPayload
from kollus_bridge.settings import Settings

from .callback import RawCallback, decode_request
from .playback import device_identity, jwt_hs256
from .values import read_count, read_text, refuse_lone_surrogates

#: The header Kollus reads the custom key from.
USER_KEY_HEADER = "X-Kollus-UserKey"


@dataclass(frozen=True)
class PlayRequest:
    kind: int
    client_user_id: str
    media_content_key: str
    player_id: str | None = None
    hardware_id: str | None = None
    device_name: str | None = None
    uservalues: dict[str, str] = field(default_factory=dict)

    def device(self, nonce_slot: str) -> str | None:
        """The device (`playback.device_identity`): its hardware id, else the session nonce its URL
        carries, else a player id of its own; the LMS callbacks name it the same way."""
        return device_identity(self.hardware_id, self.uservalues.get(nonce_slot), self.player_id)


def uservalues_of(value: Any) -> dict[str, str]:
    """The `uservalues` JSON string, percent-decoded again if it still looks encoded; `{}` if absent or
    unreadable (no decision depends on it: it is kept for the record, and a player's odd encoding
    must never block playback)."""
    if isinstance(value, dict):
        return {str(name): str(item) for name, item in value.items() if item is not None}
    text = read_text(value, "uservalues", 20_000)
    if text is None:
        return {}
    if text.startswith("%7B") or text.startswith("%7b"):
        text = unquote(text)
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        return {}
    if not isinstance(document, dict):
        return {}
    refuse_lone_surrogates(text, document, "uservalues")
    return {str(name): str(item) for name, item in document.items() if item is not None}


def parse_play_callback(raw: RawCallback, settings: Settings) -> PlayRequest:
    variables = decode_request(raw, settings)
    kind = read_count(variables.get("kind"), "kind", 10)
    if kind not in (1, 3):
        raise InvalidPayload("kind must be 1 (before playback) or 3 (final approval)", field="kind")
    learner = read_text(variables.get("client_user_id"), "client_user_id")
    content = read_text(variables.get("media_content_key"), "media_content_key")
    if learner is None:
        raise InvalidPayload("client_user_id is required", field="client_user_id")
    if content is None:
        raise InvalidPayload("media_content_key is required", field="media_content_key")
    return PlayRequest(
        kind,
        learner,
        content,
        player_id=read_text(variables.get("player_id"), "player_id"),
        hardware_id=read_text(variables.get("hardware_id"), "hardware_id"),
        device_name=read_text(variables.get("device_name"), "device_name"),
        uservalues=uservalues_of(variables.get("uservalues")),
    )


def kind1_data(allowed: bool, expiration_date: int, message: str | None = None) -> dict[str, Any]:
    """The kind 1 answer: `result` 1 or 0, the playback's expiry (unix seconds), a refusal's message."""
    data: dict[str, Any] = {"result": 1 if allowed else 0, "expiration_date": int(expiration_date)}
    if not allowed and message:
        data["message"] = message
    return data


def kind3_data(allowed: bool, content_expired: bool, message: str | None = None) -> dict[str, Any]:
    """The kind 3 answer: `result`, `content_expired` 0 or 1, a refusal's message."""
    data: dict[str, Any] = {"result": 1 if allowed else 0, "content_expired": 1 if content_expired else 0}
    if not allowed and message:
        data["message"] = message
    return data


def _integers_only(data: Any) -> None:
    entries = data if isinstance(data, list) else [data]
    for entry in entries:
        for name, value in entry.items():
            if isinstance(value, (bool, float)):
                raise TypeError(f"{name} must be a JSON integer for Kollus, not {type(value).__name__}")


def answer(
    data: dict[str, Any] | list[dict[str, Any]], security_key: str, custom_key: str
) -> tuple[str, dict[str, str]]:
    """The response body (the JWT of `{"data": data}`) and its headers (play: one object; DRM: a list)."""
    _integers_only(data)
    headers = {USER_KEY_HEADER: custom_key, "content-type": "text/plain; charset=utf-8"}
    return jwt_hs256({"data": data}, security_key), headers
