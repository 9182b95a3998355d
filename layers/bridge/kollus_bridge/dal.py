"""DynamoDB access: the only module that talks to boto3.

Item layout (one table, generic `pk`/`sk`; the schema itself is declared in `template.yaml`):

- progress record  `pk=L#<learner>`  `sk=P#<content>`: the learner's merged state for one content.
  One attribute per session, `s:<session key>` = [version, start_at, block_count, duration, play_time,
  real_play_time, last_play_at, received_at, suspicious], and one number set per block grid, `w:<block_count>`.
- session snapshot `pk=L#<learner>`  `sk=S#<content>#<session key>`: the session's newest raw callback.
- rejected payload `pk=R#<yyyy-mm-dd>` `sk=<received iso>#<uuid>`: kept 30 days (TTL `expires_at`).
- content rules    `pk=C#<content>`  `sk=RULES`: a content's completion rules, when it has its own.
- sync lease       `pk=LEASE`        `sk=sync`: held by the running completion sync.

Identifiers are percent-encoded inside keys so no learner id or content key can collide with another.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote, unquote

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from .errors import RecordTooLarge, StorageUnavailable
from .ledger import Attempt, Sent, StoredRecord, SyncLedger, SyncState
from .progress import Outcome, RecordState, SessionSummary, SessionUpdate, classify
from .stored_bodies import pack, unpack

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

SESSION_PREFIX = "s:"
GRID_PREFIX = "w:"
#: The value of `sync_due`, the sparse due-index key, while a delivery is due.
DUE = "due"
DUE_INDEX = "due-index"
CONTENT_INDEX = "content-index"
LEDGER_INDEX = "ledger-index"
LEASE_KEY = {"pk": {"S": "LEASE"}, "sk": {"S": "sync"}}
#: Largest compressed raw body and query kept with a rejected payload (DynamoDB items stop at 400 KB).
MAX_KEPT_BODY = 300_000
MAX_KEPT_QUERY = 16_384

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def _key_part(value: str) -> str:
    return quote(value, safe="")


def learner_partition(client_user_id: str) -> dict[str, str]:
    """The partition key value holding a learner's records and sessions."""
    return {"S": "L#" + _key_part(client_user_id)}


def record_key(client_user_id: str, media_content_key: str) -> dict[str, Any]:
    return {"pk": learner_partition(client_user_id), "sk": {"S": "P#" + _key_part(media_content_key)}}


def session_item_key(client_user_id: str, media_content_key: str, session_key: str) -> dict[str, Any]:
    return {"pk": learner_partition(client_user_id), "sk": {"S": f"S#{_key_part(media_content_key)}#{session_key}"}}


def _number(value: float | int | None) -> Decimal | None:
    if value is None:
        return None
    return Decimal(value) if isinstance(value, int) else Decimal(repr(float(value)))


def _summary_value(summary: SessionSummary) -> Any:
    return _serializer.serialize(
        [
            summary.version,
            summary.start_at,
            summary.block_count,
            _number(summary.duration),
            _number(summary.play_time),
            _number(summary.real_play_time),
            _number(summary.last_play_at),
            summary.received_at,
            summary.suspicious,
        ]
    )


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _summary_from(value: list[Any]) -> SessionSummary:
    version, start_at, block_count, duration, play_time, real_play_time, last_play_at, received_at, *rest = value
    return SessionSummary(
        version=int(version),
        start_at=int(start_at),
        block_count=int(block_count),
        duration=_float(duration),
        play_time=float(play_time),
        real_play_time=float(real_play_time),
        last_play_at=_float(last_play_at),
        received_at=int(received_at),
        suspicious=bool(rest and rest[0]),
    )


def state_from_item(item: Mapping[str, Any]) -> RecordState:
    """Rebuild the pure record state from a stored (low-level, typed) DynamoDB item."""
    plain = {name: _deserializer.deserialize(value) for name, value in item.items()}
    sessions = {
        name[len(SESSION_PREFIX) :]: _summary_from(value)
        for name, value in plain.items()
        if name.startswith(SESSION_PREFIX)
    }
    watched = {
        int(name[len(GRID_PREFIX) :]): frozenset(int(block) for block in value)
        for name, value in plain.items()
        if name.startswith(GRID_PREFIX)
    }

    return RecordState(
        sessions=sessions,
        watched=watched,
        completed_at=_optional_int(plain.get("completed_at")),
        created_at=_optional_int(plain.get("created_at")),
        updated_at=_optional_int(plain.get("updated_at")),
        uservalues=dict(plain.get("uservalues") or {}),
        watch_ratio=None if plain.get("watch_ratio") is None else float(plain["watch_ratio"]),
    )


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


