"""A month's cost at 1,000, 10,000 and 100,000 learners (the README's table): the cost per million
callbacks and the exports' sessions per second per GB that `make bench` measured
(docs/benchmarks.md), the resources the template keeps whatever the traffic, and what grows with the
learners. `python -m local.bench.monthly` prints the table.

The learning data in SQL (docs/exports.md) is priced from: a daily full export of the table and an
hourly incremental one (each change's new and old images; at least 10 MB billed an export), the
exports function's time at the measured rate (the full export's sessions daily, and each hour the
partitions a change touched, which `ACTIVE_SHARE` of the sessions are in), S3 for the raw exports
kept `ExportKeepDays` and the datasets and state, and Athena scanning the datasets for each report
daily."""

from __future__ import annotations

import re
import sys
from collections import Counter

from local.template import load_template

from .report import DOCUMENT

#: A learner watches about ten hours of lectures a month: an LMS callback a minute and one on each
#: pause (~660), and the play callback's two questions for each of ~20 plays.
CALLBACKS_PER_LEARNER = 700
#: What the table holds per learner: records and session snapshots of ~20 lectures.
STORED_KB_PER_LEARNER = 80
#: Log ingested per callback: Lambda's START/END/REPORT lines and the handler's one line.
LOG_KB_PER_CALLBACK = 1.0
SIZES = (1_000, 10_000, 100_000)
#: Sessions the table holds per learner (~20 lectures, three sittings each).
SESSIONS_PER_LEARNER = 60
#: An incremental export's line per callback: the record's and the session's new and old images.
CHANGE_KB_PER_CALLBACK = 4.0
#: Share of the sessions in partitions an hour's changes touch (lectures watched that hour).
ACTIVE_SHARE = 0.05
#: Sizes against the table's: a raw export (gzip DynamoDB JSON), the datasets (Parquet), the state.
RAW_EXPORT_RATIO, DATASETS_RATIO, STATE_RATIO = 0.3, 0.1, 0.3
#: Days the raw exports are kept (template parameter ExportKeepDays).
EXPORT_KEEP_DAYS = 14
#: Reports run a day over the whole datasets (the seven in reports/).
REPORTS_PER_DAY = 7

# us-east-1 list prices (USD).
PRICE_SECRET_MONTH = 0.40
PRICE_ALARM_MONTH = 0.10
PRICE_DASHBOARD_MONTH = 3.00
PRICE_DYNAMODB_GB_MONTH = 0.25
PRICE_PITR_GB_MONTH = 0.20
PRICE_LOGS_GB = 0.50
PRICE_EXPORT_GB = 0.10  # full and incremental exports to S3
PRICE_EXPORT_MIN_GB = 0.01  # an incremental export bills at least 10 MB
PRICE_LAMBDA_GB_SECOND = 0.0000133334  # arm64
PRICE_S3_GB_MONTH = 0.023
PRICE_ATHENA_TB = 5.0
PRICE_ATHENA_MIN_TB = 10 / 1024 / 1024  # a query bills at least 10 MB


def measured_per_million() -> float:
    """The total of the benchmark's "this design" row, in USD per million callbacks."""
    row = re.search(r"^\| this design \|.*\| ([0-9.]+) \|$", DOCUMENT.read_text(encoding="utf-8"), re.MULTILINE)
    if row is None:
        raise LookupError(f"no 'this design' cost row in {DOCUMENT}: run make bench")
    return float(row.group(1))


def measured_sessions_per_gb_second() -> float:
    """Row 10's rate: sessions routed and applied per second per GB of memory."""
    row = re.search(r"^\| 10 \|.*?\| ([0-9,]+) sessions per second per GB", DOCUMENT.read_text(encoding="utf-8"),
                    re.MULTILINE)  # fmt: skip
    if row is None:
        raise LookupError(f"no exports row (10) in {DOCUMENT}: run make bench")
    return float(row.group(1).replace(",", ""))


