"""Progress records: the merge write, the completion stamp, reads, listings and re-evaluation.

Every write is a single conditional request; the record is the commit point of a callback.
"""

from __future__ import annotations

import contextlib
from dataclasses import replace
from typing import Any

from kollus_bridge.delivery.ledger import StoredRecord, SyncState
from kollus_bridge.progress.ports import ApplyResult, Timing
from kollus_bridge.progress.rule import Outcome, RecordState, SessionUpdate, classify, merge

from .attributes import serialize
from .pages import decode_token, encode_token
from .record_items import (
    FIRST_SEEN_PREFIX,
    GRID_PREFIX,
    SESSION_PREFIX,
    first_seen,
    rev_of,
    state_from_item,
    stored_record_from_item,
    summary_value,
)
from .table import ConditionFailed, Table, learner_partition, number_value, record_key

#: The value of `sync_due`, the sparse due-index key, while a delivery is due.
DUE = "due"
CONTENT_INDEX = "content-index"
#: The key attributes a listing's page token holds, and their types.
LEARNER_KEY_TYPES = {"pk": "S", "sk": "S"}
CONTENT_KEY_TYPES = {"pk": "S", "sk": "S", "media_content_key": "S", "client_user_id": "S"}
NO_TIMING = Timing()


class Records(Table):
    def apply(
        self, update: SessionUpdate, mark_due: bool = False, watch_ratio: float = 0.5, timing: Timing = NO_TIMING
    ) -> ApplyResult:
        """Merge one session's newest callback into the record, atomically (write 1).

        `mark_due` (coalesced progress updates) also puts the record in the due index. `timing` adds
        what the credit assumes of the session to the write's condition (see `Timing`).
        """
        summary = update.summary
        names = {"#s": SESSION_PREFIX + update.session_key}
        values: dict[str, Any] = {
            ":summary": summary_value(summary),
            ":version": {"N": str(summary.version)},
            ":learner": {"S": update.client_user_id},
            ":content": {"S": update.media_content_key},
            ":now": {"N": str(summary.received_at)},
            ":ratio": number_value(watch_ratio),
        }
        expression = (
            "SET #s = :summary, client_user_id = if_not_exists(client_user_id, :learner), "
            "media_content_key = if_not_exists(media_content_key, :content), "
            "created_at = if_not_exists(created_at, :now), updated_at = :now, "
            "watch_ratio = if_not_exists(watch_ratio, :ratio)"
        )
        if update.uservalues:
            values[":uservalues"] = serialize(dict(update.uservalues))
            expression += ", uservalues = :uservalues"
        if mark_due:
            values[":due"] = {"S": DUE}
            values[":pending"] = {"S": SyncState.PENDING.value}
            expression += (
                ", sync_due = :due, sync_next_at = if_not_exists(sync_next_at, :now), "
                "sync_state = if_not_exists(sync_state, :pending), "
                "sync_changed_at = if_not_exists(sync_changed_at, :now)"
            )
        condition = "(attribute_not_exists(#s) OR #s[0] < :version)"
        if timing.track_first_seen:
            names["#f"] = FIRST_SEEN_PREFIX + update.session_key
            expression += ", #f = if_not_exists(#f, :now)"
            if timing.seen_by is not None:
                values[":seen"] = {"N": str(timing.seen_by)}
                condition += " AND #f <= :seen"
            elif timing.new:
                condition += " AND attribute_not_exists(#f)"
            elif timing.seen_at is not None:
                values[":seen"] = {"N": str(timing.seen_at)}
                condition += " AND #f = :seen"
        if timing.must_exist:
            condition += " AND attribute_exists(#s)"
        values[":one"] = {"N": "1"}
        expression += " ADD rev :one"
        if update.watched:
            names["#w"] = GRID_PREFIX + str(update.grid)
            values[":blocks"] = {"NS": [str(block) for block in sorted(update.watched)]}
            expression += ", #w :blocks"
        try:
            response = self.call(
                "update_item",
                Key=record_key(update.client_user_id, update.media_content_key),
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_OLD",  # the record before: what this write added is known exactly
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ConditionFailed as failed:
            state = state_from_item(failed.item)
            stored = state.sessions.get(update.session_key)
            rev = rev_of(failed.item)
            if stored is not None and stored.version >= summary.version:
                return ApplyResult(classify(stored, update), state, rev)
            seen = first_seen(failed.item, update.session_key)
            return ApplyResult(
                Outcome.STALE, state, rev, recheck=True, first_seen=seen, session_exists=stored is not None
            )
        old = response.get("Attributes") or {}
        previous = state_from_item(old) if old else RecordState()
        state, _ = merge(previous, update)  # the write did what `merge` specifies
        if previous.watch_ratio is None:
            state = replace(state, watch_ratio=watch_ratio)
        return ApplyResult(Outcome.ACCEPTED, state, rev_of(old) + 1, previous=previous)

    def mark_completed(self, client_user_id: str, media_content_key: str, now: int) -> None:
        """Stamp the completion time once, and make its delivery to the LMS due (same write)."""
        # Completed already: the first time stands.
        with contextlib.suppress(ConditionFailed):
            self.call(
                "update_item",
                Key=record_key(client_user_id, media_content_key),
                UpdateExpression=(
                    "SET completed_at = :now, sync_due = :due, sync_next_at = :now, sync_state = :pending, "
                    "sync_changed_at = :now, sync_attempts = :zero ADD rev :one"
                ),
                ConditionExpression="attribute_exists(pk) AND attribute_not_exists(completed_at)",
                ExpressionAttributeValues={
                    ":now": {"N": str(now)},
                    ":due": {"S": DUE},
                    ":pending": {"S": SyncState.PENDING.value},
                    ":zero": {"N": "0"},
                    ":one": {"N": "1"},
                },
            )

    def get_stored(self, client_user_id: str, media_content_key: str) -> StoredRecord | None:
        response = self.call("get_item", Key=record_key(client_user_id, media_content_key), ConsistentRead=True)
        item = response.get("Item")
        return None if item is None else stored_record_from_item(item)

    def get_record(self, client_user_id: str, media_content_key: str) -> RecordState | None:
        stored = self.get_stored(client_user_id, media_content_key)
        return None if stored is None else stored.state

    def records_of(self, media_content_key: str, client_user_ids: list[str]) -> list[StoredRecord]:
        """The records of these learners for a content (batch reads; absent ones left out), in order."""
        return self._records_at([record_key(learner, media_content_key) for learner in client_user_ids])

    def _records_at(self, keys: list[dict[str, Any]]) -> list[StoredRecord]:
        found = self.batch_get(keys)
        return [
            stored_record_from_item(found[(key["pk"]["S"], key["sk"]["S"])])
            for key in keys
            if (key["pk"]["S"], key["sk"]["S"]) in found
        ]

    def records_of_learner(
        self, client_user_id: str, limit: int, next_token: str | None
    ) -> tuple[list[StoredRecord], str | None]:
        """One page of a learner's records, by content key."""
        partition = learner_partition(client_user_id)
        request: dict[str, Any] = {
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :records)",
            "ExpressionAttributeValues": {":pk": partition, ":records": {"S": "P#"}},
            "Limit": limit,
            "ConsistentRead": True,
        }
        start = decode_token(next_token, LEARNER_KEY_TYPES, {"pk": partition})
        items, last = self.query_page(request, start)
        return [stored_record_from_item(item) for item in items], encode_token(last)

    def records_of_content(
        self, media_content_key: str, limit: int, next_token: str | None
    ) -> tuple[list[StoredRecord], str | None]:
        """One page of a content's records, by learner id (the index, then one batch read)."""
        request: dict[str, Any] = {
            "IndexName": CONTENT_INDEX,
            "KeyConditionExpression": "media_content_key = :content",
            "ExpressionAttributeValues": {":content": {"S": media_content_key}},
            "Limit": limit,
        }
        start = decode_token(next_token, CONTENT_KEY_TYPES, {"media_content_key": {"S": media_content_key}})
        items, last = self.query_page(request, start)
        return self._records_at([{"pk": item["pk"], "sk": item["sk"]} for item in items]), encode_token(last)
