"""The catalog over the LMS API: what `/v1/uploads` and `/v1/contents` accept and answer."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from kollus_bridge.content.catalog import Entry, public_fields
from kollus_bridge.kollus.vod import UploadTicket
from kollus_bridge.times import iso_time

from .http import csv_table
from .models import example

_TEXT = r"^[^\x00-\x1f]*[^\x00-\x1f\s][^\x00-\x1f]*$"
_KEY = r"^[A-Za-z0-9._~-]+$"

CONTENT_EXAMPLE: dict[str, Any] = {
    "media_content_key": "nY3CaQtl",
    "upload_file_key": "uf-7b1c0e",
    "title": "Week 3: Recursion",
    "status": "ready",
    "duration": 1834.5,
    "channels": [{"channel_key": "lectures", "media_content_key": "nY3CaQtl"}],
    "profile_keys": ["pc-720p"],
    "poster_url": "https://example.kollus.com/poster/uf-7b1c0e.jpg",
    "filename": "recursion.mp4",
    "category_key": None,
    "uploaded_by": "teacher-12",
    "created_at": "2026-11-22T09:00:00.000Z",
    "updated_at": "2026-11-22T09:06:41.200Z",
    "deleted_at": None,
}


class UploadInput(BaseModel):
    """What `POST /v1/uploads` accepts."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={"examples": [{"title": "Week 3: Recursion", "uploaded_by": "teacher-12"}]},
    )

    title: str = Field(min_length=1, max_length=500, pattern=_TEXT, description="The content's title in Kollus.")
    uploaded_by: str | None = Field(
        default=None, min_length=1, max_length=256, pattern=_TEXT, description="Who uploads (the LMS's own id)."
    )
    category_key: str | None = Field(default=None, min_length=1, max_length=128, pattern=_KEY)
    channel_key: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        pattern=_KEY,
        description="The channel to attach the content to once uploaded (default: KOLLUS_CHANNEL_KEY).",
    )
    encrypt: bool = Field(default=False, description="Upload for encrypted (DRM) playback.")
    audio_only: bool = Field(default=False, description="An audio upload.")


class ContentPatch(BaseModel):
    """What `PATCH /v1/contents/{media_content_key}` accepts."""

    model_config = ConfigDict(
        extra="forbid", strict=True, json_schema_extra={"examples": [{"title": "Week 3: Recursion (revised)"}]}
    )

    title: str = Field(min_length=1, max_length=500, pattern=_TEXT)


class ChannelKey(BaseModel):
    channel_key: str
    media_content_key: str


class Content(BaseModel):
    model_config = example(CONTENT_EXAMPLE)

    media_content_key: str | None = Field(description="The key players use (null until it joins a channel).")
    upload_file_key: str
    title: str | None
    status: Literal["uploading", "transcoding", "ready", "failed", "deleted"]
    duration: float | None = Field(description="Seconds.")
    channels: list[ChannelKey]
    profile_keys: list[str] = Field(description="Encoding profiles.")
    poster_url: str | None
    filename: str | None
    category_key: str | None
    uploaded_by: str | None
    created_at: str | None
    updated_at: str | None
    deleted_at: str | None


class ContentPage(BaseModel):
    model_config = example({"items": [CONTENT_EXAMPLE], "next_token": None})

    items: list[Content]
    next_token: str | None = Field(description="Pass back as next_token for the next page; null on the last.")


class Upload(BaseModel):
    model_config = example(
        {
            "upload_url": "https://upload.kr.kollus.com/api/upload/uf-7b1c0e?key=...",
            "upload_file_key": "uf-7b1c0e",
            "expires_at": "2026-11-22T10:00:00.000Z",
            "content": {**CONTENT_EXAMPLE, "status": "uploading", "media_content_key": None, "duration": None},
        }
    )

    upload_url: str = Field(description="POST the file here (multipart, field `upload-file`), from the browser.")
    upload_file_key: str
    expires_at: str | None
    content: Content


def content_json(entry: Entry) -> Content:
    fields = public_fields(entry)
    for name in ("created_at", "updated_at", "deleted_at"):
        fields[name] = iso_time(fields[name])  # type: ignore[arg-type]
    return Content.model_validate(fields)


def upload_json(ticket: UploadTicket, entry: Entry) -> Upload:
    return Upload(
        upload_url=ticket.upload_url,
        upload_file_key=ticket.upload_file_key,
        expires_at=iso_time(ticket.expires_at * 1000),
        content=content_json(entry),
    )


CSV_COLUMNS = [name for name in Content.model_fields if name not in ("channels", "profile_keys")] + [
    "channel_keys",
    "profile_keys",
]


def contents_csv(items: list[Content]) -> str:
    rows = []
    for item in items:
        row = item.model_dump()
        row["channel_keys"] = " ".join(channel["channel_key"] for channel in row["channels"])
        row["profile_keys"] = " ".join(row["profile_keys"])
        rows.append(row)
    return csv_table(CSV_COLUMNS, rows)