def export_parts(learners: int, rate: float) -> dict[str, float]:
    """A month of the learning data in SQL, in USD, by what is billed."""
    stored_gb = learners * STORED_KB_PER_LEARNER / 1024 / 1024
    sessions = learners * SESSIONS_PER_LEARNER
    changed_gb = learners * CALLBACKS_PER_LEARNER * CHANGE_KB_PER_CALLBACK / 1024 / 1024
    hours = 24 * 30
    dynamodb = 30 * stored_gb * PRICE_EXPORT_GB + max(hours * PRICE_EXPORT_MIN_GB, changed_gb) * PRICE_EXPORT_GB
    lambda_ = (30 + hours * ACTIVE_SHARE) * sessions / rate * PRICE_LAMBDA_GB_SECOND
    s3 = stored_gb * (EXPORT_KEEP_DAYS * RAW_EXPORT_RATIO + DATASETS_RATIO + STATE_RATIO) * PRICE_S3_GB_MONTH
    scanned_tb = max(PRICE_ATHENA_MIN_TB, stored_gb * DATASETS_RATIO / 1024)
    athena = 30 * REPORTS_PER_DAY * scanned_tb * PRICE_ATHENA_TB
    return {"exports": dynamodb, "function": lambda_, "s3": s3, "athena": athena}


def exports(learners: int, rate: float) -> float:
    """A month of the learning data in SQL, in USD."""
    return sum(export_parts(learners, rate).values())


def exports_table(rate: float) -> str:
    """docs/exports.md's cost table, for a school of 10,000 learners and one of 100,000."""
    lines = [
        "| learners | table exports (full daily, incremental hourly) | exports function (Lambda) | S3 | "
        "Athena (the reports daily) | total |",
        "|---|---|---|---|---|---|",
    ]
    for learners in (10_000, 100_000):
        parts = export_parts(learners, rate)
        cells = " | ".join(f"${parts[name]:,.2f}" for name in ("exports", "function", "s3", "athena"))
        lines.append(f"| {learners:,} | {cells} | ${sum(parts.values()):,.2f} |")
    return "\n".join(lines)


def fixed_resources() -> Counter[str]:
    """How many secrets, alarms and dashboards the template creates."""
    return Counter(str(resource["Type"]) for resource in load_template()["Resources"].values())


def monthly(learners: int, per_million: float, resources: Counter[str], rate: float) -> dict[str, float]:
    callbacks = learners * CALLBACKS_PER_LEARNER
    stored_gb = learners * STORED_KB_PER_LEARNER / 1024 / 1024
    figures = {
        "callbacks": callbacks / 1e6 * per_million,
        "storage": stored_gb * (PRICE_DYNAMODB_GB_MONTH + PRICE_PITR_GB_MONTH),
        "logs": callbacks * LOG_KB_PER_CALLBACK / 1024 / 1024 * PRICE_LOGS_GB,
        "exports": exports(learners, rate),
        "fixed": resources["AWS::SecretsManager::Secret"] * PRICE_SECRET_MONTH
        + resources["AWS::CloudWatch::Alarm"] * PRICE_ALARM_MONTH
        + resources["AWS::CloudWatch::Dashboard"] * PRICE_DASHBOARD_MONTH,
    }
    return {name: round(value, 2) for name, value in figures.items()}


def table(per_million: float, resources: Counter[str], rate: float) -> str:
    lines = [
        "| learners | callbacks | callbacks (API, Lambda, DynamoDB) | storage and backups | logs | "
        "learning data in SQL | secrets, alarms, dashboard | total |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for learners in SIZES:
        cost = monthly(learners, per_million, resources, rate)
        cells = [f"${cost[name]:,.2f}" for name in ("callbacks", "storage", "logs", "exports", "fixed")]
        total = f"${sum(cost.values()):,.2f}"
        millions = learners * CALLBACKS_PER_LEARNER / 1e6
        lines.append(f"| {learners:,} | {millions:.1f} M | {' | '.join(cells)} | {total} |")
    return "\n".join(lines)


if __name__ == "__main__":
    if sys.argv[1:] == ["exports"]:
        print(exports_table(measured_sessions_per_gb_second()))
    else:
        print(table(measured_per_million(), fixed_resources(), measured_sessions_per_gb_second()))
