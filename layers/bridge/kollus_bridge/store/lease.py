"""The sync lease, `pk=LEASE`, `sk=sync`: held by the running completion sync so runs never overlap."""

from __future__ import annotations

import contextlib

from .table import ConditionFailed, Table

LEASE_KEY = {"pk": {"S": "LEASE"}, "sk": {"S": "sync"}}


class Lease(Table):
    def acquire_lease(self, holder: str, now: int, until: int) -> bool:
        """Take the sync lease unless another run holds one that has not expired."""
        try:
            self.call(
                "put_item",
                Item={**LEASE_KEY, "holder": {"S": holder}, "lease_until": {"N": str(until)}},
                ConditionExpression="attribute_not_exists(pk) OR lease_until < :now",
                ExpressionAttributeValues={":now": {"N": str(now)}},
            )
        except ConditionFailed:
            return False
        return True

    def release_lease(self, holder: str) -> None:
        # Taken over after expiry: not ours to delete.
        with contextlib.suppress(ConditionFailed):
            self.call(
                "delete_item",
                Key=LEASE_KEY,
                ConditionExpression="holder = :holder",
                ExpressionAttributeValues={":holder": {"S": holder}},
            )
