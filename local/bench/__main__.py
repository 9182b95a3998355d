"""`python -m local.bench`: run every measurement and write docs/benchmarks.md."""

from __future__ import annotations

import os
import sys
from typing import Any

from kollus_bridge import outbound

from local.dynamodb_local import DynamoDBLocal
from local.template import ROOT

from .analytics import measure_insights
from .delivery import measure_sync
from .exports import measure_exports
from .handler import measure_cold_start, measure_cpu, measure_memory
from .lambda_cold import measure_lambda_cold
from .reliability import measure_reliability
from .report import DOCUMENT, kept_section, render
from .stack import measure_completion_latency, measure_http, measure_play
from .storage import measure_naive, measure_storage
from .workload import environment, settings_env, workload


def main() -> int:
    outbound.allow_private_targets(True)  # every server the benchmark talks to listens on 127.0.0.1
    learners = int(os.environ.get("BENCH_LEARNERS", "300"))
    print(f"workload: {learners} learners x 3 lectures ...", flush=True)
    reports = workload(learners, 3)
    sample = reports[: min(len(reports), 3000)]
    results: dict[str, Any] = {}
    print("0/10 reliability suites", flush=True)
    results["reliability"] = measure_reliability()
    with DynamoDBLocal() as database, environment(settings_env("ProgressTable", database.endpoint)):
        print("1/10 storage", flush=True)
        results["storage"] = measure_storage(database, sample)
        results["naive"] = measure_naive(database, sample)
        print("2/10 cpu", flush=True)
        results["cpu"] = measure_cpu(sample[:1000])
        print("3/10 cold start", flush=True)
        results["cold"] = measure_cold_start(sample[0])
        results["lambda_cold"] = measure_lambda_cold(sample[0].form_body())
        print("4/10 http", flush=True)
        results["http"] = measure_http(sample[:2000])
        print("5/10 sync", flush=True)
        # A DynamoDB Local of its own: after the storage rows' thousands of writes, DynamoDB Local's
        # writes take several times longer (the ledger write 67 ms against 13 ms), which is not the sweep.
        with DynamoDBLocal() as fresh:
            results["sync"] = measure_sync(fresh)
        print("6/10 memory", flush=True)
        results["memory"] = measure_memory(sample)
        print("7/10 completion latency", flush=True)
        results["latency"] = measure_completion_latency()
        print("8/10 play callback", flush=True)
        results["play"] = measure_play()
        print("9/10 learning analytics", flush=True)
        with DynamoDBLocal() as fresh:
            results["insights"] = measure_insights(fresh)
            print("10/10 exports and SQL", flush=True)
            results["exports"] = measure_exports(fresh, results["insights"]["table"])
    DOCUMENT.parent.mkdir(exist_ok=True)
    kept = kept_section(DOCUMENT.read_text(encoding="utf-8") if DOCUMENT.exists() else "")
    DOCUMENT.write_text(render(results, learners, len(reports), len(sample)) + kept, encoding="utf-8")
    print(f"wrote {DOCUMENT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