def ledger_from_item(item: Mapping[str, Any]) -> SyncLedger:
    """A record's sync ledger (from the record or from the ledger index)."""
    plain = {name: _deserializer.deserialize(value) for name, value in item.items() if name.startswith("sync_")}
    state = plain.get("sync_state")
    return SyncLedger(
        state=SyncState(state) if state else None,
        attempts=int(plain.get("sync_attempts") or 0),
        next_attempt_at=_optional_int(plain.get("sync_next_at")),
        last_attempt_at=_optional_int(plain.get("sync_last_attempt_at")),
        last_status=_optional_int(plain.get("sync_last_status")),
        last_error=plain.get("sync_last_error"),
        delivered_at=_optional_int(plain.get("sync_delivered_at")),
        message_id=plain.get("sync_message_id"),
        completion_sent=bool(plain.get("sync_completion_sent")),
        progress_sent=plain.get("sync_progress_sent"),
    )


def stored_record_from_item(item: Mapping[str, Any]) -> StoredRecord:
    """A record with its identity, revision and sync ledger."""
    learner, content = _identity_from_key(item)
    return StoredRecord(
        client_user_id=learner,
        media_content_key=content,
        state=state_from_item(item),
        rev=_rev(item),
        ledger=ledger_from_item(item),
    )


@dataclass(frozen=True)
class ApplyResult:
    outcome: Outcome
    state: RecordState
    rev: int = 0


@dataclass(frozen=True)
class RawSnapshot:
    body: bytes
    content_type: str | None
    query: str


class ProgressStore(Protocol):
    """What the service needs from storage."""

    def apply(self, update: SessionUpdate, mark_due: bool = False, watch_ratio: float = 0.5) -> ApplyResult: ...

    def mark_completed(self, client_user_id: str, media_content_key: str, now: int) -> None: ...

    def save_snapshot(self, update: SessionUpdate, raw: RawSnapshot) -> None: ...

    def save_rejected(self, raw: RawSnapshot, code: str, message: str, field: str | None, now: int) -> None: ...

    def get_record(self, client_user_id: str, media_content_key: str) -> RecordState | None: ...

    def get_stored(self, client_user_id: str, media_content_key: str) -> StoredRecord | None: ...

    def session_snapshots(self, client_user_id: str, media_content_key: str) -> list[RawSnapshot]: ...

    def replace_watched(
        self, client_user_id: str, media_content_key: str, watched: Mapping[int, frozenset[int]], ratio: float, rev: int
    ) -> RecordState | None: ...

    def records_of_learner(
        self, client_user_id: str, limit: int, start: Mapping[str, Any] | None
    ) -> tuple[list[StoredRecord], Mapping[str, Any] | None]: ...

    def records_of_content(
        self, media_content_key: str, limit: int, start: Mapping[str, Any] | None
    ) -> tuple[list[StoredRecord], Mapping[str, Any] | None]: ...


class RulesStore(Protocol):
    def get_rules(self, media_content_key: str) -> dict[str, Any] | None: ...

    def put_rules(self, media_content_key: str, completion_threshold: float, ratio: float, now: int) -> None: ...

    def delete_rules(self, media_content_key: str) -> None: ...


class LedgerStore(Protocol):
    """What the sync ledger API needs from storage."""

    def ledger(
        self, state: SyncState, limit: int, start: Mapping[str, Any] | None
    ) -> tuple[list[StoredLedgerEntry], Mapping[str, Any] | None]: ...

    def redeliver(self, client_user_id: str, media_content_key: str, now: int) -> bool: ...


