"""The API's response bodies, as models: the OpenAPI document is generated from them."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable machine-readable code, e.g. invalid_payload.")
    message: str
    field: str | None = Field(description="The offending input, when one is to blame.")


class ErrorBody(BaseModel):
    error: ErrorDetail


class CallbackResult(BaseModel):
    result: Literal["accepted", "duplicate", "stale"]
    watched_blocks: int
    block_count: int
    progress: float
    completed: bool


class ProgressRecord(BaseModel):
    client_user_id: str
    media_content_key: str
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
    suspicious_sessions: int = Field(description="Sessions that reported more content time than wall-clock allows.")
    completion_threshold: float = Field(description="The content's rule in force.")
    updated_at: str | None


class ProgressDetail(ProgressRecord):
    missing_ranges: list[tuple[float, float]] | None = Field(
        description="Unwatched parts as merged [start_second, end_second) pairs; null without a duration."
    )
    blocks_needed: int = Field(description="More watched blocks needed to reach the completion threshold.")


class ProgressPage(BaseModel):
    items: list[ProgressRecord]
    next_token: str | None = Field(description="Pass back as next_token for the next page; null on the last.")


class Rules(BaseModel):
    media_content_key: str
    completion_threshold: float
    min_block_watch_ratio: float
    source: Literal["default", "content"] = Field(description="content: set for this content; default: the defaults.")
    updated_at: str | None


class PlaybackUrl(BaseModel):
    url: str
    expires_at: str | None
    start_position: float | None


class LedgerEntry(BaseModel):
    client_user_id: str
    media_content_key: str
    state: Literal["pending", "delivered", "failed"] | None
    attempts: int
    completed_at: str | None
    last_attempt_at: str | None
    next_attempt_at: str | None
    last_status: int | None
    last_error: str | None
    delivered_at: str | None
    webhook_id: str | None


class LedgerPage(BaseModel):
    items: list[LedgerEntry]
    next_token: str | None


class Redelivery(BaseModel):
    client_user_id: str
    media_content_key: str
    state: Literal["pending"]
