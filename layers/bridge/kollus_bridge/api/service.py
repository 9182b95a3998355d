"""The LMS API's use cases, one function each: progress, rules, playback URLs, the sync ledger.

The callback's own use case is `progress.ingest`."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Annotated, Any, Protocol

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from kollus_bridge.content.ports import ContentCard
from kollus_bridge.delivery.ledger import StoredLedgerEntry, SyncState, Target
from kollus_bridge.errors import InvalidPayload, InvalidRequest, NotFound
from kollus_bridge.kollus.playback import PlaybackKeys, PlaybackRequest, claims, jwt_hs256, playback_url, sign_nonce
from kollus_bridge.kollus.values import MAX_ID_LENGTH, MAX_NUMBER, read_text
from kollus_bridge.progress.ingest import current_state
from kollus_bridge.progress.ports import ProgressStore, Record, RulesStore
from kollus_bridge.progress.rule import ProgressView, RecordState, summarize
from kollus_bridge.progress.rules import ContentRules, RulesCache
from kollus_bridge.settings import DEFAULT_NONCE_SLOT, Settings
from kollus_bridge.times import iso_time


@dataclass(frozen=True)
class LedgerPage:
    entries: list[StoredLedgerEntry]
    next_token: str | None


class LedgerStore(Protocol):
    """What the sync ledger's routes need from storage."""

    def ledger(
        self, state: SyncState, limit: int, next_token: str | None, target: Target | None = None
    ) -> tuple[list[StoredLedgerEntry], str | None]: ...

    def redeliver(self, client_user_id: str, media_content_key: str, now: int) -> bool: ...

    def redeliver_target(self, client_user_id: str, media_content_key: str, target: Target, now: int) -> bool: ...


def sync_ledger(
    state: SyncState, limit: int, next_token: str | None, store: LedgerStore, target: Target | None = None
) -> LedgerPage:
    """One page of the sync ledger in one state (of one target, when given)."""
    entries, token = store.ledger(state, limit, next_token, target)
    return LedgerPage(entries, token)


def redeliver(
    client_user_id: str, media_content_key: str, store: LedgerStore, now: int, target: Target = Target.WEBHOOK
) -> None:
    """Put a completion's delivery to one target back in line (idempotent)."""
    if target is Target.WEBHOOK:
        if not store.redeliver(client_user_id, media_content_key, now):
            raise NotFound("no completed record for this learner and content")
    elif not store.redeliver_target(client_user_id, media_content_key, target, now):
        raise NotFound(f"no completion of this learner and content was delivered to {target.value}")


# --- progress for the LMS: listings, "why not complete", rules, playback URLs -------------------


@dataclass(frozen=True)
class RecordView:
    client_user_id: str
    media_content_key: str
    view: ProgressView
    rules: ContentRules
    #: The content's title, when the catalog knows it.
    title: str | None = None
    state: RecordState | None = None


#: The catalog's cards by media content key (titles and durations).
CardLookup = Callable[[Sequence[str]], Mapping[str, ContentCard]]


def _with_card(item: RecordView, card: ContentCard | None) -> RecordView:
    """A record named by the catalog's title; the catalog's duration where the player gave none."""
    if card is None:
        return item
    view = item.view if item.view.duration or card.duration is None else replace(item.view, duration=card.duration)
    return replace(item, view=view, title=card.title)


@dataclass(frozen=True)
class ProgressPage:
    items: list[RecordView]
    next_token: str | None


def set_rules(media_content_key: str, rules: RulesInput, store: RulesStore, now: int) -> None:
    store.put_rules(
        media_content_key,
        rules.completion_threshold,
        rules.min_block_watch_ratio,
        now,
        max_playback_rate=rules.max_playback_rate,
        block_count=rules.block_count or None,
    )


def _record_view(record: Record, settings: Settings, store: ProgressStore, rules: RulesCache, now: int) -> RecordView:
    """A stored record as reported under its content's rules in force."""
    content_rules = rules.get(record.media_content_key)
    state = current_state(record, content_rules, settings, store, now)
    view = summarize(state, content_rules.completion_threshold, content_rules.grid)
    return RecordView(record.client_user_id, record.media_content_key, view, content_rules, state=state)


