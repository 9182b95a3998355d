"""The table's change stream (DynamoDB Streams, as Lambda hands it over): which records an event names.

Only progress records and catalog entries are taken; the template's filter already lets through only
those that became due.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kollus_bridge.delivery.ledger import Subject

from .subjects import subject_from_key


def changed_records(event: Mapping[str, Any]) -> list[Subject]:
    """The subject of each progress record or catalog entry a stream event names, in order."""
    found = []
    for record in event.get("Records") or []:
        keys = (record.get("dynamodb") or {}).get("Keys") or {}
        if "S" in keys.get("pk", {}) and "S" in keys.get("sk", {}) and (subject := subject_from_key(keys)):
            found.append(subject)
    return found
