"""Shared fixtures: a configured environment, functions loaded like Lambda loads them, DynamoDB Local."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import pytest
from kollus_bridge import outbound
from kollus_bridge.settings import get_settings
from kollus_bridge.store.session import aws_session
from kollus_bridge.store.table import dynamodb_client

from local.dynamodb_local import DynamoDBLocal
from local.lrs import Lrs
from local.stack import local_environment
from local.template import (
    Route,
    ScheduledFunction,
    StreamFunction,
    load_handler_module,
    load_template,
    routes,
    scheduled_functions,
    stream_functions,
)
from tests import reliability


@pytest.fixture(autouse=True)
def private_targets_allowed() -> Iterator[None]:
    """Every stand-in a test talks to listens on 127.0.0.1, as in the local stack
    (`ALLOW_PRIVATE_TARGETS=true`); the guard's own tests turn it back on."""
    outbound.allow_private_targets(True)
    yield
    outbound.allow_private_targets(True)


@pytest.fixture
def function_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[dict[str, str]], None]]:
    """Set the functions' environment (local defaults plus overrides) and forget cached settings."""

    def apply(overrides: dict[str, str]) -> None:
        for name in ("CALLBACK_TOKEN_SECRET_ARN", "API_TOKEN_SECRET_ARN", "AWS_ENDPOINT_URL_DYNAMODB"):
            monkeypatch.delenv(name, raising=False)
        for name, value in {**local_environment({"ProgressTable": "ProgressTable"}), **overrides}.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        dynamodb_client.cache_clear()
        aws_session.cache_clear()

    yield apply
    get_settings.cache_clear()
    dynamodb_client.cache_clear()
    aws_session.cache_clear()


@pytest.fixture
def load_functions() -> Callable[[], dict[str, ModuleType]]:
    """Import every function module afresh (a new execution environment), after the environment is set."""

    def load() -> dict[str, ModuleType]:
        template = load_template()
        handlers: list[Route | ScheduledFunction | StreamFunction] = [
            *routes(template), *scheduled_functions(template), *stream_functions(template)
        ]  # fmt: skip
        # One fresh module per function (a function serves many routes: the API function most of them).
        first = {handler.function: handler for handler in reversed(handlers)}
        return {name: load_handler_module(handler, fresh=True) for name, handler in first.items()}

    return load


@pytest.fixture(scope="session")
def dynamodb_local() -> Iterator[DynamoDBLocal]:
    """One DynamoDB Local for the test session (tests make their own tables in it)."""
    with DynamoDBLocal() as database:
        yield database


@pytest.fixture(scope="session")
def lrs() -> Iterator[Lrs]:
    """One ralph LRS for the test session (statements are told apart by learner)."""
    with Lrs() as server:
        yield server


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The reliability suites' figures, after the results."""
    if reliability.FIGURES:
        terminalreporter.section("reliability figures")
        for line in reliability.lines():
            terminalreporter.write_line(line)
    reliability.write()


def pytest_sessionfinish(session: pytest.Session) -> None:
    """A pytest-xdist worker hands its suites' figures to the controller, which reports them."""
    shipped = getattr(session.config, "workeroutput", None)
    if shipped is not None:
        shipped["reliability"] = json.dumps({suite: dict(figures) for suite, figures in reliability.FIGURES.items()})


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """pytest-xdist's controller: a worker's figures added to the session's."""
    for suite, figures in json.loads(getattr(node, "workeroutput", {}).get("reliability", "{}")).items():
        reliability.record(suite, **figures)
