"""The table's change stream (DynamoDB Streams, as Lambda hands it over): which records an event names.

Only progress records (`sk=P#…`) are taken; the template's filter already lets through only those that
became due.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .table import identity_from_key


def changed_records(event: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(learner, content) of each progress record a stream event names, in order."""
    found = []
    for record in event.get("Records") or []:
        keys = (record.get("dynamodb") or {}).get("Keys") or {}
        pk, sk = keys.get("pk", {}).get("S", ""), keys.get("sk", {}).get("S", "")
        if pk.startswith("L#") and sk.startswith("P#"):
            found.append(identity_from_key(keys))
    return found
