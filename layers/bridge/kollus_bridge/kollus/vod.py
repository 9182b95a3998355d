"""The Kollus VOD API (legacy v0, `https://api.kr.kollus.com/0/...`), one client over `outbound`.

Requests carry the access token in the query string (Kollus's scheme); GET sends
`Accept: application/json`, POST a form body. Kollus answers `{"error": 0, "message": ..., "result":
{...}}`; a non-zero `error` is a refusal. Every field is optional and every number may come as a string.

Kollus allows one request a second and sixty a minute per account: every attempt, retries included,
first calls `before_request` (the deployment-wide limiter). 429, 5xx and no answer are retried with
backoff up to `max_attempts`. The token never appears in an error, a log line or an exception: URLs
are reported without their query.
"""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from kollus_bridge import outbound
from kollus_bridge.kollus.values import ascii_digits

#: Longest upload URL validity Kollus grants (seconds).
MAX_UPLOAD_EXPIRY = 21_600


class VodError(Exception):
    """The VOD API could not do what was asked. `status` is the HTTP status (None: no answer)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class VodUnavailable(VodError):
    """No usable answer after the retries (no answer, 429 or 5xx): try again later."""

    def __init__(self, message: str, status: int | None = None, retry_after: str | None = None) -> None:
        super().__init__(message, status)
        self.retry_after = retry_after


class VodRefused(VodError):
    """Kollus answered, and refused (a non-zero `error`, or a 4xx)."""


class VodNotFound(VodRefused):
    """Kollus does not know the content."""


@dataclass(frozen=True)
class UploadTicket:
    """Where the browser posts the file, until when, and the key of the upload."""

    upload_url: str
    upload_file_key: str
    expires_at: int  # epoch seconds
    progress_url: str | None = None


@dataclass(frozen=True)
class VodContent:
    """A content as the library or a channel reports it (all optional but the upload key)."""

    upload_file_key: str
    title: str | None = None
    duration: float | None = None
    poster_url: str | None = None
    #: Kollus's transcoding stage: `ready`, `failed`, `transcoding` or None when not reported.
    transcoding: str | None = None
    #: (channel key, media content key) pairs.
    channels: tuple[tuple[str, str], ...] = ()
    profile_keys: tuple[str, ...] = ()
    created_at: int | None = None  # epoch seconds
    updated_at: int | None = None


@dataclass(frozen=True)
class ContentPage:
    items: tuple[VodContent, ...]
    page: int
    per_page: int
    count: int

    @property
    def last(self) -> bool:
        return self.page * self.per_page >= self.count or not self.items


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list, bool)):
        return None
    text = str(value).strip()
    return text or None


def _number(value: Any) -> float | None:
    text = _text(value)
    if text is None:
        return None
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) and 0 <= number < 1e12 else None  # absurd values: unknown


def _epoch(value: Any) -> int | None:
    number = _number(value)
    return None if number is None else int(number)


def _items(result: Any) -> list[Mapping[str, Any]]:
    """A list answer is `items: [...]` or `items: {"item": [...]}` (both occur)."""
    items = result.get("items") if isinstance(result, Mapping) else None
    if isinstance(items, Mapping):
        items = items.get("item")
    if isinstance(items, Mapping):
        items = [items]  # one item, not wrapped in a list
    return [item for item in items or [] if isinstance(item, Mapping)]


#: Kollus's transcoding stage names and codes, as ours.
_STAGES = {"completed": "ready", "complete": "ready", "success": "ready", "ready": "ready", "done": "ready"}
_FAILED = {"fail", "failed", "error"}


def _stage(item: Mapping[str, Any]) -> str | None:
    name = (_text(item.get("transcoding_stage_name")) or _text(item.get("transcoding_result")) or "").lower()
    if name in _STAGES:
        return _STAGES[name]
    if name in _FAILED:
        return "failed"
    if name:
        return "transcoding"
    stage = _number(item.get("transcoding_stage"))
    if stage is None:
        return None
    # The samples' numeric stage: 21 is transcoded; 3x are failures; anything else is under way.
    return "ready" if stage == 21 else "failed" if 30 <= stage < 40 else "transcoding"


def content_from(item: Mapping[str, Any], channel_key: str | None = None) -> VodContent | None:
    """A content from one API item (None without an upload key). In a channel's list, the item's own
    `media_content_key` belongs to that channel."""
    key = _text(item.get("upload_file_key")) or _text(item.get("watcher_file_key"))
    if key is None:
        return None
    channels: dict[str, str] = {}
    for entry in item.get("channels") or item.get("media_packages") or []:
        if isinstance(entry, Mapping):
            channel, content = (
                _text(entry.get("key") or entry.get("channel_key")),
                _text(entry.get("media_content_key")),
            )
            if channel and content:
                channels[channel] = content
    own = _text(item.get("media_content_key"))
    if channel_key and own:
        channels[channel_key] = own
    profiles = tuple(
        profile
        for entry in item.get("transcoding_files") or []
        if isinstance(entry, Mapping) and (profile := _text(entry.get("profile_key")))
    )
    return VodContent(
        upload_file_key=key,
        title=_text(item.get("title")),
        duration=_number(item.get("duration")),
        poster_url=_text(item.get("poster_url")) or _text(item.get("snapshot_url")),
        transcoding=_stage(item),
        channels=tuple(sorted(channels.items())),
        profile_keys=profiles,
        created_at=_epoch(item.get("created_at")),
        updated_at=_epoch(item.get("updated_at")),
    )


class Sender:
    """What sends one request (`outbound.request` in production; a stand-in in tests)."""

    def __call__(
        self, method: str, url: str, *, headers: Mapping[str, str], body: bytes | None, timeout: float
    ) -> outbound.Answer:
        return outbound.request(method, url, headers=headers, body=body, timeout=timeout, max_answer_bytes=4 << 20)


@dataclass
class VodClient:
    base_url: str
    token: Callable[[], str]
    timeout: float = 10.0
    max_attempts: int = 3
    retry_base_seconds: float = 1.0
    before_request: Callable[[], None] = lambda: None
    send: Callable[..., outbound.Answer] = field(default_factory=Sender)
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)

    # --- the calls ---

    def create_upload_url(
        self,
        title: str,
        *,
        expire_seconds: int,
        category_key: str | None = None,
        encrypt: bool = False,
        audio: bool = False,
        now: int,
    ) -> UploadTicket:
        form: dict[str, str] = {
            "expire_time": str(min(max(expire_seconds, 60), MAX_UPLOAD_EXPIRY)),
            "title": title,
            "is_encryption_upload": "1" if encrypt else "0",
            "is_audio_upload": "1" if audio else "0",
        }
        if category_key:
            form["category_key"] = category_key
        result = self._call("POST", "media_auth/upload/create_url.json", form=form)
        url, key = _text(result.get("upload_url")), _text(result.get("upload_file_key"))
        if url is None or key is None:
            raise VodRefused("Kollus gave no upload URL")
        expires = _epoch(result.get("expired_at")) or now + int(form["expire_time"])
        return UploadTicket(url, key, expires, _text(result.get("progress_url")))

    def content(self, upload_file_key: str) -> VodContent:
        """One content from the library (uncached: `force=1`)."""
        result = self._call(
            "GET", f"media/library/media_content/{quote(upload_file_key, safe='')}", query={"force": "1"}
        )
        item = result.get("item")
        content = content_from(item) if isinstance(item, Mapping) else None
        if content is None:
            raise VodNotFound(f"Kollus has no content {upload_file_key!r}", 404)
        return content

    def channels(self) -> list[tuple[str, str]]:
        """(key, name) of every channel of the account."""
        result = self._call("GET", "media/channel", query={"force": "1"})
        found = []
        for item in _items(result):
            key = _text(item.get("key")) or _text(item.get("channel_key"))
            if key:
                found.append((key, _text(item.get("name")) or ""))
        return found

    def channel_contents(self, channel_key: str, page: int, per_page: int) -> ContentPage:
        """One page of a channel's contents, oldest first."""
        query = {"channel_key": channel_key, "page": str(page), "per_page": str(per_page), "order": "position_asc"}
        result = self._call("GET", "media/channel/media_content.json", query={**query, "force": "1"})
        items = tuple(c for item in _items(result) if (c := content_from(item, channel_key)) is not None)
        count = _epoch(result.get("count"))
        return ContentPage(items, page, int(_number(result.get("per_page")) or per_page), count or 0)

    def attach(self, upload_file_key: str, channel_key: str) -> None:
        self._call(
            "POST", f"media/channel/attach/{quote(upload_file_key, safe='')}.json", form={"channel_key": channel_key}
        )

    def update_title(self, upload_file_key: str, title: str) -> None:
        self._call("POST", f"media/library/edit/{quote(upload_file_key, safe='')}.json", form={"title": title})

    def delete(self, upload_file_key: str) -> None:
        """Delete the file from the library (every channel's key of it stops playing)."""
        self._call("POST", f"media/library/delete/{quote(upload_file_key, safe='')}.json")

    # --- the transport ---

    def _call(
        self, method: str, path: str, *, query: Mapping[str, str] | None = None, form: Mapping[str, str] | None = None
    ) -> Mapping[str, Any]:
        """The `result` of one call, or a `VodError` (never naming the token)."""
        where = f"{method} {path}"
        last = VodUnavailable(f"{where}: no attempt made")
        for attempt in range(1, self.max_attempts + 1):
            if attempt > 1:
                self.sleep(self._delay(attempt - 1, last))
            url = f"{self.base_url.rstrip('/')}/{path}?" + urlencode({**(query or {}), "access_token": self.token()})
            headers = {"accept": "application/json"}
            body = None
            if form is not None:
                headers["content-type"] = "application/x-www-form-urlencoded"
                body = urlencode(form).encode()
            # The slot is taken last: nothing slow (the token's fetch) may stand between it and the send.
            self.before_request()
            try:
                answer = self.send(method, url, headers=headers, body=body, timeout=self.timeout)
            except outbound.NoAnswer as error:
                last = VodUnavailable(f"{where}: {error}")
                continue
            if answer.status == 429 or answer.status >= 500:
                last = VodUnavailable(
                    f"{where}: Kollus answered {answer.status}", answer.status, answer.headers.get("retry-after")
                )
                continue
            return _result(where, answer)
        raise last

    def _delay(self, retries: int, last: VodUnavailable) -> float:
        ceiling = min(30.0, self.retry_base_seconds * 2 ** (retries - 1))
        delay = self.rng.uniform(ceiling / 2, ceiling)
        if last.retry_after and ascii_digits(last.retry_after.strip()):
            delay = max(delay, min(30.0, float(last.retry_after)))
        return delay


def _result(where: str, answer: outbound.Answer) -> Mapping[str, Any]:
    try:
        document = json.loads(answer.body)
    except ValueError:
        document = None
    envelope = document if isinstance(document, Mapping) else {}
    message = _text(envelope.get("message")) or ""
    if answer.status == 404:
        raise VodNotFound(f"{where}: not found{': ' + message if message else ''}", 404)
    if answer.status >= 300 or not envelope:
        raise VodRefused(f"{where}: Kollus answered {answer.status}{': ' + message if message else ''}", answer.status)
    error = _number(envelope.get("error"))
    if error:
        not_found = any(word in message.lower() for word in ("not found", "not exist", "no such"))
        kind = VodNotFound if not_found else VodRefused
        raise kind(f"{where}: Kollus refused: {message or 'error ' + str(envelope.get('error'))}", answer.status)
    result = envelope.get("result")
    return result if isinstance(result, Mapping) else {}
