"""The LTI tool's keys in Secrets Manager: read, and written when the first key is made or the keys
are rotated. A write names its version (`ClientRequestToken`), so two functions making the first key
at once end with one of them (the other's write is refused and it reads the winner's)."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from kollus_bridge.errors import StorageUnavailable


@cache
def secrets_client() -> Any:
    return boto3.client("secretsmanager")


class SecretConflict(Exception):
    """Another write of the same version (a different value) came first."""


def read_secret(secret_id: str) -> str:
    try:
        answer = secrets_client().get_secret_value(SecretId=secret_id)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
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
