"""A small stand-in for API Gateway HTTP API (payload format 2.0), for machines without Docker.

Routes come from `template.yaml`. Each request becomes an HTTP API v2 event handed to the function's
handler in-process, and the handler's response is written back. Standard library only.
"""

from __future__ import annotations

import base64
import itertools
import queue
import re
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .template import DEFAULT_ROUTE, Route

#: API Gateway's own payload limit for HTTP APIs.
MAX_REQUEST_BYTES = 10 * 1024 * 1024
_TEXT_TYPES = re.compile(r"^(text/|application/(json|xml|javascript)|[^;]*\+json)", re.IGNORECASE)

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


class HandlerPool:
    """Execution environments of one function: each serves one event at a time, as in Lambda.

    A request takes an idle handler, or makes a new one with `factory(n)` when all are busy.
    """

    def __init__(self, factory: Callable[[int], Handler], warm: int = 0) -> None:
        self._factory = factory
        self._idle: queue.LifoQueue[Handler] = queue.LifoQueue()
        self._count = itertools.count()
        for _ in range(warm):
            self._idle.put(self._factory(next(self._count)))

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        try:
            handler = self._idle.get_nowait()
        except queue.Empty:
            handler = self._factory(next(self._count))
        try:
            return handler(event, context)
        finally:
            self._idle.put(handler)


@dataclass(frozen=True)
class BoundRoute:
    route: Route
    pattern: re.Pattern[str]
    handler: Handler


def _compile(path: str) -> re.Pattern[str]:
    regex = ""
    for part in re.split(r"(\{[^}]+\})", path):
        if part.startswith("{") and part.endswith("}"):
            name = part[1:-1]
            regex += f"(?P<{name[:-1]}>.+)" if name.endswith("+") else f"(?P<{name}>[^/]+)"
        else:
            regex += re.escape(part)
    return re.compile(f"^{regex}$")


def bind(routes: list[Route], handlers: dict[str, Handler]) -> list[BoundRoute]:
    """The routes in the order they are tried: `$default` (any method, any path) after every other."""
    bound = [
        BoundRoute(
            route, re.compile(".*") if route.path == DEFAULT_ROUTE else _compile(route.path), handlers[route.function]
        )
        for route in routes
    ]
    return sorted(bound, key=lambda each: each.route.path == DEFAULT_ROUTE)


class LambdaContext:
    """The parts of the Lambda context object that handlers and Powertools read."""

    def __init__(self, function_name: str, timeout_seconds: float = 10.0, memory_mb: int = 512) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = memory_mb
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:000000000000:function:{function_name}"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def build_event(
    route: Route,
    *,
    path_parameters: dict[str, str],
    method: str,
    target: str,
    headers: dict[str, str],
    body: bytes,
    source_ip: str = "127.0.0.1",
) -> dict[str, Any]:
    """An HTTP API payload 2.0 event, as API Gateway builds it."""
    split = urlsplit(target)
    query: dict[str, list[str]] = {}
    for key, value in parse_qsl(split.query, keep_blank_values=True):
        query.setdefault(key, []).append(value)
    content_type = headers.get("content-type", "")
    is_text = bool(_TEXT_TYPES.match(content_type))
    now = datetime.now(UTC)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": split.path,
        "rawQueryString": split.query,
        "headers": headers,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": headers.get("host", "127.0.0.1"),
            "domainPrefix": "local",
            "http": {
                "method": method,
                "path": split.path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": uuid.uuid4().hex,
            "routeKey": route.route_key,
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": False,
    }
    if query:
        event["queryStringParameters"] = {key: ",".join(values) for key, values in query.items()}
    if path_parameters:
        event["pathParameters"] = path_parameters
    if body:
        event["body"] = body.decode("utf-8") if is_text and _is_utf8(body) else base64.b64encode(body).decode()
        event["isBase64Encoded"] = not (is_text and _is_utf8(body))
    return event


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


class _RequestHandler(BaseHTTPRequestHandler):
    server: LocalHttpApi
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass  # one line per request is written by _serve

    def _serve(self) -> None:
        started = time.perf_counter()
        status, route_key = self._dispatch()
        if not self.server.quiet:
            elapsed = (time.perf_counter() - started) * 1000
            # The route key, never the raw path: the callback token is part of the path.
            print(
                f"{route_key or self.command + ' ' + urlsplit(self.path).path} -> {status} ({elapsed:.1f} ms)",
                flush=True,
            )

    def _dispatch(self) -> tuple[int, str | None]:
        length = int(self.headers.get("content-length") or 0)
        if length > MAX_REQUEST_BYTES:
            self._reply(413, {"content-type": "application/json"}, b'{"message":"Request Entity Too Large"}')
            self.close_connection = True
            return 413, None
        body = self.rfile.read(length) if length else b""
        path = urlsplit(self.path).path
        for bound in self.server.routes:
            match = bound.pattern.match(path)
            if match and bound.route.method in (self.command, "ANY"):
                headers: dict[str, str] = {}
                for key, value in self.headers.items():
                    name = key.lower()
                    headers[name] = f"{headers[name]},{value}" if name in headers else value
                event = build_event(
                    bound.route,
                    path_parameters=match.groupdict(),
                    method=self.command,
                    target=self.path,
                    headers=headers,
                    body=body,
                    source_ip=self.client_address[0],
                )
                try:
                    result = bound.handler(event, LambdaContext(bound.route.function))
                except Exception as error:  # what API Gateway does with a crashed function: 500
                    print(f"handler {bound.route.function} raised {error!r}", file=sys.stderr, flush=True)
                    self._reply(500, {"content-type": "application/json"}, b'{"message":"Internal Server Error"}')
                    return 500, bound.route.route_key
                self._write_result(result)
                return int(result.get("statusCode", 200)), bound.route.route_key
        self._reply(404, {"content-type": "application/json"}, b'{"message":"Not Found"}')
        return 404, None

    def _write_result(self, result: dict[str, Any]) -> None:
        body = result.get("body") or ""
        data = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode("utf-8")
        headers = {str(key).lower(): str(value) for key, value in (result.get("headers") or {}).items()}
        for name, values in (result.get("multiValueHeaders") or {}).items():
            headers[str(name).lower()] = ",".join(str(value) for value in values)
        self._reply(int(result.get("statusCode", 200)), headers, data, result.get("cookies") or [])

    def _reply(self, status: int, headers: dict[str, str], data: bytes, cookies: list[str] | None = None) -> None:
        self.send_response(status)
        for name, value in headers.items():
            if name not in ("content-length", "connection"):
                self.send_header(name, value)
        for cookie in cookies or []:
            self.send_header("set-cookie", cookie)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _serve

    def __getattr__(self, name: str) -> Any:
        # Any other method (TRACE, CONNECT, made-up ones) goes through the routes too: API Gateway
        # answers 404 for a method no route takes, where the base class would answer 501.
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)


class LocalHttpApi(ThreadingHTTPServer):
    """`LocalHttpApi(("127.0.0.1", 3000), bound_routes).serve_forever()`."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], routes: list[BoundRoute], quiet: bool = False) -> None:
        self.routes = routes
        self.quiet = quiet
        super().__init__(address, _RequestHandler)
