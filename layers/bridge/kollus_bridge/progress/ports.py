"""What the progress use cases need from storage: the stored record, and the stores as protocols.

`kollus_bridge.store` implements them; the use cases never import it (the functions wire it in).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
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
    #: The write's timing condition did not hold (a newer callback whose session is not as assumed):
    #: `first_seen` and `session_exists` are what the record holds; judge the credit again.
    recheck: bool = False
    first_seen: int | None = None
    session_exists: bool = False
    #: Accepted: the record before the write (what the write added is `state` less this).
    previous: RecordState | None = None


@dataclass(frozen=True)
class Timing:
    """What the record write must find of the session for the credit it carries to hold."""

    #: Keep when the session's first callback arrived (`f:`): the session is timed from it.
    track_first_seen: bool = False
    #: The credit assumes the first callback arrived at or before this (epoch ms).
    seen_by: int | None = None
    #: The credit assumes the first callback arrived exactly then (None with `new`: it arrives now).
    seen_at: int | None = None
    new: bool = False
    #: The session must be known already (its playback URL no longer opens new sessions).
    must_exist: bool = False


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

    def apply(
        self, update: SessionUpdate, mark_due: bool = False, watch_ratio: float = 0.5, timing: Timing = ...
    ) -> ApplyResult: ...

    def fold_sessions(
        self, client_user_id: str, media_content_key: str, before: RecordState, after: RecordState, folded: list[str]
    ) -> RecordState | None: ...

    def move_to_grid(
        self,
        client_user_id: str,
        media_content_key: str,
        grid: int,
        blocks: frozenset[int],
        others: list[int],
        *,
        lowered: tuple[int, Decimal, Decimal] | None = None,
    ) -> RecordState | None: ...

    def flag_session(self, update: SessionUpdate) -> None: ...

    def withdraw_credit(self, update: SessionUpdate, blocks: frozenset[int], rev: int) -> RecordState | None: ...

    def mark_completed(self, client_user_id: str, media_content_key: str, now: int) -> None: ...

    def save_snapshot(self, update: SessionUpdate, raw: RawCallback, credit_seconds: float | None = None) -> None: ...

    def raise_grid(self, media_content_key: str, block_count: int, duration: float | None) -> bool: ...

    def save_rejected(
        self, raw: RawCallback, code: str, message: str, field: str | None, now: int, *, source: str = ...
    ) -> None: ...

    def touch_device(self, client_user_id: str, device: str, now: int) -> None: ...

    def get_record(self, client_user_id: str, media_content_key: str) -> RecordState | None: ...

    def get_stored(self, client_user_id: str, media_content_key: str) -> Record | None: ...

    def session_snapshots(self, client_user_id: str, media_content_key: str) -> list[RawCallback]: ...

    def credited_snapshots(
        self, client_user_id: str, media_content_key: str
    ) -> list[tuple[RawCallback, float | None]]: ...

    def replace_watched(
        self,
        client_user_id: str,
        media_content_key: str,
        watched: Mapping[int, frozenset[int]],
        ratio: float,
        rev: int,
        *,
        lowered: tuple[int, Decimal, Decimal] | None = None,
    ) -> RecordState | None: ...

    def records_of_learner(
        self, client_user_id: str, limit: int, next_token: str | None
    ) -> tuple[Sequence[Record], str | None]: ...

    def records_of_content(
        self, media_content_key: str, limit: int, next_token: str | None
    ) -> tuple[Sequence[Record], str | None]: ...


class RulesReader(Protocol):
    def get_rules(self, media_content_key: str) -> dict[str, Any] | None: ...


class RulesStore(RulesReader, Protocol):
    def put_rules(
        self,
        media_content_key: str,
        completion_threshold: float,
        ratio: float,
        now: int,
        *,
        max_playback_rate: float | None = None,
        block_count: int | None = None,
    ) -> None: ...

    def delete_rules(self, media_content_key: str) -> None: ...
