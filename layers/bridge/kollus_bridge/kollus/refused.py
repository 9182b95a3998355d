"""The rule every endpoint that others post to keeps: a payload refused for what it says (a client
error) is kept in the rejected store, with why and which endpoint refused it, so it can be looked at
and replayed after a fix. A failure on our side (storage, the Kollus API) keeps nothing: nothing was
decided about the payload, and its sender tries again."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from kollus_bridge.errors import BridgeError, KollusRefused, KollusUnavailable, StorageUnavailable

from .callback import RawCallback

#: Errors that say nothing about the payload.
_OURS = (StorageUnavailable, KollusUnavailable, KollusRefused)


class RejectedStore(Protocol):
    def save_rejected(
        self, raw: RawCallback, code: str, message: str, field: str | None, now: int, *, source: str = ...
    ) -> None: ...


@contextmanager
def kept_when_refused(store: RejectedStore, raw: RawCallback, now: int, source: str) -> Iterator[None]:
    """Run the block; a refusal it raises is kept (then raised on)."""
    try:
        yield
    except _OURS:
        raise
    except BridgeError as error:
        store.save_rejected(raw, error.code, error.message, error.field, now, source=source)
        raise
