"""What access control needs from storage, as protocols (`kollus_bridge.store` implements them)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from .entitlement import Enrolment


@dataclass(frozen=True)
class Course:
    course_id: str
    title: str
    media_content_keys: tuple[str, ...]
    updated_at: int


@dataclass(frozen=True)
class Decision:
    """One access decision, as the access log keeps it."""

    at: int
    client_user_id: str
    media_content_key: str
    device: str | None
    kind: str  # play_1, play_3, playback_url
    allowed: bool
    reason: str
    course_id: str | None = None


class EntitlementStore(Protocol):
    def enrolments_of(self, client_user_id: str) -> list[Enrolment]: ...

    def courses_holding(self, media_content_key: str) -> set[str]: ...


class AccessStore(EntitlementStore, Protocol):
    def log_access(self, decision: Decision, ttl_days: int) -> None: ...

    def access_log(
        self, *, client_user_id: str | None, media_content_key: str | None, limit: int, next_token: str | None
    ) -> tuple[Sequence[Decision], str | None]: ...
