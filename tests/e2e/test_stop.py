"""The local stack stops on SIGTERM within seconds, even when DynamoDB Local stopped answering first
(as when the whole process group gets the signal and the JVM takes its time to go): its stream
pollers and scheduled functions then wait on requests that never end, and must not hold the exit."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

from local.stack import STOP_SECONDS
from tests.e2e.conftest import RunningStack


def children(pid: int) -> list[tuple[int, str]]:
    """(pid, command line) of a process's children, from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append((int(entry.name), command))
    return found


def test_sigterm_stops_the_stack_even_when_dynamodb_local_stopped_answering(stack: RunningStack) -> None:
    java = [pid for pid, command in children(stack.process.pid) if "DynamoDBLocal" in command or "java" in command]
    assert java, children(stack.process.pid)
    try:
        for pid in java:
            os.kill(pid, signal.SIGSTOP)  # connections open, nothing answered
        time.sleep(3)  # the pollers and the scheduled functions are now waiting on it
        assert stack.process.poll() is None
        stack.process.send_signal(signal.SIGTERM)
        stack.process.wait(timeout=STOP_SECONDS + 15)  # raises if it does not stop
        assert any("stopping" in line for line in stack.output), "".join(stack.output[-20:])
    finally:
        for pid in java:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
