"""Play approvals, `pk=L#<learner>`, `sk=A#<content>#<device>#<way>`: for each way of playing
(`streaming`, approved by the play callback; `download`, by the DRM callback) the first approval time
and the latest expiry granted, in unix seconds. Kept `APPROVAL_KEEP_DAYS` past that expiry (TTL
`expires_at`), so that progress a device resends late still finds the approval of its session."""

from __future__ import annotations

import contextlib

from kollus_bridge.progress.ports import Approval

from .table import ConditionFailed, Table, key_part, learner_partition

#: Days an approval is kept after its latest expiry.
APPROVAL_KEEP_DAYS = 90
WAYS = ("streaming", "download")


def _prefix(media_content_key: str, device: str) -> str:
    return f"A#{key_part(media_content_key)}#{key_part(device)}#"


class Approvals(Table):
    def approve(
        self, client_user_id: str, media_content_key: str, device: str, *, via: str, at: int, until: int
    ) -> None:
        """Record that `device` may play by way of `via` from `at` until `until` (seconds): the first
        approval time stays, the expiry only grows (a write that would shorten it changes nothing)."""
        if via not in WAYS:
            raise ValueError(f"unknown way of playing: {via}")
        key = {"pk": learner_partition(client_user_id), "sk": {"S": _prefix(media_content_key, device) + via}}
        with contextlib.suppress(ConditionFailed):
            self.call(
                "update_item",
                Key=key,
                UpdateExpression="SET approved_from = if_not_exists(approved_from, :at), approved_until = :until, "
                "expires_at = :keep",
                ConditionExpression="attribute_not_exists(approved_until) OR approved_until < :until",
                ExpressionAttributeValues={
                    ":at": {"N": str(at)},
                    ":until": {"N": str(until)},
                    ":keep": {"N": str(until + APPROVAL_KEEP_DAYS * 86_400)},
                },
            )

    def approval(self, client_user_id: str, media_content_key: str, device: str) -> Approval | None:
        """The device's approvals for this learner and content (one query), None when it has none."""
        prefix = _prefix(media_content_key, device)
        items = self.call(
            "query",
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":pk": learner_partition(client_user_id), ":prefix": {"S": prefix}},
            ConsistentRead=True,
        ).get("Items", [])
        windows: dict[str, tuple[int, int]] = {}
        for item in items:
            via = item["sk"]["S"].removeprefix(prefix)
            if via in WAYS:
                windows[via] = (int(item["approved_from"]["N"]), int(item["approved_until"]["N"]))
        if not windows:
            return None
        return Approval(streaming=windows.get("streaming"), download=windows.get("download"))
