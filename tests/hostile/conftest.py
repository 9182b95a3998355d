"""The hostile suite runs against DynamoDB Local, on a fresh table per test, like the integration suite
(it runs once, on the functions' Python: the 3.11 run covers the code's portability already)."""

from tests.integration.conftest import store, table  # noqa: F401 (fixtures)
