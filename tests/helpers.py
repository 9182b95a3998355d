"""Helpers the suites share: canonical events, in-process invocation, functions on moto, the
functions' log lines, and servers on loopback (a JSON document; any server, run and stopped)."""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import BaseServer
from types import ModuleType
from typing import Any, TypeVar

import boto3
from kollus_bridge.observability import logger
from moto import mock_aws

from local.dynamodb_local import create_tables
from local.http_api import LambdaContext
from local.template import ROOT

EVENTS = ROOT / "events"
#: Settings for suites that replay simulated viewing in a moment: the playback clock off, as its docs say.
REPLAY = {"ENFORCE_PLAYBACK_CLOCK": "false"}


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


#: How often a test's server looks for its stop (socketserver's default, half a second, is paid by
#: every test that stops one).
POLL_SECONDS = 0.02

S = TypeVar("S", bound=BaseServer)


@contextmanager
def serving(server: S) -> Iterator[S]:
    """Run `server` on a thread of its own while the block runs, then stop and close it."""
    threading.Thread(target=server.serve_forever, args=(POLL_SECONDS,), daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


class _Document(BaseHTTPRequestHandler):
    server: JsonDocument

    def do_GET(self) -> None:
        data = json.dumps(self.server.document()).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        return None


class JsonDocument(ThreadingHTTPServer):
    """A loopback server answering every GET with `document()` as JSON (a key set, say)."""

    daemon_threads = True

    def __init__(self, document: Callable[[], Any]) -> None:
        super().__init__(("127.0.0.1", 0), _Document)
        self.document = document

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"
