"""Every request the bridge makes to another service (the LMS, the Kollus VOD API, LTI platforms and
learning record stores) goes through here.

One urllib3 pool per process, reused across invocations (keep-alive), and three guards:

- **no redirect** is ever followed: a 3xx is an answer like any other, so a URL cannot send our signed
  request, or its answer, anywhere else;
- **public addresses only**: every new connection resolves its host and refuses loopback, private,
  link-local (the instance metadata service among them), multicast and reserved addresses, so a URL
  that data names (an LTI line item, a webhook URL) cannot reach into the network the function runs
  in, even through a name that resolves differently the second time. `allow_private_targets(True)`
  (setting `ALLOW_PRIVATE_TARGETS`, for the local stack) lifts it;
- **a total deadline**: `timeout` bounds the whole request, connect to last byte, however slowly the
  other side drips its answer (a watchdog closes the connection when it passes).

urllib3 ships in the layer with botocore.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache

import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import NewConnectionError
from urllib3.util import connection

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


_allow_private = False
#: The request this thread is making: its watchdog closes the connection at the deadline.
_current = threading.local()


def allow_private_targets(allowed: bool) -> None:
    """Let requests reach loopback and private addresses (the local stack's stand-ins), or not."""
    global _allow_private  # noqa: PLW0603 - one policy per process, set from the settings at start
    _allow_private = allowed


def refused_address(address: str) -> bool:
    """An address no request may reach: loopback, private, link-local, multicast, reserved, unspecified
    (IPv4 inside IPv6 judged as IPv4)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def _public_addresses(host: str, port: int) -> list[str]:
    """The host's addresses, all of them public, or `OSError` naming the first that is not."""
    found = [info[4][0] for info in socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)]
    for address in found:
        if refused_address(str(address)):
            raise OSError(f"{host} resolves to {address}, which is not a public address")
    return list(dict.fromkeys(str(address) for address in found))


class _Guarded(HTTPConnection):
    """A connection that vets the addresses it connects to, and tells its request's watchdog about itself."""

    def _new_conn(self) -> socket.socket:
        if _allow_private:
            return super()._new_conn()
        try:
            addresses = _public_addresses(self._dns_host, self.port)
        except OSError as error:
            raise NewConnectionError(self, f"refused: {error}") from None
        last: OSError = OSError(f"{self.host} has no address")
        for address in addresses:
            try:
                return connection.create_connection(
                    (address, self.port), self.timeout, source_address=self.source_address,
                    socket_options=self.socket_options,
                )  # fmt: skip
            except OSError as error:
                last = error
        raise NewConnectionError(self, f"Failed to establish a new connection: {last}") from None

    def request(self, *args: object, **kwargs: object) -> None:
        watch = getattr(_current, "watch", None)
        if watch is not None:
            watch.connection = self
        super().request(*args, **kwargs)  # type: ignore[arg-type]


class _GuardedHTTPS(_Guarded, HTTPSConnection):
    pass


class _GuardedPool(HTTPConnectionPool):
    ConnectionCls = _Guarded


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPS


class _Watch:
    """Closes the connection of a request that outlives its deadline."""

    def __init__(self) -> None:
        self.connection: HTTPConnection | None = None
        self.expired = False

    def expire(self) -> None:
        self.expired = True
        sock = self.connection.sock if self.connection is not None else None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


@cache
def pool() -> urllib3.PoolManager:
    """The process-wide pool (Lambda keeps it between invocations)."""
    manager = urllib3.PoolManager(num_pools=8, maxsize=POOL_SIZE, block=False, retries=False)
    manager.pool_classes_by_scheme = {"http": _GuardedPool, "https": _GuardedHTTPSPool}
    return manager


def request(
    method: str,
    url: str,
    *,
    headers: Mapping[str, str],
    body: bytes | None = None,
    timeout: float,
    max_answer_bytes: int = MAX_ANSWER_BYTES,
) -> Answer:
    """One request, answered within `timeout` seconds in all, or `NoAnswer`. Never follows a redirect;
    retries are the caller's."""
    watch = _Watch()
    _current.watch = watch
    watchdog = threading.Timer(timeout, watch.expire)
    watchdog.daemon = True
    watchdog.start()
    try:
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
            raise _no_answer(error, timeout, watch) from None
        try:
            data = response.read(max_answer_bytes + 1)
        except urllib3.exceptions.HTTPError as error:
            response.close()
            raise _no_answer(error, timeout, watch) from None
        if watch.expired:
            response.close()
            raise NoAnswer(f"no complete answer within {timeout:g} s")
    finally:
        watchdog.cancel()
        _current.watch = None
    if len(data) > max_answer_bytes:
        response.close()  # the rest is not read: this connection cannot be reused
    else:
        response.release_conn()
    answer_headers = {name.lower(): value for name, value in response.headers.items()}
    return Answer(response.status, answer_headers, data[:max_answer_bytes])


def _no_answer(error: urllib3.exceptions.HTTPError, timeout: float, watch: _Watch) -> NoAnswer:
    if watch.expired:
        return NoAnswer(f"no complete answer within {timeout:g} s")
    # A refused connection is a NewConnectionError, which urllib3 derives from ConnectTimeoutError.
    if isinstance(error, urllib3.exceptions.TimeoutError) and not isinstance(
        error, urllib3.exceptions.NewConnectionError
    ):
        return NoAnswer(f"no answer within {timeout:g} s")
    reason = getattr(error, "reason", None) or error
    return NoAnswer(f"connection failed: {reason}"[:300])
