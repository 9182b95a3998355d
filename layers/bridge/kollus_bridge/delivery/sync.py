"""Delivering completions (and, optionally, progress updates) to the LMS as signed webhooks.

A record is due while it carries the sparse `sync_due` marker; the completion stamp sets it. Each run
takes a lease so two never overlap, pages through the due index, delivers with bounded parallelism,
and writes the outcome to the record's ledger:

- 2xx: delivered. The due marker is cleared only if the record did not change since it was read
  (its `rev`); otherwise it stays due and the next run looks again.
- 408, 429, 5xx, timeout, connection error: retried later with exponential backoff and jitter
  (honouring Retry-After), up to `SYNC_MAX_ATTEMPTS`, then failed.
- any other status: failed at once, with the status and a short excerpt of the answer.

A crash between sending and recording leaves the record due, so it is sent again with the same
`webhook-id`: the LMS sees at worst a duplicate it can recognise, never a lost completion.

Two callers: the scheduled sweep (`SyncRun.run`, every minute, under a lease) and the fast path
(`SyncRun.deliver_now`, from the table's change stream the moment a record becomes due). Both first
claim each record by moving its due time (a conditional write on the due time they read), so exactly
one of them sends a given message to a given target; if the function dies, the claim runs out and the
next sweep delivers. A claim outlasts every request a send can make (`claim_ms`: each request has a
total deadline of `SYNC_HTTP_TIMEOUT_SECONDS`), so it is never taken over while its send may be open.
"""

from __future__ import annotations

import random
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from aws_lambda_powertools.metrics import MetricUnit

from kollus_bridge.content.ports import ContentCard
from kollus_bridge.observability import logger, metrics
from kollus_bridge.settings import Settings
from kollus_bridge.times import now_ms

from . import webhooks
from .channels import Channel
from .ledger import (
    Attempt,
    Deliverable,
    Message,
    Sent,
    StoredDelivery,
    StoredRecord,
    Subject,
    SyncLedger,
    SyncState,
    Target,
)
from .messages import plan
from .webhooks import Backoff, Verdict

#: The most requests one send makes (an AGS score: token, line item lookup, line item, score).
REQUESTS_PER_SEND = 4
CLAIM_MARGIN_SECONDS = 30.0


class SyncStore(Protocol):
    def acquire_lease(self, holder: str, now: int, until: int) -> bool: ...

    def release_lease(self, holder: str) -> None: ...

    def due_keys(
        self, now: int, limit: int, start: Mapping[str, Any] | None
    ) -> tuple[list[tuple[Subject, int]], Mapping[str, Any] | None]: ...

    def read_due(
        self, subjects: Sequence[Subject], cards: Sequence[str]
    ) -> tuple[Mapping[Subject, Deliverable], Mapping[str, ContentCard]]: ...

    def record_sent(self, record: Deliverable, sent: Sent, now: int) -> None: ...

    def record_failure(self, record: Deliverable, attempt: Attempt, ledger: SyncLedger, now: int) -> None: ...

    def clear_due(self, record: Deliverable, now: int) -> None: ...

    def claim(self, record: Deliverable, until: int) -> bool: ...

    def fan_out(self, record: StoredRecord, targets: Sequence[Target], now: int) -> None: ...


class Sender(Protocol):
    def __call__(self, url: str, headers: Mapping[str, str], body: bytes, timeout: float) -> Attempt: ...


@dataclass
class SyncReport:
    delivered: int = 0
    retried: int = 0
    failed: int = 0
    nothing_to_send: int = 0
    #: Not (or no longer) due when read: delivered, claimed or rescheduled by someone else meanwhile.
    not_due: int = 0
    errors: int = 0
    due_seen: int = 0
    oldest_due_age_seconds: float = 0.0
    stopped_early: bool = False
    lease_held_elsewhere: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def count(self, name: str, by: int = 1) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + by)


def _due(record: Deliverable, now: int) -> bool:
    due_at = record.ledger.next_attempt_at
    return due_at is not None and due_at <= now


def after_failure(
    ledger: SyncLedger,
    attempt: Attempt,
    settings: Settings,
    now: int,
    rng: random.Random,
    *,
    judge: Callable[[int | None], Verdict] = webhooks.verdict,
) -> SyncLedger:
    """The ledger after an attempt that did not deliver (`judge`: the target's reading of a status)."""
    tried = replace(
        ledger,
        attempts=ledger.attempts + 1,
        last_attempt_at=now,
        last_status=attempt.status,
        last_error=attempt.error or attempt.excerpt or None,
    )
    if judge(attempt.status) is Verdict.FAILED or tried.attempts >= settings.sync_max_attempts:
        return replace(tried, state=SyncState.FAILED, next_attempt_at=None)
    retry_after = webhooks.retry_after_seconds(attempt.retry_after, now / 1000)
    delay = Backoff(settings.sync_retry_base_seconds).delay(tried.attempts, retry_after, rng)
    return replace(tried, state=SyncState.PENDING, next_attempt_at=now + int(delay * 1000))


