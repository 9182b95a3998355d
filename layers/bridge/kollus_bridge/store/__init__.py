"""Storage: the only package that touches boto3. One table, one module per aggregate.

- `table`: the client, key encoding, the call wrapper and error mapping;
- `records` (progress records, with `record_items` for their item layout), `snapshots` (each
  session's newest raw callback, deflated by `bodies`), `rejected` (refused payloads), `rules`
  (per-content rules), `ledger` (the sync ledger on each record) and `lease` (the sync lease);
- `pages`: opaque page tokens over DynamoDB's start keys.

`DynamoStore` is all of them on one table, which is what the functions use.
"""

from __future__ import annotations

from .lease import Lease
from .ledger import Ledger
from .records import Records
from .rejected import Rejected
from .rules import Rules
from .snapshots import Snapshots
from .table import dynamodb_client


class DynamoStore(Records, Snapshots, Rejected, Rules, Ledger, Lease):
    """Every aggregate's store over one table and one client."""


def dynamo_store(table_name: str, rejected_ttl_days: int = 30) -> DynamoStore:
    """The store the functions use, on the process-wide client."""
    return DynamoStore(table_name, dynamodb_client(), rejected_ttl_days)


__all__ = ["DynamoStore", "dynamo_store"]
