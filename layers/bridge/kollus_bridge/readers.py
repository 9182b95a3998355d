"""How each setting is read and checked: the readers, the `Secret` wrapper and the webhook secret
format. The model itself, and the checks across settings, are in `settings`."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import math
import re
from collections.abc import Callable
from typing import Any

#: The Standard Webhooks signing secret format (`whsec_<base64>`), checked when settings are read.
SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret


class WebhookSecretError(ValueError):
    """A signing secret that is not `whsec_<base64>`."""


def secret_key(secret: str) -> bytes:
    """The HMAC key of a `whsec_<base64>` secret (the prefix is optional, as in the reference libraries)."""
    encoded = secret.strip().removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise WebhookSecretError("a webhook secret must be whsec_ followed by base64") from None
    if len(key) < 16:
        raise WebhookSecretError("a webhook secret must hold at least 16 bytes")
    return key


#: Every number the bridge keeps is kept to this many decimals (a microsecond of content time): finer
#: is noise, and DynamoDB cannot store an exponent below -130.
DECIMALS = 6

#: The uservalue that carries the playback session nonce, unless PLAYBACK_NONCE_SLOT says otherwise.
DEFAULT_NONCE_SLOT = "uservalue99"


class SettingsError(RuntimeError):
    """The environment does not describe a valid configuration."""


def _split_tokens(value: str) -> list[str]:
    return [token.strip() for token in value.split(",") if token.strip()]


class Secret:
    """A configured secret: its value is kept out of reprs, and so out of logs and tracebacks."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


# --- how a variable is read: each reader takes the (non-empty) text and raises ValueError -----------

Reader = Callable[[str], Any]


def _text(min_length: int = 1, max_length: int = 2048, pattern: str | None = None) -> Reader:
    compiled = re.compile(pattern) if pattern else None

    def read(text: str) -> str:
        if not min_length <= len(text) <= max_length:
            raise ValueError(f"must be {min_length} to {max_length} characters long")
        if compiled is not None and not compiled.fullmatch(text):
            raise ValueError(f"must match {pattern}, got {text[:80]!r}")
        return text

    return read


def _secret(text: str) -> Secret:
    return Secret(text)


def _time_zone(text: str) -> str:
    """An IANA time zone name (`Asia/Seoul`), checked against the zone data."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError  # noqa: PLC0415 - only when the setting is given

    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"must be an IANA time zone such as Asia/Seoul or UTC, got {text[:80]!r}") from None
    return text


def _integer(low: int, high: int) -> Reader:
    def read(text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            raise ValueError(f"must be a whole number, got {text[:40]!r}") from None
        if not low <= value <= high:
            raise ValueError(f"must be between {low} and {high}, got {value}")
        return value

    return read


def _number(low: float, high: float, low_exclusive: bool = False) -> Reader:
    def read(text: str) -> float:
        try:
            value = round(float(text.strip()), DECIMALS)
        except (ValueError, OverflowError):
            raise ValueError(f"must be a number, got {text[:40]!r}") from None
        if not math.isfinite(value) or value > high or value < low or (low_exclusive and value == low):
            raise ValueError(f"must be {'above' if low_exclusive else 'at least'} {low:g} and at most {high:g}")
        return value

    return read


_TRUE = {"1", "true", "t", "yes", "y", "on"}
_FALSE = {"0", "false", "f", "no", "n", "off"}


def _flag(text: str) -> bool:
    word = text.strip().lower()
    if word not in _TRUE | _FALSE:
        raise ValueError(f"must be true or false, got {text[:40]!r}")
    return word in _TRUE


def _webhook_secrets(text: str) -> Secret:
    for secret in _split_tokens(text):
        secret_key(secret)  # WebhookSecretError is a ValueError naming what is wrong (never the secret)
    return Secret(text)


def setting(read: Reader, default: Any = dataclasses.MISSING, *, factory: Any = dataclasses.MISSING) -> Any:
    """A field read from its environment variable by `read` (the default when unset or empty)."""
    return dataclasses.field(default=default, default_factory=factory, metadata={"read": read})


def _required(field: dataclasses.Field[Any]) -> bool:
    return field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
