"""From DynamoDB exports to Parquet datasets, one partition at a time.

An export arrives as DynamoDB writes it into the bucket (`AWSDynamoDB/<id>/manifest-summary.json`,
`manifest-files.json`, gzipped data files). `route` checks each data file against the manifest's
checksum and sorts its lines by partition (a content, or the catalog) into `staging/<id>/<partition>`;
`apply` then brings one partition's state (`state/<partition>`, every item with its write time) up to
date with the staged lines and rewrites that partition's Parquet files under `datasets/`. Partitions
are independent, so they are applied in parallel (one at a time each: the queue groups by partition);
a full export replaces what each partition held, an incremental one applies by key and write time, so
exports may be applied in any order. A content's rows name the courses of the learners enrolled in
them (`holding/<content>`, written by the catalog's job): when the catalog's job changes a content's,
it makes that content due again, so it is recomputed even if none of its own items changed.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote, unquote

from kollus_bridge.analytics.compute import learner_activity
from kollus_bridge.exports.datasets import PARTITIONED, catalog_rows, holders, learner_rows, pseudonymiser
from kollus_bridge.exports.parquet import parquet_files
from kollus_bridge.settings import Settings
from kollus_bridge.store.export_files import TableState, data_files, gzipped_lines, json_lines, key_of, lines_of
from kollus_bridge.store.export_items import CATALOG_PARTITION, classify, partition_of

FULL, INCREMENTAL = "FULL_EXPORT", "INCREMENTAL_EXPORT"
SUMMARY = "manifest-summary.json"


class Bucket(Protocol):
    """Where exports, state and datasets are kept (S3 in AWS, a directory locally)."""

    def get(self, key: str) -> bytes | None: ...
    def put(self, key: str, data: bytes) -> None: ...
    def delete(self, key: str) -> None: ...
    def keys(self, prefix: str) -> list[str]: ...


@dataclass(frozen=True)
class Job:
    """One partition of one export to apply (`export` None: recompute the partition as it stands)."""

    partition: str
    export: str | None = None
    kind: str = INCREMENTAL
    at: int = 0  # a full export's time, in microseconds

    def to_json(self) -> dict[str, Any]:
        return {"partition": self.partition, "export": self.export, "kind": self.kind, "at": self.at}

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> Job:
        return cls(str(body["partition"]), body.get("export"), str(body.get("kind", INCREMENTAL)), int(body["at"]))


def _part(partition: str) -> str:
    return quote(partition, safe="")


def state_key(partition: str) -> str:
    return f"state/{_part(partition)}.json.gz"


def staged_key(export: str, partition: str) -> str:
    return f"staging/{export}/{_part(partition)}.json.gz"


def holding_key(content: str) -> str:
    return f"holding/{_part(content)}.json"


def dataset_key(name: str, partition: str) -> str:
    if name in PARTITIONED:
        return f"datasets/{name}/media_content_key={_part(partition)}/data.parquet"
    return f"datasets/{name}/data.parquet"


def _micros(stamp: str) -> int:
    return int(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() * 1_000_000)


class _Staging:
    """Lines sorted by partition into gzip files on local disk (Lambda's /tmp), so that routing an
    export of any size holds at most `limit` characters of lines in memory; gzip members appended
    to a file read back as one stream."""

    def __init__(self, limit: int = 64 << 20) -> None:
        self.limit, self.held = limit, 0
        self.lines: dict[str, list[str]] = {}
        self.directory = tempfile.TemporaryDirectory(prefix="staging-")

    def __enter__(self) -> _Staging:
        return self

    def __exit__(self, *_: object) -> None:
        self.directory.cleanup()

    def _file(self, partition: str) -> Path:
        return Path(self.directory.name) / f"{_part(partition)}.json.gz"

    def add(self, partition: str, line: str) -> None:
        self.lines.setdefault(partition, []).append(line)
        self.held += len(line)
        if self.held >= self.limit:
            self._flush()

    def _flush(self) -> None:
        for partition, lines in self.lines.items():
            if lines:
                with self._file(partition).open("ab") as out:
                    out.write(gzipped_lines(lines))
                lines.clear()
        self.held = 0

    def finish(self, put: Callable[[str, bytes], None]) -> set[str]:
        """Each partition's file handed to `put`; the partitions."""
        self._flush()
        for partition in self.lines:
            put(partition, self._file(partition).read_bytes())
        return set(self.lines)


def route(bucket: Bucket, summary_key: str) -> list[Job]:
    """Stage an export's lines by partition; the jobs that apply it, the catalog's first."""
    prefix = summary_key.removesuffix(SUMMARY)
    export = prefix.rstrip("/").rsplit("/", 1)[-1]
    summary = json.loads(bucket.get(summary_key) or b"{}")
    kind = summary.get("exportType", FULL)
    at = _micros(summary["exportTime"]) if kind == FULL else 0
    manifest = bucket.get(summary.get("manifestFilesS3Key") or prefix + "manifest-files.json")
    if manifest is None:
        raise ValueError(f"{prefix}: the export has no manifest-files.json")
    with _Staging() as staging:
        for listed in data_files(manifest.decode("utf-8")):
            for line in lines_of(bucket.get(listed.path) or b"", listed):
                partition = partition_of(*key_of(line["Item"] if kind == FULL else line["Keys"]))
                if partition is not None:
                    staging.add(partition, json.dumps(line, separators=(",", ":")))
        staged = staging.finish(lambda partition, data: bucket.put(staged_key(export, partition), data))
    partitions = set(staged) | {CATALOG_PARTITION}
    if kind == FULL:  # a partition the export no longer holds is emptied
        partitions |= {_partition_in(key, "state/", ".json.gz") for key in bucket.keys("state/")}
    ordered = [CATALOG_PARTITION, *sorted(partitions - {CATALOG_PARTITION})]
    return [Job(partition, export if partition in staged else None, kind, at) for partition in ordered]


def _partition_in(key: str, prefix: str, suffix: str) -> str:
    """The partition a `state_key` or `holding_key` names."""
    return unquote(key.removeprefix(prefix).removesuffix(suffix))


def _bring_up_to_date(bucket: Bucket, job: Job) -> TableState:
    state = TableState.load(bucket.get(state_key(job.partition)))
    lines = json_lines(bucket.get(staged_key(job.export, job.partition))) if job.export else iter(())
    if job.kind == FULL:
        state.load_full(lines, job.at)
    else:
        state.apply_incremental(lines)
    return state


def _write(bucket: Bucket, partition: str, tables: Mapping[str, list[tuple[Any, ...]]], wanted: Sequence[str]) -> None:
    """The partition's files of each wanted dataset (a partitioned one with no rows has none); the
    files of the others removed."""
    present = {name: rows for name, rows in tables.items() if name in wanted and (rows or name not in PARTITIONED)}
    for name, data in parquet_files(present).items():
        bucket.put(dataset_key(name, partition), data)
    for name in set(tables) - set(present):
        bucket.delete(dataset_key(name, partition))


def apply(bucket: Bucket, job: Job, settings: Settings, pseudonymise_key: bytes | None = None) -> list[Job]:
    """Apply one partition's job; the jobs it makes due (the catalog's: contents whose courses changed)."""
    state = _bring_up_to_date(bucket, job)
    found = classify(state.items.values())
    learner_id = pseudonymiser(pseudonymise_key)
    due: list[Job] = []
    if job.partition == CATALOG_PARTITION:
        tables = catalog_rows(found.entries, found.courses, found.enrolments, learner_id)
        _write(bucket, job.partition, tables, settings.export_datasets)
        held = holders(found.courses, found.enrolments)
        for content in set(held) | {_partition_in(key, "holding/", ".json") for key in bucket.keys("holding/")}:
            data = json.dumps(held.get(content, {}), sort_keys=True).encode()
            if bucket.get(holding_key(content)) != data:
                bucket.put(holding_key(content), data)
                due.append(Job(content))
    else:
        holding = {job.partition: json.loads(bucket.get(holding_key(job.partition)) or b"{}")}
        learners = [
            (record.media_content_key, learner_activity(
                record, found.sessions.get((record.client_user_id, record.media_content_key), []), settings
            ))
            for record in found.records
        ]  # fmt: skip
        _write(bucket, job.partition, learner_rows(learners, holding, learner_id), settings.export_datasets)
    if state.written:
        bucket.put(state_key(job.partition), state.dump())
    else:
        bucket.delete(state_key(job.partition))
    return due


def process_export(bucket: Bucket, summary_key: str, send: Callable[[Sequence[Job]], None]) -> list[Job]:
    """Route an export and `send` its partitions' jobs (the catalog's first); the jobs sent. The
    catalog's job, applied in its turn, makes the contents whose courses changed due (`apply`)."""
    jobs = route(bucket, summary_key)
    send(jobs)
    return jobs
