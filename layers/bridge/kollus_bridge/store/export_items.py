"""What an export's items hold, read with the same code that reads them from the table: progress
records, each session's newest callback, catalog entries, courses and enrolments. An export writes
binary attributes as base64 text; `from_export` gives them back as the bytes a client returns."""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from kollus_bridge.access.entitlement import Enrolment
from kollus_bridge.access.ports import Course
from kollus_bridge.content.catalog import Entry
from kollus_bridge.kollus.callback import RawCallback
from kollus_bridge.progress.ports import Record

from .catalog_items import CATALOG, ENTRY_PREFIX, entry_from_item
from .courses import COURSES, ENROLMENT_PREFIX, course_from_item, enrolment_from_item
from .record_items import stored_record_from_item
from .snapshots import raw_from_item


def from_export(value: Any) -> Any:
    """An item (or attribute value) of an export with its binary values decoded."""
    if isinstance(value, dict):
        if set(value) == {"B"} and isinstance(value["B"], str):
            return {"B": base64.b64decode(value["B"])}
        if set(value) == {"BS"}:
            return {"BS": [base64.b64decode(part) for part in value["BS"]]}
        return {name: from_export(inner) for name, inner in value.items()}
    if isinstance(value, list):
        return [from_export(inner) for inner in value]
    return value


@dataclass
class Exported:
    """The table's learning data, by kind."""

    records: list[Record] = field(default_factory=list)
    #: (learner, content) -> each session's newest callback
    sessions: dict[tuple[str, str], list[RawCallback]] = field(default_factory=dict)
    entries: list[Entry] = field(default_factory=list)
    courses: list[Course] = field(default_factory=list)
    enrolments: list[Enrolment] = field(default_factory=list)


#: The partition of the catalog, courses and enrolments (no content key starts with `_`).
CATALOG_PARTITION = "_catalog"


def partition_of(pk: str, sk: str) -> str | None:
    """Which part of the datasets an item belongs to: a learner's progress record and sessions to
    their content's (the datasets' `media_content_key=…` directories, each computed on its own), the
    catalog, courses and enrolments to the catalog's, everything else (marks, ledgers, caches) to none."""
    if pk.startswith("L#") and sk.startswith("P#"):
        return unquote(sk[2:])
    if pk.startswith("L#") and sk.startswith("S#"):
        return unquote(sk[2:].rsplit("#", 1)[0])
    if (pk.startswith("L#") and sk.startswith(ENROLMENT_PREFIX)) or pk == COURSES["S"]:
        return CATALOG_PARTITION
    if pk == CATALOG["S"] and sk.startswith(ENTRY_PREFIX):
        return CATALOG_PARTITION
    return None


def classify(items: Iterable[Mapping[str, Any]]) -> Exported:
    """Sort an export's items by what they hold; everything else (marks, ledgers, caches) is left out."""
    found = Exported()
    for raw in items:
        pk, sk = raw["pk"]["S"], raw["sk"]["S"]
        if pk.startswith("L#") and sk.startswith("P#"):
            found.records.append(stored_record_from_item(from_export(raw)))
        elif pk.startswith("L#") and sk.startswith("S#"):
            learner, content = unquote(pk[2:]), unquote(sk[2:].rsplit("#", 1)[0])
            found.sessions.setdefault((learner, content), []).append(raw_from_item(from_export(raw)))
        elif pk.startswith("L#") and sk.startswith(ENROLMENT_PREFIX):
            found.enrolments.append(enrolment_from_item(raw))
        elif pk == COURSES["S"]:
            found.courses.append(course_from_item(raw))
        elif pk == CATALOG["S"] and sk.startswith(ENTRY_PREFIX):
            found.entries.append(entry_from_item(raw))
    return found
