"""Progress records: the merge write, the completion stamp, reads, listings and re-evaluation.

Every write is a single conditional request; the record is the commit point of a callback.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from kollus_bridge.delivery.ledger import StoredRecord, SyncState
from kollus_bridge.progress.ports import ApplyResult
from kollus_bridge.progress.rule import Outcome, RecordState, SessionUpdate, classify

from .pages import decode_token, encode_token
from .record_items import GRID_PREFIX, SESSION_PREFIX, rev_of, state_from_item, stored_record_from_item, summary_value
from .table import ConditionFailed, Table, learner_partition, number_value, record_key, serializer

#: The value of `sync_due`, the sparse due-index key, while a delivery is due.
DUE = "due"
CONTENT_INDEX = "content-index"
#: The key attributes a listing's page token holds, and their types.
LEARNER_KEY_TYPES = {"pk": "S", "sk": "S"}
CONTENT_KEY_TYPES = {"pk": "S", "sk": "S", "media_content_key": "S", "client_user_id": "S"}


class Records(Table):
    def apply(self, update: SessionUpdate, mark_due: bool = False, watch_ratio: float = 0.5) -> ApplyResult:
        """Merge one session's newest callback into the record, atomically (write 1).

        `mark_due` (coalesced progress updates) also puts the record in the due index.
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
            values[":uservalues"] = serializer.serialize(dict(update.uservalues))
            expression += ", uservalues = :uservalues"
        if mark_due:
            values[":due"] = {"S": DUE}
            values[":pending"] = {"S": SyncState.PENDING.value}
            expression += (
                ", sync_due = :due, sync_next_at = if_not_exists(sync_next_at, :now), "
                "sync_state = if_not_exists(sync_state, :pending), "
                "sync_changed_at = if_not_exists(sync_changed_at, :now)"
            )
        values[":one"] = {"N": "1"}
        expression += " ADD rev :one"
        if update.watched:
            names["#w"] = GRID_PREFIX + str(summary.block_count)
            values[":blocks"] = {"NS": [str(block) for block in sorted(update.watched)]}
            expression += ", #w :blocks"
        try:
            response = self.call(
                "update_item",
                Key=record_key(update.client_user_id, update.media_content_key),
                UpdateExpression=expression,
                ConditionExpression="attribute_not_exists(#s) OR #s[0] < :version",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ConditionFailed as failed:
            state = state_from_item(failed.item)
            return ApplyResult(classify(state.sessions.get(update.session_key), update), state, rev_of(failed.item))
        return ApplyResult(Outcome.ACCEPTED, state_from_item(response["Attributes"]), rev_of(response["Attributes"]))

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

    def replace_watched(
        self, client_user_id: str, media_content_key: str, watched: Mapping[int, frozenset[int]], ratio: float, rev: int
    ) -> RecordState | None:
        """Replace the watched sets (re-evaluated under `ratio`) unless the record changed since `rev`."""
        current = self.get_record(client_user_id, media_content_key)
        if current is None:
            return None
        names: dict[str, str] = {}
        values: dict[str, Any] = {":ratio": number_value(ratio), ":rev": {"N": str(rev)}, ":one": {"N": "1"}}
        sets, removals = ["watch_ratio = :ratio"], []
        for position, grid in enumerate(sorted(set(current.watched) | set(watched))):
            names[f"#g{position}"] = GRID_PREFIX + str(grid)
            blocks = watched.get(grid)
            if blocks:
                values[f":g{position}"] = {"NS": [str(block) for block in sorted(blocks)]}
                sets.append(f"#g{position} = :g{position}")
            else:
                removals.append(f"#g{position}")
        expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removals) if removals else "") + " ADD rev :one"
        request: dict[str, Any] = {
            "Key": record_key(client_user_id, media_content_key),
            "UpdateExpression": expression,
            "ConditionExpression": "rev = :rev",
            "ExpressionAttributeValues": values,
            "ReturnValues": "ALL_NEW",
        }
        if names:
            request["ExpressionAttributeNames"] = names
        try:
            response = self.call("update_item", **request)
        except ConditionFailed:
            return None  # changed meanwhile: the next read or callback re-evaluates again
        return state_from_item(response["Attributes"])
