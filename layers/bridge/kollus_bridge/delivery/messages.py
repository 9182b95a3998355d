"""What the webhook says: a record's completion or progress, a catalog content's `content.*` event
(Standard Webhooks' type / timestamp / data envelope, with a `webhook-id` stable across retries)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from kollus_bridge.content.catalog import UPDATED_EVENT, public_fields
from kollus_bridge.content.ports import ContentCard
from kollus_bridge.progress.rule import ProgressView, summarize
from kollus_bridge.settings import Settings
from kollus_bridge.times import iso_time

from . import webhooks
from .channels import news
from .ledger import Deliverable, Message, StoredContent, StoredDelivery, StoredRecord, SyncState


def payload(
    kind: str, record: StoredRecord, view: ProgressView, at: int | None, title: str | None = None
) -> dict[str, Any]:
    """The webhook body (Standard Webhooks' type / timestamp / data envelope)."""
    return {
        "type": kind,
        "timestamp": iso_time(at),
        "data": {
            "client_user_id": record.client_user_id,
            "media_content_key": record.media_content_key,
            "title": title,
            "progress": float(view.progress),
            "watched_blocks": view.watched_blocks,
            "block_count": view.block_count,
            "completed_at": iso_time(view.completed_at),
            "last_position": view.last_position,
            "play_time": view.play_time,
            "real_play_time": view.real_play_time,
            "uservalues": dict(record.state.uservalues),
        },
    }


def content_payload(kind: str, item: StoredContent) -> dict[str, Any]:
    """A `content.*` webhook's body: the catalog's fields, times in ISO-8601."""
    data = public_fields(item.entry)
    for name in ("created_at", "updated_at", "deleted_at"):
        data[name] = iso_time(data[name])  # type: ignore[arg-type]
    return {"type": kind, "timestamp": iso_time(item.entry.updated_at), "data": data}


def content_plan(item: StoredContent) -> Message | None:
    """The webhook a catalog entry's status announces, unless it was sent; else a `content.updated`
    owed for a change since (one per change: its id names the change's time)."""
    kind = item.entry.due_event
    if kind is not None and kind not in item.events_sent:
        message_id = webhooks.message_id(kind, item.entry.upload_file_key)
    elif item.update_at is not None and item.entry.playable:
        kind = UPDATED_EVENT
        message_id = webhooks.message_id(kind, item.entry.upload_file_key, str(item.update_at))
    else:
        return None
    body = json.dumps(content_payload(kind, item), separators=(",", ":"), ensure_ascii=False).encode()
    return Message(kind, message_id, body, "")


def plan(record: Deliverable, settings: Settings, cards: Mapping[str, ContentCard] | None = None) -> Message | None:
    """The webhook a due record or catalog entry owes: a record's completion first, else a changed
    progress (if enabled); a catalog entry's status's webhook. `cards` name the contents' titles."""
    if record.ledger.state is SyncState.FAILED:
        return None  # waits for POST /v1/sync/redeliver
    if isinstance(record, StoredContent):
        return content_plan(record)
    if isinstance(record, StoredDelivery):
        return None  # another target's: its channel plans it
    view = summarize(record.state, settings.completion_threshold)
    progress = str(view.progress)
    identity = (record.client_user_id, record.media_content_key)
    owed = news(view, record.state.completed_at, record.ledger, settings)
    if owed == "completed":
        kind = "progress.completed"
        message_id = webhooks.message_id(kind, *identity, str(record.state.completed_at))
        at: int | None = record.state.completed_at
    elif owed == "progress":
        kind = "progress.updated"
        message_id = webhooks.message_id(kind, *identity, progress, str(view.block_count))
        at = record.state.updated_at
    else:
        return None
    card = (cards or {}).get(record.media_content_key)
    document = payload(kind, record, view, at, card.title if card else None)
    body = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
    return Message(kind, message_id, body, progress)
