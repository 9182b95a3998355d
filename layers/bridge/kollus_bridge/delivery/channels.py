"""Delivery targets beside the webhook: each plans what a record's delivery item owes its target and
sends it. The sweep, the fast path, retries, backoff and the ledger are the same for every target
(`sync`); only what is sent, where, and which answers count as delivered differ.

What a target is owed is the same rule as for the webhook: the completion once, then (with
`SYNC_PROGRESS_UPDATES`) each progress the target has not been sent.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from kollus_bridge.content.ports import ContentCard
from kollus_bridge.outbound import NoAnswer, request
from kollus_bridge.progress.rule import ProgressView, summarize
from kollus_bridge.settings import Settings
from kollus_bridge.xapi import statements

from .ledger import Attempt, Message, StoredDelivery, SyncLedger, Target
from .webhooks import Verdict, verdict

#: How much of a target's answer the ledger keeps.
EXCERPT_BYTES = 300


class Channel(Protocol):
    target: Target

    def plan(self, item: StoredDelivery, settings: Settings, cards: Mapping[str, ContentCard]) -> Message | None: ...

    def send(self, item: StoredDelivery, message: Message, timeout: float) -> Attempt: ...

    def verdict(self, status: int | None) -> Verdict: ...


def news(view: ProgressView, completed_at: int | None, ledger: SyncLedger, settings: Settings) -> str | None:
    """What a target is owed: `completed` (once), else `progress` when it grew past what was sent
    (only with progress updates on), else None."""
    if view.completed and completed_at is not None and not ledger.completion_sent:
        return "completed"
    if settings.sync_progress_updates and str(view.progress) != (ledger.progress_sent or str(Decimal("0.00"))):
        return "progress"
    return None


def known_or_new(status: int | None) -> Verdict:
    """2xx delivered, and 409 too: the receiver already holds this (or a later) message."""
    return Verdict.DELIVERED if status == 409 else verdict(status)


def attempt_of(method: str, url: str, headers: Mapping[str, str], body: bytes, timeout: float) -> Attempt:
    """One request to a target; never raises. A redirect is a failed attempt (not followed)."""
    try:
        answer = request(method, url, headers=headers, body=body, timeout=timeout, max_answer_bytes=EXCERPT_BYTES)
    except NoAnswer as error:
        return Attempt(status=None, error=str(error))
    if answer.redirect:
        location = answer.headers.get("location", "")[:200] or "nowhere"
        return Attempt(status=answer.status, error=f"answered {answer.status}, a redirect to {location}; not followed")
    return Attempt(answer.status, answer.headers.get("retry-after"), answer.body.decode("utf-8", "replace"))


@dataclass
class XapiChannel:
    """Statements to a learning record store (`XAPI_LRS_URL`), with Basic auth."""

    url: str
    credentials: Callable[[], str]  # "username:password"
    target: Target = Target.XAPI

    def plan(self, item: StoredDelivery, settings: Settings, cards: Mapping[str, ContentCard]) -> Message | None:
        record = item.source
        if record is None:
            return None
        view = summarize(record.state, settings.completion_threshold)
        kind = news(view, record.state.completed_at, item.ledger, settings)
        if kind is None:
            return None
        newest = max(record.state.sessions, key=lambda key: record.state.sessions[key].received_at, default="")
        card = cards.get(item.media_content_key)
        subject = statements.Subject(
            item.client_user_id,
            item.media_content_key,
            card.title if card else None,
            newest,
            item.link.registration if item.link else None,
        )
        at = record.state.completed_at if kind == "completed" else record.state.updated_at
        document = statements.statement(
            kind,
            subject,
            view,
            homepage=settings.xapi_actor_homepage or "",
            activity_base=settings.xapi_activity_base,
            completion_threshold=settings.completion_threshold,
            at=at,
        )
        body = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
        kind_name = "progress.completed" if kind == "completed" else "progress.updated"
        return Message(kind_name, document["id"], body, str(view.progress))

    def send(self, item: StoredDelivery, message: Message, timeout: float) -> Attempt:
        authorization = base64.b64encode(self.credentials().encode("utf-8")).decode("ascii")
        headers = {
            "authorization": "Basic " + authorization,
            "content-type": "application/json",
            "x-experience-api-version": statements.VERSION,
        }
        return attempt_of("POST", self.url.rstrip("/") + "/statements", headers, message.body, timeout)

    def verdict(self, status: int | None) -> Verdict:
        return known_or_new(status)
