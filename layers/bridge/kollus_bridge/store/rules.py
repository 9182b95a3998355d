"""A content's own completion rules, `pk=C#<content>`, `sk=RULES` (absent: the defaults apply)."""

from __future__ import annotations

from typing import Any

from .table import Table, deserializer, key_part, number_value


def _rules_key(media_content_key: str) -> dict[str, Any]:
    return {"pk": {"S": "C#" + key_part(media_content_key)}, "sk": {"S": "RULES"}}


class Rules(Table):
    def get_rules(self, media_content_key: str) -> dict[str, Any] | None:
        response = self.call("get_item", Key=_rules_key(media_content_key), ConsistentRead=True)
        item = response.get("Item")
        return None if item is None else {name: deserializer.deserialize(value) for name, value in item.items()}

    def put_rules(self, media_content_key: str, completion_threshold: float, ratio: float, now: int) -> None:
        self.call(
            "put_item",
            Item={
                **_rules_key(media_content_key),
                "completion_threshold": number_value(completion_threshold),
                "min_block_watch_ratio": number_value(ratio),
                "updated_at": {"N": str(now)},
            },
        )

    def delete_rules(self, media_content_key: str) -> None:
        self.call("delete_item", Key=_rules_key(media_content_key))
