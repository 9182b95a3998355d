"""A real learning record store for the local stack and the tests: ralph (`ralph-malph` on PyPI, a
Python LRS), serving `/xAPI/statements` on a folder, run from its own virtualenv (`.venv-ralph`,
which `make setup` builds: ralph pins libraries our own virtualenv needs newer).

`ralph auth` writes the credentials file, `ralph_server.py` serves ralph's API on its file backend
(as `ralph runserver -b fs` does, appending each statement: see there); `validate` runs
`ralph validate -f xapi --fail-on-unknown`, which checks a statement against ralph's xAPI (Video
Profile) models and fails one that matches none.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from .dynamodb_local import _die_with_parent, free_port, stop_process
from .template import ROOT

USERNAME = "bridge"
PASSWORD = "local-lrs-password"  # noqa: S105 - the local LRS's only user
#: The agent ralph ties the user to (it asks for one; any valid address will do).
AGENT_MBOX = "mailto:bridge@example.com"


class LrsError(RuntimeError):
    """ralph could not be found or started."""


def ralph_bin() -> Path:
    """The `ralph` command: `RALPH_BIN` (its folder), else `.venv-ralph/bin`."""
    folder = Path(os.environ.get("RALPH_BIN") or ROOT / ".venv-ralph" / "bin")
    command = folder / "ralph"
    if not command.exists():
        raise LrsError(f"ralph not found at {command}; run `make setup` (it builds .venv-ralph)")
    return command


def validate(statements: Sequence[Mapping[str, Any]]) -> subprocess.CompletedProcess[str]:
    """`ralph validate -f xapi --fail-on-unknown` over these statements, one per line."""
    lines = "".join(json.dumps(statement) + "\n" for statement in statements)
    with tempfile.TemporaryDirectory(prefix="ralph-validate-") as folder:
        return subprocess.run(
            [str(ralph_bin()), "validate", "-f", "xapi", "--fail-on-unknown"],
            input=lines,
            env={**os.environ, "RALPH_APP_DIR": folder},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


def statements_at(url: str, auth: str) -> list[Mapping[str, Any]]:
    """Every statement an LRS at `url` holds (its xAPI endpoint), following its pages."""
    token = base64.b64encode(auth.encode()).decode()
    found: list[Mapping[str, Any]] = []
    next_url: str | None = url + "statements"
    while next_url:
        request = urllib.request.Request(  # noqa: S310 - a local http URL of our own
            next_url, headers={"authorization": "Basic " + token, "x-experience-api-version": "1.0.3"}
        )
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
            page = json.loads(answer.read())
        found += page["statements"]
        more = page.get("more") or ""
        next_url = url + more.split("/xAPI/", 1)[1] if more else None
    return found


class Lrs:
    """A ralph LRS process: `with Lrs() as lrs: lrs.url`."""

    def __init__(self, port: int = 0) -> None:
        self.port = port or free_port()
        self.command = ralph_bin()
        self.folder = Path(tempfile.mkdtemp(prefix="ralph-"))
        self.process: subprocess.Popen[bytes] | None = None
        self.log = (self.folder / "ralph.log").open("wb")

    @property
    def url(self) -> str:
        """The xAPI endpoint (statements at `<url>statements`)."""
        return f"http://127.0.0.1:{self.port}/xAPI/"

    @property
    def auth(self) -> str:
        return f"{USERNAME}:{PASSWORD}"

    def _environment(self) -> dict[str, str]:
        return {
            **os.environ,
            "RALPH_APP_DIR": str(self.folder / "app"),
            "RALPH_AUTH_FILE": str(self.folder / "auth.json"),
            "RALPH_RUNSERVER_BACKEND": "fs",
            "RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH": str(self.folder / "statements"),
        }

    def start(self, timeout: float = 60.0) -> Lrs:
        environment = self._environment()
        subprocess.run(
            [str(self.command), "auth", "-u", USERNAME, "-p", PASSWORD, "-s", "all", "-M", AGENT_MBOX, "-w"],
            env=environment,
            check=True,
            capture_output=True,
            timeout=120,
        )
        server = Path(__file__).with_name("ralph_server.py")
        self.process = subprocess.Popen(
            [str(self.command.with_name("python")), str(server), "127.0.0.1", str(self.port)],
            cwd=self.folder,
            env=environment,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent if os.name == "posix" else None,  # noqa: PLW1509 - only sets a signal
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise LrsError(f"ralph exited with {self.process.returncode}: {self._log_tail()}")
            try:
                self.statements()
                return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise LrsError(f"ralph did not answer on {self.url} within {timeout:.0f}s: {self._log_tail()}")

    def _log_tail(self) -> str:
        return (self.folder / "ralph.log").read_text(errors="replace")[-2000:]

    def statements(self) -> list[Mapping[str, Any]]:
        """Every statement the LRS holds, following its pages."""
        return statements_at(self.url, self.auth)

    def validate(self, statements: Sequence[Mapping[str, Any]]) -> subprocess.CompletedProcess[str]:
        return validate(statements)

    def stop(self) -> None:
        stop_process(self.process)
        self.log.close()

    def __enter__(self) -> Lrs:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()
