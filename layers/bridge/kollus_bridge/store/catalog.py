"""The catalog, one partition `pk=CATALOG`:

- `sk=C#<upload file key>`: an entry, with its `rev` and, while a `content.*` webhook is due, the
  sync ledger's `sync_*` attributes (the delivery machinery treats it like a progress record);
- `sk=K#<media content key>`: a card per channel key of an entry (its upload key, title and duration),
  so progress and webhooks name a content's title with one read by the key they know.

An entry changes by one write conditioned on the revision read (`save_content`), in one transaction
with its cards when they change.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from kollus_bridge.content.catalog import UPDATED_EVENT, Entry, Status, owes_update
from kollus_bridge.content.ports import ContentCard
from kollus_bridge.delivery.ledger import StoredContent, SyncState
from kollus_bridge.errors import InvalidRequest

from .catalog_items import (
    CATALOG,
    CATALOG_KEY_TYPES,
    ENTRY_PREFIX,
    WORK,
    card_from_item,
    card_item,
    card_key,
    entry_attributes,
    entry_key,
    status_filter,
    stored_content_from_item,
)
from .pages import decode_token, encode_token
from .records import DUE
from .table import ConditionFailed, Table

RECONCILE_INDEX = "reconcile-index"
#: Queries one listing page may take when filters leave few matches.
MAX_QUERIES_PER_PAGE = 10


class Catalog(Table):
    def get_content(self, upload_file_key: str) -> StoredContent | None:
        item = self.call("get_item", Key=entry_key(upload_file_key), ConsistentRead=True).get("Item")
        return None if item is None else stored_content_from_item(item)

    def find_content(self, key: str) -> StoredContent | None:
        """By media content key (its card), else by upload file key."""
        card = self.call("get_item", Key=card_key(key), ConsistentRead=True).get("Item")
        if card is not None:
            found = self.get_content(card["upload_file_key"]["S"])
            if found is not None:
                return found
        return self.get_content(key)

    def save_content(self, entry: Entry, previous: Any, now: int) -> bool:
        """Write `entry` over `previous` (a `StoredContent`, or None for a new entry) unless the stored
        entry changed since it was read; False when it did. A status whose webhook was not sent yet
        becomes due for delivery in the same write."""
        values, absent = entry_attributes(entry)
        rev = previous.rev if previous is not None else 0
        names = {f"#a{index}": name for index, name in enumerate(values)}
        typed = {f":a{index}": value for index, value in enumerate(values.values())}
        sets = [f"#a{index} = :a{index}" for index in range(len(values))] + ["rev = :next"]
        typed[":next"] = {"N": str(rev + 1)}
        event = entry.due_event
        was = previous.entry.due_event if previous is not None else None
        sent = previous.events_sent if isinstance(previous, StoredContent) else frozenset()
        removals = [f"#r{index}" for index in range(len(absent))]
        names.update({f"#r{index}": name for index, name in enumerate(absent)})
        changed = owes_update(previous.entry if previous is not None else None, entry, sent)
        if changed:
            sets.append("sync_update_at = :now")
        if (event is not None and event != was and event not in sent) or changed:
            sets += ["sync_due = :due", "sync_next_at = :now", "sync_state = :pending", "sync_changed_at = :now"]
            sets += ["sync_attempts = :zero"]
            typed.update({":due": {"S": DUE}, ":now": {"N": str(now)}, ":pending": {"S": SyncState.PENDING.value}})
            typed[":zero"] = {"N": "0"}
            removals.append("sync_last_error")
        expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removals) if removals else "")
        update: dict[str, Any] = {
            "Key": entry_key(entry.upload_file_key),
            "UpdateExpression": expression,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": typed,
        }
        if previous is None:
            update["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            update["ConditionExpression"] = "rev = :rev"
            typed[":rev"] = {"N": str(rev)}
        cards = self._card_writes(entry, previous.entry if previous is not None else None)
        try:
            if cards:
                self.call(
                    "transact_write_items",
                    TransactItems=[{"Update": {"TableName": self.table_name, **update}}, *cards],
                )
            else:
                self.call("update_item", **update)
        except ConditionFailed:
            return False
        return True

    def _card_writes(self, entry: Entry, previous: Entry | None) -> list[dict[str, Any]]:
        old = set(previous.channels.values()) if previous is not None else set()
        new = set(entry.channels.values())
        changed = previous is None or (previous.title, previous.duration, previous.status) != (
            entry.title,
            entry.duration,
            entry.status,
        )
        # A card is this upload's or nobody's: another upload's key is never taken over, or removed.
        mine = {
            "ConditionExpression": "attribute_not_exists(pk) OR upload_file_key = :mine",
            "ExpressionAttributeValues": {":mine": {"S": entry.upload_file_key}},
        }
        writes: list[dict[str, Any]] = [
            {"Put": {"TableName": self.table_name, "Item": {**card_key(key), **card_item(entry)}, **mine}}
            for key in sorted(new if changed else new - old)
        ]
        writes += [
            {"Delete": {"TableName": self.table_name, "Key": card_key(key), **mine}} for key in sorted(old - new)
        ]
        return writes

    def content_cards(self, media_content_keys: Sequence[str]) -> dict[str, ContentCard]:
        """Cards by media content key (absent keys are left out)."""
        unique = list(dict.fromkeys(media_content_keys))
        return dict(card_from_item(item) for item in self.batch_get([card_key(key) for key in unique]).values())

    def list_contents(
        self,
        *,
        status: Status | None,
        channel_key: str | None,
        title_contains: str | None,
        limit: int,
        next_token: str | None,
    ) -> tuple[list[StoredContent], str | None]:
        """One page of the catalog by upload file key, filtered; a page may be short, `next_token`
        goes on."""
        filters, names, values = [], {"#status": "status"}, {":pk": CATALOG, ":prefix": {"S": ENTRY_PREFIX}}
        filters.append(status_filter(status, values))
        if channel_key is not None:
            filters.append("attribute_exists(channels.#channel)")
            names["#channel"] = channel_key
        if title_contains:
            filters.append("contains(title_lower, :title)")
            values[":title"] = {"S": title_contains.casefold()}
        start: Mapping[str, Any] | None = decode_token(next_token, CATALOG_KEY_TYPES, {"pk": CATALOG})
        if start is not None and not start["sk"]["S"].startswith(ENTRY_PREFIX):
            raise InvalidRequest("next_token is not a token this API issued", field="next_token")
        found: list[StoredContent] = []
        for _ in range(MAX_QUERIES_PER_PAGE):
            request: dict[str, Any] = {
                "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
                "ExpressionAttributeValues": values,
                "Limit": limit - len(found),
                "ConsistentRead": True,
            }
            if filters:
                request["FilterExpression"] = " AND ".join(filters)
            if names:
                request["ExpressionAttributeNames"] = names
            items, start = self.query_page(request, start)
            found += [stored_content_from_item(item) for item in items]
            if start is None or len(found) >= limit:
                break
        return found, encode_token(start)

    def contents_with_work(self) -> Iterator[StoredContent]:
        """Entries reconciliation owes work (details to fetch, a channel to attach), through the sparse
        reconcile-index: a run reads them without reading the catalog."""
        start: Mapping[str, Any] | None = None
        while True:
            request = {
                "IndexName": RECONCILE_INDEX,
                "KeyConditionExpression": "reconcile_work = :work",
                "ExpressionAttributeValues": {":work": {"S": WORK}},
            }
            keys, start = self.query_page(request, start)
            found = self.batch_get([{"pk": key["pk"], "sk": key["sk"]} for key in keys])
            yield from (stored_content_from_item(item) for item in found.values())
            if start is None:
                return

    def all_contents(self) -> Iterator[StoredContent]:
        start: Mapping[str, Any] | None = None
        while True:
            request = {
                "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
                "ExpressionAttributeValues": {":pk": CATALOG, ":prefix": {"S": ENTRY_PREFIX}},
                "ConsistentRead": True,
            }
            items, start = self.query_page(request, start)
            yield from (stored_content_from_item(item) for item in items)
            if start is None:
                return

    def redeliver_content(self, upload_file_key: str, event: str, now: int) -> None:
        """Put a catalog entry's current webhook back to pending (idempotent)."""
        self.call(
            "update_item",
            Key=entry_key(upload_file_key),
            UpdateExpression=(
                "SET sync_state = :pending, sync_due = :due, sync_next_at = :now, sync_changed_at = :now, "
                "sync_attempts = :zero REMOVE sync_last_error DELETE sync_events_sent :event"
            ),
            ExpressionAttributeValues={
                ":pending": {"S": SyncState.PENDING.value},
                ":due": {"S": DUE},
                ":now": {"N": str(now)},
                ":zero": {"N": "0"},
                ":event": {"SS": [event]},
            },
        )


def settle_update(table: Table, item: StoredContent, sent_kind: str) -> None:
    """After a `content.updated` went out: owe it no more, unless a newer change is owed (another time)."""
    if item.update_at is None or sent_kind != UPDATED_EVENT:
        return
    with contextlib.suppress(ConditionFailed):
        table.call(
            "update_item",
            Key=entry_key(item.entry.upload_file_key),
            UpdateExpression="REMOVE sync_update_at",
            ConditionExpression="sync_update_at = :at",
            ExpressionAttributeValues={":at": {"N": str(item.update_at)}},
        )
