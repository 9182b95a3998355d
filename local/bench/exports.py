"""Rows 10 and 11: the learning data in SQL.

Row 10, decode and write: full exports of 10^5 and 10^6 sessions (`BENCH_EXPORT_SESSIONS` overrides)
(the items of row 9's class, ingested through the callback use case, copied under new learner ids
and spread over lectures of `SESSIONS_PER_CONTENT` sessions each) routed by partition, and the
catalog's and the first contents' jobs applied (`SAMPLE_JOBS`; the others, alike, counted at their
mean), by the exports function's code in a fresh interpreter: the routing's time and peak memory
(one invocation), the slowest job (one queued job), the total, and so the sessions per second per
GB of Lambda memory. `python -m local.bench.exports` measures rows 10 and 11 alone (on a class of
its own) and writes them into docs/benchmarks.md.

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
SIZES = (100_000, 1_000_000)
#: Sessions of each lecture of the fixture exports (a lecture of about this many learners' viewing).
SESSIONS_PER_CONTENT = 5_000
#: Jobs applied of each export (the catalog's and contents', which are alike); the rest are counted
#: at the mean of those applied, each being a separate invocation.
SAMPLE_JOBS = 9
#: The most memory a Lambda function may have.
LAMBDA_MAX_GB = 10.0
#: The longest a Lambda invocation may run.
LAMBDA_MAX_SECONDS = 900

_BUILD = """
import json, resource, sys, time
from pathlib import Path
from kollus_bridge.runtime.exports import apply, route
from kollus_bridge.settings import settings_from
from local.export import DirectoryBucket
root, summary, sample = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
settings = settings_from({"TABLE_NAME": "bench", "KOLLUS_CALLBACK_TOKEN": "t", "API_TOKEN": "a"})
peak = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
bucket = DirectoryBucket(root)
started = time.perf_counter()
jobs = route(bucket, summary)
routed, route_peak = time.perf_counter() - started, peak()
timed = []
for job in jobs[:sample]:  # the catalog's, then contents' (all alike: the copies' lectures)
    began = time.perf_counter()
    apply(bucket, job, settings)
    timed.append(time.perf_counter() - began)
contents = timed[1:] or [0.0]
total = routed + timed[0] + sum(contents) / len(contents) * (len(jobs) - 1)
print(json.dumps({"route_seconds": routed, "route_peak_mib": route_peak, "seconds": total,
                  "slowest_job_seconds": max(contents), "peak_mib": peak(), "jobs": len(jobs),
                  "applied": len(timed)}))
"""


def _moved(key: str, copy: int, contents: int) -> str:
    """A session's or record's sort key under the copy's lecture (`<content>~<n>`)."""
    if not key.startswith(("P#", "S#")):
        return key
    head, _, rest = key[2:].partition("#")
    moved = f"{key[:2]}{head}~{copy % contents}"
    return f"{moved}#{rest}" if rest else moved


