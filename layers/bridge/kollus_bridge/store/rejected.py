"""Refused payloads, `pk=R#<yyyy-mm-dd>`, `sk=<received iso>#<uuid>`: kept for `REJECTED_TTL_DAYS`
(TTL `expires_at`) so they can be replayed after a fix."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from kollus_bridge.kollus.callback import RawCallback

from .bodies import pack
from .table import Table

#: Largest compressed raw body and query kept with a rejected payload (DynamoDB items stop at 400 KB).
MAX_KEPT_BODY = 300_000
MAX_KEPT_QUERY = 16_384


class Rejected(Table):
    def save_rejected(
        self, raw: RawCallback, code: str, message: str, field: str | None, now: int, *, source: str = "lms_callback"
    ) -> None:
        """Keep a refused payload with why it was refused, and which endpoint refused it."""
        received = datetime.fromtimestamp(now / 1000, UTC)
        body = pack(raw.body)
        truncated = len(body) > MAX_KEPT_BODY or len(raw.query) > MAX_KEPT_QUERY
        item: dict[str, Any] = {
            "pk": {"S": "R#" + received.strftime("%Y-%m-%d")},
            "sk": {"S": f"{received.isoformat(timespec='milliseconds')}#{uuid.uuid4()}"},
            "raw_body": {"B": body[:MAX_KEPT_BODY] if truncated else body},
            "raw_truncated": {"BOOL": truncated},
            "raw_query": {"S": raw.query[:MAX_KEPT_QUERY]},
            "content_type": {"S": (raw.content_type or "")[:200]},
            "reason_code": {"S": code},
            "source": {"S": source},
            "reason": {"S": message[:1000]},
            "received_at": {"N": str(now)},
            "expires_at": {"N": str(now // 1000 + self.rejected_ttl_seconds)},
        }
        if field:
            item["field"] = {"S": field[:200]}
        self.call("put_item", Item=item)
