"""The API's response bodies, as models: the OpenAPI document is generated from them, examples included."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

RECORD_EXAMPLE: dict[str, Any] = {
    "client_user_id": "user-1042",
    "media_content_key": "nY3CaQtl",
    "title": "Week 3: Recursion",
    "block_count": 10,
    "duration": 600.0,
    "watched_blocks": 7,
    "progress": 70.0,
    "completed": False,
    "completed_at": None,
    "last_position": 406.0,
    "play_time": 1260.0,
    "real_play_time": 610.0,
    "sessions": 3,
    "suspicious_sessions": 0,
    "limited_sessions": 1,
    "completion_threshold": 90.0,
    "updated_at": "2026-11-22T09:14:03.120Z",
}
CREDIT_EXAMPLE: dict[str, Any] = {"session": "MZXW6YTBOI6GKZLTMVZHI", "start_at": 1763802000, "block_count": 10}
CREDIT_EXAMPLE |= {"grid": 10, "claimed_blocks": 9, "credited_blocks": 4, "limit": "clock", "suspicious": True}
LEDGER_EXAMPLE: dict[str, Any] = {
    "subject": "progress",
    "target": "webhook",
    "client_user_id": "user-1042",
    "media_content_key": "nY3CaQtl",
    "upload_file_key": None,
    "state": "failed",
    "attempts": 1,
    "completed_at": "2026-11-22T09:14:03.120Z",
    "last_attempt_at": "2026-11-22T09:15:00.410Z",
    "next_attempt_at": None,
    "last_status": 400,
    "last_error": "unknown course",
    "delivered_at": None,
    "webhook_id": "msg_7xkgj5fkmpqd5wvst7qc5c4d",
}


def example(*documents: dict[str, Any]) -> ConfigDict:
    """A model's examples, for the OpenAPI document."""
    return ConfigDict(json_schema_extra={"examples": list(documents)})


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable machine-readable code, e.g. invalid_payload.")
    message: str
    field: str | None = Field(description="The offending input, when one is to blame.")


class ErrorBody(BaseModel):
    model_config = example(
        {"error": {"code": "invalid_request", "message": "missing or invalid parameter limit", "field": "limit"}}
    )

    error: ErrorDetail


class ProgressRecord(BaseModel):
    model_config = example(RECORD_EXAMPLE)

    client_user_id: str
    media_content_key: str
    title: str | None = Field(description="The content's title, when the catalog knows it.")
    block_count: int = Field(description="The block grid progress is reported on.")
    duration: float | None
    watched_blocks: int
    progress: float = Field(description="100 x watched_blocks / block_count, rounded down to 2 decimals.")
    completed: bool
    completed_at: str | None = Field(description="ISO-8601 UTC; never changes once set.")
    last_position: float | None
    play_time: float
    real_play_time: float
    sessions: int
    suspicious_sessions: int = Field(
        description="Sessions that claimed more content time than the playback clock (or their own open time) allows."
    )
    limited_sessions: int = Field(description="Sessions credited fewer blocks than they claimed (see credit).")
    completion_threshold: float = Field(description="The content's rule in force.")
    updated_at: str | None


class SessionCredit(BaseModel):
    model_config = example(CREDIT_EXAMPLE)

    session: str = Field(description="The session's key in the record (from start_at and player_id).")
    start_at: int
    block_count: int = Field(description="The grid the session's player reported.")
    grid: int | None = Field(description="The grid of record its claim was judged on (null: before that rule).")
    claimed_blocks: int | None = Field(description="Blocks its newest callback claimed, on the grid of record.")
    credited_blocks: int | None = Field(description="Of those, the blocks credited.")
    limit: Literal["clock", "grid", "no_duration"] | None = Field(
        description="Why fewer were credited: clock (more content time than elapsed time allows at the highest "
        "playback rate), grid (another grid: only the content time its block times prove), no_duration."
    )
    suspicious: bool


class Lowered(BaseModel):
    at: str | None = Field(description="When the grid-of-record rule re-evaluated the record (ISO-8601 UTC).")
    progress_before: float
    progress_after: float


