"""Kollus's platform callbacks (Kollus servers -> us): upload complete, transcoding result, channel add or
remove, content update. Form-encoded, unsigned (the URL's secret token is the guard), retried every five
minutes up to three times, so duplicates and reordering are normal.

Which callback it is follows from its fields: `transcoding_result` is the transcoding callback,
`channel_key` the channel callback, a bare `update_type` the content update, and the rest (a file name
and an upload key) the upload callback.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from kollus_bridge.errors import InvalidPayload
from kollus_bridge.settings import Settings

from .callback import RawCallback, decode_request
from .values import read_text

#: The fields of Kollus's platform callbacks, and their longest accepted values.
LIMITS = {
    "upload_file_key": 256,
    "content_provider_key": 256,
    "filename": 1024,
    "full_filename": 1024,
    "transcoding_result": 40,
    "media_content_key": 256,
    "channel_key": 256,
    "channel_name": 512,
    "profile_key": 4096,
    "update_type": 80,
}
_CONTROL = re.compile(r"[\x00-\x1f]")
_LEAVING = re.compile(r"leave|remove|delete|detach|out|exit", re.IGNORECASE)


class EventKind(StrEnum):
    UPLOADED = "uploaded"
    TRANSCODED = "transcoded"
    CHANNEL_JOINED = "channel_joined"
    CHANNEL_LEFT = "channel_left"
    UPDATED = "updated"


@dataclass(frozen=True)
class PlatformEvent:
    kind: EventKind
    upload_file_key: str
    filename: str | None = None
    #: Transcoding: True on success, False on failure.
    succeeded: bool | None = None
    channel_key: str | None = None
    channel_name: str | None = None
    media_content_key: str | None = None
    profile_keys: tuple[str, ...] = ()
    update_type: str | None = None

    @property
    def dedupe_key(self) -> str:
        """The same for every retry of one callback: (upload, kind, result or update type, channel)."""
        outcome = "" if self.succeeded is None else ("success" if self.succeeded else "fail")
        parts = (self.kind.value, outcome or (self.update_type or ""), self.channel_key or "")
        return "|".join(parts)


def _text(variables: dict[str, Any], name: str, limit: int = 256) -> str | None:
    value = variables.get(name)
    if isinstance(value, str) and _CONTROL.search(value):  # before white space is trimmed
        raise InvalidPayload(f"{name} contains control characters", field=name)
    return read_text(value, name, limit)


def parse_platform_callback(raw: RawCallback, settings: Settings) -> PlatformEvent:
    """One platform callback, or `InvalidPayload` naming the field at fault."""
    variables = decode_request(raw, settings)
    # Every field Kollus sends is checked, used or not: a payload is refused or accepted as a whole.
    fields = {name: _text(variables, name, limit) for name, limit in LIMITS.items()}
    key = fields["upload_file_key"]
    if key is None:
        raise InvalidPayload("upload_file_key is required", field="upload_file_key")
    filename = fields["filename"] or fields["full_filename"]
    result = fields["transcoding_result"]
    update_type = fields["update_type"]
    channel = fields["channel_key"]
    if result is not None:
        if result not in ("success", "fail"):
            refused = f"transcoding_result must be success or fail, got {result!r}"
            raise InvalidPayload(refused, field="transcoding_result")
        return PlatformEvent(EventKind.TRANSCODED, key, filename, succeeded=result == "success")
    if channel is not None:
        content = fields["media_content_key"]
        leaving = bool(update_type and _LEAVING.search(update_type))
        if content is None and not leaving:
            raise InvalidPayload("a channel callback needs media_content_key", field="media_content_key")
        profiles = fields["profile_key"] or ""
        return PlatformEvent(
            EventKind.CHANNEL_LEFT if leaving else EventKind.CHANNEL_JOINED,
            key,
            filename,
            channel_key=channel,
            channel_name=fields["channel_name"],
            media_content_key=content,
            profile_keys=tuple(dict.fromkeys(p.strip() for p in profiles.split("|") if p.strip())),
            update_type=update_type,
        )
    if update_type is not None:
        return PlatformEvent(EventKind.UPDATED, key, filename, update_type=update_type)
    return PlatformEvent(EventKind.UPLOADED, key, filename)
