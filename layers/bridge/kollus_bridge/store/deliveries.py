"""A record's deliveries to the targets beside the webhook: one item per record and target
(`pk=L#<learner>`, `sk=T#<target>#<content>`) with its own sync ledger (`sync_*`, the same attributes
and indexes as a record's), the record revision it last heard of (`rev`) and the record's completion
time (`completed_at`, for the ledger listing).

An AGS item exists from the learner's LTI launch on (it holds the launch's line item); an xAPI item
is made by the first fan-out. A record's delivery fans out to its targets before it leaves the due
index, so no target misses a completion.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from typing import Any

from kollus_bridge.delivery.ledger import Link, StoredDelivery, StoredRecord, SyncState, Target

from .record_items import ledger_from_item, rev_of
from .records import DUE
from .subjects import delivery_item_key, subject_from_key
from .table import ConditionFailed, Table, plain, record_key

#: How a Link's text fields are kept on a delivery item.
_LINK_TEXT = {
    "lti_platform": "platform_id",
    "lti_sub": "sub",
    "lti_lineitem": "lineitem",
    "lti_context": "context_id",
    "lti_registration": "registration",
    "lti_lineitems": "lineitems",
    "lti_resource_link": "resource_link_id",
    "lti_resource_title": "resource_link_title",
}
_LINK_FIELDS = (*_LINK_TEXT, "lti_create_lineitem")
#: A delivery item an AGS delivery can go to: the launch named a line item, or where to find one.
_SCORABLE = " AND (attribute_exists(lti_lineitem) OR attribute_exists(lti_lineitems))"


def delivery_from_item(item: Mapping[str, Any], source: StoredRecord | None = None) -> StoredDelivery:
    subject = subject_from_key(item)
    assert subject is not None and subject.learner is not None
    link = None
    if "lti_platform" in item and "lti_sub" in item:
        text = {field: plain(item, name) for name, field in _LINK_TEXT.items() if name in item}
        link = Link(**text, create_lineitem=bool(item.get("lti_create_lineitem", {}).get("BOOL")))
    return StoredDelivery(
        subject.learner, subject.key, subject.target, rev_of(item), ledger_from_item(item), link, source
    )


class Deliveries(Table):
    def fan_out(self, record: StoredRecord, targets: Sequence[Target], now: int) -> None:
        """Make each target's delivery of this record due, when the record changed since it last
        heard (its `rev`). A completion it has not heard of resets a failed delivery to pending; an
        AGS delivery exists only for a learner who came through LTI."""
        for target in targets:
            if target is Target.WEBHOOK:
                continue
            key = delivery_item_key(record.client_user_id, record.media_content_key, target)
            linked = _SCORABLE if target is Target.AGS else ""
            values: dict[str, Any] = {
                ":rev": {"N": str(record.rev)},
                ":due": {"S": DUE},
                ":now": {"N": str(now)},
                ":pending": {"S": SyncState.PENDING.value},
            }
            completed = record.state.completed_at
            if completed is not None:
                with contextlib.suppress(ConditionFailed):
                    self.call(
                        "update_item",
                        Key=key,
                        UpdateExpression=(
                            "SET rev = :rev, completed_at = :completed, sync_due = :due, sync_next_at = :now, "
                            "sync_state = :pending, sync_changed_at = :now, sync_attempts = :zero"
                        ),
                        ConditionExpression="attribute_not_exists(completed_at)" + linked,
                        ExpressionAttributeValues={**values, ":completed": {"N": str(completed)}, ":zero": {"N": "0"}},
                    )
                    continue
            with contextlib.suppress(ConditionFailed):
                self.call(
                    "update_item",
                    Key=key,
                    UpdateExpression=(
                        "SET rev = :rev, sync_due = :due, sync_next_at = if_not_exists(sync_next_at, :now), "
                        "sync_state = :pending, sync_changed_at = :now"
                    ),
                    ConditionExpression=(
                        "(attribute_not_exists(rev) OR rev < :rev) "
                        "AND (attribute_not_exists(sync_state) OR sync_state <> :failed)" + linked
                    ),
                    ExpressionAttributeValues={**values, ":failed": {"S": SyncState.FAILED.value}},
                )

    def put_link(self, client_user_id: str, media_content_key: str, targets: Sequence[Target], link: Link) -> None:
        """Keep how the learner came through LTI on their deliveries to `targets` (the launch's line
        item and xAPI registration); their ledgers are left as they are."""
        kept: dict[str, Any] = {
            name: {"S": value} for name, field in _LINK_TEXT.items() if (value := getattr(link, field))
        }
        if link.create_lineitem:
            kept["lti_create_lineitem"] = {"BOOL": True}
        dropped = [name for name in _LINK_FIELDS if name not in kept]
        expression = "SET " + ", ".join(f"{name} = :{name}" for name in kept)
        if dropped:
            expression += " REMOVE " + ", ".join(dropped)
        for target in targets:
            self.call(
                "update_item",
                Key=delivery_item_key(client_user_id, media_content_key, target),
                UpdateExpression=expression,
                ExpressionAttributeValues={f":{name}": value for name, value in kept.items()},
            )

    def get_delivery(self, client_user_id: str, media_content_key: str, target: Target) -> StoredDelivery | None:
        key = delivery_item_key(client_user_id, media_content_key, target)
        item = self.call("get_item", Key=key, ConsistentRead=True).get("Item")
        return None if item is None else delivery_from_item(item)

    def redeliver_target(self, client_user_id: str, media_content_key: str, target: Target, now: int) -> bool:
        """Put a completed record's delivery to `target` back to pending; False when there is none."""
        return self._redeliver(delivery_item_key(client_user_id, media_content_key, target), now)

    def redeliver(self, client_user_id: str, media_content_key: str, now: int) -> bool:
        """Put a completed record's webhook back to pending (idempotent); False when not completed."""
        return self._redeliver(record_key(client_user_id, media_content_key), now)

    def _redeliver(self, key: dict[str, Any], now: int) -> bool:
        try:
            self.call(
                "update_item",
                Key=key,
                UpdateExpression=(
                    "SET sync_state = :pending, sync_due = :due, sync_next_at = :now, sync_changed_at = :now, "
                    "sync_attempts = :zero REMOVE sync_completion_sent, sync_progress_sent, sync_last_error"
                ),
                ConditionExpression="attribute_exists(completed_at)",
                ExpressionAttributeValues={
                    ":pending": {"S": SyncState.PENDING.value},
                    ":due": {"S": DUE},
                    ":now": {"N": str(now)},
                    ":zero": {"N": "0"},
                },
            )
        except ConditionFailed:
            return False
        return True
