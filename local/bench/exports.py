"""Rows 10 and 11: the learning data in SQL.

Row 10, decode and write: a full export of 10^5 sessions (`BENCH_EXPORT_SESSIONS=100000,1000000`
for 10^6 too, which takes about 26 GB on one machine) (the items of row 9's class,
ingested through the callback use case, copied under new learner ids) read and turned into the
Parquet datasets by the export code, each size in a fresh interpreter: the time, the peak resident
memory, and so the sessions per second per GB of Lambda memory it would need.

Row 11, DuckDB: the coverage report over one content of 10^6 learners, and completion by course over
10^7 records (10^6 learners x 10 lectures), on synthetic datasets DuckDB writes itself.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from local.export import scan, write_full_export
from local.template import ROOT

#: Sessions of the fixture exports (`BENCH_EXPORT_SESSIONS`, comma-separated, overrides).
SIZES = (100_000,)
#: The most memory a Lambda function may have.
LAMBDA_MAX_GB = 10.0
#: The longest a Lambda invocation may run.
LAMBDA_MAX_SECONDS = 900

_BUILD = """
import json, resource, sys, time
from pathlib import Path
from kollus_bridge.runtime.exports import build, read_export
from kollus_bridge.settings import settings_from
root, export, out = map(Path, sys.argv[1:4])
settings = settings_from({"TABLE_NAME": "bench", "KOLLUS_CALLBACK_TOKEN": "t", "API_TOKEN": "a"})
started = time.perf_counter()
written = build(read_export(root, export), settings, out)
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "peak_mib": peak, "rows": written}))
"""


def _cloned(items: Sequence[Mapping[str, Any]], sessions: int) -> Iterator[Mapping[str, Any]]:
    """The class's items, its learners' again under new ids until `sessions` session snapshots."""
    learners = [item for item in items if item["pk"]["S"].startswith("L#")]
    per_copy = sum(item["sk"]["S"].startswith("S#") for item in learners)
    yield from (item for item in items if not item["pk"]["S"].startswith("L#"))
    for copy in range(-(-sessions // per_copy)):
        for item in learners:
            yield {**item, "pk": {"S": f"{item['pk']['S']}~{copy}"}} if copy else item


def measure_build(items: Sequence[Mapping[str, Any]], sizes: Sequence[int] = SIZES) -> dict[int, dict[str, Any]]:
    results: dict[int, dict[str, Any]] = {}
    path = os.pathsep.join([str(ROOT / "layers" / "bridge"), str(ROOT)])
    for sessions in sizes:
        with tempfile.TemporaryDirectory() as directory:
            root = Path(directory)
            export = write_full_export(_cloned(items, sessions), root / "raw", "bench")
            answer = subprocess.run(
                [sys.executable, "-c", _BUILD, str(root / "raw"), str(export), str(root / "datasets")],
                capture_output=True, text=True, check=True, env={**os.environ, "PYTHONPATH": path},
            )  # fmt: skip
            found = json.loads(answer.stdout.strip().splitlines()[-1])
            written = found["rows"]["session"]
            gigabytes = max(0.125, found["peak_mib"] / 1024)
            results[sessions] = {
                **found,
                "sessions": written,
                "per_second_per_gb": written / found["seconds"] / gigabytes,
            }
    return results


def measure_sql(learners: int = 1_000_000, lectures: int = 10) -> dict[str, float]:
    """The coverage report over one content of `learners` learners, and completion by course over
    `learners` x `lectures` records, on datasets DuckDB generates (`synthetic.sql`)."""
    import duckdb  # noqa: PLC0415
    from kollus_bridge.exports.reports import run  # noqa: PLC0415

    reports = ROOT / "reports"
    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        for name in ("learner_content", "session", "content", "enrollment", "course", "uservalue"):
            (root / name).mkdir()
        script = (Path(__file__).parent / "synthetic.sql").read_text(encoding="utf-8")
        lines = "\n".join(line for line in script.splitlines() if not line.startswith("--"))
        statements = [part for part in lines.format(learners=learners, lectures=lectures, root=root).split(";")
                      if part.strip()]  # fmt: skip
        with duckdb.connect() as connection:
            for statement in statements[:3]:  # the seed, the content's learners and their sessions
                connection.execute(statement)
            started = time.perf_counter()
            run(reports, reports / "coverage.sql", root)
            timings["coverage"] = time.perf_counter() - started
            for statement in statements[3:]:  # the course
                connection.execute(statement)
        started = time.perf_counter()
        (row,) = run(reports, reports / "completion_by_course.sql", root)[1]
        timings["completion_by_course"] = time.perf_counter() - started
        assert row[3] == learners and row[4] == learners * lectures, row
    return timings


def measure_exports(database: Any, table: str) -> dict[str, Any]:
    """Both rows, from the table row 9 filled (its 10,000 learners' items)."""
    sizes = tuple(int(size) for size in os.environ.get("BENCH_EXPORT_SESSIONS", "").split(",") if size) or SIZES
    items = scan(database.client(), table)
    return {"build": measure_build(items, sizes), "sql": measure_sql()}


def export_rows(measured: dict[str, Any]) -> list[tuple[str, str, str, str, str, str]]:
    """Rows 10 and 11 of docs/benchmarks.md."""
    built, sql = measured["build"], measured["sql"]
    sizes = ", ".join(
        f"{size:,} sessions: {found['seconds']:.0f} s, peak {found['peak_mib'] / 1024:.1f} GB"
        for size, found in sorted(built.items())
    )
    largest = built[max(built)]
    per_session_gb = largest["peak_mib"] / 1024 / largest["sessions"]
    fits = int(LAMBDA_MAX_GB / per_session_gb)
    million_gb = per_session_gb * 1_000_000
    million_seconds = largest["seconds"] / largest["sessions"] * 1_000_000
    one = million_gb <= LAMBDA_MAX_GB and million_seconds <= LAMBDA_MAX_SECONDS
    verdict = "one Lambda does" if one else "NOT one Lambda: split by content partition"
    return [
        ("10", "exports: decode and write", sizes,
         f"{largest['per_second_per_gb']:.0f} sessions per second per GB of memory",
         f"one Lambda ({LAMBDA_MAX_GB:g} GB, {LAMBDA_MAX_SECONDS // 60} min) holds about {fits:,} sessions; 10^6 would "
         f"take ~{million_gb:.0f} GB and ~{million_seconds / 60:.0f} min here: {verdict}",
         "a full export of row 9's class copied under new learner ids, read (md5-checked, gzip, DynamoDB JSON) and "
         "written as the Parquet datasets by the export code in a fresh interpreter; peak resident memory"),
        ("11", "SQL over the datasets (DuckDB)",
         f"coverage, one content of 1,000,000 learners: {sql['coverage']:.2f} s; completion by course over "
         f"10,000,000 records: {sql['completion_by_course']:.2f} s",
         "synthetic Parquet datasets DuckDB writes itself", "-",
         "`reports/coverage.sql` and `reports/completion_by_course.sql` run by `kollus_bridge.exports.reports.run`"),
    ]  # fmt: skip
