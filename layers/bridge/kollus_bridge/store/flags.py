"""Sessions credited less than they claimed, `pk=FLAG#<content>`, `sk=<learner>#<session>`: the newest
callback's claim and credit and why, so an instructor can list a content's flagged sessions. Written
only for a limited callback (one more write there), newest first by version; kept a year (TTL)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from kollus_bridge.progress.rule import SessionUpdate

from .pages import decode_token, encode_token
from .table import ConditionFailed, Table, key_part

FLAG_KEEP_SECONDS = 365 * 86_400
FLAG_KEY_TYPES = {"pk": "S", "sk": "S"}


@dataclass(frozen=True)
class FlaggedSession:
    client_user_id: str
    media_content_key: str
    session_key: str
    start_at: int
    grid: int
    claimed: int
    credited: int
    limit: str
    suspicious: bool
    received_at: int


def _partition(media_content_key: str) -> dict[str, str]:
    return {"S": "FLAG#" + key_part(media_content_key)}


class Flags(Table):
    def flag_session(self, update: SessionUpdate) -> None:
        """Keep (or replace with a newer) the flag of a session credited less than it claimed."""
        summary = update.summary
        item = {
            "pk": _partition(update.media_content_key),
            "sk": {"S": f"{key_part(update.client_user_id)}#{update.session_key}"},
            "version": {"N": str(summary.version)},
            "start_at": {"N": str(summary.start_at)},
            "grid": {"N": str(update.grid)},
            "claimed": {"N": str(summary.claimed or 0)},
            "credited": {"N": str(summary.credited or 0)},
            "limit": {"S": summary.limit or ""},
            "suspicious": {"BOOL": summary.suspicious},
            "received_at": {"N": str(summary.received_at)},
            "expires_at": {"N": str(summary.received_at // 1000 + FLAG_KEEP_SECONDS)},
        }
        with contextlib.suppress(ConditionFailed):  # a newer callback of the session is flagged already
            self.call(
                "put_item",
                Item=item,
                ConditionExpression="attribute_not_exists(version) OR version < :version",
                ExpressionAttributeValues={":version": {"N": str(summary.version)}},
            )

    def flagged_sessions(
        self, media_content_key: str, limit: int, next_token: str | None
    ) -> tuple[list[FlaggedSession], str | None]:
        """One page of a content's flagged sessions, by learner."""
        partition = _partition(media_content_key)
        request: dict[str, Any] = {
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": partition},
            "Limit": limit,
        }
        items, last = self.query_page(request, decode_token(next_token, FLAG_KEY_TYPES, {"pk": partition}))
        return [_flag_from(item, media_content_key) for item in items], encode_token(last)


def _flag_from(item: dict[str, Any], media_content_key: str) -> FlaggedSession:
    learner, _, session = item["sk"]["S"].rpartition("#")
    return FlaggedSession(
        client_user_id=unquote(learner),
        media_content_key=media_content_key,
        session_key=session,
        start_at=int(item["start_at"]["N"]),
        grid=int(item["grid"]["N"]),
        claimed=int(item["claimed"]["N"]),
        credited=int(item["credited"]["N"]),
        limit=item["limit"]["S"],
        suspicious=item["suspicious"]["BOOL"],
        received_at=int(item["received_at"]["N"]),
    )
