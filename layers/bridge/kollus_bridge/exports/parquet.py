"""Writing the datasets as Parquet, and reading them back with SQL, through DuckDB (in-process, no
server). `learner_content`, `session` and `uservalue` go in one directory per content
(`media_content_key=…`, so that a content's files are rewritten alone); every file holds all its
dataset's columns, so a reader needs no partition scheme (Athena's tables read the dataset's prefix)."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from .datasets import PARTITIONED, SCHEMAS


def _connect() -> duckdb.DuckDBPyConnection:
    """An in-memory database whose home is the temporary directory (Lambda has no writable home)."""
    return duckdb.connect(config={"home_directory": tempfile.gettempdir()})


def _quoted(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _json(value: Any) -> Any:
    return value.isoformat(sep=" ") if isinstance(value, datetime) else value


def _staged(name: str, rows: Sequence[Sequence[Any]], directory: Path) -> Path:
    """A dataset's rows as JSON lines, which DuckDB reads in bulk (row by row inserts are ~100x slower)."""
    columns = [column for column, _ in SCHEMAS[name]]
    path = directory / f"{name}.json"
    with path.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps({column: _json(value) for column, value in zip(columns, row, strict=True)}) + "\n")
    return path


def _load(connection: duckdb.DuckDBPyConnection, name: str, rows: Sequence[Sequence[Any]], staging: Path) -> None:
    types = "{" + ", ".join(f"'{column}': '{kind}'" for column, kind in SCHEMAS[name]) + "}"
    read = f"read_json({_quoted(_staged(name, rows, staging))}, format = 'newline_delimited', columns = {types})"
    connection.execute(f"CREATE TABLE {name} AS SELECT * FROM {read}")  # noqa: S608 (names, types: SCHEMAS)


def parquet_files(tables: Mapping[str, Sequence[Sequence[Any]]]) -> dict[str, bytes]:
    """Each dataset's rows as one Parquet file."""
    files = {}
    with _connect() as connection, tempfile.TemporaryDirectory() as staging:
        for name, rows in tables.items():
            _load(connection, name, rows, Path(staging))
            target = Path(staging) / f"{name}.parquet"
            connection.execute(f"COPY {name} TO {_quoted(target)} (FORMAT PARQUET)")
            files[name] = target.read_bytes()
    return files


def write_datasets(tables: Mapping[str, Sequence[Sequence[Any]]], root: Path) -> dict[str, int]:
    """Each dataset under `root/<dataset>/`, replacing what was there; rows written per dataset."""
    written = {}
    with _connect() as connection, tempfile.TemporaryDirectory() as staging:
        for name, rows in tables.items():
            _load(connection, name, rows, Path(staging))
            target = root / name
            if target.exists():
                shutil.rmtree(target)
            target.mkdir(parents=True)
            if name in PARTITIONED and rows:
                connection.execute(
                    f"COPY {name} TO {_quoted(target)} (FORMAT PARQUET, PARTITION_BY (media_content_key), "
                    "WRITE_PARTITION_COLUMNS true, OVERWRITE_OR_IGNORE)"
                )
            else:
                connection.execute(f"COPY {name} TO {_quoted(target / 'data.parquet')} (FORMAT PARQUET)")
            written[name] = len(rows)
    return written


def views(connection: duckdb.DuckDBPyConnection, root: Path) -> None:
    """A view per dataset over its Parquet files, named as the dataset (what the reports query)."""
    for name in SCHEMAS:
        files = _quoted(root / name / "**" / "*.parquet")
        if not any((root / name).rglob("*.parquet")):
            columns = ", ".join(f"CAST(NULL AS {kind}) AS {column}" for column, kind in SCHEMAS[name])
            connection.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT {columns} WHERE false")
            continue
        view = f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM read_parquet({files}, hive_partitioning = false)"  # noqa: S608 (a name from SCHEMAS, a quoted path)
        connection.execute(view)


def query(root: Path, sql: str, prelude: Sequence[str] = ()) -> tuple[list[str], list[tuple[Any, ...]]]:
    """A report's columns and rows over the datasets under `root`, after the `prelude`'s statements
    (the reports' shared views)."""
    with _connect() as connection:
        views(connection, root)
        for statement in prelude:
            connection.execute(statement)
        cursor = connection.execute(sql)
        names = [column[0] for column in cursor.description or []]
        return names, cursor.fetchall()
