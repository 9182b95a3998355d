"""A content's own completion rules, `pk=C#<content>`, `sk=RULES` (absent: the defaults apply), and its
grid of record as callbacks revealed it, `sk=GRID` (the finest block count seen, with a duration).
One query reads both."""

from __future__ import annotations

from typing import Any

from .attributes import deserialize
from .table import ConditionFailed, Table, key_part, number_value


def _partition(media_content_key: str) -> dict[str, str]:
    return {"S": "C#" + key_part(media_content_key)}


def _rules_key(media_content_key: str) -> dict[str, Any]:
    return {"pk": _partition(media_content_key), "sk": {"S": "RULES"}}


class Rules(Table):
    def get_rules(self, media_content_key: str) -> dict[str, Any] | None:
        """The content's own rules (None: none), with `known_grid` and `known_duration` when a grid was seen."""
        items = self.call(
            "query",
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": _partition(media_content_key)},
            ConsistentRead=True,
        ).get("Items", [])
        found: dict[str, Any] = {}
        for item in items:
            plain = {name: deserialize(value) for name, value in item.items()}
            if plain["sk"] == "RULES":
                found.update({name: value for name, value in plain.items() if name not in ("pk", "sk")})
            elif plain["sk"] == "GRID":
                found["known_grid"] = int(plain["block_count"])
                if plain.get("duration") is not None:
                    found["known_duration"] = float(plain["duration"])
        return found or None

    def put_rules(
        self,
        media_content_key: str,
        completion_threshold: float,
        ratio: float,
        now: int,
        *,
        max_playback_rate: float | None = None,
        block_count: int | None = None,
    ) -> None:
        item: dict[str, Any] = {
            **_rules_key(media_content_key),
            "completion_threshold": number_value(completion_threshold),
            "min_block_watch_ratio": number_value(ratio),
            "updated_at": {"N": str(now)},
        }
        if max_playback_rate is not None:
            item["max_playback_rate"] = number_value(max_playback_rate)
        if block_count is not None:
            item["block_count"] = {"N": str(block_count)}
        self.call("put_item", Item=item)

    def delete_rules(self, media_content_key: str) -> None:
        self.call("delete_item", Key=_rules_key(media_content_key))

    def raise_grid(self, media_content_key: str, block_count: int, duration: float | None) -> bool:
        """Record a finer grid for the content (never a coarser one); False when one as fine is known."""
        values: dict[str, Any] = {":grid": {"N": str(block_count)}}
        expression = "SET block_count = :grid"
        if duration:
            values[":duration"] = number_value(duration)
            expression += ", #d = :duration"
        try:
            self.call(
                "update_item",
                Key={"pk": _partition(media_content_key), "sk": {"S": "GRID"}},
                UpdateExpression=expression,
                ConditionExpression="attribute_not_exists(block_count) OR block_count < :grid",
                ExpressionAttributeValues=values,
                **({"ExpressionAttributeNames": {"#d": "duration"}} if duration else {}),
            )
        except ConditionFailed:
            return False
        return True
