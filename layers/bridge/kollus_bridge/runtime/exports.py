"""From DynamoDB exports to Parquet datasets: read an export (a full one, or incremental ones on top
of the state so far), decode the learning data with the code the analytics use, write the datasets.

An export is a directory as S3 holds it under the export's prefix: `manifest-summary.json`
(`exportType` FULL_EXPORT or INCREMENTAL_EXPORT) and `manifest-files.json`, whose `dataFileS3Key`s are
relative to the bucket's root (`root` here)."""

from __future__ import annotations

import json
from pathlib import Path

from kollus_bridge.analytics.compute import learner_activity
from kollus_bridge.exports.datasets import Learning, rows
from kollus_bridge.exports.parquet import write_datasets
from kollus_bridge.settings import Settings
from kollus_bridge.store.export_files import TableState, data_files, lines_of
from kollus_bridge.store.export_items import classify

FULL, INCREMENTAL = "FULL_EXPORT", "INCREMENTAL_EXPORT"


def read_export(root: Path, export: Path, state: TableState | None = None) -> TableState:
    """The table's state after `export` (a full export starts afresh; an incremental one applies to
    `state`), every data file checked against the manifest's checksum."""
    summary = json.loads((export / "manifest-summary.json").read_text(encoding="utf-8"))
    kind = summary.get("exportType", FULL)
    if kind == INCREMENTAL and state is None:
        raise ValueError(f"{export}: an incremental export applies on top of a full one; read that first")
    state = TableState() if kind == FULL or state is None else state
    for listed in data_files((export / "manifest-files.json").read_text(encoding="utf-8")):
        lines = lines_of((root / listed.path).read_bytes(), listed)
        if kind == FULL:
            state.load_full(lines)
        else:
            state.apply_incremental(lines)
    return state


def learning(state: TableState, settings: Settings) -> Learning:
    """The table's learning data, each record read with its sessions as the analytics read them."""
    found = classify(state.items.values())
    learners = [
        (record.media_content_key, learner_activity(
            record, found.sessions.get((record.client_user_id, record.media_content_key), []), settings
        ))
        for record in found.records
    ]  # fmt: skip
    return Learning(learners, found.entries, found.courses, found.enrolments)


def build(state: TableState, settings: Settings, out: Path, pseudonymise_key: bytes | None = None) -> dict[str, int]:
    """Every dataset of the table's state under `out`; rows written per dataset."""
    return write_datasets(rows(learning(state, settings), pseudonymise_key), out)
