"""A stand-in LMS: receives the bridge's webhooks, verifies their signatures, prints completions and
content events.

`make run` starts one on 127.0.0.1:3100 unless LMS_WEBHOOK_URL points elsewhere. Tests script its
answers (status, Retry-After, delay, a dropped connection) to play an unreliable LMS.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from kollus_bridge.delivery import webhooks


@dataclass(frozen=True)
class Answer:
    """How the receiver answers one request."""

    status: int = 204
    retry_after: str | None = None
    delay_seconds: float = 0.0
    drop_connection: bool = False
    #: A `Location` header (answer with a 3xx status to play an LMS that redirects).
    location: str | None = None
    body: bytes = b""


@dataclass(frozen=True)
class Received:
    message_id: str
    timestamp: int
    body: dict[str, Any]
    verified: bool
    answered: int | None  # None: the connection was dropped
    #: When it arrived (`time.monotonic()`, so a process can time its own requests against it).
    at: float = field(default_factory=time.monotonic)


@dataclass
class Script:
    """Answers to give, in order; once used up, `default` answers."""

    answers: deque[Answer] = field(default_factory=deque)
    default: Answer = field(default_factory=Answer)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next(self) -> Answer:
        with self.lock:
            return self.answers.popleft() if self.answers else self.default


class _Handler(BaseHTTPRequestHandler):
    server: LmsReceiver
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length)
        headers = {name.lower(): value for name, value in self.headers.items()}
        now = int(time.time())
        tolerance = self.server.tolerance
        verified = any(webhooks.verify(key, headers, body, now, tolerance) for key in self.server.secrets)
        with self.server.lock:
            self.server.in_flight += 1
            self.server.most_in_flight = max(self.server.most_in_flight, self.server.in_flight)
        try:
            self._answer(verified, headers, body)
        finally:
            with self.server.lock:
                self.server.in_flight -= 1

    def _answer(self, verified: bool, headers: dict[str, str], body: bytes) -> None:
        answer = self.server.script.next() if verified else Answer(status=401)
        if answer.delay_seconds:
            time.sleep(answer.delay_seconds)
        try:
            document = json.loads(body)
        except ValueError:
            document = {}
        received = Received(
            message_id=headers.get("webhook-id", ""),
            timestamp=int(headers.get("webhook-timestamp", "0") or 0),
            body=document,
            verified=verified,
            answered=None if answer.drop_connection else answer.status,
        )
        self.server.record(received)
        if answer.drop_connection:
            self.close_connection = True
            self.connection.close()
            return
        self.send_response(answer.status)
        if answer.retry_after is not None:
            self.send_header("Retry-After", answer.retry_after)
        if answer.location is not None:
            self.send_header("Location", answer.location)
        self.send_header("content-length", str(len(answer.body)))
        self.end_headers()
        self.wfile.write(answer.body)


class LmsReceiver(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], secrets: list[str], quiet: bool = True, tolerance: int = 300) -> None:
        self.secrets = secrets
        self.script = Script()
        self.quiet = quiet
        #: Seconds a webhook-timestamp may be off (Standard Webhooks' replay protection).
        self.tolerance = tolerance
        self.received: list[Received] = []
        self.lock = threading.Lock()
        self.in_flight = 0
        self.most_in_flight = 0
        super().__init__(address, _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}/webhooks/kollus"

    def record(self, received: Received) -> None:
        with self.lock:
            self.received.append(received)
        if not self.quiet:
            data = received.body.get("data", {})
            verdict = "signature ok" if received.verified else "BAD SIGNATURE"
            kind = str(received.body.get("type"))
            if kind.startswith("content."):
                what = f"{data.get('media_content_key')} {data.get('title')!r} ({data.get('duration')} s)"
            else:
                what = f"{data.get('client_user_id')} / {data.get('media_content_key')} progress {data.get('progress')}"
            print(f"LMS <- {kind} {what} ({verdict}, {received.message_id})", flush=True)

    def delivered(self) -> list[Received]:
        """Verified messages that were answered 2xx."""
        with self.lock:
            return [item for item in self.received if item.verified and item.answered and 200 <= item.answered < 300]