def progress_detail(
    client_user_id: str,
    media_content_key: str,
    settings: Settings,
    store: ProgressStore,
    *,
    rules: RulesCache,
    now: int,
    cards: CardLookup | None = None,
) -> RecordView:
    """One learner's progress on one content, under the content's rules. A content the catalog knows
    but the learner never started is reported at zero, all of it missing."""
    card = cards([media_content_key]).get(media_content_key) if cards else None
    record = store.get_stored(client_user_id, media_content_key)
    if record is None:
        if card is None:
            raise NotFound("no progress recorded for this learner and content")
        content_rules = rules.get(media_content_key)
        empty = summarize(RecordState(), content_rules.completion_threshold, content_rules.grid)
        return _with_card(RecordView(client_user_id, media_content_key, empty, content_rules), card)
    return _with_card(_record_view(record, settings, store, rules, now), card)


def progress_page(
    settings: Settings,
    store: ProgressStore,
    rules: RulesCache,
    now: int,
    *,
    client_user_id: str | None,
    media_content_key: str | None,
    limit: int,
    next_token: str | None,
    cards: CardLookup | None = None,
) -> ProgressPage:
    """One page of a learner's records, or of a content's (named by the catalog's titles)."""
    if client_user_id is not None:
        records, token = store.records_of_learner(client_user_id, limit, next_token)
    elif media_content_key is not None:
        records, token = store.records_of_content(media_content_key, limit, next_token)
    else:
        raise InvalidRequest("give client_user_id, media_content_key, or both", field="client_user_id")
    views = [_record_view(record, settings, store, rules, now) for record in records]
    known = cards(sorted({view.media_content_key for view in views})) if cards and views else {}
    return ProgressPage([_with_card(view, known.get(view.media_content_key)) for view in views], token)


def _integral(value: Any) -> Any:
    # JSON has one number type: 3600.0 is the integer 3600 (as JSON Schema says); 3600.5 is not.
    return int(value) if type(value) is float and value.is_integer() else value


#: An integer in strict JSON: a whole number, never a boolean or a string.
WholeNumber = Annotated[int, BeforeValidator(_integral)]


class RulesInput(BaseModel):
    """What `PUT /v1/contents/{media_content_key}/rules` accepts."""

    # Strict: a boolean or a string is not a number (JSON numbers only; an integer is a float).
    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={"examples": [{"completion_threshold": 80, "min_block_watch_ratio": 0.3}]},
    )

    completion_threshold: float = Field(ge=1, le=100, description="Percent of blocks that completes the content.")
    min_block_watch_ratio: float = Field(ge=0, le=1, description="Share of a block that must be played.")
    max_playback_rate: float | None = Field(
        default=None,
        ge=1,
        le=16,
        description="The highest playback rate the playback clock allows (MAX_PLAYBACK_RATE).",
    )
    block_count: WholeNumber = Field(
        default=0, ge=0, le=100_000, description="The content's grid of record; 0: the finest grid its players report."
    )


#: What a callback reads back as it was sent: no control characters, no white space at the ends.
READ_BACK = r"^[^\x00-\x1f\x85\s](?:[^\x00-\x1f]*[^\x00-\x1f\x85\s])?$"
#: What a callback reads as no value at all (`null`, `undefined`, an unsubstituted `{PLACEHOLDER}`).
ABSENT = r"^(?:[Nn][Uu][Ll][Ll]|[Uu][Nn][Dd][Ee][Ff][Ii][Nn][Ee][Dd]|\{[A-Za-z0-9_]+\})$"

#: The uservalue names Kollus knows (no leading zeros), and how long a value may be.
USERVALUE_NAME = r"uservalue([0-9]|[1-9][0-9])"
MAX_USERVALUE_LENGTH = 2048


