"""DynamoDB access: the only module that talks to boto3.

Item layout (one table, generic `pk`/`sk`; the schema itself is declared in `template.yaml`):

- progress record  `pk=L#<learner>`  `sk=P#<content>`: the learner's merged state for one content.
  One attribute per session, `s:<session key>` = [version, start_at, block_count, duration, play_time,
  real_play_time, last_play_at, received_at], and one number set per block grid, `w:<block_count>`.
- session snapshot `pk=L#<learner>`  `sk=S#<content>#<session key>`: the session's newest raw callback.
- rejected payload `pk=R#<yyyy-mm-dd>` `sk=<received iso>#<uuid>`: kept 30 days (TTL `expires_at`).

Identifiers are percent-encoded inside keys so no learner id or content key can collide with another.
"""

from __future__ import annotations

import contextlib
import uuid
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from .errors import RecordTooLarge, StorageUnavailable
from .progress import Outcome, RecordState, SessionSummary, SessionUpdate, classify

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

SESSION_PREFIX = "s:"
GRID_PREFIX = "w:"
#: Largest compressed raw body and query kept with a rejected payload (DynamoDB items stop at 400 KB).
MAX_KEPT_BODY = 300_000
MAX_KEPT_QUERY = 16_384

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def _key_part(value: str) -> str:
    return quote(value, safe="")


def record_key(client_user_id: str, media_content_key: str) -> dict[str, Any]:
    return {"pk": {"S": "L#" + _key_part(client_user_id)}, "sk": {"S": "P#" + _key_part(media_content_key)}}


def session_item_key(client_user_id: str, media_content_key: str, session_key: str) -> dict[str, Any]:
    return {
        "pk": {"S": "L#" + _key_part(client_user_id)},
        "sk": {"S": f"S#{_key_part(media_content_key)}#{session_key}"},
    }


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
        ]
    )


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _summary_from(value: list[Any]) -> SessionSummary:
    version, start_at, block_count, duration, play_time, real_play_time, last_play_at, received_at = value
    return SessionSummary(
        version=int(version),
        start_at=int(start_at),
        block_count=int(block_count),
        duration=_float(duration),
        play_time=float(play_time),
        real_play_time=float(real_play_time),
        last_play_at=_float(last_play_at),
        received_at=int(received_at),
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

    def stamp(name: str) -> int | None:
        return None if plain.get(name) is None else int(plain[name])

    return RecordState(
        sessions=sessions,
        watched=watched,
        completed_at=stamp("completed_at"),
        created_at=stamp("created_at"),
        updated_at=stamp("updated_at"),
    )


@dataclass(frozen=True)
class ApplyResult:
    outcome: Outcome
    state: RecordState


@dataclass(frozen=True)
class RawSnapshot:
    body: bytes
    content_type: str | None
    query: str


class ProgressStore(Protocol):
    """What the service needs from storage."""

    def apply(self, update: SessionUpdate) -> ApplyResult: ...

    def mark_completed(self, client_user_id: str, media_content_key: str, now: int) -> None: ...

    def save_snapshot(self, update: SessionUpdate, raw: RawSnapshot) -> None: ...

    def save_rejected(self, raw: RawSnapshot, code: str, message: str, field: str | None, now: int) -> None: ...

    def get_record(self, client_user_id: str, media_content_key: str) -> RecordState | None: ...


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

    def _account(self, response: Mapping[str, Any]) -> None:
        self.requests += 1
        consumed = response.get("ConsumedCapacity") or {}
        self.consumed_write_units += float(consumed.get("WriteCapacityUnits", 0) or 0)
        self.consumed_read_units += float(consumed.get("ReadCapacityUnits", 0) or 0)

    def _call(self, operation: str, **request: Any) -> dict[str, Any]:
        request.setdefault("TableName", self.table_name)
        request.setdefault("ReturnConsumedCapacity", "TOTAL")
        try:
            response: dict[str, Any] = getattr(self.client, operation)(**request)
        except ClientError as error:
            if _is_condition_failure(error):
                self.requests += 1
                self.consumed_write_units += 1.0  # a failed condition is billed as one write unit
                raise
            raise _storage_error(error) from error
        except BotoCoreError as error:
            raise _storage_error(error) from error
        self._account(response)
        return response

    def apply(self, update: SessionUpdate) -> ApplyResult:
        """Merge one session's newest callback into the record, atomically (write 1)."""
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
            "created_at = if_not_exists(created_at, :now), updated_at = :now"
        )
        if update.watched:
            names["#w"] = GRID_PREFIX + str(summary.block_count)
            values[":blocks"] = {"NS": [str(block) for block in sorted(update.watched)]}
            expression += " ADD #w :blocks"
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
            return ApplyResult(classify(state.sessions.get(update.session_key), update), state)
        return ApplyResult(Outcome.ACCEPTED, state_from_item(response["Attributes"]))

    def mark_completed(self, client_user_id: str, media_content_key: str, now: int) -> None:
        """Stamp the completion time once; a record that already has one keeps it."""
        # `_call` lets only a failed condition through as ClientError: completed already, the first time stands.
        with contextlib.suppress(ClientError):
            self._call(
                "update_item",
                Key=record_key(client_user_id, media_content_key),
                UpdateExpression="SET completed_at = :now",
                ConditionExpression="attribute_exists(pk) AND attribute_not_exists(completed_at)",
                ExpressionAttributeValues={":now": {"N": str(now)}},
            )

    def save_snapshot(self, update: SessionUpdate, raw: RawSnapshot) -> None:
        """Keep the session's newest raw callback (write 2); an older one never replaces a newer."""
        item = {
            **session_item_key(update.client_user_id, update.media_content_key, update.session_key),
            "version": {"N": str(update.summary.version)},
            "start_at": {"N": str(update.summary.start_at)},
            "received_at": {"N": str(update.summary.received_at)},
            "raw_body": {"B": zlib.compress(raw.body)},
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
        body = zlib.compress(raw.body)
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
        response = self._call("get_item", Key=record_key(client_user_id, media_content_key), ConsistentRead=True)
        item = response.get("Item")
        return None if item is None else state_from_item(item)


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
