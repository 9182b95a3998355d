"""Small items that coordinate functions: the Kollus VOD API's request slot (`pk=SLOT`,
`sk=kollus-vod-api`) and when reconciliation last swept every channel (`sk=reconcile-sweep`)."""

from __future__ import annotations

from .table import ConditionFailed, Table


class Slots(Table):
    def take_slot(self, name: str, now: int, interval_ms: int) -> int | None:
        """Take the next request slot (None), or learn until when it is taken (epoch ms)."""
        try:
            self.call(
                "update_item",
                Key={"pk": {"S": "SLOT"}, "sk": {"S": name}},
                UpdateExpression="SET next_at = :next",
                ConditionExpression="attribute_not_exists(next_at) OR next_at <= :now",
                ExpressionAttributeValues={":now": {"N": str(now)}, ":next": {"N": str(now + interval_ms)}},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ConditionFailed as failed:
            return int(failed.item.get("next_at", {}).get("N", str(now + interval_ms)))
        return None

    def last_sweep(self) -> int | None:
        item = self.call("get_item", Key={"pk": {"S": "SLOT"}, "sk": {"S": "reconcile-sweep"}}).get("Item")
        return None if item is None else int(item["done_at"]["N"])

    def sweep_done(self, at: int) -> None:
        self.call("put_item", Item={"pk": {"S": "SLOT"}, "sk": {"S": "reconcile-sweep"}, "done_at": {"N": str(at)}})
