"""A content's computed insights and the marks asking for them, under `pk=AN#<content>`:

- `sk=R#<scope>`: the insights as of `as_of` (epoch ms), JSON deflated into `body`, and the `job` whose
  learner table (`sk=L#…`, `store.insight_rows`) was written with them;
- `sk=W#<scope>`: a computation is wanted (`insights_wanted` = when asked). The table's stream hands
  new and renewed marks to `AnalyticsFunction`, which computes, stores the result and deletes the mark
  unless it was renewed meanwhile. A mark is renewed at most once per `again_after_ms`, so a burst of
  requests asks for one computation;
- for a content counted in shards, per job (the ask's time): `sk=J#<scope>#<job>` the plan, the number
  of shards and the set of those done; `sk=H#<scope>#<job>#<i>` a shard's mark (`insights_shard`, its
  learners), which the stream hands over as well; `sk=T#<scope>#<job>#<i>` a shard's tally. All three
  expire after `JOB_KEEP_SECONDS` (TTL).
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
#: How long a sharded job's items are kept.
JOB_KEEP_SECONDS = 86_400


def _partition(media_content_key: str) -> dict[str, str]:
    return {"S": "AN#" + key_part(media_content_key)}


def _key(media_content_key: str, kind: str, scope: str, *suffix: int) -> dict[str, Any]:
    if len(scope.encode()) > LONGEST_SCOPE_KEY:
        scope = "sha256:" + hashlib.sha256(scope.encode()).hexdigest()
    tail = "".join(f"#{part:013d}" for part in suffix)
    return {"pk": _partition(media_content_key), "sk": {"S": f"{kind}#{scope}{tail}"}}


def _pack(document: Mapping[str, Any]) -> dict[str, bytes]:
    return {"B": zlib.compress(json.dumps(document, separators=(",", ":")).encode(), 6)}


def unpack(value: Mapping[str, Any]) -> Any:
    return json.loads(zlib.decompress(value["B"]))


def items_under(table: Table, media_content_key: str, kind: str, scope: str, job: int) -> list[dict[str, Any]]:
    """Every item of a job of one kind (`T` tallies, `L` learner table parts), in key order, read
    consistently."""
    prefix = _key(media_content_key, kind, scope, job)["sk"]["S"] + "#"
    found: list[dict[str, Any]] = []
    start: Mapping[str, Any] | None = None
    while True:
        request: dict[str, Any] = {
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {":pk": _partition(media_content_key), ":prefix": {"S": prefix}},
            "ConsistentRead": True,
        }
        items, start = table.query_page(request, start)
        found += items
        if start is None:
            return found


class Insights(Table):
    def get_insights(self, media_content_key: str, scope: str) -> Cached | None:
        item = self.call("get_item", Key=_key(media_content_key, "R", scope)).get("Item")
        if item is None:
            return None
        job = int(item["job"]["N"]) if "job" in item else None
        return Cached(body=unpack(item["body"]), as_of=int(item["as_of"]["N"]), job=job)

    def put_insights(  # noqa: PLR0917 (where, what, when, how long, and the job of its learner table)
        self, media_content_key: str, scope: str, body: Mapping[str, Any], as_of: int, keep_days: int = 30,
        job: int | None = None,
    ) -> None:  # fmt: skip
        """Keep a result (for `keep_days`, TTL) unless a newer one is already there; `job` names the
        computation whose learner table (`store.insight_rows`) goes with it."""
        expires = {"N": str(as_of // 1000 + keep_days * 86_400)}
        item = {**_key(media_content_key, "R", scope), "body": _pack(body), "as_of": {"N": str(as_of)}}
        if job is not None:
            item["job"] = {"N": str(job)}
        with contextlib.suppress(ConditionFailed):
            self.call(
                "put_item",
                Item={**item, "expires_at": expires},
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
                    "expires_at": {"N": str(now // 1000 + JOB_KEEP_SECONDS)},
                },
                ConditionExpression="attribute_not_exists(insights_wanted) OR insights_wanted < :recent",
                ExpressionAttributeValues={":recent": {"N": str(now - again_after_ms)}},
            )
        except ConditionFailed:
            return False
        return True

    def admit_scope(self, media_content_key: str, scope: str, day: int, limit: int) -> bool:
        """Count `scope` among the content's scopes of `day` (days since the epoch); False when `limit`
        other scopes were counted that day already. The day's item expires the day after."""
        member = hashlib.sha256(scope.encode()).hexdigest()[:24]
        try:
            self.call(
                "update_item",
                Key={"pk": _partition(media_content_key), "sk": {"S": f"S#{day}"}},
                UpdateExpression="ADD scopes :one SET expires_at = :expires",
                ConditionExpression=(
                    "attribute_not_exists(scopes) OR contains(scopes, :member) OR size(scopes) < :limit"
                ),
                ExpressionAttributeValues={
                    ":one": {"SS": [member]},
                    ":member": {"S": member},
                    ":limit": {"N": str(limit)},
                    ":expires": {"N": str((day + 2) * 86_400)},
                },
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

    def start_shards(
        self, media_content_key: str, scope: str, job: int, plan: Mapping[str, Any], parts: list[tuple[str, ...]]
    ) -> None:
        """The job's plan, then a mark per shard (the stream hands each to its own invocation); once per job."""
        expires = {"N": str(job // 1000 + JOB_KEEP_SECONDS)}
        try:
            self.call(
                "put_item",
                Item={
                    **_key(media_content_key, "J", scope, job),
                    "plan": _pack(plan),
                    "shards": {"N": str(len(parts))},
                    "expires_at": expires,
                },
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ConditionFailed:
            return  # this ask's shards were started already (the stream handed the mark over again)
        self.batch_put(
            [
                {
                    **_key(media_content_key, "H", scope, job, index),
                    "insights_shard": {"N": str(job)},
                    "shard_content": {"S": media_content_key},
                    "shard_scope": {"S": scope},
                    "shard_index": {"N": str(index)},
                    "shard_learners": _pack({"learners": list(part)}),
                    "expires_at": expires,
                }
                for index, part in enumerate(parts)
            ]
        )

    def shard_job(self, media_content_key: str, scope: str, job: int) -> dict[str, Any] | None:
        """The plan of a job still under way, else None."""
        key = _key(media_content_key, "J", scope, job)
        item = self.call("get_item", Key=key, ConsistentRead=True).get("Item")
        if item is None or "finished" in item:
            return None
        found: dict[str, Any] = unpack(item["plan"])
        return found

    def finish_shard(
        self, media_content_key: str, scope: str, job: int, index: int, tally: Mapping[str, Any]
    ) -> list[dict[str, Any]] | None:
        """Keep a shard's tally and count it done; every shard's tally once the last one is in, else None."""
        expires = {"N": str(job // 1000 + JOB_KEEP_SECONDS)}
        self.call(
            "put_item",
            Item={**_key(media_content_key, "T", scope, job, index), "tally": _pack(tally), "expires_at": expires},
        )
        job_key = _key(media_content_key, "J", scope, job)
        updated = self.call(
            "update_item", Key=job_key, UpdateExpression="ADD done_shards :index",
            ExpressionAttributeValues={":index": {"SS": [str(index)]}}, ReturnValues="ALL_NEW",
        )["Attributes"]  # fmt: skip
        if len(updated["done_shards"]["SS"]) < int(updated["shards"]["N"]):
            return None
        tallies = [unpack(item["tally"]) for item in items_under(self, media_content_key, "T", scope, job)]
        with contextlib.suppress(ConditionFailed):
            self.call(
                "update_item",
                Key=job_key,
                UpdateExpression="SET finished = :yes",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":yes": {"BOOL": True}},
            )
        return tallies