def _cloned(items: Sequence[Mapping[str, Any]], sessions: int) -> Iterator[Mapping[str, Any]]:
    """The class's items, its learners' again under new ids until `sessions` session snapshots,
    spread over lectures of about `SESSIONS_PER_CONTENT` sessions."""
    learners = [item for item in items if item["pk"]["S"].startswith("L#")]
    per_copy = sum(item["sk"]["S"].startswith("S#") for item in learners)
    copies = -(-sessions // per_copy)
    contents = max(1, copies * per_copy // SESSIONS_PER_CONTENT)
    yield from (item for item in items if not item["pk"]["S"].startswith("L#"))
    for copy in range(copies):
        for item in learners:
            yield {
                **item,
                "pk": {"S": f"{item['pk']['S']}~{copy}"},
                "sk": {"S": _moved(item["sk"]["S"], copy, contents)},
            }


def measure_build(items: Sequence[Mapping[str, Any]], sizes: Sequence[int] = SIZES) -> dict[int, dict[str, Any]]:
    results: dict[int, dict[str, Any]] = {}
    path = os.pathsep.join([str(ROOT / "layers" / "bridge"), str(ROOT)])
    for sessions in sizes:
        with tempfile.TemporaryDirectory() as directory:
            root = Path(directory)
            export = write_full_export(_cloned(items, sessions), root, "bench")
            summary = f"{export.relative_to(root)}/manifest-summary.json"
            answer = subprocess.run(
                [sys.executable, "-c", _BUILD, str(root), summary, str(SAMPLE_JOBS)],
                capture_output=True, text=True, check=True, env={**os.environ, "PYTHONPATH": path},
            )  # fmt: skip
            found = json.loads(answer.stdout.strip().splitlines()[-1])
            gigabytes = max(0.125, found["peak_mib"] / 1024)
            results[sessions] = {
                **found,
                "sessions": sessions,
                "per_second_per_gb": sessions / found["seconds"] / gigabytes,
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
    sizes = "; ".join(
        f"{size:,} sessions in {found['jobs']:,} partitions: {found['seconds']:.0f} s in all (routing "
        f"{found['route_seconds']:.0f} s, peak {found['route_peak_mib'] / 1024:.2f} GB; {found['applied']} jobs "
        f"applied, the slowest {found['slowest_job_seconds']:.1f} s), peak {found['peak_mib'] / 1024:.2f} GB"
        for size, found in sorted(built.items())
    )
    largest = built[max(built)]
    scale = 1_000_000 / largest["sessions"]
    route_million = largest["route_seconds"] * scale
    fits = route_million <= LAMBDA_MAX_SECONDS and largest["peak_mib"] / 1024 <= LAMBDA_MAX_GB
    verdict = (
        f"10^6 sessions: routing ~{route_million / 60:.0f} min in one invocation "
        f"({'within' if fits else 'NOT within'} a Lambda's {LAMBDA_MAX_SECONDS // 60} min), then one queued job "
        f"per content of ~{SESSIONS_PER_CONTENT:,} sessions ({largest['slowest_job_seconds']:.1f} s each at most), "
        f"applied in parallel; memory grows with the largest partition, not the table"
    )
    return [
        ("10", "exports: decode and write", sizes,
         f"{largest['per_second_per_gb']:.0f} sessions per second per GB of memory (routing and every job in turn, "
         "at the process's peak)", verdict,
         "a full export of a class's items copied under new learner ids over lectures of "
         f"{SESSIONS_PER_CONTENT:,} sessions, routed (md5-checked, gzip, DynamoDB JSON) and the catalog's and "
         f"{SAMPLE_JOBS - 1} contents' jobs applied into Parquet by the exports function's code in a fresh "
         "interpreter (the other jobs, alike, at their mean); peak resident memory"),
        ("11", "SQL over the datasets (DuckDB)",
         f"coverage, one content of 1,000,000 learners: {sql['coverage']:.2f} s; completion by course over "
         f"10,000,000 records: {sql['completion_by_course']:.2f} s",
         "synthetic Parquet datasets DuckDB writes itself", "-",
         "`reports/coverage.sql` and `reports/completion_by_course.sql` run by `kollus_bridge.exports.reports.run`"),
    ]  # fmt: skip


def main() -> None:
    """Rows 10 and 11 alone, from a class of its own, written into docs/benchmarks.md."""
    from kollus_bridge.settings import settings_from  # noqa: PLC0415
    from kollus_bridge.store.dynamo import DynamoStore  # noqa: PLC0415

    from local.dynamodb_local import DynamoDBLocal, create_tables, unique_suffix  # noqa: PLC0415

    from .analytics import _ingest_class  # noqa: PLC0415
    from .report import DOCUMENT, splice  # noqa: PLC0415

    with DynamoDBLocal() as database:
        client = database.client()
        table = create_tables(client, suffix=unique_suffix())["ProgressTable"]
        environment = {"TABLE_NAME": table, "KOLLUS_CALLBACK_TOKEN": "t", "API_TOKEN": "a"}
        _ingest_class(DynamoStore(table, client), settings_from({**environment, "ENFORCE_PLAYBACK_CLOCK": "false"}))
        measured = measure_exports(database, table)
    DOCUMENT.write_text(splice(DOCUMENT.read_text(encoding="utf-8"), export_rows(measured)), encoding="utf-8")
    print(f"wrote rows 10 and 11 into {DOCUMENT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
