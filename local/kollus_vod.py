"""A stand-in for the Kollus VOD API (legacy v0) and its upload host, following Kollus's documented
contract, for `make run` and the tests:

- `POST /0/media_auth/upload/create_url.json` -> an upload URL on this server and its upload key;
- `POST /upload/<upload key>` (multipart, what the browser or `curl -F file=@...` sends) -> the upload
  callback at once, then, after `transcode_seconds`, the transcoding callback;
- `GET /0/media/library/media_content/<key>`, `GET /0/media/channel`,
  `GET /0/media/channel/media_content.json?channel_key=&page=&per_page=`;
- `POST /0/media/channel/attach/<key>.json` (then the channel callback), `POST /0/media/library/edit/<key>.json`
  (then the content update callback), `POST /0/media/library/delete/<key>.json`.

Answers use Kollus's envelope `{"error": 0, "message": ..., "result": ...}`, numbers as strings where
Kollus's samples show strings. Like Kollus, it enforces one request a second per account: a request less
than a second after the previous one is answered 429 and counted in `too_soon`, so a test can hold the
bridge to the limit. Platform callbacks go to `callback_url`, form-encoded; `drop_callbacks` loses some.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit
from xml.sax.saxutils import escape as xml_escape

from kollus_bridge import outbound

#: Where an access token is accepted.
LOCAL_TOKEN = "local-kollus-api-token"  # noqa: S105 - the stand-in's own, never a real account's
PROVIDER = "local-provider"


@dataclass
class StoredContent:
    upload_file_key: str
    title: str
    category_key: str | None
    created_at: int
    filename: str | None = None
    size: int = 0
    stage: str = "uploading"  # uploading, transcoding, completed, failed
    channels: dict[str, str] = field(default_factory=dict)

    @property
    def duration(self) -> float:
        return max(1.0, round(self.size / 1000, 3))  # a simulated length: a second per kilobyte

    def item(self, base_url: str, channel_key: str | None = None) -> dict[str, Any]:
        item: dict[str, Any] = {
            "upload_file_key": self.upload_file_key,
            "title": self.title,
            "duration": str(self.duration) if self.stage == "completed" else "0",
            "poster_url": f"{base_url}/poster/{quote(self.upload_file_key)}.svg",
            "transcoding_stage_name": self.stage,
            "original_file_name": self.filename,
            "created_at": str(self.created_at),
            "updated_at": str(int(time.time())),
            "channels": [
                {"key": key, "name": key, "media_content_key": content}
                for key, content in sorted(self.channels.items())
            ],
            "transcoding_files": [{"profile_key": "local-720p"}] if self.stage == "completed" else [],
        }
        if channel_key is not None:
            item["media_content_key"] = self.channels[channel_key]
        return item


class KollusVod(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int] = ("127.0.0.1", 0),
        *,
        channels: Mapping[str, str] | None = None,
        transcode_seconds: float = 1.0,
        token: str = LOCAL_TOKEN,
        min_interval: float = 1.0,
        quiet: bool = True,
    ) -> None:
        super().__init__(address, _Handler)
        self.token = token
        self.channels = dict(channels or {"lectures": "Lectures"})
        self.transcode_seconds = transcode_seconds
        self.min_interval = min_interval
        self.quiet = quiet
        self.contents: dict[str, StoredContent] = {}
        self.callback_url: str | None = None
        #: Kinds of platform callback to lose (`uploaded`, `transcoded`, `channel`, `updated`).
        self.drop_callbacks: set[str] = set()
        self.callbacks_sent: list[dict[str, str]] = []
        self.api_requests: list[tuple[float, str]] = []
        self.too_soon = 0
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def api_url(self) -> str:
        return self.url + "/0"

    # --- what happens in Kollus without the bridge asking ---

    def delete_in_console(self, upload_file_key: str) -> None:
        with self.lock:
            self.contents.pop(upload_file_key, None)

    def add_in_console(self, title: str, channel_key: str, size: int = 90_000) -> StoredContent:
        """A content uploaded and published in the Kollus console (no callback reaches the bridge)."""
        content = self._new(title, None)
        content.size, content.stage = size, "completed"
        content.channels[channel_key] = "mck-" + secrets.token_hex(4)
        return content

    # --- platform callbacks ---

    def send_callback(self, kind: str, fields: dict[str, str]) -> None:
        with self.lock:
            self.callbacks_sent.append({"kind": kind, **fields})
        if kind in self.drop_callbacks or not self.callback_url:
            return
        body = urlencode({"content_provider_key": PROVIDER, **fields}).encode()
        headers = {"content-type": "application/x-www-form-urlencoded"}
        try:  # Kollus's own timeouts: 2 s to connect, 3 s to answer
            outbound.request("POST", self.callback_url, headers=headers, body=body, timeout=3)
        except outbound.NoAnswer as error:
            if not self.quiet:
                print(f"kollus stand-in: {kind} callback failed: {error}", flush=True)

    def _later(self, delay: float, action: Any, *args: Any) -> None:
        timer = threading.Timer(delay, action, args)
        timer.daemon = True
        timer.start()

    def _uploaded(self, content: StoredContent) -> None:
        names = {"filename": content.filename or "", "full_filename": f"/upload/{content.filename or ''}"}
        self.send_callback("uploaded", {**names, "upload_file_key": content.upload_file_key})
        self._later(self.transcode_seconds, self._transcoded, content)

    def _transcoded(self, content: StoredContent) -> None:
        content.stage = "completed"
        fields = {"filename": content.filename or "", "upload_file_key": content.upload_file_key}
        self.send_callback("transcoded", {**fields, "transcoding_result": "success"})

    def _new(self, title: str, category_key: str | None) -> StoredContent:
        key = "uf-" + secrets.token_hex(5)
        content = StoredContent(key, title, category_key, int(time.time()))
        with self.lock:
            self.contents[key] = content
        return content

    def attach(self, content: StoredContent, channel_key: str) -> str:
        mck = content.channels.setdefault(channel_key, "mck-" + secrets.token_hex(4))
        fields = {
            "upload_file_key": content.upload_file_key,
            "filename": content.filename or "",
            "media_content_key": mck,
            "channel_key": channel_key,
            "channel_name": self.channels.get(channel_key, channel_key),
            "profile_key": "local-720p",
            "update_type": "channel_join",
        }
        self._later(0.05, self.send_callback, "channel", fields)
        return mck


def _envelope(result: Any = None, error: int = 0, message: str = "") -> dict[str, Any]:
    return {"error": error, "message": message, "result": result if result is not None else {}}


class _Handler(BaseHTTPRequestHandler):
    server: KollusVod
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        if not self.server.quiet:
            super().log_message(format, *args)

    def _answer(self, status: int, document: dict[str, Any]) -> None:
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json; charset=utf-8")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _read_body(self) -> bytes:
        length = int(self.headers.get("content-length") or 0)
        return self.rfile.read(length) if length else b""

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path.startswith("/poster/") and path.endswith(".svg"):
            self._poster(unquote(path.removeprefix("/poster/").removesuffix(".svg")))
            return
        self._api("GET", b"")

    def _poster(self, key: str) -> None:
        """A poster of the content, as Kollus serves a snapshot of each: its title on a colour of its own."""
        content = self.server.contents.get(key)
        if content is None:
            self._answer(404, _envelope(error=1, message="no such poster"))
            return
        hue = int(hashlib.sha256(key.encode()).hexdigest()[:4], 16) % 360
        svg = (
            '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 320 180" width="320" height="180">'
            f'<rect width="320" height="180" fill="hsl({hue},45%,35%)"/>'
            '<text x="160" y="96" font-family="sans-serif" font-size="15" fill="#ffffff" text-anchor="middle">'
            f"{xml_escape(content.title[:34])}</text></svg>"
        ).encode()
        self.send_response(200)
        self.send_header("content-type", "image/svg+xml")
        self.send_header("content-length", str(len(svg)))
        self.end_headers()
        self.wfile.write(svg)

    def do_POST(self) -> None:
        body = self._read_body()
        path = urlsplit(self.path).path
        if path.startswith("/upload/"):
            self._upload(unquote(path.removeprefix("/upload/")), body)
            return
        self._api("POST", body)

    def _upload(self, key: str, body: bytes) -> None:
        content = self.server.contents.get(key)
        if content is None or content.stage != "uploading":
            self._answer(404, _envelope(error=1, message="unknown or used upload URL"))
            return
        marker = b'filename="'
        start = body.find(marker)
        if start >= 0:
            end = body.find(b'"', start + len(marker))
            content.filename = body[start + len(marker) : end].decode("utf-8", "replace") or None
        content.size, content.stage = len(body), "transcoding"
        self._answer(200, _envelope({"upload_file_key": key}, message="upload success"))
        self.server._later(0.05, self.server._uploaded, content)

    def _api(self, method: str, body: bytes) -> None:
        parts = urlsplit(self.path)
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        form = {key: values[-1] for key, values in parse_qs(body.decode("utf-8", "replace")).items()}
        path = parts.path.removeprefix("/0/")
        server = self.server
        now = time.monotonic()
        with server.lock:
            previous = server.api_requests[-1][0] if server.api_requests else None
            server.api_requests.append((now, f"{method} {path}"))
            soon = previous is not None and now - previous < server.min_interval
            server.too_soon += soon
        if soon:
            self._answer(429, _envelope(error=1, message="too many requests: one a second"))
            return
        if (query.get("access_token") or form.get("access_token")) != server.token:
            self._answer(401, _envelope(error=1, message="invalid access token"))
            return
        try:
            status, document = self._route(method, path, query, form)
        except KeyError:
            status, document = 200, _envelope(error=1, message="media content does not exist")
        self._answer(status, document)

    def _route(self, method: str, path: str, query: dict[str, str], form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        server = self.server
        key = unquote(path.rsplit("/", 1)[-1].removesuffix(".json"))
        if method == "POST" and path == "media_auth/upload/create_url.json":
            content = server._new(form.get("title") or "untitled", form.get("category_key"))
            expires = int(time.time()) + min(int(form.get("expire_time") or 600), 21_600)
            ticket = {
                "upload_url": f"{server.url}/upload/{content.upload_file_key}",
                "progress_url": f"{server.url}/progress/{content.upload_file_key}",
                "upload_file_key": content.upload_file_key,
                "expired_at": str(expires),
            }
            return 200, _envelope(ticket)
        if method == "GET" and path.startswith("media/library/media_content/"):
            return 200, _envelope({"item": server.contents[key].item(server.url)})
        if method == "GET" and path in ("media/channel", "media/channel/index", "media/channel.json"):
            items = [{"key": k, "name": name} for k, name in server.channels.items()]
            return 200, _envelope({"count": str(len(items)), "items": items})
        if method == "GET" and path == "media/channel/media_content.json":
            channel = query.get("channel_key", "")
            page, per_page = int(query.get("page") or 1), int(query.get("per_page") or 20)
            listed = [c for c in sorted(server.contents.values(), key=lambda c: c.created_at) if channel in c.channels]
            window = listed[(page - 1) * per_page : page * per_page]
            result: dict[str, Any] = {"per_page": str(per_page), "count": str(len(listed))}
            result["items"] = [c.item(server.url, channel) for c in window]
            return 200, _envelope(result)
        if method == "POST" and path.startswith("media/channel/attach/"):
            channel = form.get("channel_key", "")
            if channel not in server.channels:
                return 200, _envelope(error=1, message=f"unknown channel {channel}")
            mck = server.attach(server.contents[key], channel)
            return 200, _envelope({"media_content_key": mck})
        if method == "POST" and path.startswith("media/library/edit/"):
            content = server.contents[key]
            content.title = form.get("title") or content.title
            fields = {"upload_file_key": key, "filename": content.filename or "", "update_type": "title"}
            server._later(0.05, server.send_callback, "updated", fields)
            return 200, _envelope({})
        if method == "POST" and path.startswith("media/library/delete/"):
            server.contents.pop(key)
            return 200, _envelope({})
        return 404, _envelope(error=1, message=f"no such API: {method} {path}")