#: Due records read to one request, one request ahead of the deliveries.
READ_AHEAD = 25


@dataclass
class SyncRun:
    """One run of the sync. `remaining_ms` is the Lambda's remaining time."""

    store: SyncStore
    sender: Sender
    settings: Settings
    secrets: list[str]
    remaining_ms: Callable[[], int]
    clock: Callable[[], int] = now_ms
    rng: random.Random = field(default_factory=random.Random)
    report: SyncReport = field(default_factory=SyncReport)
    #: The shortest hold on a record being delivered (past it, another run may deliver it).
    claim_seconds: float = 60.0
    #: The targets beside the webhook (an LTI platform's gradebook, a learning record store).
    channels: Mapping[Target, Channel] = field(default_factory=dict)
    _cards: dict[str, ContentCard] = field(default_factory=dict, repr=False)
    _cards_asked: set[str] = field(default_factory=set, repr=False)

    def deliver(
        self, record: Deliverable, recorders: ThreadPoolExecutor, cards: Mapping[str, ContentCard] | None = None
    ) -> None:
        """Deliver one due record this run claimed and hand its outcome to `recorders`, so that the next
        delivery need not wait for the ledger write. A failure here is logged and counted, and the run
        goes on: the record stays due for the next run."""
        try:
            self._deliver(record, recorders, cards)
        except Exception:
            logger.exception("delivery failed before its outcome was recorded")
            self.report.count("errors")

    def _deliver(
        self, record: Deliverable, recorders: ThreadPoolExecutor, cards: Mapping[str, ContentCard] | None
    ) -> None:
        if isinstance(record, StoredRecord) and self.channels:
            # Before the record can leave the due index: each target learns of what changed.
            self.store.fan_out(record, list(self.channels), self.clock())
        channel = self.channels.get(record.target) if isinstance(record, StoredDelivery) else None
        if channel is not None and isinstance(record, StoredDelivery):
            message = (
                None if record.ledger.state is SyncState.FAILED else channel.plan(record, self.settings, cards or {})
            )
        elif self.settings.lms_webhook_url is not None:
            message = plan(record, self.settings, cards)
        else:
            message = None
        if message is None:
            self.store.clear_due(record, self.clock())
            self.report.count("nothing_to_send")
            return
        sent_at = self.clock()
        timeout = self.settings.sync_http_timeout_seconds
        if channel is not None and isinstance(record, StoredDelivery):
            attempt = channel.send(record, message, timeout)
            judge = channel.verdict
        else:
            assert self.settings.lms_webhook_url is not None
            headers = webhooks.headers(self.secrets, message.message_id, sent_at // 1000, message.body)
            attempt = self.sender(self.settings.lms_webhook_url, headers, message.body, timeout)
            judge = webhooks.verdict
        recorders.submit(self._record, record, message, attempt, self.clock(), judge)

    def _record(
        self,
        record: Deliverable,
        message: Message,
        attempt: Attempt,
        now: int,
        judge: Callable[[int | None], Verdict] = webhooks.verdict,
    ) -> None:
        try:
            if judge(attempt.status) is Verdict.DELIVERED:
                self.store.record_sent(record, Sent(message, attempt.status), now)
                self.report.count("delivered")
                return
            ledger = after_failure(record.ledger, attempt, self.settings, now, self.rng, judge=judge)
            ledger = replace(ledger, message_id=message.message_id)
            self.store.record_failure(record, attempt, ledger, now)
            self.report.count("failed" if ledger.state is SyncState.FAILED else "retried")
        except Exception:
            logger.exception("a delivery's outcome could not be recorded")
            self.report.count("errors")

    @property
    def claim_ms(self) -> int:
        """How long a claim holds: every request one send may make (an AGS score may need a token, a
        line item lookup and its creation first), each to its deadline, and a margin."""
        sends = REQUESTS_PER_SEND * self.settings.sync_http_timeout_seconds + CLAIM_MARGIN_SECONDS
        return int(max(self.claim_seconds, sends) * 1000)

    def _time_is_short(self) -> bool:
        return self.remaining_ms() < self.settings.sync_time_margin_seconds * 1000

    def _due_pages(self, now: int) -> Iterator[list[tuple[Subject, int | None]]]:
        """Pages of (subject, due time) whose delivery is due by `now`, oldest first."""
        start: Mapping[str, Any] | None = None
        while True:
            keys, start = self.store.due_keys(now, self.settings.sync_batch_size, start)
            yield [(subject, due_at) for subject, due_at in keys]
            if start is None:
                return

    def _read(
        self, chunk: list[tuple[Subject, int | None]]
    ) -> tuple[Mapping[Any, Deliverable], Mapping[str, ContentCard]]:
        """The chunk's records and entries, and the catalog's cards of their contents (their titles),
        in one batch read. A run asks for each content's card once."""
        contents = [subject.key for subject, _ in chunk if subject.learner is not None]
        wanted = [content for content in dict.fromkeys(contents) if content not in self._cards_asked]
        self._cards_asked.update(wanted)
        found, cards = self.store.read_due([subject for subject, _ in chunk], wanted)
        self._cards.update(cards)
        return found, self._cards

    def _claimed(self, records: Mapping[Any, Deliverable], claimers: ThreadPoolExecutor) -> dict[Any, Deliverable]:
        """The records of a chunk this run claimed, claimed all at once as the chunk is read (one request
        ahead of the deliveries, so the claims cost the LMS's slots nothing); the rest are someone else's."""
        now = self.clock()
        due = [(key, record) for key, record in records.items() if _due(record, now)]
        until = now + self.claim_ms
        won = list(claimers.map(lambda pair: self.store.claim(pair[1], until), due))
        self.report.count("not_due", len(records) - sum(won))
        return {subject: record for (subject, record), claimed in zip(due, won, strict=True) if claimed}

    def _deliver_all(self, pages: Iterable[list[tuple[Subject, int | None]]], now: int) -> None:
        """Deliver the records of each page, `sync_concurrency` in flight to the LMS at once, until the
        time runs short. Records are read and claimed `READ_AHEAD` to a request, one request ahead of
        the deliveries."""
        chunks = (page[at : at + READ_AHEAD] for page in pages for at in range(0, len(page), READ_AHEAD))
        Read = tuple[list[tuple[Subject, int | None]], tuple[Mapping[Any, Deliverable], Mapping[str, ContentCard]]]

        def read_next() -> Read | None:
            chunk = next(chunks, None)
            if chunk is None:
                return None
            records, cards = self._read(chunk)
            return chunk, (self._claimed(records, claimers), cards)

        concurrency = self.settings.sync_concurrency
        with (
            ThreadPoolExecutor(1) as reader,
            ThreadPoolExecutor(concurrency) as claimers,
            ThreadPoolExecutor(concurrency) as senders,
            ThreadPoolExecutor(concurrency) as recorders,
        ):
            in_flight: set[Future[None]] = set()
            pending = reader.submit(read_next)
            while (ready := pending.result()) is not None and not self.report.stopped_early:
                pending = reader.submit(read_next)
                chunk, (records, cards) = ready
                for subject, due_at in chunk:
                    self.report.due_seen += 1
                    if due_at is not None:
                        age = (now - due_at) / 1000
                        self.report.oldest_due_age_seconds = max(self.report.oldest_due_age_seconds, age)
                    if self._time_is_short():
                        self.report.stopped_early = True
                        break
                    record = records.get(subject)
                    if record is None:
                        continue
                    if len(in_flight) >= concurrency:
                        done, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
                        for future in done:
                            future.result()
                    in_flight.add(senders.submit(self.deliver, record, recorders, cards))
            for future in in_flight:
                future.result()

    def run(self) -> SyncReport:
        """The sweep: every due record, under the lease that keeps two sweeps from overlapping."""
        holder = uuid.uuid4().hex
        now = self.clock()
        lease_until = now + self.remaining_ms()
        if not self.store.acquire_lease(holder, now, lease_until):
            self.report.lease_held_elsewhere = True
            return self.report
        try:
            self._deliver_all(self._due_pages(now), now=now)
        finally:
            self.store.release_lease(holder)
        return self.report

    def deliver_now(self, keys: Iterable[Subject | tuple[str | None, str]]) -> SyncReport:
        """The fast path: these records (or catalog entries) just became due; claim and deliver each."""
        unique = [Subject(*key) for key in dict.fromkeys(keys)]  # a batch may name a record twice
        size = self.settings.sync_batch_size
        pages: list[list[tuple[Subject, int | None]]] = [
            [(subject, None) for subject in unique[at : at + size]] for at in range(0, len(unique), size)
        ]
        self._deliver_all(pages, now=self.clock())
        return self.report


def publish(report: SyncReport) -> dict[str, Any]:
    """A run's metrics (the template's alarms and dashboard read them) and its summary for the log."""
    for name, value in (
        ("SyncDelivered", report.delivered),
        ("SyncRetried", report.retried),
        ("SyncFailed", report.failed),
        ("SyncErrors", report.errors),
    ):
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    summary = {
        "delivered": report.delivered,
        "retried": report.retried,
        "failed": report.failed,
        "errors": report.errors,
        "nothing_to_send": report.nothing_to_send,
        "not_due": report.not_due,
        "due_seen": report.due_seen,
        "stopped_early": report.stopped_early,
        "lease_held_elsewhere": report.lease_held_elsewhere,
    }
    logger.info("deliveries finished", extra=summary)
    return summary
