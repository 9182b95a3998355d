"""The table: one DynamoDB client per process (botocore's: `attributes` maps typed values, so that
storage never imports boto3), key encoding, the call wrapper and error mapping.

Every aggregate's store (`records`, `snapshots`, `rejected`, `rules`, `ledger`, `lease`) is a `Table`
and reaches DynamoDB only through `Table.call`. The schema itself is declared in `template.yaml`.
Identifiers are percent-encoded inside keys, so no learner id or content key can forge another's key.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote, unquote

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from kollus_bridge.errors import InvalidRequest, RecordTooLarge, StorageUnavailable
from kollus_bridge.settings import DECIMALS
from kollus_bridge.store.session import aws_session

from .attributes import deserialize

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

#: Items one BatchWriteItem may put, and keys one BatchGetItem may name.
BATCH_WRITE_LIMIT = 25
BATCH_GET_LIMIT = 100


class ConditionFailed(Exception):
    """A write's condition did not hold (the only storage error a store handles itself).

    `item` is the item as stored when the write asked for it (`ReturnValuesOnConditionCheckFailure`).
    """

    def __init__(self, item: Mapping[str, Any] | None = None) -> None:
        super().__init__("the condition of a write did not hold")
        self.item: Mapping[str, Any] = item or {}


def key_part(value: str) -> str:
    return quote(value, safe="")


def learner_partition(client_user_id: str) -> dict[str, str]:
    """The partition key value holding a learner's records and sessions."""
    return {"S": "L#" + key_part(client_user_id)}


def record_key(client_user_id: str, media_content_key: str) -> dict[str, Any]:
    return {"pk": learner_partition(client_user_id), "sk": {"S": "P#" + key_part(media_content_key)}}


def identity_from_key(item: Mapping[str, Any]) -> tuple[str, str]:
    """(learner, content) from a record's key attributes."""
    return unquote(item["pk"]["S"][2:]), unquote(item["sk"]["S"][2:])


def number(value: float | int | None) -> Decimal | None:
    """A number as DynamoDB keeps it (floats to `DECIMALS` places: DynamoDB has no exponent below -130)."""
    if value is None:
        return None
    return Decimal(value) if isinstance(value, int) else Decimal(repr(round(float(value), DECIMALS)))


def number_value(value: float | int) -> dict[str, str]:
    """A typed number attribute value."""
    return {"N": str(number(value))}


def optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


def plain(item: Mapping[str, Any], name: str) -> Any:
    return None if name not in item else deserialize(item[name])


def used(values: Mapping[str, Any], expression: str) -> dict[str, Any]:
    """Only the placeholders an expression uses (DynamoDB refuses unused ones)."""
    return {name: value for name, value in values.items() if name in expression}


def _is_condition_failure(error: ClientError) -> bool:
    code = error.response.get("Error", {}).get("Code")
    if code == "TransactionCanceledException":  # a transaction fails as a whole; a condition may be why
        reasons = error.response.get("CancellationReasons") or []
        return any(reason.get("Code") == "ConditionalCheckFailed" for reason in reasons)
    return code == "ConditionalCheckFailedException"


#: How DynamoDB (and DynamoDB Local) word a key over its size limit (2048 bytes for the partition
#: key, 1024 for the sort key).
_KEY_SIZE = ("hashkey", "range key", "primary key values must be under")
KEY_TOO_LONG = (
    "an id is too long to store: ids are kept percent-encoded in keys of at most 1024 bytes, so at most 341 bytes "
    "of UTF-8 (256 ASCII characters, about 110 Korean ones)"
)


def _storage_error(error: Exception) -> Exception:
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        message = error.response.get("Error", {}).get("Message", "")
        reasons = [reason.get("Message", "") for reason in error.response.get("CancellationReasons") or []
                   if reason.get("Code") == "ValidationError"]  # fmt: skip
        if code in ("ValidationException", "TransactionCanceledException") and any(
            part in text.lower() for text in (message, *reasons) for part in _KEY_SIZE
        ):
            return InvalidRequest(KEY_TOO_LONG)  # the input's fault: never worth a retry
        if code == "ValidationException" and "size" in message.lower():
            return RecordTooLarge("the learner's record would exceed the storage item size limit")
    return StorageUnavailable("storage is unavailable; resend later")


class Table:
    """One DynamoDB table and the accounting of what its requests consumed (for the benchmark)."""

    def __init__(self, table_name: str, client: DynamoDBClient, rejected_ttl_days: int = 30) -> None:
        self.table_name = table_name
        self.client = client
        self.rejected_ttl_seconds = rejected_ttl_days * 86400
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

    def call(self, operation: str, **request: Any) -> dict[str, Any]:
        """One request. A failed condition raises `ConditionFailed`; any other failure after the SDK's
        retries is a domain error (`StorageUnavailable`, or `RecordTooLarge` for an oversized item)."""
        if operation not in ("batch_get_item", "batch_write_item", "transact_write_items"):  # tables per item
            request.setdefault("TableName", self.table_name)
        request.setdefault("ReturnConsumedCapacity", "TOTAL")
        try:
            response: dict[str, Any] = getattr(self.client, operation)(**request)
        except ClientError as error:
            if _is_condition_failure(error):
                self._account({}, failed_write=True)
                raise ConditionFailed(error.response.get("Item")) from None  # type: ignore[arg-type]
            raise _storage_error(error) from error
        except BotoCoreError as error:
            raise _storage_error(error) from error
        self._account(response)
        return response

    def query_page(
        self, request: dict[str, Any], start: Mapping[str, Any] | None
    ) -> tuple[list[dict[str, Any]], Mapping[str, Any] | None]:
        """One page of a query: its items and the key to continue from (None on the last page)."""
        if start:
            request["ExclusiveStartKey"] = start
        response = self.call("query", **request)
        return response.get("Items", []), response.get("LastEvaluatedKey")

    def batch_put(self, items: list[dict[str, Any]]) -> None:
        """Put items, 25 to a request; unprocessed ones are retried a bounded number of times."""
        for at in range(0, len(items), BATCH_WRITE_LIMIT):
            pending = [{"PutRequest": {"Item": item}} for item in items[at : at + BATCH_WRITE_LIMIT]]
            for _ in range(8):
                if not pending:
                    break
                answer = self.call("batch_write_item", RequestItems={self.table_name: pending})
                pending = answer.get("UnprocessedItems", {}).get(self.table_name, [])
            if pending:
                raise StorageUnavailable("storage is busy; try again")

    def batch_get(self, keys: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
        """Items by (pk, sk), read consistently, 100 keys to a request; absent ones are left out."""
        found: dict[tuple[str, str], dict[str, Any]] = {}
        for at in range(0, len(keys), BATCH_GET_LIMIT):
            pending = keys[at : at + BATCH_GET_LIMIT]
            for _ in range(8):  # unprocessed keys come back under load: retry them a bounded number of times
                if not pending:
                    break
                batch = self.call(
                    "batch_get_item", RequestItems={self.table_name: {"Keys": pending, "ConsistentRead": True}}
                )
                for item in batch.get("Responses", {}).get(self.table_name, []):
                    found[(item["pk"]["S"], item["sk"]["S"])] = item
                pending = batch.get("UnprocessedKeys", {}).get(self.table_name, {}).get("Keys", [])
            if pending:
                raise StorageUnavailable("storage is busy; try again")
        return found


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
    # botocore's client, as boto3 would make it, without importing boto3 (and s3transfer with it).
    return cast("DynamoDBClient", aws_session().create_client("dynamodb", config=config))
