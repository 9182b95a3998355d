"""The reports: SQL files over the datasets, in DuckDB's dialect, run by DuckDB here and, transpiled
by sqlglot to Trino's, by Athena. Each report may use the shared views (`views/<name>.sql`, made
first, in `VIEWS` order)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlglot

from .parquet import query

#: The shared views, each on the ones before it.
VIEWS = ("grid", "counted")


def prelude(reports: Path) -> list[str]:
    return [(reports / "views" / f"{name}.sql").read_text(encoding="utf-8") for name in VIEWS]


def run(reports: Path, report: Path, data: Path) -> tuple[list[str], list[tuple[Any, ...]]]:
    """A report's columns and rows over the datasets under `data`."""
    return query(data, report.read_text(encoding="utf-8"), prelude(reports))


def trino(sql: str) -> str:
    """A report (or view) as Athena runs it."""
    return ";\n".join(sqlglot.transpile(sql, read="duckdb", write="trino", pretty=True))
