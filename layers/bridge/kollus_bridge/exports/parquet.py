"""Writing the datasets as Parquet, and reading them back with SQL, through DuckDB (in-process, no
server). `learner_content`, `session` and `uservalue` go in one directory per content (`media_content_key=…`,
Hive-style, which Athena's partition projection and DuckDB's `hive_partitioning` both read)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb

from .datasets import PARTITIONED, SCHEMAS


def _quoted(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def write_datasets(tables: Mapping[str, Sequence[Sequence[Any]]], root: Path) -> dict[str, int]:
    """Each dataset under `root/<dataset>/`, replacing what was there; rows written per dataset."""
    written = {}
    with duckdb.connect() as connection:
        for name, rows in tables.items():
            schema = SCHEMAS[name]
            connection.execute(f"CREATE TABLE {name} ({', '.join(f'{column} {kind}' for column, kind in schema)})")
            if rows:
                marks = ", ".join("?" for _ in schema)
                insert = f"INSERT INTO {name} VALUES ({marks})"  # noqa: S608 (a dataset's name from SCHEMAS)
                connection.executemany(insert, [list(row) for row in rows])
            target = root / name
            if target.exists():
                for old in sorted(target.rglob("*"), reverse=True):
                    old.unlink() if old.is_file() else old.rmdir()
            target.mkdir(parents=True, exist_ok=True)
            if name in PARTITIONED and rows:
                connection.execute(
                    f"COPY {name} TO {_quoted(target)} (FORMAT PARQUET, PARTITION_BY (media_content_key), "
                    "OVERWRITE_OR_IGNORE)"
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
        hive = "true" if name in PARTITIONED else "false"
        view = f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM read_parquet({files}, hive_partitioning = {hive})"  # noqa: S608 (a name from SCHEMAS, a quoted path)
        connection.execute(view)


def query(root: Path, sql: str, prelude: Sequence[str] = ()) -> tuple[list[str], list[tuple[Any, ...]]]:
    """A report's columns and rows over the datasets under `root`, after the `prelude`'s statements
    (the reports' shared views)."""
    with duckdb.connect() as connection:
        views(connection, root)
        for statement in prelude:
            connection.execute(statement)
        cursor = connection.execute(sql)
        names = [column[0] for column in cursor.description or []]
        return names, cursor.fetchall()
