"""Rows 4, 7 and 8: the local stack over HTTP, as a user runs it (`python -m local`): callbacks per
second and their latency, how long a completion takes from its callback to the LMS's answer, and how
fast the play callback answers the player."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from urllib.parse import urlencode

from local.dynamodb_local import free_port
from local.lms_receiver import LmsReceiver
from local.simulator import Report
from local.template import ROOT

from .workload import FORM, settings_env

#: The variables naming the local stack's side servers' ports.
SIDE_SERVER_PORTS = ("LMS_RECEIVER_PORT", "KOLLUS_API_PORT", "LTI_PLATFORM_PORT", "LRS_PORT")


@contextmanager
def local_stack(**variables: str) -> Iterator[str]:
    """`python -m local` in a process of its own (its own DynamoDB Local and table: none of the
    benchmark's settings leak in); its URL while the block runs."""
    port = free_port()
    leaked = settings_env("x", "x")
    environment = {
        **{name: value for name, value in os.environ.items() if name not in leaked},
        "PORT": str(port),
        # Every side server on a port of its own, so a benchmark runs beside `make run`.
        **{
            name: str(free_port()) for name in ("LMS_RECEIVER_PORT", "KOLLUS_API_PORT", "LTI_PLATFORM_PORT", "LRS_PORT")
        },
        **variables,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "local"], cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if "Ctrl-C stops everything" in line:
                break
        threading.Thread(target=lambda: [None for _ in process.stdout or []], daemon=True).start()
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def measure_http(reports: list[Report], clients: int = 8) -> dict[str, float]:
    with local_stack(SYNC_INTERVAL_SECONDS="3600") as base:
        url = f"{base}/callbacks/kollus/local-callback-token"

        def post(report: Report) -> float:
            request = urllib.request.Request(url, data=report.form_body(), headers={"Content-Type": FORM})  # noqa: S310
            started = time.perf_counter()
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
                response.read()
            return time.perf_counter() - started

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=clients) as pool:
            latencies = list(pool.map(post, reports))
        elapsed = time.perf_counter() - started
    return {
        "callbacks": len(reports),
        "clients": clients,
        "per_second": len(reports) / elapsed,
        "p50_ms": percentile(latencies, 0.5) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
    }


def completing_callback(learner: str) -> bytes:
    """One callback that completes a four-block lecture for `learner`."""
    variables = {"client_user_id": learner, "media_content_key": "lecture-1", "start_at": "1710395296",
                 "block_cnt": "4", "duration": "240"}  # fmt: skip
    for block in range(1, 5):
        variables |= {f"block_play_{block}": "1", f"block_time_{block}": "60"}
    return urlencode(variables).encode()


def measure_completion_latency(completions: int = 200, per_second: float = 20.0) -> dict[str, float]:
    """From sending the callback that completes a record to the LMS's answer to its webhook, with the
    sweep every minute as in AWS: the stream's fast path is what delivers."""
    from local.stack import LOCAL_DEFAULTS  # noqa: PLC0415

    receiver = LmsReceiver(("127.0.0.1", 0), [LOCAL_DEFAULTS["LMS_WEBHOOK_SECRET"]])
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    sent: dict[str, float] = {}
    try:
        with local_stack(SYNC_INTERVAL_SECONDS="60", LMS_WEBHOOK_URL=receiver.url) as base:
            url = f"{base}/callbacks/kollus/local-callback-token"
            for number in range(completions):
                learner = f"learner-{number}"
                body = completing_callback(learner)
                request = urllib.request.Request(url, data=body, headers={"Content-Type": FORM})  # noqa: S310
                sent[learner] = time.monotonic()
                with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
                    response.read()
                time.sleep(1 / per_second)
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline and len(receiver.delivered()) < completions:
                time.sleep(0.1)
    finally:
        receiver.shutdown()
        receiver.server_close()
    arrived = {message.body["data"]["client_user_id"]: message.at for message in receiver.delivered()}
    latencies = [arrived[learner] - started for learner, started in sent.items() if learner in arrived]
    return {
        "completions": completions,
        "per_second": per_second,
        "sweep_seconds": 60,
        "delivered": len(arrived),
        "p50_ms": percentile(latencies, 0.5) * 1000 if latencies else float("nan"),
        "p99_ms": percentile(latencies, 0.99) * 1000 if latencies else float("nan"),
        "max_ms": max(latencies) * 1000 if latencies else float("nan"),
    }


def _api(base: str, method: str, path: str, body: object) -> None:
    request = urllib.request.Request(  # noqa: S310 - loopback
        f"{base}{path}",
        data=json.dumps(body).encode(),
        method=method,
        headers={"Authorization": "Bearer local-api-token", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
        response.read()


def measure_play(callbacks: int = 1000, clients: int = 8, learners: int = 200) -> dict[str, float]:
    """Kollus's play callback over HTTP to `python -m local`: a course of ten lectures, `learners`
    enrolled; kind 1 and 3 callbacks from `clients` players at once, one in ten from a learner who is
    not enrolled. Each answer is a JWT the player waits for."""
    with local_stack(SYNC_INTERVAL_SECONDS="3600") as base:
        contents = [f"lecture-{n}" for n in range(10)]
        _api(base, "PUT", "/v1/courses/bench", {"title": "Bench", "media_content_keys": contents})
        enrolled = [{"client_user_id": f"learner-{n}"} for n in range(learners)]
        _api(base, "PUT", "/v1/courses/bench/enrollments", {"enrollments": enrolled})
        url = f"{base}/callbacks/kollus/local-play-token/play"

        def ask(number: int) -> tuple[float, bool]:
            learner = f"learner-{number % learners}" if number % 10 else f"stranger-{number}"
            fields = {"kind": str(1 + 2 * (number % 2)), "client_user_id": learner,
                      "media_content_key": contents[number % 10], "hardware_id": f"hw-{number % 37}"}  # fmt: skip
            request = urllib.request.Request(url, data=urlencode(fields).encode(), headers={"Content-Type": FORM})  # noqa: S310
            started = time.perf_counter()
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
                answered = response.status == 200 and response.headers.get("X-Kollus-UserKey") is not None
                response.read()
            return time.perf_counter() - started, answered

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=clients) as pool:
            results = list(pool.map(ask, range(callbacks)))
        elapsed = time.perf_counter() - started
    latencies = [seconds for seconds, _ in results]
    return {
        "callbacks": callbacks,
        "clients": clients,
        "answered": sum(ok for _, ok in results),
        "per_second": callbacks / elapsed,
        "p50_ms": percentile(latencies, 0.5) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
    }
