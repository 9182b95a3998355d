"""A fresh table, created from template.yaml in the session's DynamoDB Local, for each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kollus_bridge.store.dynamo import DynamoStore

from local.dynamodb_local import DynamoDBLocal, create_tables, unique_suffix
from local.lms_receiver import LmsReceiver
from local.stack import LOCAL_DEFAULTS
from tests.helpers import serving


@pytest.fixture
def table(dynamodb_local: DynamoDBLocal) -> Iterator[str]:
    client = dynamodb_local.client()
    name = create_tables(client, suffix=unique_suffix())["ProgressTable"]
    yield name
    client.delete_table(TableName=name)


@pytest.fixture
def store(dynamodb_local: DynamoDBLocal, table: str) -> DynamoStore:
    return DynamoStore(table, dynamodb_local.client())


@pytest.fixture
def lms() -> Iterator[LmsReceiver]:
    """A local HTTP server playing the LMS's webhook receiver."""
    receiver = LmsReceiver(
        ("127.0.0.1", 0), [LOCAL_DEFAULTS["LMS_WEBHOOK_SECRET"]], tolerance=10**9
    )  # clocks run ahead
    with serving(receiver):
        yield receiver
