"""What a delivery is about, from and to table keys: a progress record (`L#…`/`P#…`) or a catalog
entry (`CATALOG`/`C#…`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from kollus_bridge.delivery.ledger import Deliverable, Subject, subject_of

from .catalog_items import ENTRY_PREFIX, entry_key
from .table import identity_from_key, record_key


def subject_from_key(item: Mapping[str, Any]) -> Subject | None:
    """The subject an item's key names (None: an item that is neither a record nor an entry)."""
    pk, sk = item["pk"]["S"], item["sk"]["S"]
    if pk.startswith("L#") and sk.startswith("P#"):
        return Subject(*identity_from_key(item))
    if pk == "CATALOG" and sk.startswith(ENTRY_PREFIX):
        return Subject(None, unquote(sk[len(ENTRY_PREFIX) :]))
    return None


def key_of(subject: tuple[str | None, str]) -> dict[str, Any]:
    learner, key = subject
    return entry_key(key) if learner is None else record_key(learner, key)


def delivery_key(item: Deliverable) -> dict[str, Any]:
    return key_of(subject_of(item))
