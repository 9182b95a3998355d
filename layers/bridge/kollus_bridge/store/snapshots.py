"""Session snapshots: each session's newest raw callback, `pk=L#<learner>`, `sk=S#<content>#<session>`.

They are what a record is recomputed from after a rule change. Bodies are deflated against a preset
dictionary of the Kollus wire form (`bodies`), so a 100-block callback fits in one write unit.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from kollus_bridge.kollus.callback import RawCallback
from kollus_bridge.progress.rule import SessionUpdate

from .bodies import pack, unpack
from .table import ConditionFailed, Table, key_part, learner_partition, number_value


def session_item_key(client_user_id: str, media_content_key: str, session_key: str) -> dict[str, Any]:
    return {"pk": learner_partition(client_user_id), "sk": {"S": f"S#{key_part(media_content_key)}#{session_key}"}}


def raw_from_item(item: Mapping[str, Any]) -> RawCallback:
    """The callback a snapshot item keeps, as it came."""
    return RawCallback(
        body=unpack(item["raw_body"]["B"]),
        content_type=item.get("content_type", {}).get("S") or None,
        query=item.get("raw_query", {}).get("S", ""),
    )


class Snapshots(Table):
    def save_snapshot(self, update: SessionUpdate, raw: RawCallback, credit_seconds: float | None = None) -> None:
        """Keep the session's newest raw callback (write 2); an older one never replaces a newer.
        `credit_seconds`: the content time the playback clock let it be credited (None: all it claimed)."""
        item: dict[str, Any] = {
            **session_item_key(update.client_user_id, update.media_content_key, update.session_key),
            "version": {"N": str(update.summary.version)},
            "start_at": {"N": str(update.summary.start_at)},
            "received_at": {"N": str(update.summary.received_at)},
            "raw_body": {"B": pack(raw.body)},
            "raw_query": {"S": raw.query},
            "content_type": {"S": raw.content_type or ""},
        }
        if credit_seconds is not None:
            item["credit_seconds"] = number_value(credit_seconds)
        # A newer snapshot of this session is stored already.
        with contextlib.suppress(ConditionFailed):
            self.call(
                "put_item",
                Item=item,
                ConditionExpression="attribute_not_exists(version) OR version < :version",
                ExpressionAttributeValues={":version": {"N": str(update.summary.version)}},
            )

    def session_snapshots(self, client_user_id: str, media_content_key: str) -> list[RawCallback]:
        """The newest raw callback of every session of a record."""
        return [raw for raw, _ in self.credited_snapshots(client_user_id, media_content_key)]

    def credited_snapshots(self, client_user_id: str, media_content_key: str) -> list[tuple[RawCallback, float | None]]:
        """The newest raw callback of every session of a record, with the content time the clock let it credit."""
        snapshots: list[tuple[RawCallback, float | None]] = []
        start = None
        while True:
            request: dict[str, Any] = {
                "KeyConditionExpression": "pk = :pk AND begins_with(sk, :sessions)",
                "ExpressionAttributeValues": {
                    ":pk": learner_partition(client_user_id),
                    ":sessions": {"S": f"S#{key_part(media_content_key)}#"},
                },
                "ConsistentRead": True,
            }
            items, start = self.query_page(request, start)
            snapshots.extend(
                (raw_from_item(item), float(item["credit_seconds"]["N"]) if "credit_seconds" in item else None)
                for item in items
            )
            if not start:
                return snapshots
