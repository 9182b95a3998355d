"""What content management needs from storage, as protocols (`kollus_bridge.store` implements them)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from kollus_bridge.kollus.callback import RawCallback

from .catalog import Entry, Status


@dataclass(frozen=True)
class CatalogItem:
    """An entry as stored, with its revision (every change is a write conditioned on it)."""

    entry: Entry
    rev: int


@dataclass(frozen=True)
class ContentCard:
    """What progress and webhooks show of a content: found by its media content key."""

    upload_file_key: str
    title: str | None
    duration: float | None


class CatalogStore(Protocol):
    def get_content(self, upload_file_key: str) -> CatalogItem | None: ...

    def find_content(self, key: str) -> CatalogItem | None: ...

    def save_content(self, entry: Entry, previous: CatalogItem | None, now: int) -> bool: ...

    def list_contents(
        self,
        *,
        status: Status | None,
        channel_key: str | None,
        title_contains: str | None,
        limit: int,
        next_token: str | None,
    ) -> tuple[Sequence[CatalogItem], str | None]: ...

    def all_contents(self) -> Iterator[CatalogItem]: ...

    def redeliver_content(self, upload_file_key: str, event: str, now: int) -> None: ...

    def content_cards(self, media_content_keys: Sequence[str]) -> Mapping[str, ContentCard]: ...

    def save_rejected(
        self, raw: RawCallback, code: str, message: str, field: str | None, now: int, *, source: str = ...
    ) -> None: ...


class SlotStore(Protocol):
    def take_slot(self, name: str, now: int, interval_ms: int) -> int | None: ...


class ReconcileStore(CatalogStore, SlotStore, Protocol):
    def contents_with_work(self) -> Iterator[CatalogItem]: ...

    def acquire_lease(self, holder: str, now: int, until: int, name: str = ...) -> bool: ...

    def release_lease(self, holder: str, name: str = ...) -> None: ...

    def last_sweep(self) -> int | None: ...

    def sweep_done(self, at: int) -> None: ...
