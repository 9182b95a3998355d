"""Grade passback: a learner who came through LTI gets their progress posted as a Score to the line
item of their launch (Assignment and Grade Services), as a target of the delivery machinery.

A launch that named no line item named the context's line items instead: the first delivery for the
resource link's content looks its line item up there, makes it when there is none and the platform
lets us, and keeps it; a claim in the table lets one delivery at a time do so, so a link never gets
two line items however many learners complete at once.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from kollus_bridge.content.ports import ContentCard
from kollus_bridge.lti import grades
from kollus_bridge.lti.platforms import LineItemStore, LinePlace, Platform
from kollus_bridge.outbound import NoAnswer, request
from kollus_bridge.progress.rule import summarize
from kollus_bridge.settings import Settings
from kollus_bridge.times import now_ms
from kollus_bridge.xapi.statements import stable_id

from .channels import attempt_of, known_or_new, news
from .ledger import Attempt, Link, Message, StoredDelivery, Target
from .webhooks import Verdict

#: How long one delivery may take to look up or make a line item before another may try, in ms.
LINE_CLAIM_MS = 60_000


@dataclass
class AgsChannel:
    tokens: grades.AccessTokens
    platforms: Callable[[str], Platform | None]
    line_items: LineItemStore | None = None
    target: Target = Target.AGS
    clock: Callable[[], int] = now_ms

    def plan(self, item: StoredDelivery, settings: Settings, cards: Mapping[str, ContentCard]) -> Message | None:
        record, link = item.source, item.link
        if record is None or link is None or not (link.lineitem or link.lineitems):
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
        if link is None or platform is None:
            return Attempt(status=404, error="the learner's LTI platform is no longer registered")
        foreign = next((url for url in (link.lineitem, link.lineitems) if url and not platform.owns(url)), None)
        if foreign is not None:
            return Attempt(status=None, error=f"the launch's line item URL is not on {platform.platform_id}'s hosts")
        lineitem = link.lineitem or self._line_item(link, item.media_content_key, platform, timeout)
        if isinstance(lineitem, Attempt):
            return lineitem
        try:
            token = self.tokens.token(platform)
        except grades.TokenRefused as refused:
            return _refused(refused)
        headers = {"authorization": "Bearer " + token, "content-type": grades.SCORE_TYPE}
        attempt = attempt_of("POST", grades.scores_url(lineitem), headers, message.body, timeout)
        if attempt.status == 401:
            self.tokens.forget(platform)
        if attempt.status == 404 and link.lineitem is None and self.line_items is not None and link.resource_link_id:
            # The LMS deleted the line item we kept: a redelivery looks the link's line item up again.
            self.line_items.forget_lineitem(
                LinePlace(link.platform_id, link.resource_link_id, item.media_content_key), lineitem
            )
        return attempt

    def verdict(self, status: int | None) -> Verdict:
        """401: the token was refused (retried with a new one); 409: the platform holds this score
        or a later one (delivered)."""
        return Verdict.RETRY if status == 401 else known_or_new(status)

    def _line_item(self, link: Link, content: str, platform: Platform, timeout: float) -> str | Attempt:
        """The line item of a launch that named none: kept, else looked up or made under a claim."""
        if self.line_items is None or not link.lineitems or not link.resource_link_id:
            return Attempt(status=404, error="the launch named no line item and no line items to look one up in")
        place = LinePlace(link.platform_id, link.resource_link_id, content)
        known = self.line_items.get_lineitem(place)
        if known is not None:
            return known
        owner, now = uuid.uuid4().hex, self.clock()
        if not self.line_items.claim_lineitem(place, owner, now, now + LINE_CLAIM_MS):
            busy = Attempt(status=None, error="another delivery is looking up this resource link's line item")
            return self.line_items.get_lineitem(place) or busy
        found = self._find_or_make(link, link.lineitems, place, platform, timeout)
        if isinstance(found, Attempt):
            self.line_items.release_lineitem(place, owner)
        else:
            self.line_items.put_lineitem(place, found)
        return found

    def _find_or_make(
        self, link: Link, lineitems: str, place: LinePlace, platform: Platform, timeout: float
    ) -> str | Attempt:
        try:
            token = self.tokens.token(platform, grades.line_item_scopes(link.create_lineitem))
        except grades.TokenRefused as refused:
            return _refused(refused)
        _, resource_link, content = place
        headers = {"authorization": "Bearer " + token, "accept": grades.LINEITEMS_TYPE}
        listed = self._ask(platform, "GET", grades.lineitems_query(lineitems, resource_link, content), headers, timeout)
        if isinstance(listed, Attempt):
            return listed
        found = grades.matching(listed, resource_link, content)
        if found is not None:
            return found if platform.owns(found) else Attempt(status=502, error="a listed line item is off its hosts")
        if not link.create_lineitem:
            return Attempt(status=404, error="the platform has no line item for this link and lets the tool make none")
        label = (link.resource_link_title or content)[:256]
        body = json.dumps(grades.line_item(label, resource_link, content)).encode()
        headers = {**headers, "accept": grades.LINEITEM_TYPE, "content-type": grades.LINEITEM_TYPE}
        made = self._ask(platform, "POST", lineitems, headers, timeout, body)
        if isinstance(made, Attempt):
            return made
        made_id = made.get("id") if isinstance(made, dict) else None
        if not grades.is_url(made_id) or not platform.owns(str(made_id)):
            return Attempt(status=502, error="the platform made no line item id on its own hosts")
        return str(made_id)

    def _ask(  # noqa: PLR0917 (one request of the line item service)
        self, platform: Platform, method: str, url: str, headers: Mapping[str, str], timeout: float, body: bytes = b""
    ) -> object:
        """One request to the line item service: its JSON answer, or the Attempt it failed as."""
        try:
            answer = request(method, url, headers=headers, body=body or None, timeout=timeout)
        except NoAnswer as error:
            return Attempt(status=None, error=str(error))
        if answer.status == 401:
            self.tokens.forget(platform)
        excerpt = answer.body[:300].decode("utf-8", "replace")
        if answer.status not in {200, 201}:
            refusal = f"the line item service answered {answer.status}"
            return Attempt(answer.status, answer.headers.get("retry-after"), excerpt, refusal)
        try:
            return json.loads(answer.body)
        except ValueError:
            return Attempt(status=502, excerpt=excerpt, error="the line item service answered no JSON")


def _refused(refused: grades.TokenRefused) -> Attempt:
    return Attempt(status=refused.status if refused.status != 200 else None, error=str(refused))
