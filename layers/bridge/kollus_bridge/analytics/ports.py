"""What learning analytics needs from storage, as protocols (`kollus_bridge.store` implements them)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from kollus_bridge.access.entitlement import Enrolment
from kollus_bridge.access.ports import Course
from kollus_bridge.content.ports import ContentCard
from kollus_bridge.kollus.callback import RawCallback
from kollus_bridge.progress.ports import Record


@dataclass(frozen=True)
class Cached:
    """Computed insights for one content and scope, as of a time (epoch ms)."""

    body: Mapping[str, Any]
    as_of: int
    #: The computation (the ask's time) whose learner table was written with these figures.
    job: int | None = None


class AnalyticsStore(Protocol):
    def records_of_content(
        self, media_content_key: str, limit: int, next_token: str | None
    ) -> tuple[Sequence[Record], str | None]: ...

    def records_of_learner(
        self, client_user_id: str, limit: int, next_token: str | None
    ) -> tuple[Sequence[Record], str | None]: ...

    def get_stored(self, client_user_id: str, media_content_key: str) -> Record | None: ...

    def session_snapshots(self, client_user_id: str, media_content_key: str) -> list[RawCallback]: ...

    def enrolments_page(
        self, *, course_id: str | None, client_user_id: str | None, limit: int, next_token: str | None
    ) -> tuple[list[Enrolment], str | None]: ...

    def content_cards(self, media_content_keys: Sequence[str]) -> dict[str, ContentCard]: ...

    def get_course(self, course_id: str) -> Course | None: ...

    def get_insights(self, media_content_key: str, scope: str) -> Cached | None: ...

    def put_insights(  # noqa: PLR0917
        self,
        media_content_key: str,
        scope: str,
        body: Mapping[str, Any],
        as_of: int,
        keep_days: int = ...,
        job: int | None = ...,
    ) -> None: ...

    def put_table_rows(  # noqa: PLR0917
        self,
        media_content_key: str,
        scope: str,
        job: int,
        part: int,
        rows: Sequence[Mapping[str, Any]],
        keep_days: int = ...,
    ) -> None: ...

    def table_rows(self, media_content_key: str, scope: str, job: int) -> list[dict[str, Any]]: ...

    def get_rules(self, media_content_key: str) -> dict[str, Any] | None: ...

    def want_insights(self, media_content_key: str, scope: str, now: int, again_after_ms: int) -> bool: ...

    def admit_scope(self, media_content_key: str, scope: str, day: int, limit: int) -> bool: ...

    def drop_wanted(self, media_content_key: str, scope: str, requested_at: int) -> None: ...

    def records_of(self, media_content_key: str, client_user_ids: list[str]) -> Sequence[Record]: ...

    def start_shards(
        self, media_content_key: str, scope: str, job: int, plan: Mapping[str, Any], parts: list[tuple[str, ...]]
    ) -> None: ...

    def shard_job(self, media_content_key: str, scope: str, job: int) -> dict[str, Any] | None: ...

    def finish_shard(
        self, media_content_key: str, scope: str, job: int, index: int, tally: Mapping[str, Any]
    ) -> list[dict[str, Any]] | None: ...
