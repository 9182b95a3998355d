"""The sync ledger, kept on each progress record and catalog entry (`sync_*`): what is due, what was
sent, what failed. `due-index` is sparse (an item is in it only while a delivery is due); `ledger-index`
lists items by sync state, oldest change first. A delivery's subject is a record (learner, content) or
a catalog entry (None, upload file key)."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from kollus_bridge.content.ports import ContentCard
from kollus_bridge.delivery.ledger import (
    Attempt,
    Deliverable,
    Sent,
    StoredContent,
    StoredLedgerEntry,
    StoredRecord,
    Subject,
    SyncLedger,
    SyncState,
    Target,
)

from .catalog import settle_update
from .catalog_items import CARD_PREFIX, CATALOG, card_from_item, card_key, stored_content_from_item
from .deliveries import delivery_from_item
from .pages import decode_token, encode_token
from .record_items import ledger_from_item, stored_record_from_item
from .records import DUE
from .subjects import DELIVERY_PREFIX, delivery_key, key_of, subject_from_key
from .table import ConditionFailed, Table, optional_int, plain, used

DUE_INDEX = "due-index"
LEDGER_INDEX = "ledger-index"
#: The ledger index's key attributes and their types (what a page token may hold).
LEDGER_KEY_TYPES = {"pk": "S", "sk": "S", "sync_state": "S", "sync_changed_at": "N"}


class Ledger(Table):
    def due_keys(
        self, now: int, limit: int, start: Mapping[str, Any] | None
    ) -> tuple[list[tuple[Subject, int]], Mapping[str, Any] | None]:
        """One page of (subject, due time) whose delivery is due by `now`, oldest first."""
        request: dict[str, Any] = {
            "IndexName": DUE_INDEX,
            "KeyConditionExpression": "sync_due = :due AND sync_next_at <= :now",
            "ExpressionAttributeValues": {":due": {"S": DUE}, ":now": {"N": str(now)}},
            "Limit": limit,
        }
        items, last = self.query_page(request, start)
        keys = [
            (subject, int(item["sync_next_at"]["N"]))
            for item in items
            if (subject := subject_from_key(item)) is not None
        ]
        return keys, last

    def read_due(
        self, subjects: Sequence[Subject | tuple[str | None, str]], cards: Sequence[str]
    ) -> tuple[dict[Subject, Deliverable], dict[str, ContentCard]]:
        """Records and catalog entries by subject, and the catalog's cards of `cards` (media content
        keys), in the same batch read (absent ones are left out)."""
        wanted = [Subject(*subject) for subject in dict.fromkeys(subjects)]
        # A delivery to another target is planned from its record: read in the same request.
        sources = [Subject(s.learner, s.key) for s in wanted if s.target is not Target.WEBHOOK]
        keys = [key_of(subject) for subject in dict.fromkeys(wanted + sources)]
        keys += [card_key(content) for content in dict.fromkeys(cards)]
        found: dict[Subject, Deliverable] = {}
        found_cards: dict[str, ContentCard] = {}
        deliveries = []
        for item in self.batch_get(keys).values():
            if item["sk"]["S"].startswith(CARD_PREFIX) and item["pk"] == CATALOG:
                content, card = card_from_item(item)
                found_cards[content] = card
            elif (subject := subject_from_key(item)) is None:
                continue
            elif subject.learner is None:
                found[subject] = stored_content_from_item(item)
            elif subject.target is Target.WEBHOOK:
                found[subject] = stored_record_from_item(item)
            else:
                deliveries.append((subject, item))
        for subject, item in deliveries:
            source = found.get(Subject(subject.learner, subject.key))
            found[subject] = delivery_from_item(item, source if isinstance(source, StoredRecord) else None)
        return found, found_cards

    def record_sent(self, record: Deliverable, sent: Sent, now: int) -> None:
        """Delivered: clear the due marker if the item is unchanged since it was read, else keep it due."""
        # Every progress message carries the progress, so it counts as sent either way.
        facts = "sync_progress_sent = :progress"
        if sent.message.kind == "progress.completed":
            facts += ", sync_completion_sent = :true"
        if sent.message.stamp is not None:
            facts += ", sync_stamp = :stamp"
        added = ""
        if isinstance(record, StoredContent):
            facts, added = "sync_last_event = :kind", " ADD sync_events_sent :kinds"
        common = (
            f"{facts}, sync_delivered_at = :now, sync_last_attempt_at = :now, sync_last_status = :status, "
            "sync_attempts = :zero, sync_message_id = :id, sync_changed_at = :now"
        )
        values: dict[str, Any] = {
            ":now": {"N": str(now)},
            ":status": {"N": str(sent.status or 0)},
            ":zero": {"N": "0"},
            ":id": {"S": sent.message.message_id},
            ":true": {"BOOL": True},
            ":progress": {"S": sent.message.progress},
            ":delivered": {"S": SyncState.DELIVERED.value},
            ":pending": {"S": SyncState.PENDING.value},
            ":rev": {"N": str(record.rev)},
            ":kind": {"S": sent.message.kind},
            ":kinds": {"SS": [sent.message.kind]},
            ":stamp": {"N": str(sent.message.stamp or 0)},
        }
        key = delivery_key(record)
        try:
            self.call(
                "update_item",
                Key=key,
                UpdateExpression=(
                    f"SET {common}, sync_state = :delivered{added} REMOVE sync_due, sync_next_at, sync_last_error"
                ),
                ConditionExpression="rev = :rev",
                ExpressionAttributeValues=used(values, common + added + ":delivered :rev"),
            )
        except ConditionFailed:
            # Changed meanwhile: record the delivery, and look at the item again on the next run.
            self.call(
                "update_item",
                Key=key,
                UpdateExpression=(
                    f"SET {common}, sync_state = :pending, sync_next_at = :now{added} REMOVE sync_last_error"
                ),
                ExpressionAttributeValues=used(values, common + added + ":pending"),
            )
        if isinstance(record, StoredContent):
            settle_update(self, record, sent.message.kind)

    def record_failure(self, record: Deliverable, attempt: Attempt, ledger: SyncLedger, now: int) -> None:
        """An attempt that did not deliver: the ledger as `sync.after_failure` computed it."""
        values: dict[str, Any] = {
            ":state": {"S": (ledger.state or SyncState.PENDING).value},
            ":attempts": {"N": str(ledger.attempts)},
            ":now": {"N": str(now)},
            ":error": {"S": (ledger.last_error or "")[:500] or "-"},
        }
        expression = "SET sync_state = :state, sync_attempts = :attempts, sync_last_attempt_at = :now, "
        expression += "sync_changed_at = :now, sync_last_error = :error"
        if ledger.message_id:
            values[":id"] = {"S": ledger.message_id}
            expression += ", sync_message_id = :id"
        removals = []
        if attempt.status is None:
            removals.append("sync_last_status")
        else:
            values[":status"] = {"N": str(attempt.status)}
            expression += ", sync_last_status = :status"
        if ledger.state is SyncState.FAILED:
            removals += ["sync_due", "sync_next_at"]
        else:
            values[":next"] = {"N": str(ledger.next_attempt_at)}
            expression += ", sync_next_at = :next"
        if removals:
            expression += " REMOVE " + ", ".join(removals)
        self.call(
            "update_item",
            Key=delivery_key(record),
            UpdateExpression=expression,
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues=values,
        )

    def clear_due(self, record: Deliverable, now: int) -> None:
        """Nothing to send: leave the due index, unless the record changed since it was read. A record
        whose last message was delivered while it changed (kept `pending` to be looked at again) is
        `delivered` once that look finds nothing new."""
        values = {":rev": {"N": str(record.rev)}, ":now": {"N": str(now)}}
        expression = "SET sync_changed_at = :now"
        if record.ledger.delivered_at is not None and record.ledger.state is SyncState.PENDING:
            expression += ", sync_state = :delivered"
            values[":delivered"] = {"S": SyncState.DELIVERED.value}
        # Changed meanwhile: it stays due and the next run looks again.
        with contextlib.suppress(ConditionFailed):
            self.call(
                "update_item",
                Key=delivery_key(record),
                UpdateExpression=expression + " REMOVE sync_due, sync_next_at",
                ConditionExpression="rev = :rev",
                ExpressionAttributeValues=values,
            )

    def claim(self, record: Deliverable, until: int) -> bool:
        """Move a due record's due time to `until` unless someone moved it since it was read."""
        try:
            self.call(
                "update_item",
                Key=delivery_key(record),
                UpdateExpression="SET sync_next_at = :until",
                ConditionExpression="sync_due = :due AND sync_next_at = :seen",
                ExpressionAttributeValues={
                    ":until": {"N": str(until)},
                    ":due": {"S": DUE},
                    ":seen": {"N": str(record.ledger.next_attempt_at)},
                },
            )
        except ConditionFailed:
            return False
        return True

    def ledger(
        self, state: SyncState, limit: int, next_token: str | None, target: Target | None = None
    ) -> tuple[list[StoredLedgerEntry], str | None]:
        """One page of the sync ledger in one state (of one target, when given), oldest change first;
        a page filtered to a target may hold fewer than `limit` rows."""
        request: dict[str, Any] = {
            "IndexName": LEDGER_INDEX,
            "KeyConditionExpression": "sync_state = :state",
            "ExpressionAttributeValues": {":state": {"S": state.value}},
            "Limit": limit,
        }
        if target is Target.WEBHOOK:
            request["FilterExpression"] = "NOT begins_with(sk, :deliveries)"
            request["ExpressionAttributeValues"][":deliveries"] = {"S": DELIVERY_PREFIX}
        elif target is not None:
            request["FilterExpression"] = "begins_with(sk, :target)"
            request["ExpressionAttributeValues"][":target"] = {"S": f"{DELIVERY_PREFIX}{target.value}#"}
        start = decode_token(next_token, LEDGER_KEY_TYPES, {"sync_state": {"S": state.value}})
        items, last = self.query_page(request, start)
        entries = []
        for item in items:
            subject = subject_from_key(item)
            if subject is None:
                continue
            if subject.learner is None:
                content = plain(item, "media_content_key")
                entries.append(StoredLedgerEntry(None, content, None, ledger_from_item(item), subject.key))
            elif subject.target is not Target.WEBHOOK:
                completed = optional_int(plain(item, "completed_at"))
                entry = StoredLedgerEntry(subject.learner, subject.key, completed, ledger_from_item(item))
                entries.append(replace(entry, target=subject.target))
            else:
                completed = optional_int(plain(item, "completed_at"))
                entries.append(StoredLedgerEntry(subject.learner, subject.key, completed, ledger_from_item(item)))
        return entries, encode_token(last)
