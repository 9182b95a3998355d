"""The bodies Kollus posts to the callback functions, and their answers, as models: only the OpenAPI
document is generated from them (`local/openapi.py`). The callback functions read their forms with
`kollus_bridge.kollus` and never load these, so that their cold start and the API's stay without them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .models import example

#: A value the callback parser reads as text: no control characters (and, when required, something
#: besides white space: an empty value counts as absent).
_OPTIONAL_TEXT = r"^[^\x00-\x1f]*$"
_TEXT = r"^[^\x00-\x1f]*[^\x00-\x1f\s][^\x00-\x1f]*$"


def _identifier(description: str) -> Any:
    return Field(min_length=1, max_length=256, pattern=_TEXT, description=description)


def _seconds(description: str) -> Any:
    return Field(default=None, ge=0, le=10**9, description=description)


class CallbackForm(BaseModel):
    """The LMS callback as the Kollus player posts it with a template of flat variables (form-encoded).

    The same variables may come in the query string, `json_data={JSON_DATA}` may carry them all, and
    `block_play_N` / `block_time_N` (1-based) and `uservalue0`..`uservalue99` may follow; an
    `application/json` body of the variables, or of the `json_data` object itself, is read too.
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "client_user_id": "learner-1",
                    "media_content_key": "lecture-1",
                    "start_at": 1710395296,
                    "block_cnt": 4,
                    "duration": 240,
                    "block_play_1": 1,
                    "block_time_1": 60,
                }
            ]
        }
    )

    client_user_id: str = _identifier("The learner (the LMS's own id, from the playback URL).")
    media_content_key: str = _identifier("The Kollus content.")
    start_at: float = Field(ge=0, le=10**13, description="When the session started (unix time; it names the session).")
    block_cnt: int = Field(ge=1, le=10_000, description="How many blocks Kollus divides the content into.")
    player_id: str | None = Field(default=None, max_length=256, pattern=_OPTIONAL_TEXT, description="The player.")
    duration: float | None = _seconds("The content's length, seconds.")
    play_time: float | None = _seconds("Seconds played in this session, repeats included.")
    real_playtime: float | None = _seconds("Seconds of content played in this session.")
    last_play_at: float | None = _seconds("The position when the callback was sent, seconds.")
    run_time: float | None = _seconds("Wall-clock seconds of this session.")


class PlatformCallbackForm(BaseModel):
    """A Kollus platform callback (form-encoded, from Kollus's servers). Which one it is follows from its
    fields: `transcoding_result` (transcoding), `channel_key` (channel add or remove, by `update_type`),
    a bare `update_type` (content update), else the upload callback."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"content_provider_key": "cp-1", "filename": "recursion.mp4", "upload_file_key": "uf-7b1c0e"},
                {"upload_file_key": "uf-7b1c0e", "filename": "recursion.mp4", "transcoding_result": "success"},
            ]
        }
    )

    upload_file_key: str = _identifier("The uploaded file in the Kollus library.")
    content_provider_key: str | None = Field(default=None, max_length=256, pattern=_OPTIONAL_TEXT)
    filename: str | None = Field(default=None, max_length=1024, pattern=_OPTIONAL_TEXT)
    full_filename: str | None = Field(default=None, max_length=1024, pattern=_OPTIONAL_TEXT)
    transcoding_result: Literal["success", "fail"] | None = None
    media_content_key: str | None = Field(
        default=None, max_length=256, pattern=_OPTIONAL_TEXT, description="Required with a channel_key that joins."
    )
    channel_key: str | None = Field(default=None, max_length=256, pattern=_OPTIONAL_TEXT)
    channel_name: str | None = Field(default=None, max_length=512, pattern=_OPTIONAL_TEXT)
    profile_key: str | None = Field(default=None, max_length=4096, pattern=_OPTIONAL_TEXT, description="|-separated.")
    update_type: str | None = Field(
        default=None, max_length=80, pattern=_OPTIONAL_TEXT, description="e.g. channel_join"
    )


class PlayCallbackForm(BaseModel):
    """Kollus's play callback (form-encoded, from the player before it plays)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "kind": 1,
                    "client_user_id": "user-1042",
                    "media_content_key": "nY3CaQtl",
                    "player_id": "548D39F9FB288008BC434B074A598EADDBA0BC9D",
                    "hardware_id": "6C8C568C4FB0D7026CA8871ED5611ED8B5246F0C",
                    "device_name": "PC",
                }
            ]
        }
    )

    kind: Literal[1, 3] = Field(description="1: before playback (sets its expiry); 3: the final approval.")
    client_user_id: str = _identifier("The learner.")
    media_content_key: str = _identifier("The content.")
    player_id: str | None = Field(default=None, max_length=256, pattern=_OPTIONAL_TEXT)
    hardware_id: str | None = Field(default=None, max_length=256, pattern=_OPTIONAL_TEXT)
    device_name: str | None = Field(default=None, max_length=256, pattern=_OPTIONAL_TEXT)
    uservalues: str | None = Field(
        default=None, max_length=20_000, pattern=_OPTIONAL_TEXT, description="A JSON object, as a string."
    )


class DrmCallbackForm(BaseModel):
    """Kollus's DRM callback (form-encoded): `items`, a JSON array of objects, each with `kind` (1
    download, 2 download finished, 3 offline play or refresh), `client_user_id`, `media_content_key`,
    and `player_id`, `hardware_id`, `session_key`, `start_at` when Kollus has them."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"items": '[{"kind": 1, "client_user_id": "user-1042", "media_content_key": "nY3CaQtl"}]'},
            ]
        }
    )

    items: str = Field(min_length=1, pattern=r"^\s*\[", description="A JSON array of items, as a string.")


class PlatformResult(BaseModel):
    model_config = example(
        {"result": "applied", "upload_file_key": "uf-7b1c0e", "event": "transcoded", "status": "ready"}
    )

    result: Literal["applied", "duplicate"] = Field(description="duplicate: already applied; nothing changed.")
    upload_file_key: str
    event: Literal["uploaded", "transcoded", "channel_joined", "channel_left", "updated"]
    status: Literal["uploading", "transcoding", "failed", "ready", "deleted"] | None = Field(
        description="The content's status after the callback (null for a duplicate)."
    )


class CallbackResult(BaseModel):
    model_config = example(
        {"result": "accepted", "watched_blocks": 7, "block_count": 10, "progress": 70.0, "completed": False}
    )

    result: Literal["accepted", "duplicate", "stale"]
    watched_blocks: int
    block_count: int
    progress: float
    completed: bool
