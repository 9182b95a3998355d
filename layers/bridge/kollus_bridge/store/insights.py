"""A content's computed insights and the marks asking for them, under `pk=AN#<content>`:

- `sk=R#<scope>`: the insights as of `as_of` (epoch ms), JSON deflated into `body`;
- `sk=W#<scope>`: a computation is wanted (`insights_wanted` = when asked). The table's stream hands
  new and renewed marks to `AnalyticsFunction`, which computes, stores the result and deletes the mark
  unless it was renewed meanwhile. A mark is renewed at most once per `again_after_ms`, so a burst of
  requests asks for one computation.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import zlib
from collections.abc import Mapping
from typing import Any

from kollus_bridge.analytics.ports import Cached

from .table import ConditionFailed, Table, key_part

#: A scope longer than this (a long uservalue) is keyed by its digest: a sort key holds 1 KB at most.
LONGEST_SCOPE_KEY = 500


def _key(media_content_key: str, kind: str, scope: str) -> dict[str, Any]:
    if len(scope.encode()) > LONGEST_SCOPE_KEY:
        scope = "sha256:" + hashlib.sha256(scope.encode()).hexdigest()
    return {"pk": {"S": "AN#" + key_part(media_content_key)}, "sk": {"S": f"{kind}#{scope}"}}


class Insights(Table):
    def get_insights(self, media_content_key: str, scope: str) -> Cached | None:
        item = self.call("get_item", Key=_key(media_content_key, "R", scope)).get("Item")
        if item is None:
            return None
        body = json.loads(zlib.decompress(item["body"]["B"]))
        return Cached(body=body, as_of=int(item["as_of"]["N"]))

    def put_insights(self, media_content_key: str, scope: str, body: Mapping[str, Any], as_of: int) -> None:
        """Keep a result unless a newer one is already there."""
        packed = zlib.compress(json.dumps(body, separators=(",", ":")).encode(), 6)
        with contextlib.suppress(ConditionFailed):
            self.call(
                "put_item",
                Item={**_key(media_content_key, "R", scope), "body": {"B": packed}, "as_of": {"N": str(as_of)}},
                ConditionExpression="attribute_not_exists(as_of) OR as_of <= :as_of",
                ExpressionAttributeValues={":as_of": {"N": str(as_of)}},
            )

    def want_insights(self, media_content_key: str, scope: str, now: int, again_after_ms: int) -> bool:
        """Mark a computation wanted; False when one was asked for within `again_after_ms`."""
        try:
            self.call(
                "put_item",
                Item={
                    **_key(media_content_key, "W", scope),
                    "insights_wanted": {"N": str(now)},
                    # Not `media_content_key`: that would put the mark in content-index.
                    "wanted_content": {"S": media_content_key},
                    "wanted_scope": {"S": scope},
                },
                ConditionExpression="attribute_not_exists(insights_wanted) OR insights_wanted < :recent",
                ExpressionAttributeValues={":recent": {"N": str(now - again_after_ms)}},
            )
        except ConditionFailed:
            return False
        return True

    def drop_wanted(self, media_content_key: str, scope: str, requested_at: int) -> None:
        with contextlib.suppress(ConditionFailed):
            self.call(
                "delete_item",
                Key=_key(media_content_key, "W", scope),
                ConditionExpression="insights_wanted = :at",
                ExpressionAttributeValues={":at": {"N": str(requested_at)}},
            )
