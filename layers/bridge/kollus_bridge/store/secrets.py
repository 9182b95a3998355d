"""Secrets Manager, through botocore's client (no boto3 on any cold path): the tokens and keys the
functions read (`cached_secret`, kept `max_age` seconds per process), and the LTI tool's keys, written
when the first key is made or the keys are rotated. A write names its version (`ClientRequestToken`),
so two functions making the first key at once end with one of them (the other's write is refused and
it reads the winner's)."""

from __future__ import annotations

import threading
import time
from functools import cache
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from kollus_bridge.errors import StorageUnavailable
from kollus_bridge.store.session import aws_session


@cache
def secrets_client() -> Any:
    return aws_session().create_client("secretsmanager")


class SecretConflict(Exception):
    """Another write of the same version (a different value) came first."""


#: Secrets as last read, and when (monotonic seconds), by secret id.
_kept: dict[str, tuple[float, str]] = {}
_kept_lock = threading.Lock()


def cached_secret(secret_id: str, max_age: float) -> str:
    """A secret's value, read at most once per `max_age` seconds by this process; a secret that is
    not there, or a store that does not answer, is `StorageUnavailable`."""
    with _kept_lock:
        kept = _kept.get(secret_id)
    if kept is not None and time.monotonic() - kept[0] < max_age:
        return kept[1]
    value = read_secret(secret_id, missing_ok=False)
    with _kept_lock:
        _kept[secret_id] = (time.monotonic(), value)
    return value


def read_secret(secret_id: str, missing_ok: bool = True) -> str:
    """A secret's value ("" for one that does not exist, with `missing_ok`)."""
    try:
        answer = secrets_client().get_secret_value(SecretId=secret_id)
    except ClientError as error:
        if missing_ok and error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return ""
        raise StorageUnavailable("the secret store is unavailable") from None
    except BotoCoreError:
        raise StorageUnavailable("the secret store is unavailable") from None
    return str(answer.get("SecretString") or "")


def write_secret(secret_id: str, value: str, version: str) -> None:
    try:
        secrets_client().put_secret_value(SecretId=secret_id, SecretString=value, ClientRequestToken=version)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in {"ResourceExistsException", "InvalidRequestException"}:
            raise SecretConflict(str(error)) from None
        raise StorageUnavailable("the secret store is unavailable") from None
    except BotoCoreError:
        raise StorageUnavailable("the secret store is unavailable") from None
