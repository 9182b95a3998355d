"""The access log: every play decision, kept for `ACCESS_LOG_DAYS` (TTL `expires_at`), listed by
learner (`pk=AL#L#<learner>`) or by content (`pk=AL#C#<content>`), newest first; `sk=<time>#<id>`.
One decision is one BatchWriteItem of its two items."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from kollus_bridge.access.ports import Decision
from kollus_bridge.errors import InvalidRequest, StorageUnavailable

from .pages import decode_token, encode_token
from .table import Table, key_part

KEY_TYPES = {"pk": "S", "sk": "S"}


def _partition(client_user_id: str | None, media_content_key: str | None) -> dict[str, str]:
    if client_user_id is not None:
        return {"S": "AL#L#" + key_part(client_user_id)}
    if media_content_key is not None:
        return {"S": "AL#C#" + key_part(media_content_key)}
    raise InvalidRequest("give client_user_id or media_content_key", field="client_user_id")


def decision_from_item(item: Mapping[str, Any]) -> Decision:
    return Decision(
        at=int(item["at"]["N"]),
        client_user_id=item["client_user_id"]["S"],
        media_content_key=item["media_content_key"]["S"],
        device=item["device"]["S"] if "device" in item else None,
        kind=item["kind"]["S"],
        allowed=item["allowed"]["BOOL"],
        reason=item["reason"]["S"],
        course_id=item["course_id"]["S"] if "course_id" in item else None,
    )


def _items(decision: Decision, ttl_days: int) -> list[dict[str, Any]]:
    """A decision's two items: under its learner and under its content."""
    body: dict[str, Any] = {
        "sk": {"S": f"{decision.at:013d}#{uuid.uuid4().hex[:12]}"},
        "at": {"N": str(decision.at)},
        "client_user_id": {"S": decision.client_user_id},
        "media_content_key": {"S": decision.media_content_key},
        "kind": {"S": decision.kind},
        "allowed": {"BOOL": decision.allowed},
        "reason": {"S": decision.reason},
        "expires_at": {"N": str(decision.at // 1000 + ttl_days * 86_400)},
    }
    if decision.device:
        body["device"] = {"S": decision.device[:256]}
    if decision.course_id:
        body["course_id"] = {"S": decision.course_id}
    return [
        {"pk": _partition(decision.client_user_id, None), **body},
        {"pk": _partition(None, decision.media_content_key), **body},
    ]


class AccessLog(Table):
    def log_access(self, decision: Decision, ttl_days: int) -> None:
        puts = [{"PutRequest": {"Item": item}} for item in _items(decision, ttl_days)]
        response = self.call("batch_write_item", RequestItems={self.table_name: puts})
        if response.get("UnprocessedItems"):
            raise StorageUnavailable("storage is busy; the decision was not logged")

    def log_accesses(self, decisions: list[Decision], ttl_days: int) -> None:
        """Several decisions (a DRM callback's items): their items, 25 to a BatchWriteItem."""
        self.batch_put([item for decision in decisions for item in _items(decision, ttl_days)])

    def access_log(
        self, *, client_user_id: str | None, media_content_key: str | None, limit: int, next_token: str | None
    ) -> tuple[list[Decision], str | None]:
        """One page of decisions about a learner (or a content), newest first."""
        partition = _partition(client_user_id, media_content_key)
        request = {
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": partition},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        items, last = self.query_page(request, decode_token(next_token, KEY_TYPES, {"pk": partition}))
        return [decision_from_item(item) for item in items], encode_token(last)
