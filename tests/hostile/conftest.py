"""The hostile suite runs against DynamoDB Local, on a fresh table per test, like the integration suite
(it runs once, on the functions' Python: the 3.11 run covers the code's portability already).

It has a DynamoDB Local of its own: a thousand writes of items near their bound leave DynamoDB Local
slower for whatever uses it next (the suites after this one would wait on it)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from local.dynamodb_local import DynamoDBLocal
from tests.integration.conftest import store, table  # noqa: F401 (fixtures)


@pytest.fixture(scope="module")
def dynamodb_local() -> Iterator[DynamoDBLocal]:
    with DynamoDBLocal() as database:
        yield database
