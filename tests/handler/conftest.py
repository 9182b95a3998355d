"""The functions on moto behind the access and integrity suites (`environment` overrides settings per test)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from types import ModuleType

import pytest

from tests.handler.test_access import Bridge
from tests.helpers import functions_on_moto


@pytest.fixture
def environment() -> dict[str, str]:
    return {}


@pytest.fixture
def bridge(
    function_environment: Callable[[dict[str, str]], None],
    load_functions: Callable[[], dict[str, ModuleType]],
    environment: dict[str, str],
) -> Iterator[Bridge]:
    with functions_on_moto(function_environment, load_functions, environment) as (functions, client, table):
        yield Bridge(functions, client, table)