def _is_condition_failure(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def _storage_error(error: Exception) -> Exception:
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        message = error.response.get("Error", {}).get("Message", "")
        if code == "ValidationException" and "size" in message.lower():
            return RecordTooLarge("the learner's record would exceed the storage item size limit")
    return StorageUnavailable("storage is unavailable; resend later")


class DynamoProgressStore:
    """`ProgressStore` on one DynamoDB table. Every write is a single conditional request."""

    def __init__(self, table_name: str, client: DynamoDBClient, rejected_ttl_days: int = 30) -> None:
        self.table_name = table_name
        self.client = client
        self.rejected_ttl_seconds = rejected_ttl_days * 86400
        #: Capacity consumed by the requests of this store, for the benchmark.
        self.consumed_write_units = 0.0
        self.consumed_read_units = 0.0
        self.requests = 0
        self._accounting = threading.Lock()

    def _account(self, response: Mapping[str, Any], failed_write: bool = False) -> None:
        consumed = response.get("ConsumedCapacity") or []
        entries = consumed if isinstance(consumed, list) else [consumed]  # batch requests report one per table
        writes = sum(float(entry.get("WriteCapacityUnits", 0) or 0) for entry in entries)
        reads = sum(float(entry.get("ReadCapacityUnits", 0) or 0) for entry in entries)
        with self._accounting:
            self.requests += 1
            # A failed condition is billed as one write unit and reports no capacity.
            self.consumed_write_units += 1.0 if failed_write else writes
            self.consumed_read_units += reads

    def _call(self, operation: str, **request: Any) -> dict[str, Any]:
        if operation != "batch_get_item":  # a batch names its tables in RequestItems
            request.setdefault("TableName", self.table_name)
        request.setdefault("ReturnConsumedCapacity", "TOTAL")
        try:
            response: dict[str, Any] = getattr(self.client, operation)(**request)
        except ClientError as error:
            if _is_condition_failure(error):
                self._account({}, failed_write=True)
                raise
            raise _storage_error(error) from error
        except BotoCoreError as error:
            raise _storage_error(error) from error
        self._account(response)
        return response

    def _query_page(
        self, request: dict[str, Any], start: Mapping[str, Any] | None
    ) -> tuple[list[dict[str, Any]], Mapping[str, Any] | None]:
        """One page of a query: its items and the key to continue from (None on the last page)."""
        if start:
            request["ExclusiveStartKey"] = start
        response = self._call("query", **request)
        return response.get("Items", []), response.get("LastEvaluatedKey")

    def apply(self, update: SessionUpdate, mark_due: bool = False, watch_ratio: float = 0.5) -> ApplyResult:
        """Merge one session's newest callback into the record, atomically (write 1).

        `mark_due` (coalesced progress updates) also puts the record in the due index.
        """
        summary = update.summary
        names = {"#s": SESSION_PREFIX + update.session_key}
        values: dict[str, Any] = {
            ":summary": _summary_value(summary),
            ":version": {"N": str(summary.version)},
            ":learner": {"S": update.client_user_id},
            ":content": {"S": update.media_content_key},
            ":now": {"N": str(summary.received_at)},
        }
        expression = (
            "SET #s = :summary, client_user_id = if_not_exists(client_user_id, :learner), "
            "media_content_key = if_not_exists(media_content_key, :content), "
            "created_at = if_not_exists(created_at, :now), updated_at = :now, "
            "watch_ratio = if_not_exists(watch_ratio, :ratio)"
        )
        values[":ratio"] = {"N": repr(float(watch_ratio))}
        if update.uservalues:
            values[":uservalues"] = _serializer.serialize(dict(update.uservalues))
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
            response = self._call(
                "update_item",
                Key=record_key(update.client_user_id, update.media_content_key),
                UpdateExpression=expression,
                ConditionExpression="attribute_not_exists(#s) OR #s[0] < :version",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            stored: Mapping[str, Any] = error.response.get("Item") or {}  # type: ignore[assignment]
            state = state_from_item(stored)
            return ApplyResult(classify(state.sessions.get(update.session_key), update), state, _rev(stored))
        return ApplyResult(Outcome.ACCEPTED, state_from_item(response["Attributes"]), _rev(response["Attributes"]))

    def mark_completed(self, client_user_id: str, media_content_key: str, now: int) -> None:
        """Stamp the completion time once, and make its delivery to the LMS due (same write)."""
        # `_call` lets only a failed condition through as ClientError: completed already, the first time stands.
        with contextlib.suppress(ClientError):
            self._call(
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

    def save_snapshot(self, update: SessionUpdate, raw: RawSnapshot) -> None:
        """Keep the session's newest raw callback (write 2); an older one never replaces a newer."""
        item = {
            **session_item_key(update.client_user_id, update.media_content_key, update.session_key),
            "version": {"N": str(update.summary.version)},
            "start_at": {"N": str(update.summary.start_at)},
            "received_at": {"N": str(update.summary.received_at)},
            "raw_body": {"B": pack(raw.body)},
            "raw_query": {"S": raw.query},
            "content_type": {"S": raw.content_type or ""},
        }
        # A failed condition means a newer snapshot of this session is stored already.
        with contextlib.suppress(ClientError):
            self._call(
                "put_item",
                Item=item,
                ConditionExpression="attribute_not_exists(version) OR version < :version",
                ExpressionAttributeValues={":version": {"N": str(update.summary.version)}},
            )

    def save_rejected(self, raw: RawSnapshot, code: str, message: str, field: str | None, now: int) -> None:
        """Keep a refused payload for 30 days so it can be replayed after a fix."""
        received = datetime.fromtimestamp(now / 1000, UTC)
        body = pack(raw.body)
        truncated = len(body) > MAX_KEPT_BODY or len(raw.query) > MAX_KEPT_QUERY
        item: dict[str, Any] = {
            "pk": {"S": "R#" + received.strftime("%Y-%m-%d")},
            "sk": {"S": f"{received.isoformat(timespec='milliseconds')}#{uuid.uuid4()}"},
            "raw_body": {"B": body[:MAX_KEPT_BODY] if truncated else body},
            "raw_truncated": {"BOOL": truncated},
            "raw_query": {"S": raw.query[:MAX_KEPT_QUERY]},
            "content_type": {"S": (raw.content_type or "")[:200]},
            "reason_code": {"S": code},
            "reason": {"S": message[:1000]},
            "received_at": {"N": str(now)},
            "expires_at": {"N": str(now // 1000 + self.rejected_ttl_seconds)},
        }
        if field:
            item["field"] = {"S": field[:200]}
        self._call("put_item", Item=item)

    def get_record(self, client_user_id: str, media_content_key: str) -> RecordState | None:
        stored = self.get_stored(client_user_id, media_content_key)
        return None if stored is None else stored.state

    # --- listings, rules, re-evaluation --------------------------------------------------------

    def records_of_learner(
        self, client_user_id: str, limit: int, start: Mapping[str, Any] | None
    ) -> tuple[list[StoredRecord], Mapping[str, Any] | None]:
        """One page of a learner's records, by content key."""
        request: dict[str, Any] = {
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :records)",
            "ExpressionAttributeValues": {":pk": learner_partition(client_user_id), ":records": {"S": "P#"}},
            "Limit": limit,
            "ConsistentRead": True,
        }
        items, last = self._query_page(request, start)
        records = [stored_record_from_item(item) for item in items]
        return records, last

    def records_of_content(
        self, media_content_key: str, limit: int, start: Mapping[str, Any] | None
    ) -> tuple[list[StoredRecord], Mapping[str, Any] | None]:
        """One page of a content's records, by learner id (the index, then one batch read)."""
        request: dict[str, Any] = {
            "IndexName": CONTENT_INDEX,
            "KeyConditionExpression": "media_content_key = :content",
            "ExpressionAttributeValues": {":content": {"S": media_content_key}},
            "Limit": limit,
        }
        items, last = self._query_page(request, start)
        keys = [{"pk": item["pk"], "sk": item["sk"]} for item in items]
        found: dict[tuple[str, str], dict[str, Any]] = {}
        pending: list[dict[str, Any]] = keys
        for _ in range(8):  # unprocessed keys come back under load: retry them a bounded number of times
            if not pending:
                break
            batch = self._call(
                "batch_get_item", RequestItems={self.table_name: {"Keys": pending, "ConsistentRead": True}}
            )
            for item in batch.get("Responses", {}).get(self.table_name, []):
                found[(item["pk"]["S"], item["sk"]["S"])] = item
            pending = batch.get("UnprocessedKeys", {}).get(self.table_name, {}).get("Keys", [])
        if pending:
            raise StorageUnavailable("storage is busy; try again")
        records = []
        for key in keys:
            item = found.get((key["pk"]["S"], key["sk"]["S"]))
            if item is not None:
                records.append(stored_record_from_item(item))
        return records, last

    def get_rules(self, media_content_key: str) -> dict[str, Any] | None:
        response = self._call("get_item", Key=_rules_key(media_content_key), ConsistentRead=True)
        item = response.get("Item")
        return None if item is None else {name: _deserializer.deserialize(value) for name, value in item.items()}

    def put_rules(self, media_content_key: str, completion_threshold: float, ratio: float, now: int) -> None:
        self._call(
            "put_item",
            Item={
                **_rules_key(media_content_key),
                "completion_threshold": {"N": repr(float(completion_threshold))},
                "min_block_watch_ratio": {"N": repr(float(ratio))},
                "updated_at": {"N": str(now)},
            },
        )

    def delete_rules(self, media_content_key: str) -> None:
        self._call("delete_item", Key=_rules_key(media_content_key))

    def session_snapshots(self, client_user_id: str, media_content_key: str) -> list[RawSnapshot]:
        """The newest raw callback of every session of a record."""
        snapshots: list[RawSnapshot] = []
        start: Mapping[str, Any] | None = None
        while True:
            request: dict[str, Any] = {
                "KeyConditionExpression": "pk = :pk AND begins_with(sk, :sessions)",
                "ExpressionAttributeValues": {
                    ":pk": learner_partition(client_user_id),
                    ":sessions": {"S": f"S#{_key_part(media_content_key)}#"},
                },
                "ConsistentRead": True,
            }
            items, last = self._query_page(request, start)
            for item in items:
                snapshots.append(
                    RawSnapshot(
                        body=unpack(item["raw_body"]["B"]),
                        content_type=item.get("content_type", {}).get("S") or None,
                        query=item.get("raw_query", {}).get("S", ""),
                    )
                )
            start = last
            if not start:
                return snapshots

    def replace_watched(
        self, client_user_id: str, media_content_key: str, watched: Mapping[int, frozenset[int]], ratio: float, rev: int
    ) -> RecordState | None:
        """Replace the watched sets (re-evaluated under `ratio`) unless the record changed since `rev`."""
        current = self.get_record(client_user_id, media_content_key)
        if current is None:
            return None
        names: dict[str, str] = {}
        values: dict[str, Any] = {":ratio": {"N": repr(float(ratio))}, ":rev": {"N": str(rev)}, ":one": {"N": "1"}}
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
            response = self._call("update_item", **request)
        except ClientError:
            return None  # changed meanwhile: the next read or callback re-evaluates again
        return state_from_item(response["Attributes"])

    # --- completion sync -------------------------------------------------------------------------

    def acquire_lease(self, holder: str, now: int, until: int) -> bool:
        """Take the sync lease unless another run holds one that has not expired."""
        try:
            self._call(
                "put_item",
                Item={**LEASE_KEY, "holder": {"S": holder}, "lease_until": {"N": str(until)}},
                ConditionExpression="attribute_not_exists(pk) OR lease_until < :now",
                ExpressionAttributeValues={":now": {"N": str(now)}},
            )
        except ClientError:
            return False
        return True

    def release_lease(self, holder: str) -> None:
        with contextlib.suppress(ClientError):  # taken over after expiry: not ours to delete
            self._call(
                "delete_item",
                Key=LEASE_KEY,
                ConditionExpression="holder = :holder",
                ExpressionAttributeValues={":holder": {"S": holder}},
            )

    def due_keys(
        self, now: int, limit: int, start: Mapping[str, Any] | None
    ) -> tuple[list[tuple[str, str, int]], Mapping[str, Any] | None]:
        """One page of (learner, content, due time) whose delivery is due by `now`, oldest first."""
        request: dict[str, Any] = {
            "IndexName": DUE_INDEX,
            "KeyConditionExpression": "sync_due = :due AND sync_next_at <= :now",
            "ExpressionAttributeValues": {":due": {"S": DUE}, ":now": {"N": str(now)}},
            "Limit": limit,
        }
        items, last = self._query_page(request, start)
        keys = []
        for item in items:
            learner, content = _identity_from_key(item)
            keys.append((learner, content, int(item["sync_next_at"]["N"])))
        return keys, last

    def get_stored(self, client_user_id: str, media_content_key: str) -> StoredRecord | None:
        response = self._call("get_item", Key=record_key(client_user_id, media_content_key), ConsistentRead=True)
        item = response.get("Item")
        return None if item is None else stored_record_from_item(item)

    def record_sent(self, record: StoredRecord, sent: Sent, now: int) -> None:
        """Delivered: clear the due marker if the record is unchanged since it was read, else keep it due."""
        # Every message carries the progress, so it counts as sent either way.
        facts = "sync_progress_sent = :progress"
        if sent.message.kind == "progress.completed":
            facts += ", sync_completion_sent = :true"
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
        }
        key = record_key(record.client_user_id, record.media_content_key)
        try:
            self._call(
                "update_item",
                Key=key,
                UpdateExpression=(
                    f"SET {common}, sync_state = :delivered REMOVE sync_due, sync_next_at, sync_last_error"
                ),
                ConditionExpression="rev = :rev",
                ExpressionAttributeValues=_used(values, common + ":delivered :rev"),
            )
        except ClientError:
            # Changed meanwhile: record the delivery, and look at the record again on the next run.
            self._call(
                "update_item",
                Key=key,
                UpdateExpression=f"SET {common}, sync_state = :pending, sync_next_at = :now REMOVE sync_last_error",
                ExpressionAttributeValues=_used(values, common + ":pending"),
            )

    def record_failure(self, record: StoredRecord, attempt: Attempt, ledger: SyncLedger, now: int) -> None:
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
        self._call(
            "update_item",
            Key=record_key(record.client_user_id, record.media_content_key),
            UpdateExpression=expression,
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues=values,
        )

    def clear_due(self, record: StoredRecord, now: int) -> None:
        """Nothing to send: leave the due index, unless the record changed since it was read."""
        with contextlib.suppress(ClientError):
            self._call(
                "update_item",
                Key=record_key(record.client_user_id, record.media_content_key),
                UpdateExpression="SET sync_changed_at = :now REMOVE sync_due, sync_next_at",
                ConditionExpression="rev = :rev",
                ExpressionAttributeValues={":rev": {"N": str(record.rev)}, ":now": {"N": str(now)}},
            )

    def ledger(
        self, state: SyncState, limit: int, start: Mapping[str, Any] | None
    ) -> tuple[list[StoredLedgerEntry], Mapping[str, Any] | None]:
        """One page of the sync ledger in one state, oldest change first."""
        request: dict[str, Any] = {
            "IndexName": LEDGER_INDEX,
            "KeyConditionExpression": "sync_state = :state",
            "ExpressionAttributeValues": {":state": {"S": state.value}},
            "Limit": limit,
        }
        items, last = self._query_page(request, start)
        entries = []
        for item in items:
            learner, content = _identity_from_key(item)
            completed_at = _optional_int(_plain(item, "completed_at"))
            entries.append(StoredLedgerEntry(learner, content, completed_at, ledger_from_item(item)))
        return entries, last

    def redeliver(self, client_user_id: str, media_content_key: str, now: int) -> bool:
        """Put a completed record's delivery back to pending (idempotent); False when not completed."""
        try:
            self._call(
                "update_item",
                Key=record_key(client_user_id, media_content_key),
                UpdateExpression=(
                    "SET sync_state = :pending, sync_due = :due, sync_next_at = :now, sync_changed_at = :now, "
                    "sync_attempts = :zero REMOVE sync_completion_sent, sync_progress_sent, sync_last_error"
                ),
                ConditionExpression="attribute_exists(completed_at)",
                ExpressionAttributeValues={
                    ":pending": {"S": SyncState.PENDING.value},
                    ":due": {"S": DUE},
                    ":now": {"N": str(now)},
                    ":zero": {"N": "0"},
                },
            )
        except ClientError:
            return False
        return True


@dataclass(frozen=True)
class StoredLedgerEntry:
    client_user_id: str
    media_content_key: str
    completed_at: int | None
    ledger: SyncLedger


def _rules_key(media_content_key: str) -> dict[str, Any]:
    return {"pk": {"S": "C#" + _key_part(media_content_key)}, "sk": {"S": "RULES"}}


def _rev(item: Mapping[str, Any]) -> int:
    return int(item["rev"]["N"]) if "rev" in item else 0


def _plain(item: Mapping[str, Any], name: str) -> Any:
    return None if name not in item else _deserializer.deserialize(item[name])


def _identity_from_key(item: Mapping[str, Any]) -> tuple[str, str]:
    """(learner, content) from a record's key attributes."""
    return unquote(item["pk"]["S"][2:]), unquote(item["sk"]["S"][2:])


def _used(values: Mapping[str, Any], expression: str) -> dict[str, Any]:
    """Only the placeholders an expression uses (DynamoDB refuses unused ones)."""
    return {name: value for name, value in values.items() if name in expression}


@cache
def dynamodb_client() -> DynamoDBClient:
    """One client per process (reused across invocations). `AWS_ENDPOINT_URL_DYNAMODB` points it locally."""
    config = Config(
        retries={"mode": "standard", "max_attempts": 5},
        connect_timeout=2,
        read_timeout=5,
        tcp_keepalive=True,
        max_pool_connections=50,
    )
    return boto3.client("dynamodb", config=config)


def progress_store(table_name: str, rejected_ttl_days: int = 30) -> DynamoProgressStore:
    """The store the functions use, on the process-wide client."""
    return DynamoProgressStore(table_name, dynamodb_client(), rejected_ttl_days)
