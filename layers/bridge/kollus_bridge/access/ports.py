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
    #: Devices a learner of this course may play on at once (None: the deployment's limit).
    max_devices: int | None = None


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


class DeviceStore(Protocol):
    def get_course(self, course_id: str) -> Course | None: ...

    def get_devices(self, client_user_id: str) -> tuple[dict[str, int], int]: ...

    def put_devices(self, client_user_id: str, devices: dict[str, int], rev: int) -> bool: ...

    def approve(
        self, client_user_id: str, media_content_key: str, device: str, *, via: str, at: int, until: int
    ) -> None: ...


class AccessStore(EntitlementStore, DeviceStore, Protocol):
    def log_access(self, decision: Decision, ttl_days: int) -> None: ...

    def log_accesses(self, decisions: list[Decision], ttl_days: int) -> None: ...

    def access_log(
        self, *, client_user_id: str | None, media_content_key: str | None, limit: int, next_token: str | None
    ) -> tuple[Sequence[Decision], str | None]: ...
