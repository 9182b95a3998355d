"""Opaque page tokens: DynamoDB's LastEvaluatedKey, base64url-encoded, checked strictly on the way back.

A token that does not decode, names other attributes, or points outside the partition being listed
is the client's error (400), never a storage error.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

from kollus_bridge.errors import InvalidRequest
from kollus_bridge.kollus.values import ascii_digits, holds_lone_surrogate

MAX_TOKEN_LENGTH = 4096


def encode_token(key: Mapping[str, Any] | None) -> str | None:
    if not key:
        return None
    text = json.dumps(key, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_token(token: str | None, types: Mapping[str, str], fixed: Mapping[str, Any]) -> dict[str, Any] | None:
    """The start key a token stands for. `types` maps each key attribute to its DynamoDB type
    (`S` or `N`); `fixed` holds typed values that must match (the listed partition)."""
    if not token:
        return None
    invalid = InvalidRequest("next_token is not a token this API issued", field="next_token")
    if len(token) > MAX_TOKEN_LENGTH:
        raise invalid
    try:
        key = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise invalid from None
    if not isinstance(key, dict) or set(key) != set(types):
        raise invalid
    for name, kind in types.items():
        value = key[name]
        if not isinstance(value, dict) or set(value) != {kind} or not isinstance(value[kind], str):
            raise invalid
        text = value[kind]
        if kind == "N" and not (ascii_digits(text.lstrip("-")) and len(text) <= 38):
            raise invalid
        if kind == "S" and (not 0 < len(text) <= 2048 or holds_lone_surrogate(text)):  # a key DynamoDB refuses
            raise invalid
    if any(key[name] != value for name, value in fixed.items()):
        raise invalid
    return key
