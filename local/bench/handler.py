"""Rows 2, 3w and 6: the callback function's CPU per callback (against the decoding floor), its cold
start (against `import boto3`), and its peak memory."""

from __future__ import annotations

import contextlib
import functools
import io
import json
import os
import re
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from local.http_api import LambdaContext
from local.simulator import Content, Report, Session, play_session
from local.template import ROOT, load_handler_module, load_template, routes

from .lambda_cold import CALLBACK_STUB
from .workload import METRICS_ON, callback_event, environment, settings_env


class NullStore:
    """Storage stubbed out: apply answers from memory, writes do nothing."""

    def __init__(self) -> None:
        from kollus_bridge.progress.rule import RecordState  # noqa: PLC0415

        self.states: dict[tuple[str, str], Any] = {}
        self.grids: dict[str, dict[str, Any]] = {}  # a content's grid of record, as `store.rules` keeps it
        self.empty = RecordState()

    def get_rules(self, media_content_key: str) -> dict[str, Any] | None:
        return self.grids.get(media_content_key)

    def raise_grid(self, media_content_key: str, block_count: int, duration: float | None) -> bool:
        self.grids[media_content_key] = {"known_grid": block_count, "known_duration": duration}
        return True

    def apply(self, update: Any, mark_due: bool = False, watch_ratio: float = 0.5, **_: Any) -> Any:
        from kollus_bridge.progress.ports import ApplyResult  # noqa: PLC0415
        from kollus_bridge.progress.rule import merge  # noqa: PLC0415

        key = (update.client_user_id, update.media_content_key)
        previous = self.states.get(key, self.empty)
        state, outcome = merge(previous, update)
        self.states[key] = state
        return ApplyResult(outcome, state, 1, previous=previous)

    def __getattr__(self, name: str) -> Callable[..., None]:
        return lambda *args, **kwargs: None


def measure_cpu(reports: list[Report], rounds: int = 5) -> dict[str, float]:
    route = next(route for route in routes(load_template()) if route.function == "CallbackFunction")
    module = load_handler_module(route, fresh=True, instance=900)
    setattr(module, "store", NullStore())  # noqa: B010 - the module is loaded dynamically
    events = [callback_event(report.form_body()) for report in reports]
    # Each callback arrives when its session has run `run_time`, so the playback clock judges it as in AWS.
    clocks = [functools.partial(int, (report.session.start_at + int(report.run_time)) * 1000) for report in reports]
    bodies = [report.form_body() for report in reports]
    context = LambdaContext("bench")
    handler_runs, floor_runs = [], []
    for _ in range(rounds):
        # As in AWS: metrics on, each invocation printing its EMF line (to a sink here).
        with environment(METRICS_ON), contextlib.redirect_stdout(io.StringIO()):
            started = time.process_time()
            for event, clock in zip(events, clocks, strict=True):
                setattr(module, "now_ms", clock)  # noqa: B010 - the module is loaded dynamically
                module.lambda_handler(event, context)
            handler_runs.append((time.process_time() - started) / len(events))
        started = time.process_time()
        for body in bodies:
            json.loads(dict(parse_qsl(body.decode()))["json_data"])
        floor_runs.append((time.process_time() - started) / len(bodies))
    handler, floor = statistics.median(handler_runs), statistics.median(floor_runs)
    blocks = statistics.median(len(report.block_seconds) for report in reports)
    return {"handler_ms": handler * 1000, "floor_ms": floor * 1000, "ratio": handler / floor, "blocks": blocks}


COLD_CALLBACK = (
    """
import sys, time, json, base64
started = time.perf_counter()
sys.path.insert(0, {layer!r}); sys.path.insert(0, {function!r})
import app
class LambdaContext:  # the attributes Powertools reads
    function_name, memory_limit_in_mb, aws_request_id = "cold", 512, "cold"
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:cold"
    def __init__(self, name): pass
"""
    + CALLBACK_STUB
    + """
app.lambda_handler(json.loads({event!r}), LambdaContext("cold"))
print(time.perf_counter() - started)
"""
)

COLD_BOTO3 = "import time; started = time.perf_counter(); import boto3; print(time.perf_counter() - started)"
#: What any function that uses DynamoDB pays before its own code: boto3 and one client (service model,
#: endpoint rules), created as the store creates it.
COLD_CLIENT = (
    "import time; started = time.perf_counter(); import boto3; from botocore.config import Config; "
    "boto3.client('dynamodb', config=Config(retries={'mode': 'standard', 'max_attempts': 5})); "
    "print(time.perf_counter() - started)"
)


def measure_cold_start(report: Report, rounds: int = 7) -> dict[str, Any]:
    event = json.dumps(callback_event(report.form_body()))
    script = COLD_CALLBACK.format(
        layer=str(ROOT / "layers" / "bridge"), function=str(ROOT / "functions" / "callback"), event=event
    )
    environment = {**os.environ, "POWERTOOLS_TRACE_DISABLED": "true"}
    environment.pop("PYTHONPATH", None)
    environment.update(settings_env("ProgressTable", "http://127.0.0.1:9"))
    environment.update(METRICS_ON)

    def run(code: str, *flags: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, *flags, "-c", code], capture_output=True, text=True, env=environment, cwd=ROOT, check=True
        )

    callback = statistics.median(float(run(script).stdout.strip().splitlines()[-1]) for _ in range(rounds))
    boto3_only = statistics.median(float(run(COLD_BOTO3).stdout.strip()) for _ in range(rounds))
    with_client = statistics.median(float(run(COLD_CLIENT).stdout.strip()) for _ in range(rounds))
    costs: dict[str, int] = {}
    for line in run(script, "-X", "importtime").stderr.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \|( +)(\S+)", line)
        if match and len(match.group(2)) <= 3:  # top-level imports only
            costs[match.group(3)] = int(match.group(1))
    top = sorted(costs.items(), key=lambda item: -item[1])[:6]
    return {"callback_ms": callback * 1000, "boto3_ms": boto3_only * 1000, "ratio": callback / boto3_only,
            "client_ms": with_client * 1000, "top": top}  # fmt: skip


def measure_memory(reports: list[Report]) -> dict[str, float]:
    route = next(route for route in routes(load_template()) if route.function == "CallbackFunction")
    module = load_handler_module(route, fresh=True, instance=901)
    setattr(module, "store", NullStore())  # noqa: B010 - the module is loaded dynamically
    from local.simulator import Play  # noqa: PLC0415

    huge = Content("huge", duration=10_000.0, block_count=10_000)
    big = play_session(Session("learner-1", huge, 1), [Play(0, 10_000, 2.0)], period=10**9)[-1]
    peaks = {}
    for name, body in (("typical", reports[0].form_body()), ("10,000 blocks", big.flat_body())):
        tracemalloc.start()
        module.lambda_handler(callback_event(body), LambdaContext("bench"))
        peaks[name] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    memory_size = load_template()["Globals"]["Function"]["MemorySize"]
    import resource  # noqa: PLC0415

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {**peaks, "memory_size": memory_size, "process_rss": rss}
