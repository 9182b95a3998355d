"""The catalog, pure: one entry per uploaded file, and how events move it, only ever forward.

Two sources feed an entry, in any order and any number of times: Kollus's platform callbacks
(`apply_event`) and the VOD API's answers (`merge_vod`, from reconciliation and refreshes). The rules
make the result independent of order and of repeats (a property test holds them to it):

- status only moves up `uploading < transcoding < failed < ready < deleted` (a success after a failed
  attempt wins either way round; a deleted content stays deleted);
- a callback already applied (same `PlatformEvent.dedupe_key`) changes nothing;
- a channel a callback said the content left stays left, even if its join arrives later; only the VOD
  API (which reports what is true now) brings it back;
- details (title, duration, poster) come from the VOD API; a callback only asks for them (`refresh`).

With the VOD API configured, a platform callback is a claim to check, not a fact: while its check is
pending (`refresh`) no `content.*` webhook is due, a channel it says the content left is left only when
the library says so, and a content the library does not know (`unknown_to_kollus`) is never announced.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING

from kollus_bridge.kollus.platform import EventKind, PlatformEvent

if TYPE_CHECKING:  # the callback function stores catalog data without the VOD API client
    from kollus_bridge.kollus.vod import VodContent


class Status(StrEnum):
    UPLOADING = "uploading"
    TRANSCODING = "transcoding"
    FAILED = "failed"
    READY = "ready"
    DELETED = "deleted"


RANK = {status: rank for rank, status in enumerate(Status)}


def later(a: Status, b: Status) -> Status:
    return a if RANK[a] >= RANK[b] else b


#: The webhook each status announces.
EVENTS = {Status.READY: "content.ready", Status.FAILED: "content.failed", Status.DELETED: "content.deleted"}
#: The webhook of a change to a content already announced ready (`owes_update`).
UPDATED_EVENT = "content.updated"
EMPTY: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True)
class Entry:
    upload_file_key: str
    status: Status = Status.UPLOADING
    title: str | None = None
    duration: float | None = None
    poster_url: str | None = None
    #: channel key -> the content's media content key in that channel.
    channels: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    left_channels: frozenset[str] = frozenset()
    profile_keys: frozenset[str] = frozenset()
    filename: str | None = None
    category_key: str | None = None
    uploaded_by: str | None = None
    #: The channel the LMS asked for at upload (attached once the upload is in).
    requested_channel: str | None = None
    created_at: int = 0
    updated_at: int = 0
    deleted_at: int | None = None
    #: Dedupe keys of the platform callbacks applied.
    applied: frozenset[str] = frozenset()
    #: Details are to be fetched from the VOD API (and what callbacks claimed, checked).
    refresh: bool = False
    #: The VOD API's library did not know this upload when asked: nothing is announced until it does.
    unknown_to_kollus: bool = False

    @property
    def media_content_key(self) -> str | None:
        """The content's key for players: in the requested channel, else in the first channel by key."""
        if self.requested_channel and self.requested_channel in self.channels:
            return self.channels[self.requested_channel]
        return self.channels[min(self.channels)] if self.channels else None

    @property
    def playable(self) -> bool:
        """Transcoded and in a channel: it has the media content key a player needs."""
        return self.status is Status.READY and bool(self.channels)

    @property
    def public_status(self) -> Status:
        """The status the API and the webhooks give: `ready` only once playable. A content transcoded but
        not yet in a channel (its key comes a few seconds later) is still `transcoding`."""
        return Status.TRANSCODING if self.status is Status.READY and not self.playable else self.status

    @property
    def due_event(self) -> str | None:
        """The webhook this entry's status announces. `content.ready` waits until the content can be
        played and described: it has a media content key (it is in a channel), and what the callbacks
        claimed was checked against the VOD API (when one is configured)."""
        if self.refresh or self.unknown_to_kollus:
            return None
        if self.status is Status.READY and not self.media_content_key:
            return None
        return EVENTS.get(self.status)

    @property
    def needs_attach(self) -> bool:
        ch = self.requested_channel
        uploaded = RANK[self.status] >= RANK[Status.TRANSCODING] and self.status is not Status.DELETED
        return bool(ch) and uploaded and ch not in self.channels and ch not in self.left_channels


def described(entry: Entry) -> tuple[object, ...]:
    """What a `content.updated` webhook is about: the fields an LMS shows or plays the content by."""
    channels = tuple(sorted(entry.channels.items()))
    return entry.title, entry.duration, entry.poster_url, entry.category_key, channels, entry.media_content_key


def owes_update(previous: Entry | None, entry: Entry, sent: frozenset[str]) -> bool:
    """Whether a change owes the LMS a `content.updated`: the content was announced (`content.ready`
    sent), is still playable, and what describes it changed (a rename, a new duration or poster, a
    channel). Before `content.ready` is sent there is nothing to update: it carries the change."""
    if previous is None or EVENTS[Status.READY] not in sent:
        return False
    return entry.playable and described(previous) != described(entry)


def same_content(a: Entry, b: Entry) -> bool:
    """Equal but for when it changed."""
    return replace(a, updated_at=0) == replace(b, updated_at=0)


def new_upload(
    upload_file_key: str,
    title: str,
    now: int,
    *,
    uploaded_by: str | None = None,
    category_key: str | None = None,
    channel_key: str | None = None,
) -> Entry:
    return Entry(
        upload_file_key,
        title=title,
        uploaded_by=uploaded_by,
        category_key=category_key,
        requested_channel=channel_key,
        created_at=now,
        updated_at=now,
    )


