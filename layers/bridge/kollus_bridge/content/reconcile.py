"""Reconciliation: repair from the VOD API what platform callbacks missed.

Each run (scheduled, under a lease so that runs never overlap) does, while time allows:

1. **refresh**: entries whose details were asked for (a transcoding result, a channel join, a content
   update) get them from the library (one request each);
2. **attach**: uploads whose requested channel is not joined yet are attached to it;
3. **sweep** (every `RECONCILE_SWEEP_MINUTES`): every channel's content list, page by page. A content
   listed joins that channel (a missed channel callback); a content the catalog does not know is added.
   Only after every list was read to its end: an entry no longer listed in a swept channel leaves it,
   and an entry gone from every swept channel it was in is looked up in the library, and marked
   deleted when Kollus no longer has it.

Every request first takes the deployment-wide slot (`limiter`), so Kollus's one request a second and
sixty a minute hold whatever else runs.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from functools import partial

from kollus_bridge.errors import Conflict, KollusUnavailable
from kollus_bridge.kollus.vod import VodClient, VodContent, VodError, VodNotFound, VodUnavailable
from kollus_bridge.observability import logger

from . import catalog
from .catalog import Entry, Status
from .manage import change, existing
from .ports import CatalogItem, ReconcileStore

LEASE = "reconcile"
#: What a request to Kollus can fail with: Kollus's answer, or no slot within the wait allowed.
KOLLUS_ERRORS = (VodError, KollusUnavailable)


@dataclass
class ReconcileReport:
    refreshed: int = 0
    attached: int = 0
    channels: int = 0
    pages: int = 0
    repaired: int = 0
    added: int = 0
    left: int = 0
    deleted: int = 0
    errors: int = 0
    swept: bool = False
    stopped_early: bool = False
    #: Kollus did not answer usably (or its rate limit stayed taken): the run stopped asking.
    kollus_unavailable: bool = False
    lease_held_elsewhere: bool = False
    error_messages: list[str] = field(default_factory=list)

    def failed(self, error: Exception) -> None:
        self.errors += 1
        self.kollus_unavailable |= isinstance(error, VodUnavailable | KollusUnavailable)
        if len(self.error_messages) < 5:
            self.error_messages.append(str(error)[:300])


@dataclass
class Reconciler:
    store: ReconcileStore
    vod: VodClient
    clock: Callable[[], int]
    remaining_ms: Callable[[], int]
    #: Channels to sweep (empty: every channel of the account).
    channel_keys: tuple[str, ...] = ()
    sweep_every_ms: int = 3_600_000
    page_size: int = 100
    margin_ms: int = 10_000
    report: ReconcileReport = field(default_factory=ReconcileReport)

    def _short(self) -> bool:
        """Time to stop: the run's time is nearly up, or Kollus is not answering (the next run goes on)."""
        if self.remaining_ms() < self.margin_ms or self.report.kollus_unavailable:
            self.report.stopped_early = True
        return self.report.stopped_early

    def _write(self, upload_file_key: str, decide: Callable[[CatalogItem | None], Entry | None]) -> bool:
        try:
            return change(self.store, upload_file_key, decide, self.clock()) is not None
        except Conflict as error:  # a key another upload holds: reported, the rest of the run goes on
            self.report.failed(error)
            return False

    def _merging(self, found: VodContent, channel: str | None = None) -> Callable[[CatalogItem | None], Entry]:
        def decide(current: CatalogItem | None) -> Entry:
            return catalog.merge_vod(current.entry if current else None, found, self.clock(), channel_key=channel)

        return decide

    def _leave(self, channel: str, entry: Entry) -> Entry:
        return catalog.leave_channel(entry, channel, self.clock())

    def run(self, *, sweep: bool | None = None) -> ReconcileReport:
        holder = uuid.uuid4().hex
        now = self.clock()
        if not self.store.acquire_lease(holder, now, now + self.remaining_ms(), name=LEASE):
            self.report.lease_held_elsewhere = True
            return self.report
        try:
            self.refresh([item.entry for item in self.store.contents_with_work() if item.entry.refresh])
            self.attach([item.entry for item in self.store.contents_with_work() if item.entry.needs_attach])
            last = self.store.last_sweep()
            if sweep if sweep is not None else (last is None or now - last >= self.sweep_every_ms):
                self.sweep([item.entry for item in self.store.all_contents()])
        finally:
            self.store.release_lease(holder, name=LEASE)
        return self.report

    def refresh(self, entries: Iterable[Entry]) -> None:
        for entry in entries:
            if self._short():
                return
            try:
                found = self.vod.content(entry.upload_file_key)
            except VodNotFound:
                self._write(entry.upload_file_key, existing(lambda e: catalog.details_checked(e, self.clock())))
                continue
            except KOLLUS_ERRORS as error:
                self.report.failed(error)
                continue
            self._write(entry.upload_file_key, self._merging(found))
            self.report.refreshed += 1

    def attach(self, entries: Iterable[Entry]) -> None:
        for entry in entries:
            if self._short() or entry.requested_channel is None:
                return
            try:
                self.vod.attach(entry.upload_file_key, entry.requested_channel)
            except KOLLUS_ERRORS as error:
                self.report.failed(error)
                continue
            self.report.attached += 1
            # The channel callback brings the new media content key; ask for it too, in case it is lost.
            self._write(entry.upload_file_key, existing(_asking))

    def sweep(self, entries: list[Entry]) -> None:
        if self._short():
            return
        try:
            channels = self.channel_keys or tuple(key for key, _ in self.vod.channels())
        except KOLLUS_ERRORS as error:
            self.report.failed(error)
            return
        seen: dict[str, set[str]] = {}
        for channel in channels:
            complete = self._sweep_channel(channel, seen.setdefault(channel, set()))
            if not complete:
                return  # deletions are inferred from complete lists only
        self.report.channels = len(channels)
        listed = set().union(*seen.values()) if seen else set()
        for entry in entries:
            if self._short():
                return
            self._settle(entry, channels, seen, listed)
        self.report.swept = True
        self.store.sweep_done(self.clock())

    def _sweep_channel(self, channel: str, seen: set[str]) -> bool:
        page = 1
        while not self._short():
            try:
                listing = self.vod.channel_contents(channel, page, self.page_size)
            except KOLLUS_ERRORS as error:
                self.report.failed(error)
                return False
            self.report.pages += 1
            for found in listing.items:
                seen.add(found.upload_file_key)
                known = self.store.get_content(found.upload_file_key)
                merged = self._merging(found, channel)(known)
                if known is None or not catalog.same_content(merged, known.entry):
                    written = self._write(
                        found.upload_file_key,
                        self._merging(found, channel),
                    )
                    if written:
                        self.report.added += known is None
                        self.report.repaired += known is not None
            if listing.last:
                return True
            page += 1
        return False

    def _settle(self, entry: Entry, channels: tuple[str, ...], seen: dict[str, set[str]], listed: set[str]) -> None:
        """An entry after complete lists: it leaves the swept channels that no longer list it; if it
        vanished from every swept channel it was in, the library says whether it still exists. An entry
        in no swept channel is left alone (it may live in channels this deployment does not sweep)."""
        key = entry.upload_file_key
        if entry.status in (Status.DELETED, Status.UPLOADING):
            return
        swept_before = [channel for channel in entry.channels if channel in channels]
        for channel in swept_before:
            gone = key not in seen.get(channel, set())
            if gone and self._write(key, existing(partial(self._leave, channel))):
                self.report.left += 1
        if not swept_before or key in listed:
            return
        try:
            found = self.vod.content(key)
        except VodNotFound:
            if self._write(key, existing(lambda e: catalog.deleted(e, self.clock()))):
                self.report.deleted += 1
                logger.info("content deleted in Kollus", extra={"upload_file_key": key})
            return
        except KOLLUS_ERRORS as error:
            self.report.failed(error)
            return
        self._write(key, self._merging(found))


def _asking(entry: Entry) -> Entry:
    return entry if entry.refresh else replace(entry, refresh=True)
