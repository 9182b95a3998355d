"""Assignment and Grade Services, pure parts and the access token: the Score a learner's progress
becomes, where it goes, and the client-credentials grant with an RS256 client assertion.

- `scoreGiven` is the progress (0-100, `scoreMaximum` 100); `activityProgress` `Completed` with
  `gradingProgress` `FullyGraded` once complete, else `InProgress` / `Pending`; `userId` is the
  platform's `sub`.
- `timestamp` must grow strictly per learner and line item (a platform refuses an older or equal
  one; Moodle compares whole seconds): the event's time, but at least a second after the last
  timestamp the platform accepted.
- Scores go to the line item's URL with `/scores` appended to its path, before its query string.
- A launch that names no line item names the context's line items instead: the link's line item is
  looked up there by resource link and content, and made when none is found and the platform lets us.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeGuard
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from kollus_bridge.outbound import NoAnswer, request
from kollus_bridge.times import iso_time

from .keys import ToolKeys
from .launch import LINEITEM_READ_SCOPE, LINEITEM_SCOPE, SCORE_SCOPE
from .platforms import Platform

SCORE_TYPE = "application/vnd.ims.lis.v1.score+json"
LINEITEM_TYPE = "application/vnd.ims.lis.v2.lineitem+json"
LINEITEMS_TYPE = "application/vnd.ims.lis.v2.lineitemcontainer+json"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#: A client assertion is valid this long, in seconds.
ASSERTION_SECONDS = 300
#: A cached access token is used until this long before it expires, in seconds.
TOKEN_MARGIN_SECONDS = 60


def scores_url(lineitem: str) -> str:
    """The line item's scores endpoint: `/scores` appended to the path, the query kept."""
    parts = urlsplit(lineitem)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/scores"))


def lineitems_query(lineitems: str, resource_link_id: str, media_content_key: str) -> str:
    """The context's line items filtered to a resource link's content (the query it had is kept)."""
    parts = urlsplit(lineitems)
    query = [*parse_qsl(parts.query), ("resource_link_id", resource_link_id), ("resource_id", media_content_key)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def line_item(label: str, resource_link_id: str, media_content_key: str) -> dict[str, Any]:
    """The line item made for a resource link's content: out of 100, like deep linking's."""
    return {"scoreMaximum": 100, "label": label, "resourceId": media_content_key, "resourceLinkId": resource_link_id}


def matching(container: Any, resource_link_id: str, media_content_key: str) -> str | None:
    """The URL of the resource link's line item for the content, in a line item container (a JSON
    array); checked here too, since a platform may ignore the query's filters."""
    for item in container if isinstance(container, list) else []:
        if (
            isinstance(item, dict)
            and is_url(item.get("id"))
            and item.get("resourceLinkId") == resource_link_id
            and item.get("resourceId") == media_content_key
        ):
            return str(item["id"])
    return None


def is_url(value: Any) -> TypeGuard[str]:
    """A line item's id: its URL."""
    return isinstance(value, str) and value.startswith(("https://", "http://"))


def line_item_scopes(may_create: bool) -> tuple[str, ...]:
    """What a token that looks up (or makes) a line item, then scores, asks for."""
    return (SCORE_SCOPE, LINEITEM_SCOPE if may_create else LINEITEM_READ_SCOPE)


def score_stamp(event_at: int, last_accepted: int | None) -> int:
    """The score's timestamp (ms): the event's time, at least a whole second after the last one
    the platform accepted."""
    if last_accepted is None:
        return event_at
    return max(event_at, (last_accepted // 1000 + 1) * 1000)


def score(user_id: str, progress: Decimal, completed: bool, stamp: int) -> dict[str, Any]:
    return {
        "userId": user_id,
        "scoreGiven": float(progress),
        "scoreMaximum": 100,
        "activityProgress": "Completed" if completed else "InProgress",
        "gradingProgress": "FullyGraded" if completed else "Pending",
        "timestamp": iso_time(stamp),
    }


def client_assertion(platform: Platform, now_seconds: int) -> dict[str, Any]:
    """The claims of our client assertion for the platform's token endpoint."""
    return {
        "iss": platform.client_id,
        "sub": platform.client_id,
        "aud": platform.token_url,
        "iat": now_seconds,
        "exp": now_seconds + ASSERTION_SECONDS,
        "jti": uuid.uuid4().hex,
    }


class TokenRefused(Exception):
    """The platform's token endpoint gave no token; `status` is its answer (None: no answer)."""

    def __init__(self, status: int | None, detail: str) -> None:
        super().__init__(detail)
        self.status = status


@dataclass
class AccessTokens:
    """Access tokens per platform, kept for the process's life (across invocations) until shortly
    before they expire."""

    keys: Callable[[], ToolKeys]
    timeout: float = 10.0
    clock: Callable[[], float] = time.time
    _cache: dict[tuple[str, str, tuple[str, ...]], tuple[str, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def token(self, platform: Platform, scopes: tuple[str, ...] = (SCORE_SCOPE,)) -> str:
        cache_key = (platform.platform_id, platform.token_url, scopes)
        with self._lock:
            cached = self._cache.get(cache_key)
        if cached is not None and cached[1] - TOKEN_MARGIN_SECONDS > self.clock():
            return cached[0]
        now = int(self.clock())
        body = {
            "grant_type": "client_credentials",
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": self.keys().sign(client_assertion(platform, now)),
            "scope": " ".join(scopes),
        }
        try:
            answer = request(
                "POST",
                platform.token_url,
                headers={"content-type": "application/x-www-form-urlencoded", "accept": "application/json"},
                body=urlencode(body).encode(),
                timeout=self.timeout,
            )
        except NoAnswer as error:
            raise TokenRefused(None, f"the token endpoint did not answer: {error}") from None
        try:
            document = json.loads(answer.body) if answer.status == 200 else {}
            token, lifetime = str(document["access_token"]), float(document.get("expires_in") or 3600)
        except (ValueError, KeyError, TypeError):
            excerpt = answer.body[:200].decode("utf-8", "replace")
            raise TokenRefused(answer.status, f"the token endpoint answered {answer.status}: {excerpt}") from None
        with self._lock:
            self._cache[cache_key] = (token, now + lifetime)
        return token

    def forget(self, platform: Platform) -> None:
        """Drop the platform's tokens (it refused one)."""
        with self._lock:
            for cache_key in [key for key in self._cache if key[:2] == (platform.platform_id, platform.token_url)]:
                del self._cache[cache_key]
