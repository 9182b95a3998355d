"""`make export`: the table of a running `make run`, exported as DynamoDB exports it to S3 (the same
layout: `AWSDynamoDB/<export id>/manifest-summary.json`, `manifest-files.json` and gzipped data
files of `{"Item": …}` lines, binary values in base64), then the exports function's code over it (the
same routing and per-partition jobs, the queue replaced by a loop) into
`exports/datasets/<dataset>/…parquet`; `make sql Q=reports/<report>.sql` runs a report over them.

DynamoDB Local cannot export, so this reads the table with a scan. It finds the stack from the port
`make run` was started with (`PORT`, default 3000: the stack records its table and DynamoDB Local's
endpoint in `.run/stack-<PORT>.json`). `EXPORT_PSEUDONYMISE=true` with `EXPORT_PSEUDONYMISE_KEY`:
learner ids are replaced by their keyed hash.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import sys
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from kollus_bridge.auth import pseudonymise_key
from kollus_bridge.exports.parquet import query
from kollus_bridge.exports.reports import prelude, run, trino
from kollus_bridge.runtime.exports import Job, apply, process_export
from kollus_bridge.settings import Settings, SettingsError, settings_from
from kollus_bridge.store.export_files import gzipped_lines

from .dynamodb_local import local_client
from .stack import LOCAL_DEFAULTS
from .template import ROOT

#: Where `make export` writes (the bucket's stand-in) and `make sql` reads; `EXPORT_DIR` moves it.
EXPORTS = Path(os.environ.get("EXPORT_DIR") or ROOT / "exports")
DATASETS = EXPORTS / "datasets"
RUN = ROOT / ".run"
#: Items to a data file.
FILE_ITEMS = 10_000


def to_export(value: Any) -> Any:
    """A client's item (binary values as bytes) as an export writes it (base64 text)."""
    if isinstance(value, dict):
        if set(value) == {"B"}:
            return {"B": base64.b64encode(value["B"]).decode()}
        if set(value) == {"BS"}:
            return {"BS": [base64.b64encode(part).decode() for part in value["BS"]]}
        return {name: to_export(inner) for name, inner in value.items()}
    if isinstance(value, list):
        return [to_export(inner) for inner in value]
    return value


