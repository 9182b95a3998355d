"""A learner's playing devices, `pk=L#<learner>`, `sk=DEVICES`: device -> last seen (epoch ms), with a
revision; admission is a write conditioned on the revision read. Progress callbacks refresh a device
that is already there, in a write that changes nothing else."""

from __future__ import annotations

import contextlib
from typing import Any

from .table import ConditionFailed, Table, learner_partition


def devices_key(client_user_id: str) -> dict[str, Any]:
    return {"pk": learner_partition(client_user_id), "sk": {"S": "DEVICES"}}


class Devices(Table):
    def get_devices(self, client_user_id: str) -> tuple[dict[str, int], int]:
        item = self.call("get_item", Key=devices_key(client_user_id), ConsistentRead=True).get("Item")
        if item is None:
            return {}, 0
        devices = {name: int(value["N"]) for name, value in item.get("devices", {}).get("M", {}).items()}
        return devices, int(item["rev"]["N"])

    def put_devices(self, client_user_id: str, devices: dict[str, int], rev: int) -> bool:
        """Replace the learner's devices unless they changed since `rev` was read; False when they did."""
        request: dict[str, Any] = {
            "Item": {
                **devices_key(client_user_id),
                "devices": {"M": {name: {"N": str(seen)} for name, seen in devices.items()}},
                "rev": {"N": str(rev + 1)},
            },
            "ConditionExpression": "attribute_not_exists(pk)" if rev == 0 else "rev = :rev",
        }
        if rev:
            request["ExpressionAttributeValues"] = {":rev": {"N": str(rev)}}
        try:
            self.call("put_item", **request)
        except ConditionFailed:
            return False
        return True

    def touch_device(self, client_user_id: str, device: str, now: int) -> None:
        """A progress callback from a playing device keeps it playing (no-op for an unknown device)."""
        with contextlib.suppress(ConditionFailed):
            self.call(
                "update_item",
                Key=devices_key(client_user_id),
                UpdateExpression="SET devices.#d = :now",
                ConditionExpression="attribute_exists(devices.#d) AND devices.#d < :now",
                ExpressionAttributeNames={"#d": device},
                ExpressionAttributeValues={":now": {"N": str(now)}},
            )
