"""What a delivery is about, from and to table keys: a progress record (`L#…`/`P#…`), a record's
delivery to another target (`L#…`/`T#<target>#…`) or a catalog entry (`CATALOG`/`C#…`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from kollus_bridge.delivery.ledger import Deliverable, Subject, Target, subject_of

from .catalog_items import ENTRY_PREFIX, entry_key
from .table import identity_from_key, key_part, learner_partition, record_key

#: The sort key prefix of a record's delivery items (one per target beside the webhook).
DELIVERY_PREFIX = "T#"
_TARGETS = {target.value: target for target in Target if target is not Target.WEBHOOK}


def delivery_item_key(client_user_id: str, media_content_key: str, target: Target) -> dict[str, Any]:
    sk = f"{DELIVERY_PREFIX}{target.value}#{key_part(media_content_key)}"
    return {"pk": learner_partition(client_user_id), "sk": {"S": sk}}


def subject_from_key(item: Mapping[str, Any]) -> Subject | None:
    """The subject an item's key names (None: an item that is none of the three)."""
    pk, sk = item["pk"]["S"], item["sk"]["S"]
    if pk.startswith("L#") and sk.startswith("P#"):
        return Subject(*identity_from_key(item))
    if pk.startswith("L#") and sk.startswith(DELIVERY_PREFIX):
        name, _, content = sk[len(DELIVERY_PREFIX) :].partition("#")
        target = _TARGETS.get(name)
        return None if target is None or not content else Subject(unquote(pk[2:]), unquote(content), target)
    if pk == "CATALOG" and sk.startswith(ENTRY_PREFIX):
        return Subject(None, unquote(sk[len(ENTRY_PREFIX) :]))
    return None


def key_of(subject: tuple[str | None, str] | Subject) -> dict[str, Any]:
    learner, key, *rest = subject
    target = rest[0] if rest else Target.WEBHOOK
    if learner is None:
        return entry_key(key)
    return record_key(learner, key) if target is Target.WEBHOOK else delivery_item_key(learner, key, target)


def delivery_key(item: Deliverable) -> dict[str, Any]:
    return key_of(subject_of(item))