class ProgressDetail(ProgressRecord):
    model_config = example(
        {
            **RECORD_EXAMPLE,
            "missing_ranges": [[120.0, 180.0], [480.0, 600.0]],
            "blocks_needed": 2,
            "credit": [CREDIT_EXAMPLE],
            "lowered": None,
        }
    )

    missing_ranges: list[tuple[float, float]] | None = Field(
        description="Unwatched parts as merged [start_second, end_second) pairs; null without a duration."
    )
    blocks_needed: int = Field(description="More watched blocks needed to reach the completion threshold.")
    credit: list[SessionCredit] = Field(description="Each session the record keeps whole: claimed and credited.")
    lowered: Lowered | None = Field(
        description="Set when the grid-of-record rule lowered figures credited before it (the old and new progress)."
    )


FLAG_EXAMPLE: dict[str, Any] = {"client_user_id": "user-1042", "received_at": "2026-11-22T09:14:03.120Z"}
FLAG_EXAMPLE |= {name: value for name, value in CREDIT_EXAMPLE.items() if name != "block_count"}


class FlaggedSession(BaseModel):
    model_config = example(FLAG_EXAMPLE)

    client_user_id: str
    session: str
    start_at: int
    grid: int
    claimed_blocks: int
    credited_blocks: int
    limit: Literal["clock", "grid", "no_duration"]
    suspicious: bool
    received_at: str | None = Field(description="When its newest flagged callback arrived (ISO-8601 UTC).")


class FlagPage(BaseModel):
    model_config = example({"items": [FLAG_EXAMPLE], "next_token": None})

    items: list[FlaggedSession]
    next_token: str | None = Field(description="Pass back as next_token for the next page; null on the last.")


class ProgressPage(BaseModel):
    model_config = example({"items": [RECORD_EXAMPLE], "next_token": None})

    items: list[ProgressRecord]
    next_token: str | None = Field(description="Pass back as next_token for the next page; null on the last.")


class Rules(BaseModel):
    model_config = example(
        {
            "media_content_key": "nY3CaQtl",
            "completion_threshold": 80.0,
            "min_block_watch_ratio": 0.3,
            "source": "content",
            "updated_at": "2026-11-22T09:20:00.000Z",
        }
    )

    media_content_key: str
    completion_threshold: float
    min_block_watch_ratio: float
    max_playback_rate: float = Field(description="The highest playback rate the playback clock allows.")
    block_count: int | None = Field(description="The grid of record set for the content (null: the finest seen).")
    grid: int | None = Field(description="The grid records are judged on now (null: no callback yet).")
    source: Literal["default", "content"] = Field(description="content: set for this content; default: the defaults.")
    updated_at: str | None


class PlaybackUrl(BaseModel):
    model_config = example(
        {
            "url": "https://v.kr.kollus.com/s?jwt=eyJ...&custom_key=...&uservalue0=course-77&t=406",
            "expires_at": "2026-11-22T10:14:03.000Z",
            "start_position": 406.0,
        }
    )

    url: str
    expires_at: str | None
    start_position: float | None


class LedgerEntry(BaseModel):
    model_config = example(LEDGER_EXAMPLE)

    subject: Literal["progress", "content"] = Field(
        description="progress: a learner's completion or progress; content: a content.* webhook."
    )
    target: Literal["webhook", "ags", "xapi"] = Field(
        description="Where it goes: the LMS webhook, an LTI platform's gradebook (ags) or the LRS (xapi)."
    )
    client_user_id: str | None = Field(description="The learner (null for a content.* webhook).")
    media_content_key: str | None
    upload_file_key: str | None = Field(description="The content's upload key (content.* webhooks only).")
    state: Literal["pending", "delivered", "failed"] | None
    attempts: int
    completed_at: str | None
    last_attempt_at: str | None
    next_attempt_at: str | None
    last_status: int | None
    last_error: str | None
    delivered_at: str | None
    webhook_id: str | None = Field(description="The webhook-id; for ags the score's id, for xapi the statement id.")


class LedgerPage(BaseModel):
    model_config = example({"items": [LEDGER_EXAMPLE], "next_token": None})

    items: list[LedgerEntry]
    next_token: str | None


class Redelivery(BaseModel):
    model_config = example(
        {"client_user_id": "user-1042", "media_content_key": "nY3CaQtl", "target": "webhook", "state": "pending"}
    )

    client_user_id: str | None
    media_content_key: str
    target: Literal["webhook", "ags", "xapi"]
    state: Literal["pending"]
