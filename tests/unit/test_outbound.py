"""The shared outbound HTTP client against a loopback server: keep-alive, timeouts, redirects."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from kollus_bridge.outbound import Answer, NoAnswer, request

from tests.helpers import serving


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        self.connections = 0
        self.requests: list[tuple[str, str]] = []
        super().__init__(("127.0.0.1", 0), Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        self.connections += 1
        super().process_request(request, client_address)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"


class Handler(BaseHTTPRequestHandler):
    server: Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _serve(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        self.rfile.read(length)
        self.server.requests.append((self.command, self.path))
        if self.path == "/slow":
            time.sleep(1.0)
        status, headers, body = {
            "/redirect": (302, {"Location": self.server.url("/elsewhere")}, b"moved"),
            "/big": (200, {}, b"x" * 10_000),
        }.get(self.path, (200, {"Retry-After": "7"}, b"ok"))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # a client that read only a part
            self.wfile.write(body)

    do_GET = do_POST = _serve


@pytest.fixture
def server() -> Iterator[Server]:
    with serving(Server()) as instance:
        yield instance


def test_requests_reuse_one_connection(server: Server) -> None:
    for _ in range(5):
        answer = request("POST", server.url("/hook"), headers={"x": "1"}, body=b"{}", timeout=2)
        assert answer == Answer(200, answer.headers, b"ok")
    assert answer.headers["retry-after"] == "7"  # header names come lowercase
    assert server.connections == 1


def test_a_redirect_is_answered_not_followed(server: Server) -> None:
    answer = request("POST", server.url("/redirect"), headers={}, body=b"{}", timeout=2)
    assert (answer.status, answer.redirect, answer.headers["location"]) == (302, True, server.url("/elsewhere"))
    assert server.requests == [("POST", "/redirect")]


def test_an_answer_is_read_only_up_to_its_bound(server: Server) -> None:
    answer = request("GET", server.url("/big"), headers={}, timeout=2, max_answer_bytes=300)
    assert answer.body == b"x" * 300
    assert request("GET", server.url("/hook"), headers={}, timeout=2).body == b"ok"  # the pool still works


def test_a_slow_answer_is_no_answer(server: Server) -> None:
    with pytest.raises(NoAnswer, match=r"no answer within 0\.2 s"):
        request("POST", server.url("/slow"), headers={}, body=b"", timeout=0.2)


def test_a_refused_connection_is_no_answer(server: Server) -> None:
    url = server.url("/hook")
    server.shutdown()
    server.server_close()
    with pytest.raises(NoAnswer, match="connection failed"):
        request("POST", url, headers={}, body=b"", timeout=1)
