"""Standard Webhooks (standardwebhooks.com), pure: signing, verification, retry timing, outcomes.

A message is signed as `base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}"))`, sent as
`webhook-signature: v1,<signature>`. The key is the base64 part of a `whsec_...` secret. During a
secret rotation several signatures are sent, separated by spaces.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from enum import StrEnum

from kollus_bridge.kollus.values import ascii_digits
from kollus_bridge.settings import WebhookSecretError, secret_key

#: Retry-After values beyond this are capped like our own backoff.
MAX_DELAY_SECONDS = 3600


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """One `v1,<base64>` signature."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def headers(secrets: Sequence[str], message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers, signed with every current secret."""
    if not secrets:
        raise WebhookSecretError("no webhook secret configured")
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signature(secret, message_id, timestamp, body) for secret in secrets),
        "content-type": "application/json",
    }


def verify(secret: str, received: Mapping[str, str], body: bytes, now: int, tolerance: int = 300) -> bool:
    """What a receiver does: the timestamp is recent and one of the signatures matches."""
    lowered = {name.lower(): value for name, value in received.items()}
    try:
        message_id = lowered["webhook-id"]
        timestamp = int(lowered["webhook-timestamp"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = signature(secret, message_id, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in lowered.get("webhook-signature", "").split())


def message_id(*parts: str) -> str:
    """A webhook id that is the same on every retry of one message (the LMS deduplicates on it)."""
    digest = hashlib.sha256(json.dumps(parts).encode()).digest()  # a list: no two part lists collide
    return "msg_" + base64.b32encode(digest[:15]).decode("ascii").lower()


class Verdict(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"
    FAILED = "failed"


def verdict(status: int | None) -> Verdict:
    """2xx delivered; 408, 429, 5xx and no answer at all retried; any other status failed for good."""
    if status is None or status in (408, 429) or status >= 500:
        return Verdict.RETRY
    if 200 <= status < 300:
        return Verdict.DELIVERED
    return Verdict.FAILED


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """A Retry-After header, in seconds (either delta-seconds or an HTTP date)."""
    if not value:
        return None
    text = value.strip()
    if ascii_digits(text):  # `²` is a digit to `str.isdigit`, and no number
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return max(0.0, when.timestamp() - now)


@dataclass(frozen=True)
class Backoff:
    base_seconds: float = 30.0
    cap_seconds: float = MAX_DELAY_SECONDS

    def delay(self, attempts: int, retry_after: float | None = None, rng: random.Random | None = None) -> float:
        """Seconds before the next try after `attempts` failed tries: exponential with full jitter
        between half and all of base * 2^(attempts-1), capped; a longer Retry-After is honoured."""
        ceiling = min(self.cap_seconds, self.base_seconds * 2 ** max(0, attempts - 1))
        chosen = (rng or random).uniform(ceiling / 2, ceiling)
        if retry_after is not None:
            chosen = max(chosen, min(retry_after, self.cap_seconds))
        return chosen
