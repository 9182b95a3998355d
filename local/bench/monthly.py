"""A month's cost at 1,000, 10,000 and 100,000 learners (the README's table): the cost per million
callbacks that `make bench` measured (docs/benchmarks.md), the resources the template keeps whatever
the traffic, and what grows with the learners. `python -m local.bench.monthly` prints the table."""

from __future__ import annotations

import re
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

# us-east-1 list prices (USD).
PRICE_SECRET_MONTH = 0.40
PRICE_ALARM_MONTH = 0.10
PRICE_DASHBOARD_MONTH = 3.00
PRICE_DYNAMODB_GB_MONTH = 0.25
PRICE_PITR_GB_MONTH = 0.20
PRICE_LOGS_GB = 0.50


def measured_per_million() -> float:
    """The total of the benchmark's "this design" row, in USD per million callbacks."""
    row = re.search(r"^\| this design \|.*\| ([0-9.]+) \|$", DOCUMENT.read_text(encoding="utf-8"), re.MULTILINE)
    if row is None:
        raise LookupError(f"no 'this design' cost row in {DOCUMENT}: run make bench")
    return float(row.group(1))


def fixed_resources() -> Counter[str]:
    """How many secrets, alarms and dashboards the template creates."""
    return Counter(str(resource["Type"]) for resource in load_template()["Resources"].values())


def monthly(learners: int, per_million: float, resources: Counter[str]) -> dict[str, float]:
    callbacks = learners * CALLBACKS_PER_LEARNER
    stored_gb = learners * STORED_KB_PER_LEARNER / 1024 / 1024
    figures = {
        "callbacks": callbacks / 1e6 * per_million,
        "storage": stored_gb * (PRICE_DYNAMODB_GB_MONTH + PRICE_PITR_GB_MONTH),
        "logs": callbacks * LOG_KB_PER_CALLBACK / 1024 / 1024 * PRICE_LOGS_GB,
        "fixed": resources["AWS::SecretsManager::Secret"] * PRICE_SECRET_MONTH
        + resources["AWS::CloudWatch::Alarm"] * PRICE_ALARM_MONTH
        + resources["AWS::CloudWatch::Dashboard"] * PRICE_DASHBOARD_MONTH,
    }
    return {name: round(value, 2) for name, value in figures.items()}


def table(per_million: float, resources: Counter[str]) -> str:
    lines = [
        "| learners | callbacks | callbacks (API, Lambda, DynamoDB) | storage and backups | logs | "
        "secrets, alarms, dashboard | total |",
        "|---|---|---|---|---|---|---|",
    ]
    for learners in SIZES:
        cost = monthly(learners, per_million, resources)
        cells = [f"${cost[name]:,.2f}" for name in ("callbacks", "storage", "logs", "fixed")]
        total = f"${sum(cost.values()):,.2f}"
        millions = learners * CALLBACKS_PER_LEARNER / 1e6
        lines.append(f"| {learners:,} | {millions:.1f} M | {' | '.join(cells)} | {total} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(table(measured_per_million(), fixed_resources()))
