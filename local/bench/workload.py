"""The standard workload (simulated viewing) and the harness the measurements share."""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from local.http_api import build_event
from local.simulator import Content, Report, Session, deliver, play_session, random_script
from local.template import load_template, routes

FORM = "application/x-www-form-urlencoded"

#: The local stack turns Powertools metrics off; the handler measurements turn them on, as in AWS.
METRICS_ON = {"POWERTOOLS_METRICS_DISABLED": "false"}


def workload(learners: int, contents: int, seed: int = 7) -> list[Report]:
    """Realistic viewing (seeks, 0.5x-2x, pauses, repeats) of 10-minute lectures of 100 blocks,
    two sessions per learner and content, delivered with 5% duplicates and one pair in ten swapped."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible workload, not secrecy
    reports: list[Report] = []
    for learner in range(learners):
        for number in range(contents):
            content = Content(f"lecture-{number}", duration=600.0, block_count=100)
            for start_at in (1_700_000_000 + learner, 1_700_086_400 + learner):
                session = Session(f"learner-{learner}", content, start_at, uservalues={"uservalue0": "course-1"})
                reports += play_session(session, random_script(rng, content), period=30)
    delivered = deliver(reports, rng, duplicates=0.05, shuffle=False)
    for index in range(len(delivered) - 1):  # reordering: one neighbour pair in ten arrives swapped
        if rng.random() < 0.1:
            delivered[index], delivered[index + 1] = delivered[index + 1], delivered[index]
    return delivered


def settings_env(table: str, endpoint: str) -> dict[str, str]:
    from local.stack import local_environment  # noqa: PLC0415

    environment = local_environment({"ProgressTable": table})
    environment["AWS_ENDPOINT_URL_DYNAMODB"] = endpoint
    return environment


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def callback_event(body: bytes) -> dict[str, Any]:
    """An HTTP API event carrying one callback, as API Gateway sends it."""
    route = next(route for route in routes(load_template()) if route.route_key == "POST /callbacks/kollus/{token}")
    headers = {"content-type": FORM, "host": "bench"}
    return build_event(
        route, path_parameters={"token": "local-callback-token"}, method="POST",
        target="/callbacks/kollus/local-callback-token", headers=headers, body=body,
    )  # fmt: skip