def _write(root: Path, export_id: str, kind: str, lines: Iterable[Mapping[str, Any]], prefix: str = "") -> Path:
    """An export's files, `FILE_ITEMS` lines to a data file, written as the lines come, under `prefix`
    (the S3 prefix the export was asked for) in `root` (the bucket)."""
    base = f"{prefix}/AWSDynamoDB/{export_id}" if prefix else f"AWSDynamoDB/{export_id}"
    directory = root / base
    (directory / "data").mkdir(parents=True, exist_ok=True)
    listed: list[dict[str, Any]] = []
    chunk: list[Mapping[str, Any]] = []

    def flush() -> None:
        key = f"{base}/data/{len(listed):05d}-{uuid.uuid4().hex[:8]}.json.gz"
        data = gzipped_lines(json.dumps(line, separators=(",", ":")) for line in chunk)
        (root / key).write_bytes(data)
        md5 = base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()
        listed.append({"itemCount": len(chunk), "md5Checksum": md5, "etag": md5, "dataFileS3Key": key})
        chunk.clear()

    for line in lines:
        chunk.append(line)
        if len(chunk) == FILE_ITEMS:
            flush()
    if chunk or not listed:
        flush()
    (directory / "manifest-files.json").write_text("".join(json.dumps(entry) + "\n" for entry in listed))
    summary = {"version": "2023-08-01", "exportType": kind, "outputFormat": "DYNAMODB_JSON",
               "itemCount": sum(entry["itemCount"] for entry in listed),
               "exportTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}  # fmt: skip
    (directory / "manifest-summary.json").write_text(json.dumps(summary))
    return directory


def write_full_export(items: Iterable[Mapping[str, Any]], root: Path, export_id: str, prefix: str = "") -> Path:
    """A full export of `items` (as a client returns them); its directory."""
    return _write(root, export_id, "FULL_EXPORT", ({"Item": to_export(item)} for item in items), prefix)


def write_incremental_export(changes: Sequence[Mapping[str, Any]], root: Path, export_id: str) -> Path:
    """An incremental export: each change `{"at": microseconds, "keys": …, "new": item | None}`."""
    lines = []
    for change in changes:
        line: dict[str, Any] = {"Metadata": {"WriteTimestampMicros": {"N": str(change["at"])}},
                                "Keys": to_export(change["keys"])}  # fmt: skip
        if change.get("new") is not None:
            line["NewImage"] = to_export(change["new"])
        lines.append(line)
    return _write(root, export_id, "INCREMENTAL_EXPORT", lines)


class DirectoryBucket:
    """`runtime.exports.Bucket` over a directory: a key is a path under it."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def get(self, key: str) -> bytes | None:
        path = self.root / key
        return path.read_bytes() if path.is_file() else None

    def put(self, key: str, data: bytes) -> None:
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    def delete(self, key: str) -> None:
        (self.root / key).unlink(missing_ok=True)

    def keys(self, prefix: str) -> list[str]:
        return sorted(str(path.relative_to(self.root)) for path in self.root.glob(prefix + "**/*") if path.is_file())


def export_datasets(bucket: DirectoryBucket, summary_key: str, settings: Settings) -> list[Job]:
    """The exports function's work on one export, its queue's jobs (and those they make due)
    applied in turn; the jobs applied."""
    key = pseudonymise_key(settings)
    queue: list[Job] = []
    process_export(bucket, summary_key, queue.extend)
    applied: list[Job] = []
    while queue:
        job = queue.pop(0)
        applied.append(job)
        queue += [due for due in apply(bucket, job, settings, key) if due not in queue]
    return applied


def scan(client: Any, table: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in client.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        items += page["Items"]
    return items


def running_stack(port: str) -> dict[str, str]:
    state = RUN / f"stack-{port}.json"
    if not state.exists():
        raise RuntimeError(f"no local stack on port {port} ({state} not found): start `make run` (PORT={port}) first")
    found: dict[str, str] = json.loads(state.read_text())
    return found


def export_main() -> int:
    try:
        stack = running_stack(os.environ.get("PORT", "3000"))
    except RuntimeError as error:
        print(f"make export: {error}", file=sys.stderr)
        return 1
    try:  # the stack's own settings: its local defaults under the environment `make run` was given
        settings = settings_from({**LOCAL_DEFAULTS, **os.environ, "TABLE_NAME": stack["table"]})
    except SettingsError as error:
        print(f"make export: {error}", file=sys.stderr)
        return 1
    items = scan(local_client(stack["dynamodb"]), stack["table"])
    export = write_full_export(items, EXPORTS, time.strftime("%Y%m%dT%H%M%S") + "-local")
    jobs = export_datasets(DirectoryBucket(EXPORTS), f"{export.relative_to(EXPORTS)}/manifest-summary.json", settings)
    print(f"exported {len(items)} items of {stack['table']} to {export}: {len(jobs)} contents")
    for name in sorted(path.name for path in DATASETS.iterdir() if path.is_dir()):
        rows = query(DATASETS, f"SELECT count(*) FROM {name}")[1][0][0]  # noqa: S608 (a dataset's directory)
        print(f"  {DATASETS / name}: {rows} rows")
    return 0


def table_text(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Rows as a plain text table."""
    cells = [[str(column) for column in columns]] + [["" if value is None else str(value) for value in row]
                                                    for row in rows]  # fmt: skip
    widths = [max(len(row[index]) for row in cells) for index in range(len(columns))]
    lines = [" | ".join(value.ljust(width) for value, width in zip(row, widths, strict=True)) for row in cells]
    lines.insert(1, "-+-".join("-" * width for width in widths))
    return "\n".join(lines)


def sql_main(report: str) -> int:
    path = Path(report)
    if not path.is_file():
        known = ", ".join(sorted(str(found.relative_to(ROOT)) for found in (ROOT / "reports").glob("*.sql")))
        print(f"make sql: no report {report!r}; the reports are {known}", file=sys.stderr)
        return 1
    if not any(DATASETS.glob("*/**/*.parquet")):
        print("make sql: no datasets in exports/datasets/: run `make export` first", file=sys.stderr)
        return 1
    columns, rows = run(ROOT / "reports", path, DATASETS)
    print(table_text(columns, rows))
    print(f"({len(rows)} rows)")
    return 0


def athena_main(report: str) -> int:
    """A report and the views it uses, as Athena (Trino) runs them, one statement after another."""
    path = Path(report)
    if not path.is_file():
        print(f"make athena: no report {report!r}", file=sys.stderr)
        return 1
    statements = [*prelude(ROOT / "reports"), path.read_text(encoding="utf-8")]
    print(";\n\n".join(trino(statement) for statement in statements) + ";")
    return 0


if __name__ == "__main__":
    commands = {"sql": sql_main, "athena": athena_main}
    if sys.argv[1:2] and sys.argv[1] in commands:
        if len(sys.argv) < 3:
            sys.exit(f"name a report: make {sys.argv[1]} Q=reports/completion_by_course.sql")
        sys.exit(commands[sys.argv[1]](sys.argv[2]))
    sys.exit(export_main())
