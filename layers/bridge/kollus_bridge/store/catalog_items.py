"""How a catalog entry and its cards are laid out as items (`store.catalog` writes and reads them)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any
from urllib.parse import unquote

from kollus_bridge.content.catalog import Entry, Status
from kollus_bridge.content.ports import ContentCard
from kollus_bridge.delivery.ledger import StoredContent

from .record_items import ledger_from_item, rev_of
from .table import key_part, number_value, plain

CATALOG = {"S": "CATALOG"}
#: The value of `reconcile_work`, the sparse reconcile-index's key, while an entry needs reconciling.
WORK = "due"
ENTRY_PREFIX = "C#"
CARD_PREFIX = "K#"
CATALOG_KEY_TYPES = {"pk": "S", "sk": "S"}

_TEXTS = ("title", "poster_url", "filename", "category_key", "uploaded_by", "requested_channel")
_OPTIONAL_NUMBERS = ("duration", "deleted_at")


#: `Entry.playable` as a filter: ready and in a channel.
_PLAYABLE = "#status = :ready AND size(channels) > :none"


def status_filter(status: Status | None, values: dict[str, Any]) -> str:
    """A filter expression (over `#status`) keeping the entries whose public status (`Entry.public_status`)
    is `status`; without one, every entry but the deleted. Adds the values it uses to `values`."""
    if status is None:
        values[":deleted"] = {"S": Status.DELETED.value}
        return "#status <> :deleted"
    if status not in (Status.READY, Status.TRANSCODING):
        values[":status"] = {"S": status.value}
        return "#status = :status"
    values.update({":ready": {"S": Status.READY.value}, ":none": {"N": "0"}})
    if status is Status.READY:
        return f"({_PLAYABLE})"
    values[":transcoding"] = {"S": Status.TRANSCODING.value}  # and transcoded but not yet playable
    return f"(#status = :transcoding OR (#status = :ready AND NOT ({_PLAYABLE})))"


def entry_key(upload_file_key: str) -> dict[str, Any]:
    return {"pk": CATALOG, "sk": {"S": ENTRY_PREFIX + key_part(upload_file_key)}}


def card_key(media_content_key: str) -> dict[str, Any]:
    return {"pk": CATALOG, "sk": {"S": CARD_PREFIX + key_part(media_content_key)}}


def entry_attributes(entry: Entry) -> tuple[dict[str, Any], list[str]]:
    """The entry's attributes to set, and the names of those it lacks (to remove)."""
    values: dict[str, Any] = {
        "upload_file_key": {"S": entry.upload_file_key},
        "status": {"S": entry.status.value},
        "channels": {"M": {key: {"S": value} for key, value in entry.channels.items()}},
        "created_at": {"N": str(entry.created_at)},
        "updated_at": {"N": str(entry.updated_at)},
        "refresh": {"BOOL": entry.refresh},
        "unknown_to_kollus": {"BOOL": entry.unknown_to_kollus},
    }
    absent: list[str] = []
    for name in _TEXTS:
        value = getattr(entry, name)
        if value:
            values[name] = {"S": value}
        else:
            absent.append(name)
    for name in _OPTIONAL_NUMBERS:
        value = getattr(entry, name)
        if value is None:
            absent.append(name)
        else:
            values[name] = number_value(value)
    for name, members in (
        ("left_channels", entry.left_channels),
        ("profile_keys", entry.profile_keys),
        ("applied", entry.applied),
    ):
        if members:
            values[name] = {"SS": sorted(members)}
        else:
            absent.append(name)
    if entry.title:
        values["title_lower"] = {"S": entry.title.casefold()}
    else:
        absent.append("title_lower")
    if entry.media_content_key:
        values["media_content_key"] = {"S": entry.media_content_key}
    else:
        absent.append("media_content_key")
    if entry.refresh or entry.needs_attach:  # the sparse reconcile-index: work for reconciliation
        values["reconcile_work"] = {"S": WORK}
    else:
        absent.append("reconcile_work")
    return values, absent


def texts_of(item: Mapping[str, Any], name: str) -> frozenset[str]:
    return frozenset(item[name]["SS"]) if name in item else frozenset()


def entry_from_item(item: Mapping[str, Any]) -> Entry:
    duration = plain(item, "duration")
    deleted_at = plain(item, "deleted_at")
    return Entry(
        upload_file_key=item["upload_file_key"]["S"],
        status=Status(item["status"]["S"]),
        channels=MappingProxyType({key: value["S"] for key, value in item.get("channels", {}).get("M", {}).items()}),
        left_channels=texts_of(item, "left_channels"),
        profile_keys=texts_of(item, "profile_keys"),
        applied=texts_of(item, "applied"),
        created_at=int(item.get("created_at", {}).get("N", "0")),
        updated_at=int(item.get("updated_at", {}).get("N", "0")),
        refresh=bool(item.get("refresh", {}).get("BOOL", False)),
        unknown_to_kollus=bool(item.get("unknown_to_kollus", {}).get("BOOL", False)),
        duration=None if duration is None else float(duration),
        deleted_at=None if deleted_at is None else int(deleted_at),
        **{name: item[name]["S"] if name in item else None for name in _TEXTS},
    )


def stored_content_from_item(item: Mapping[str, Any]) -> StoredContent:
    update_at = plain(item, "sync_update_at")
    return StoredContent(
        entry_from_item(item),
        rev_of(item),
        ledger_from_item(item),
        texts_of(item, "sync_events_sent"),
        None if update_at is None else int(update_at),
    )


def card_item(entry: Entry) -> dict[str, Any]:
    card: dict[str, Any] = {"upload_file_key": {"S": entry.upload_file_key}, "status": {"S": entry.status.value}}
    if entry.title:
        card["title"] = {"S": entry.title}
    if entry.duration is not None:
        card["duration"] = number_value(entry.duration)
    return card


def card_from_item(item: Mapping[str, Any]) -> tuple[str, ContentCard]:
    """(media content key, card) from a card item."""
    duration = plain(item, "duration")
    title = item["title"]["S"] if "title" in item else None
    card = ContentCard(item["upload_file_key"]["S"], title, None if duration is None else float(duration))
    return unquote(item["sk"]["S"][len(CARD_PREFIX) :]), card
