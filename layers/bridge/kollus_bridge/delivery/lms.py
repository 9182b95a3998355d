"""Talking to the LMS over HTTP (standard library only)."""

from __future__ import annotations

import http.client
import urllib.error
import urllib.request
from collections.abc import Mapping

from .ledger import Attempt

#: How much of the LMS's answer the ledger keeps.
EXCERPT_BYTES = 300


def _excerpt(data: bytes) -> str:
    return data[:EXCERPT_BYTES].decode("utf-8", "replace")


def post_webhook(url: str, headers: Mapping[str, str], body: bytes, timeout: float) -> Attempt:
    """POST one webhook. Never raises: every outcome, including no answer, is an `Attempt`."""
    request = urllib.request.Request(url, data=body, headers=dict(headers), method="POST")  # noqa: S310 - http(s) only
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - validated in Settings
            return Attempt(status=response.status, excerpt=_excerpt(response.read(EXCERPT_BYTES)))
    except urllib.error.HTTPError as error:
        excerpt = _excerpt(error.read(EXCERPT_BYTES)) if error.fp is not None else ""
        return Attempt(status=error.code, retry_after=error.headers.get("Retry-After"), excerpt=excerpt)
    except TimeoutError:
        return Attempt(status=None, error=f"no answer within {timeout:g} s")
    except (urllib.error.URLError, http.client.HTTPException, ConnectionError, OSError) as error:
        reason = getattr(error, "reason", error)
        return Attempt(status=None, error=f"connection failed: {reason}"[:300])
