"""The local stack, started as a user starts it (`python -m local`), once per test module."""

from __future__ import annotations

import json
import os
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


@dataclass
class RunningStack:
    process: subprocess.Popen[str]
    url: str
    dynamodb_port: int
    banner: list[str]
    output: list[str]
    environment: dict[str, str]


def request(url: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    call = urllib.request.Request(url, data=data, headers=headers or {}, method="POST" if data is not None else "GET")
    try:
        with urllib.request.urlopen(call, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _start_stack() -> tuple[subprocess.Popen[str], int, int, list[str], dict[str, str]] | None:
    """A `python -m local` that printed its banner; None when a port it was given was taken meanwhile."""
    port, dynamodb_port = free_port(), free_port()
    environment = {
        **os.environ,
        "PORT": str(port),
        "DYNAMODB_PORT": str(dynamodb_port),
        "LMS_RECEIVER_PORT": str(free_port()),
        "KOLLUS_API_PORT": str(free_port()),
        "LTI_PLATFORM_PORT": str(free_port()),
        "LRS_PORT": str(free_port()),
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
            if any("Address already in use" in text for text in banner):
                return None
            pytest.fail("the local stack exited at start-up:\n" + "".join(banner))
        banner.append(line)
        if "Ctrl-C stops everything" in line:
            break
    else:
        process.kill()
        pytest.fail("the local stack did not start within 90 s:\n" + "".join(banner))
    return process, port, dynamodb_port, banner, environment


@pytest.fixture(scope="module")
def stack() -> Iterator[RunningStack]:
    # The ports are free when chosen, but ephemeral: another connection may take one before the stack
    # binds it. A start that finds a port taken is tried again on fresh ports.
    for _ in range(3):
        started = _start_stack()
        if started is not None:
            break
    else:
        pytest.fail("the local stack found its ports taken three times")
    process, port, dynamodb_port, banner, environment = started
    output: list[str] = []
    # Keep reading the log (so the stack never blocks on a full pipe) for the tests to look at.
    threading.Thread(target=lambda: output.extend(process.stdout or []), daemon=True).start()
    running = RunningStack(process, f"http://127.0.0.1:{port}", dynamodb_port, banner, output, environment)
    yield running
    if process.poll() is None:
        process.kill()
        process.wait(timeout=10)
