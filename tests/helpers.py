"""Helpers the suites share: canonical events, in-process invocation, functions on moto, and the
functions' log lines."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

import boto3
from kollus_bridge.observability import logger
from moto import mock_aws

from local.dynamodb_local import create_tables
from local.http_api import LambdaContext
from local.template import ROOT

EVENTS = ROOT / "events"


def load_event(relative: str) -> dict[str, Any]:
    """One of the `events/` files, which also serve `sam local invoke -e`."""
    event: dict[str, Any] = json.loads((EVENTS / relative).read_text(encoding="utf-8"))
    return event


def invoke(module: ModuleType, event: dict[str, Any]) -> dict[str, Any]:
    response: dict[str, Any] = module.lambda_handler(event, LambdaContext("test"))
    return response


def body_of(response: dict[str, Any]) -> Any:
    return json.loads(response["body"])


@contextmanager
def functions_on_moto(
    function_environment: Callable[[dict[str, str]], None],
    load_functions: Callable[[], dict[str, ModuleType]],
    environment: dict[str, str],
) -> Iterator[tuple[dict[str, ModuleType], Any, str]]:
    """The functions, loaded afresh against moto's DynamoDB with the template's table: (functions,
    client, table name)."""
    with mock_aws():
        function_environment({})
        client = boto3.client("dynamodb", region_name="us-east-1")
        table = create_tables(client)["ProgressTable"]
        function_environment({"TABLE_NAME": table, **environment})
        yield load_functions(), client, table


@contextmanager
def captured_logs() -> Iterator[io.StringIO]:
    """Everything the functions log, at DEBUG, while the block runs."""
    buffer = io.StringIO()
    handlers = [handler for handler in logger.handlers if isinstance(handler, logging.StreamHandler)]
    previous = [handler.setStream(buffer) for handler in handlers]
    level = logger.log_level
    logger.setLevel("DEBUG")
    try:
        yield buffer
    finally:
        logger.setLevel(level)
        for handler, stream in zip(handlers, previous, strict=True):
            handler.setStream(stream)