def apply_event(entry: Entry | None, event: PlatformEvent, now: int, *, fetch_details: bool = True) -> Entry | None:
    """The entry after one platform callback; None when it changes nothing (a repeat).

    `fetch_details` is whether a VOD API is configured to ask for the details a callback lacks.
    """
    current = entry or Entry(event.upload_file_key, created_at=now, updated_at=now)
    if event.dedupe_key in current.applied:
        return None
    status = current.status
    channels = dict(current.channels)
    left = current.left_channels
    profiles = current.profile_keys
    refresh = current.refresh
    if event.kind is EventKind.UPLOADED:
        status = later(status, Status.TRANSCODING)
    elif event.kind is EventKind.TRANSCODED:
        status = later(status, Status.READY if event.succeeded else Status.FAILED)
        refresh = refresh or fetch_details  # a failure is checked as a success is
    elif event.kind is EventKind.CHANNEL_JOINED and event.channel_key and event.media_content_key:
        status = later(status, Status.TRANSCODING)
        if event.channel_key not in left:
            channels[event.channel_key] = event.media_content_key
        profiles = profiles | frozenset(event.profile_keys)
        refresh = refresh or (fetch_details and current.duration is None)
    elif event.kind is EventKind.CHANNEL_LEFT and event.channel_key and fetch_details:
        refresh = True  # the library's channel list decides (a forged leave takes nothing out)
    elif event.kind is EventKind.CHANNEL_LEFT and event.channel_key:
        channels.pop(event.channel_key, None)
        left = left | {event.channel_key}
    elif event.kind is EventKind.UPDATED:
        refresh = refresh or fetch_details
    return replace(
        current,
        status=status,
        channels=MappingProxyType(channels),
        left_channels=left,
        profile_keys=profiles,
        filename=current.filename or event.filename,
        applied=current.applied | {event.dedupe_key},
        refresh=refresh and current.status is not Status.DELETED,
        updated_at=max(current.updated_at, now),
    )


_FROM_VOD = {"ready": Status.READY, "failed": Status.FAILED, "transcoding": Status.TRANSCODING}


def merge_vod(entry: Entry | None, found: VodContent, now: int, *, channel_key: str | None = None) -> Entry:
    """The entry after the VOD API reported `found` (from the library, or from `channel_key`'s list):
    its details win, and a channel it reports is joined again even if a callback said it left."""
    current = entry or Entry(found.upload_file_key, created_at=(found.created_at or now // 1000) * 1000, updated_at=now)
    channels = dict(current.channels)
    reported = dict(found.channels)
    if channel_key is None and reported:
        channels = reported  # the library's detail lists every channel the file is in
    else:
        channels.update(reported)
    status = current.status
    if found.transcoding in _FROM_VOD:
        status = later(status, _FROM_VOD[found.transcoding])
    elif channels:
        status = later(status, Status.TRANSCODING)
    merged = replace(
        current,
        status=status,
        title=found.title or current.title,
        duration=found.duration if found.duration is not None else current.duration,
        poster_url=found.poster_url or current.poster_url,
        channels=MappingProxyType(channels),
        left_channels=current.left_channels - reported.keys(),
        profile_keys=current.profile_keys | frozenset(found.profile_keys),
        refresh=False,
        unknown_to_kollus=False,
    )
    return merged if same_content(merged, current) else replace(merged, updated_at=max(current.updated_at, now))


def leave_channel(entry: Entry, channel_key: str, now: int) -> Entry:
    """The VOD API no longer lists the content in a channel."""
    channels = {key: value for key, value in entry.channels.items() if key != channel_key}
    return replace(entry, channels=MappingProxyType(channels), updated_at=max(entry.updated_at, now))


def deleted(entry: Entry, now: int) -> Entry:
    if entry.status is Status.DELETED:
        return entry
    return replace(entry, status=Status.DELETED, deleted_at=now, refresh=False, updated_at=max(entry.updated_at, now))


def retitled(entry: Entry, title: str, now: int) -> Entry:
    return replace(entry, title=title, updated_at=max(entry.updated_at, now))


def details_checked(entry: Entry, now: int) -> Entry:
    """A refresh the VOD API answered with "no such content": stop asking, and announce nothing of what
    callbacks claimed until a sweep finds it in a channel."""
    return replace(entry, refresh=False, unknown_to_kollus=True, updated_at=max(entry.updated_at, now))


def public_fields(entry: Entry) -> dict[str, object]:
    """What the API and the `content.*` webhooks say of a content (times in epoch ms; the callers format)."""
    return {
        "media_content_key": entry.media_content_key,
        "upload_file_key": entry.upload_file_key,
        "title": entry.title,
        "status": entry.public_status.value,
        "duration": entry.duration,
        "channels": [{"channel_key": key, "media_content_key": value} for key, value in sorted(entry.channels.items())],
        "profile_keys": sorted(entry.profile_keys),
        "poster_url": entry.poster_url,
        "filename": entry.filename,
        "category_key": entry.category_key,
        "uploaded_by": entry.uploaded_by,
        "created_at": entry.created_at,
        "updated_at": entry.updated_at,
        "deleted_at": entry.deleted_at,
    }
