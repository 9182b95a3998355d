"""Every request the bridge makes to another service (the LMS, the Kollus VOD API, LTI platforms and
learning record stores) goes through here.

One urllib3 pool per process, reused across invocations (keep-alive), explicit connect and read
timeouts, and no redirect ever followed: a 3xx is an answer like any other, so a URL cannot send our
signed request, or its answer, anywhere else. urllib3 ships in the layer with botocore.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache

import urllib3

#: Connections kept per host: at least the sync's concurrency, so parallel deliveries reuse them.
POOL_SIZE = 32
#: How much of an answer's body is read, by default.
MAX_ANSWER_BYTES = 64 * 1024


@dataclass(frozen=True)
class Answer:
    """What the other side answered: its status, headers (lowercase names) and the start of its body."""

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    @property
    def redirect(self) -> bool:
        return 300 <= self.status < 400


class NoAnswer(Exception):
    """No HTTP answer at all: a timeout, a refused or dropped connection, a TLS failure. The message
    says which, and never includes the request."""


@cache
def pool() -> urllib3.PoolManager:
    """The process-wide pool (Lambda keeps it between invocations)."""
    return urllib3.PoolManager(num_pools=8, maxsize=POOL_SIZE, block=False, retries=False)


def request(
    method: str,
    url: str,
    *,
    headers: Mapping[str, str],
    body: bytes | None = None,
    timeout: float,
    max_answer_bytes: int = MAX_ANSWER_BYTES,
) -> Answer:
    """One request, answered or `NoAnswer`. Never follows a redirect; retries are the caller's."""
    try:
        response = pool().request(
            method,
            url,
            body=body,
            headers=dict(headers),
            timeout=urllib3.Timeout(connect=min(timeout, 5.0), read=timeout),
            redirect=False,
            retries=False,
            preload_content=False,
        )
    except urllib3.exceptions.HTTPError as error:
        raise _no_answer(error, timeout) from None
    try:
        data = response.read(max_answer_bytes + 1)
    except urllib3.exceptions.HTTPError as error:
        response.close()
        raise _no_answer(error, timeout) from None
    if len(data) > max_answer_bytes:
        response.close()  # the rest is not read: this connection cannot be reused
    else:
        response.release_conn()
    answer_headers = {name.lower(): value for name, value in response.headers.items()}
    return Answer(response.status, answer_headers, data[:max_answer_bytes])


def _no_answer(error: urllib3.exceptions.HTTPError, timeout: float) -> NoAnswer:
    # A refused connection is a NewConnectionError, which urllib3 derives from ConnectTimeoutError.
    if isinstance(error, urllib3.exceptions.TimeoutError) and not isinstance(
        error, urllib3.exceptions.NewConnectionError
    ):
        return NoAnswer(f"no answer within {timeout:g} s")
    reason = getattr(error, "reason", None) or error
    return NoAnswer(f"connection failed: {reason}"[:300])
