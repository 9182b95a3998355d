"""Content use cases: a platform callback, and the LMS's upload, rename and delete.

Every change to an entry is read, decide (pure, `catalog`), write on the revision read; a write that
loses to another is decided again on what won. Kollus is asked first and the catalog written after, so
the catalog never claims what Kollus did not do.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

from kollus_bridge.errors import Conflict, KollusRefused, KollusUnavailable, NotFound, StorageUnavailable
from kollus_bridge.kollus.callback import RawCallback
from kollus_bridge.kollus.platform import PlatformEvent, parse_platform_callback
from kollus_bridge.kollus.refused import kept_when_refused
from kollus_bridge.kollus.vod import UploadTicket, VodClient, VodError, VodNotFound, VodUnavailable
from kollus_bridge.settings import Settings

from . import catalog
from .catalog import Entry
from .ports import CatalogItem, CatalogStore

#: Tries of one change against concurrent writers before giving up (the caller may resend).
MAX_TRIES = 8
#: Where refused platform callbacks are filed in the rejected store.
PLATFORM_SOURCE = "platform_callback"


@contextlib.contextmanager
def kollus_errors() -> Iterator[None]:
    """The VOD API's failures as the API reports them: 404, 502 (refused) or 503 (unavailable)."""
    try:
        yield
    except VodNotFound as error:
        raise NotFound(f"Kollus: {error.message}", field="media_content_key") from None
    except VodUnavailable as error:
        raise KollusUnavailable(f"{error.message}; try again later") from None
    except VodError as error:
        raise KollusRefused(error.message) from None


def change(
    store: CatalogStore, upload_file_key: str, decide: Callable[[CatalogItem | None], Entry | None], now: int
) -> Entry | None:
    """Apply `decide` to the stored entry (None: no entry) and write its answer on the revision read.
    Returns the entry written, or None when `decide` changed nothing. A media content key another upload
    holds is never taken over (`Conflict`; the write's own condition holds it against races)."""
    for _ in range(MAX_TRIES):
        current = store.get_content(upload_file_key)
        decided = decide(current)
        if decided is None or (current is not None and decided == current.entry):
            return None
        _refuse_takeover(store, decided, current.entry if current is not None else None)
        if store.save_content(decided, current, now):
            return decided
    raise StorageUnavailable("the content is being changed by others; resend later")


def _refuse_takeover(store: CatalogStore, decided: Entry, previous: Entry | None) -> None:
    added = sorted(set(decided.channels.values()) - set(previous.channels.values() if previous else ()))
    for key, card in (store.content_cards(added) if added else {}).items():
        if card.upload_file_key != decided.upload_file_key:
            raise Conflict(f"media content key {key!r} belongs to another upload", field="media_content_key")


def existing(step: Callable[[Entry], Entry]) -> Callable[[CatalogItem | None], Entry | None]:
    """A decision that applies `step` to a stored entry, and leaves a missing one missing."""
    return lambda current: None if current is None else step(current.entry)


@dataclass(frozen=True)
class PlatformResult:
    event: PlatformEvent
    changed: bool
    entry: Entry | None


def receive_platform_callback(raw: RawCallback, settings: Settings, store: CatalogStore, now: int) -> PlatformResult:
    """Apply one platform callback to the catalog. A refused payload is kept in the rejected store."""
    fetch = settings.kollus_api_configured
    with kept_when_refused(store, raw, now, PLATFORM_SOURCE):
        event = parse_platform_callback(raw, settings)

        def decide(current: CatalogItem | None) -> Entry | None:
            return catalog.apply_event(current.entry if current else None, event, now, fetch_details=fetch)

        written = change(store, event.upload_file_key, decide, now)
    return PlatformResult(event, written is not None, written)


def create_upload(
    vod: VodClient,
    store: CatalogStore,
    settings: Settings,
    now: int,
    *,
    title: str,
    uploaded_by: str | None = None,
    category_key: str | None = None,
    channel_key: str | None = None,
    encrypt: bool = False,
    audio: bool = False,
) -> tuple[UploadTicket, Entry]:
    """Ask Kollus for an upload URL; the catalog holds the content as `uploading` from now on."""
    with kollus_errors():
        ticket = vod.create_upload_url(
            title,
            expire_seconds=settings.kollus_upload_expiry_seconds,
            category_key=category_key,
            encrypt=encrypt,
            audio=audio,
            now=now // 1000,
        )
    channel = channel_key or settings.kollus_channel_key
    entry = catalog.new_upload(
        ticket.upload_file_key, title, now, uploaded_by=uploaded_by, category_key=category_key, channel_key=channel
    )

    def decide(current: CatalogItem | None) -> Entry | None:
        if current is None:
            return entry
        # A platform callback got here first: keep what it said, add what the LMS told us.
        known = current.entry
        return replace(
            known,
            title=known.title or title,
            uploaded_by=known.uploaded_by or uploaded_by,
            category_key=known.category_key or category_key,
            requested_channel=known.requested_channel or channel,
            created_at=min(known.created_at, now) if known.created_at else now,
        )

    written = change(store, ticket.upload_file_key, decide, now)
    return ticket, written or entry


def find(store: CatalogStore, key: str) -> CatalogItem:
    """A content by its media content key (or, before it has one, its upload file key)."""
    found = store.find_content(key)
    if found is None:
        raise NotFound(f"no content {key!r} in the catalog", field="media_content_key")
    return found


def rename(vod: VodClient, store: CatalogStore, key: str, title: str, now: int) -> Entry:
    """Change a content's title in Kollus, then in the catalog."""
    item = find(store, key)
    if item.entry.status is catalog.Status.DELETED:
        raise NotFound(f"content {key!r} was deleted", field="media_content_key")
    with kollus_errors():
        vod.update_title(item.entry.upload_file_key, title)
    written = change(
        store, item.entry.upload_file_key, existing(lambda entry: catalog.retitled(entry, title, now)), now
    )
    return written or catalog.retitled(item.entry, title, now)


def delete(vod: VodClient, store: CatalogStore, key: str, now: int) -> Entry:
    """Delete a content's file from the Kollus library, then mark it deleted (idempotent). Learners'
    progress records stay."""
    item = find(store, key)
    if item.entry.status is not catalog.Status.DELETED:
        # Already gone in Kollus (deleted in the console): the catalog catches up.
        with kollus_errors(), contextlib.suppress(VodNotFound):
            vod.delete(item.entry.upload_file_key)
    written = change(store, item.entry.upload_file_key, existing(lambda entry: catalog.deleted(entry, now)), now)
    return written or catalog.deleted(item.entry, now)


def redeliver_content(store: CatalogStore, key: str, now: int) -> None:
    """Put a content's current content.* webhook back in line for delivery (idempotent)."""
    item = find(store, key)
    event = item.entry.due_event
    if event is None:
        raise NotFound(f"content {key!r} has no content.* webhook to deliver yet", field="media_content_key")
    store.redeliver_content(item.entry.upload_file_key, event, now)
