"""A fresh table, created from template.yaml in the session's DynamoDB Local, for each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kollus_bridge.store import DynamoStore

from local.dynamodb_local import DynamoDBLocal, create_tables, unique_suffix


@pytest.fixture
def table(dynamodb_local: DynamoDBLocal) -> Iterator[str]:
    client = dynamodb_local.client()
    name = create_tables(client, suffix=unique_suffix())["ProgressTable"]
    yield name
    client.delete_table(TableName=name)


@pytest.fixture
def store(dynamodb_local: DynamoDBLocal, table: str) -> DynamoStore:
    return DynamoStore(table, dynamodb_local.client())
