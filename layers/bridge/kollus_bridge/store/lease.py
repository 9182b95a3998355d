"""Leases, `pk=LEASE`, `sk=<name>`: held by a running sync (`sync`) or reconciliation (`reconcile`) so
that two runs of one never overlap."""

from __future__ import annotations

import contextlib

from .table import ConditionFailed, Table


def lease_key(name: str) -> dict[str, dict[str, str]]:
    return {"pk": {"S": "LEASE"}, "sk": {"S": name}}


class Lease(Table):
    def acquire_lease(self, holder: str, now: int, until: int, name: str = "sync") -> bool:
        """Take a lease (`sync`, `reconcile`) unless another run holds it and it has not expired."""
        try:
            self.call(
                "put_item",
                Item={**lease_key(name), "holder": {"S": holder}, "lease_until": {"N": str(until)}},
                ConditionExpression="attribute_not_exists(pk) OR lease_until < :now",
                ExpressionAttributeValues={":now": {"N": str(now)}},
            )
        except ConditionFailed:
            return False
        return True

    def release_lease(self, holder: str, name: str = "sync") -> None:
        # Taken over after expiry: not ours to delete.
        with contextlib.suppress(ConditionFailed):
            self.call(
                "delete_item",
                Key=lease_key(name),
                ConditionExpression="holder = :holder",
                ExpressionAttributeValues={":holder": {"S": holder}},
            )