class PlaybackInput(BaseModel):
    """What `POST /v1/playback-urls` accepts."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={
            "examples": [
                {
                    "client_user_id": "user-1042",
                    "media_content_key": "nY3CaQtl",
                    "uservalues": {"uservalue0": "course-77"},
                    "expires_in": 3600,
                    "resume": True,
                    "seek": False,
                }
            ]
        },
    )

    client_user_id: str = Field(
        min_length=1, max_length=256, pattern=READ_BACK, json_schema_extra={"not": {"pattern": ABSENT}}
    )
    media_content_key: str = Field(
        min_length=1, max_length=256, pattern=READ_BACK, json_schema_extra={"not": {"pattern": ABSENT}}
    )
    uservalues: dict[str, str] = Field(
        default_factory=dict,
        description="uservalue0..uservalue99 to attach, but the session nonce's (PLAYBACK_NONCE_SLOT, uservalue99)",
        json_schema_extra={
            "propertyNames": {"pattern": f"^{USERVALUE_NAME}$", "not": {"const": DEFAULT_NONCE_SLOT}},
            "additionalProperties": {
                "type": "string",
                "minLength": 1,
                "maxLength": MAX_USERVALUE_LENGTH,
                "pattern": READ_BACK,
                "not": {"pattern": ABSENT},
            },
        },
    )
    expires_in: WholeNumber = Field(default=3600, ge=60, le=86400, description="Seconds the URL stays valid.")
    resume: bool = Field(default=True, description="Start where the learner left off.")
    seek: bool | None = None
    seekable_end: Annotated[int, Field(ge=0, le=MAX_NUMBER), BeforeValidator(_integral)] | None = None
    disable_playrate: bool | None = None


def _as_callbacks_read(value: str, field: str, limit: int) -> None:
    """A value signed into a playback URL comes back in every callback of its sessions: it must read
    there as it is here, or the learner's progress would be refused later. The callback's own reader
    decides."""
    try:
        read = read_text(value, field, limit)
    except InvalidPayload as error:
        raise InvalidRequest(error.message, field=field) from None
    if read is None:
        raise InvalidRequest(f"{field} {value!r} reads as no value in a callback", field=field)
    if read != value:
        raise InvalidRequest(f"{field} has white space at its ends, which callbacks drop", field=field)


def issue_playback_url(
    request: PlaybackInput, settings: Settings, store: ProgressStore, keys: PlaybackKeys, now: int
) -> dict[str, Any]:
    """A signed Kollus playback URL bound to this learner and content by a session nonce."""
    _as_callbacks_read(request.client_user_id, "client_user_id", MAX_ID_LENGTH)
    _as_callbacks_read(request.media_content_key, "media_content_key", MAX_ID_LENGTH)
    for name, value in request.uservalues.items():
        match = re.fullmatch(USERVALUE_NAME, name)
        if match is None:
            raise InvalidRequest(f"{name} is not uservalue0..uservalue99", field=f"uservalues.{name}")
        if name == settings.playback_nonce_slot:
            raise InvalidRequest(f"{name} carries the session nonce", field=f"uservalues.{name}")
        _as_callbacks_read(value, f"uservalues.{name}", MAX_USERVALUE_LENGTH)
    start_position = None
    if request.resume:
        record = store.get_record(request.client_user_id, request.media_content_key)
        if record is not None:
            start_position = summarize(record, settings.completion_threshold).last_position
    expires_at = now // 1000 + request.expires_in
    token = jwt_hs256(
        claims(
            PlaybackRequest(
                request.client_user_id,
                request.media_content_key,
                expires_at,
                seek=request.seek,
                seekable_end=request.seekable_end,
                disable_playrate=request.disable_playrate,
            )
        ),
        keys.security_key,
    )
    nonce = sign_nonce(keys.nonce_key, request.client_user_id, request.media_content_key, now // 1000, expires_at)
    uservalues = {**request.uservalues, settings.playback_nonce_slot: nonce}
    url = playback_url(settings.kollus_player_host, token, keys.custom_key, uservalues, start_position)
    return {"url": url, "expires_at": iso_time(expires_at * 1000), "start_position": start_position}
