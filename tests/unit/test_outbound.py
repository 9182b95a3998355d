"""The shared outbound HTTP client against a loopback server: keep-alive, timeouts, redirects."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from kollus_bridge.outbound import Answer, NoAnswer, allow_private_targets, refused_address, request

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
        if self.path == "/drip":  # a status line a byte at a time: each read is quick, the whole is not
            with contextlib.suppress(BrokenPipeError, ConnectionResetError, OSError):
                for byte in b"HTTP/1.1 200 OK\r\nx-drip: " + b"x" * 60:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(0.05)
            self.close_connection = True
            return
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
    with pytest.raises(NoAnswer, match=r"no (complete )?answer within 0\.2 s"):
        request("POST", server.url("/slow"), headers={}, body=b"", timeout=0.2)


def test_a_refused_connection_is_no_answer(server: Server) -> None:
    url = server.url("/hook")
    server.shutdown()
    server.server_close()
    with pytest.raises(NoAnswer, match="connection failed"):
        request("POST", url, headers={}, body=b"", timeout=1)


def test_an_answer_dripped_a_byte_at_a_time_ends_at_the_deadline(server: Server) -> None:
    # Each byte comes well within the read timeout; the answer as a whole never would (3 s of drip).
    with pytest.raises(NoAnswer, match=r"no complete answer within 0\.5 s"):
        request("POST", server.url("/drip"), headers={}, body=b"", timeout=0.5)
    assert request("GET", server.url("/hook"), headers={}, timeout=2).body == b"ok"  # the pool still works


@pytest.mark.parametrize(
    ("address", "refused"),
    [
        ("127.0.0.1", True), ("10.1.2.3", True), ("172.16.0.1", True), ("192.168.1.1", True),
        ("169.254.169.254", True), ("100.64.0.1", True), ("0.0.0.0", True), ("224.0.0.1", True),
        ("::1", True), ("fe80::1%eth0", True), ("fd00:ec2::254", True), ("::ffff:127.0.0.1", True),
        ("::ffff:169.254.169.254", True), ("8.8.8.8", False), ("2606:4700:4700::1111", False),
    ],
)  # fmt: skip
def test_which_addresses_no_request_may_reach(address: str, refused: bool) -> None:
    assert refused_address(address) is refused


def test_private_targets_are_refused_unless_allowed(server: Server) -> None:
    allow_private_targets(False)
    for url in (server.url("/hook"), server.url("/hook").replace("127.0.0.1", "localhost")):
        with pytest.raises(NoAnswer, match="not a public address"):
            request("POST", url, headers={}, body=b"", timeout=2)
    assert server.requests == []  # refused before connecting, on every new connection
    allow_private_targets(True)
    assert request("POST", server.url("/hook"), headers={}, body=b"", timeout=2).status == 200
