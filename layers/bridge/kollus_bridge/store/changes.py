"""The table's change stream (DynamoDB Streams, as Lambda hands it over): which records an event names.

`changed_records` takes only progress records and catalog entries (the template's filter already lets
through only those that became due); `wanted_insights` and `insight_shards`, only the marks asking
for insights and the shards of a large content's count; `wanted_rosters`, the rosters asked to sync.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kollus_bridge.analytics.shards import Shard
from kollus_bridge.delivery.ledger import Subject

from .insights import unpack
from .subjects import subject_from_key


def changed_records(event: Mapping[str, Any]) -> list[Subject]:
    """The subject of each progress record or catalog entry a stream event names, in order."""
    found = []
    for record in event.get("Records") or []:
        keys = (record.get("dynamodb") or {}).get("Keys") or {}
        if "S" in keys.get("pk", {}) and "S" in keys.get("sk", {}) and (subject := subject_from_key(keys)):
            found.append(subject)
    return found


def wanted_insights(event: Mapping[str, Any]) -> dict[tuple[str, str], int]:
    """(content, scope) -> when asked, for each insights mark a stream event carries (the newest ask)."""
    wanted: dict[tuple[str, str], int] = {}
    for record in event.get("Records") or []:
        image = (record.get("dynamodb") or {}).get("NewImage") or {}
        try:
            key = (image["wanted_content"]["S"], image["wanted_scope"]["S"])
            asked = int(image["insights_wanted"]["N"])
        except (KeyError, TypeError, ValueError):
            continue
        wanted[key] = max(asked, wanted.get(key, asked))
    return wanted


def wanted_rosters(event: Mapping[str, Any]) -> list[str]:
    """The course of each roster a stream event asks a sync of, once each, in order."""
    found: dict[str, None] = {}
    for record in event.get("Records") or []:
        image = (record.get("dynamodb") or {}).get("NewImage") or {}
        if "N" in image.get("roster_wanted", {}) and "S" in image.get("course_id", {}):
            found[image["course_id"]["S"]] = None
    return list(found)


def insight_shards(event: Mapping[str, Any]) -> list[Shard]:
    """Each shard mark a stream event carries (a shard handed over twice is counted once by its job)."""
    found = []
    for record in event.get("Records") or []:
        image = (record.get("dynamodb") or {}).get("NewImage") or {}
        try:
            learners = tuple(unpack(image["shard_learners"])["learners"])
            found.append(
                Shard(
                    image["shard_content"]["S"],
                    image["shard_scope"]["S"],
                    int(image["insights_shard"]["N"]),
                    int(image["shard_index"]["N"]),
                    learners,
                )
            )
        except (KeyError, TypeError, ValueError):
            continue
    return found
