"""`make run`'s stack over real HTTP: start it as a user would, post callbacks, read progress, stop it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from local.dynamodb_local import free_port
from local.template import ROOT
from tests.payloads import API_TOKEN, CALLBACK_TOKEN, Snapshot

pytestmark = pytest.mark.stack


@dataclass
class RunningStack:
    process: subprocess.Popen[str]
    url: str
    dynamodb_port: int
    banner: list[str]
    output: list[str]


def request(url: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    call = urllib.request.Request(url, data=data, headers=headers or {}, method="POST" if data is not None else "GET")
    try:
        with urllib.request.urlopen(call, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture(scope="module")
def stack() -> Iterator[RunningStack]:
    port, dynamodb_port = free_port(), free_port()
    environment = {
        **os.environ,
        "PORT": str(port),
        "DYNAMODB_PORT": str(dynamodb_port),
        "LMS_RECEIVER_PORT": str(free_port()),
        "SYNC_INTERVAL_SECONDS": "1",
        "PYTHONUNBUFFERED": "1",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "local"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    banner: list[str] = []
    assert process.stdout is not None
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            pytest.fail("the local stack exited at start-up:\n" + "".join(banner))
        banner.append(line)
        if "Ctrl-C stops everything" in line:
            break
    else:
        process.kill()
        pytest.fail("the local stack did not start within 90 s:\n" + "".join(banner))
    output: list[str] = []
    # Keep reading the log (so the stack never blocks on a full pipe) for the tests to look at.
    threading.Thread(target=lambda: output.extend(process.stdout or []), daemon=True).start()
    running = RunningStack(process, f"http://127.0.0.1:{port}", dynamodb_port, banner, output)
    yield running
    if process.poll() is None:
        process.kill()
        process.wait(timeout=10)


def test_banner_shows_the_urls_and_a_curl_line(stack: RunningStack) -> None:
    text = "".join(stack.banner)
    assert f"{stack.url}/callbacks/kollus/{CALLBACK_TOKEN}" in text
    assert f"{stack.url}/v1/progress" in text
    assert "curl -s -X POST" in text


def test_callbacks_in_progress_out(stack: RunningStack) -> None:
    callback_url = f"{stack.url}/callbacks/kollus/{CALLBACK_TOKEN}?uservalue0=course-7"
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    snapshot = Snapshot(client_user_id="e2e-learner", media_content_key="e2e-content", block_count=4, duration=240)
    for serial, block in enumerate(range(4)):
        snapshot.serial, snapshot.block_times[block] = serial, 60
        snapshot.play_time, snapshot.last_play_at = 60.0 * (serial + 1), 60.0 * (serial + 1)
        status, body = request(callback_url, snapshot.form_body(), form)
        assert (status, body["result"], body["watched_blocks"]) == (200, "accepted", serial + 1)
    status, body = request(callback_url, snapshot.form_body(), form)  # a resend
    assert (status, body["result"], body["completed"]) == (200, "duplicate", True)
    status, body = request(callback_url, snapshot.flat_body(), form)  # no serial in the flat form: older
    assert (status, body["result"], body["watched_blocks"]) == (200, "stale", 4)

    query = "client_user_id=e2e-learner&media_content_key=e2e-content"
    status, record = request(f"{stack.url}/v1/progress?{query}", headers={"Authorization": f"Bearer {API_TOKEN}"})
    assert status == 200
    assert (record["progress"], record["completed"], record["last_position"], record["play_time"]) == (
        100.0,
        True,
        240.0,
        240.0,
    )
    assert record["completed_at"].endswith("Z")

    # The scheduled sync delivers the completion, signed, to the stack's local LMS receiver.
    deadline = time.monotonic() + 20
    expected = "LMS <- progress.completed e2e-learner / e2e-content progress 100.0 (signature ok"
    while time.monotonic() < deadline and not any(expected in line for line in stack.output):
        time.sleep(0.2)
    assert any(expected in line for line in stack.output), "".join(stack.output)
    status, ledger = request(f"{stack.url}/v1/sync?state=delivered", headers={"Authorization": f"Bearer {API_TOKEN}"})
    assert status == 200
    assert [(item["client_user_id"], item["last_status"]) for item in ledger["items"]] == [("e2e-learner", 204)]


def test_errors_over_http(stack: RunningStack) -> None:
    status, body = request(f"{stack.url}/callbacks/kollus/wrong", b"a=1", {"Content-Type": "text/plain"})
    assert (status, body["error"]["code"]) == (401, "unauthorized")
    status, body = request(f"{stack.url}/v1/progress?client_user_id=x&media_content_key=y")
    assert (status, body["error"]["code"]) == (401, "unauthorized")
    status, body = request(f"{stack.url}/nowhere")
    assert status == 404


def test_stops_cleanly_and_leaves_no_java_behind(stack: RunningStack) -> None:
    stack.process.send_signal(signal.SIGTERM)
    assert stack.process.wait(timeout=30) == 0
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", stack.dynamodb_port)) != 0:
                return
        time.sleep(0.2)
    pytest.fail("DynamoDB Local still answers after the stack stopped")
