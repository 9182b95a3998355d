"""What the progress use cases need from storage: the stored record, and the stores as protocols.

`kollus_bridge.store` implements them; the use cases never import it (the functions wire it in).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from kollus_bridge.kollus.callback import RawCallback

from .rule import Outcome, RecordState, SessionUpdate


@dataclass(frozen=True)
class Record:
    """A learner's record for one content as stored, with its revision (`rev` grows with every write)."""

    client_user_id: str
    media_content_key: str
    state: RecordState
    rev: int


@dataclass(frozen=True)
class ApplyResult:
    outcome: Outcome
    state: RecordState
    rev: int = 0


@dataclass(frozen=True)
class Approval:
    """When (unix seconds, from first to last granted expiry) the play callback approved a device to
    stream a content for a learner, and when the DRM callback approved it to play a download."""

    streaming: tuple[int, int] | None = None
    download: tuple[int, int] | None = None


class ApprovalStore(Protocol):
    def approval(self, client_user_id: str, media_content_key: str, device: str) -> Approval | None: ...


class ProgressStore(ApprovalStore, Protocol):
    """Records, their sessions' raw snapshots, and refused payloads."""

    def apply(self, update: SessionUpdate, mark_due: bool = False, watch_ratio: float = 0.5) -> ApplyResult: ...

    def mark_completed(self, client_user_id: str, media_content_key: str, now: int) -> None: ...

    def save_snapshot(self, update: SessionUpdate, raw: RawCallback) -> None: ...

    def save_rejected(
        self, raw: RawCallback, code: str, message: str, field: str | None, now: int, *, source: str = ...
    ) -> None: ...

    def touch_device(self, client_user_id: str, device: str, now: int) -> None: ...

    def get_record(self, client_user_id: str, media_content_key: str) -> RecordState | None: ...

    def get_stored(self, client_user_id: str, media_content_key: str) -> Record | None: ...

    def session_snapshots(self, client_user_id: str, media_content_key: str) -> list[RawCallback]: ...

    def replace_watched(
        self, client_user_id: str, media_content_key: str, watched: Mapping[int, frozenset[int]], ratio: float, rev: int
    ) -> RecordState | None: ...

    def records_of_learner(
        self, client_user_id: str, limit: int, next_token: str | None
    ) -> tuple[Sequence[Record], str | None]: ...

    def records_of_content(
        self, media_content_key: str, limit: int, next_token: str | None
    ) -> tuple[Sequence[Record], str | None]: ...


class RulesStore(Protocol):
    def get_rules(self, media_content_key: str) -> dict[str, Any] | None: ...

    def put_rules(self, media_content_key: str, completion_threshold: float, ratio: float, now: int) -> None: ...

    def delete_rules(self, media_content_key: str) -> None: ...
