"""DynamoDB table exports as S3 holds them (`ExportTableToPointInTime`, format DYNAMODB_JSON): a
manifest naming gzipped data files, each checked against its `md5Checksum` before a line is read; a
full export's `{"Item": …}` lines make the table's state, and an incremental export's changes
(`{"Metadata": {"WriteTimestampMicros": …}, "Keys": …, "NewImage"?: …}`) apply on top of it: per key
the newest write wins, an image-less change deletes. Pure over bytes: S3 access stays in the caller.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from kollus_bridge.errors import InvalidRequest

Key = tuple[str, str]


@dataclass(frozen=True)
class DataFile:
    """One data file of an export, as `manifest-files.json` lists it."""

    path: str
    md5: str  # base64 of the file's MD5, as the manifest gives it
    items: int


def data_files(manifest: str) -> list[DataFile]:
    """The data files a `manifest-files.json` lists (one JSON object a line)."""
    found = []
    for line in manifest.splitlines():
        if line.strip():
            entry = json.loads(line)
            found.append(DataFile(entry["dataFileS3Key"], entry["md5Checksum"], int(entry["itemCount"])))
    return found


def gzipped_lines(lines: Iterable[str]) -> bytes:
    """Text lines as one gzip member (members appended to a file read back as one stream)."""
    return gzip.compress("".join(line + "\n" for line in lines).encode("utf-8"), compresslevel=5)


def json_lines(data: bytes | None) -> Iterator[dict[str, Any]]:
    """Each JSON line of gzipped bytes (blank lines skipped; no bytes, no lines)."""
    for line in gzip.decompress(data).decode("utf-8").splitlines() if data else ():
        if line.strip():
            yield json.loads(line)


def lines_of(data: bytes, listed: DataFile) -> Iterator[dict[str, Any]]:
    """A data file's lines, once its bytes match the manifest's checksum."""
    digest = base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()
    if digest != listed.md5:
        raise InvalidRequest(f"{listed.path}: md5 {digest} is not the manifest's {listed.md5}", field="md5Checksum")
    yield from json_lines(data)


def key_of(item: Mapping[str, Any]) -> Key:
    return item["pk"]["S"], item["sk"]["S"]


@dataclass
class TableState:
    """The table's items by key, and the time of the write each came from (microseconds). A deleted
    key keeps its time (a tombstone), so an older change arriving later cannot bring it back; `floor`
    is the time of the newest full export applied: no change at or before it counts."""

    items: dict[Key, dict[str, Any]] = field(default_factory=dict)
    written: dict[Key, int] = field(default_factory=dict)
    floor: int = 0

    def load_full(self, lines: Iterable[Mapping[str, Any]], at: int = 0) -> None:
        """A full export taken at `at`: its items replace those written at or before then; a key written
        since (by an incremental export applied first) keeps its newer state."""
        newer = {key: when for key, when in self.written.items() if when > at}
        items = {key: self.items[key] for key in newer if key in self.items}
        written = dict(newer)
        for line in lines:
            item = line["Item"]
            key = key_of(item)
            if key not in newer:
                items[key], written[key] = item, at
        self.items, self.written, self.floor = items, written, max(self.floor, at)

    def apply_incremental(self, lines: Iterable[Mapping[str, Any]]) -> None:
        """Changes in any order: per key, only a write newer than the one held (and the floor) counts."""
        for line in lines:
            key = key_of(line["Keys"])
            at = int(line["Metadata"]["WriteTimestampMicros"]["N"])
            if at <= max(self.written.get(key, -1), self.floor):
                continue
            self.written[key] = at
            image = line.get("NewImage")
            if image is None:
                self.items.pop(key, None)
            else:
                self.items[key] = image

    def dump(self) -> bytes:
        """The state as gzipped JSON lines (tombstones included), for `TableState.load`."""
        lines = [json.dumps({"floor": self.floor})]
        lines += [json.dumps({"key": list(key), "at": at, "item": self.items.get(key)}, separators=(",", ":"))
                  for key, at in self.written.items()]  # fmt: skip
        return gzipped_lines(lines)

    @classmethod
    def load(cls, data: bytes | None) -> TableState:
        state = cls()
        lines = json_lines(data)
        state.floor = int(next(lines, {"floor": 0})["floor"])
        for entry in lines:
            key = (entry["key"][0], entry["key"][1])
            state.written[key] = int(entry["at"])
            if entry["item"] is not None:
                state.items[key] = entry["item"]
        return state
