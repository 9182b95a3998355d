"""Grade passback: a learner who came through LTI gets their progress posted as a Score to the line
item of their launch (Assignment and Grade Services), as a target of the delivery machinery."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from kollus_bridge.content.ports import ContentCard
from kollus_bridge.lti import grades
from kollus_bridge.lti.platforms import Platform
from kollus_bridge.progress.rule import summarize
from kollus_bridge.settings import Settings
from kollus_bridge.xapi.statements import stable_id

from .channels import attempt_of, known_or_new, news
from .ledger import Attempt, Message, StoredDelivery, Target
from .webhooks import Verdict


@dataclass
class AgsChannel:
    tokens: grades.AccessTokens
    platforms: Callable[[str], Platform | None]
    target: Target = Target.AGS

    def plan(self, item: StoredDelivery, settings: Settings, cards: Mapping[str, ContentCard]) -> Message | None:
        record, link = item.source, item.link
        if record is None or link is None or not link.lineitem:
            return None
        view = summarize(record.state, settings.completion_threshold)
        kind = news(view, record.state.completed_at, item.ledger, settings)
        if kind is None:
            return None
        completed = kind == "completed" or view.completed
        event_at = (record.state.completed_at if kind == "completed" else record.state.updated_at) or 0
        stamp = grades.score_stamp(event_at, item.ledger.stamp)
        body = json.dumps(grades.score(link.sub, view.progress, completed, stamp), separators=(",", ":")).encode()
        message_id = stable_id("score", item.client_user_id, item.media_content_key, kind, str(view.progress))
        kind_name = "progress.completed" if kind == "completed" else "progress.updated"
        return Message(kind_name, message_id, body, str(view.progress), stamp)

    def send(self, item: StoredDelivery, message: Message, timeout: float) -> Attempt:
        link = item.link
        platform = self.platforms(link.platform_id) if link else None
        if link is None or not link.lineitem or platform is None:
            return Attempt(status=404, error="the learner's LTI platform is no longer registered")
        try:
            token = self.tokens.token(platform)
        except grades.TokenRefused as refused:
            return Attempt(status=refused.status if refused.status != 200 else None, error=str(refused))
        headers = {"authorization": "Bearer " + token, "content-type": grades.SCORE_TYPE}
        attempt = attempt_of("POST", grades.scores_url(link.lineitem), headers, message.body, timeout)
        if attempt.status == 401:
            self.tokens.forget(platform)
        return attempt

    def verdict(self, status: int | None) -> Verdict:
        """401: the token was refused (retried with a new one); 409: the platform holds this score
        or a later one (delivered)."""
        return Verdict.RETRY if status == 401 else known_or_new(status)
