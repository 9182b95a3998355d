"""Lenient scalar readers for the Kollus callback: Kollus is loose about types, so numbers may come as
strings or floats, and an empty value, `null` or an unsubstituted placeholder such as `{PLAY_STATUS}`
counts as absent. Every refusal names its field."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from kollus_bridge.errors import InvalidPayload
from kollus_bridge.settings import DECIMALS

#: Upper bound of any number we accept (seconds, counters): 31 years of seconds is already absurd.
MAX_NUMBER = 10**9
#: Upper bound of an identifier's length (learner id, content key, player id).
MAX_ID_LENGTH = 256
_PLACEHOLDER = re.compile(r"^\{[A-Za-z0-9_]+\}$")
_CONTROL = re.compile(r"[\x00-\x1f]")
_NUMBER_TEXT = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]{1,3})?$")  # ASCII digits only


def is_absent(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        text = value.strip()
        return text == "" or text.lower() in ("null", "undefined") or bool(_PLACEHOLDER.match(text))
    return False


def read_number(value: Any, field: str, limit: int = MAX_NUMBER) -> float | None:
    """A non-negative finite number from an int, float or numeric string, to the microsecond (so that
    storage can always represent it: 1e-242 is 0); None when absent."""
    kind = type(value)
    if kind is int and 0 <= value <= limit:  # the common cases (NaN fails the comparison)
        return float(value)
    if kind is float and 0 <= value <= limit:
        return round(float(value), DECIMALS)
    number = _read_exact(value, field, limit)
    return None if number is None else round(number, DECIMALS)


def _read_exact(value: Any, field: str, limit: int) -> float | None:
    if is_absent(value):
        return None
    refuse_conflict(value, field)
    if isinstance(value, bool):
        number = float(value)
    elif isinstance(value, int):
        if abs(value) > limit:
            raise InvalidPayload(f"{field} is out of range", field=field)
        number = float(value)
    elif isinstance(value, float):
        number = value
    elif isinstance(value, str):
        text = value.strip()
        if len(text) > 40 or not _NUMBER_TEXT.match(text):
            raise InvalidPayload(f"{field} must be a number, got {text[:40]!r}", field=field)
        number = float(text)
    else:
        raise InvalidPayload(f"{field} must be a number", field=field)
    if not math.isfinite(number):
        raise InvalidPayload(f"{field} must be a finite number", field=field)
    if number < 0:
        raise InvalidPayload(f"{field} must not be negative", field=field)
    if number > limit:
        raise InvalidPayload(f"{field} is out of range", field=field)
    return number


def read_integer(value: Any, field: str, limit: int = MAX_NUMBER) -> int | None:
    """A number's whole part (a session's `start_at` may come with a fraction of a second)."""
    number = value if type(value) is int and 0 <= value <= limit else _read_exact(value, field, limit)
    return None if number is None else int(number)


def read_count(value: Any, field: str, limit: int = MAX_NUMBER) -> int | None:
    """A whole number (`10.0` is one, `10.5` is not): a count has no fraction to drop."""
    if type(value) is int and 0 <= value <= limit:
        return value
    number = _read_exact(value, field, limit)
    if number is None:
        return None
    if not number.is_integer():
        raise InvalidPayload(f"{field} must be a whole number", field=field)
    return int(number)


def read_text(value: Any, field: str, limit: int = MAX_ID_LENGTH) -> str | None:
    if is_absent(value):
        return None
    refuse_conflict(value, field)
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InvalidPayload(f"{field} must be a string", field=field)
    if isinstance(value, str) and _CONTROL.search(value):  # before white space is trimmed: \r is no space
        raise InvalidPayload(f"{field} contains control characters", field=field)
    text = str(value).strip() if isinstance(value, str) else str(value)
    if len(text) > limit:
        raise InvalidPayload(f"{field} is longer than {limit} characters", field=field)
    return text


class _Conflicting:
    """The value of a variable given twice in one form with different values: refused when read."""

    def __repr__(self) -> str:
        return "<conflicting values>"


CONFLICTING: Any = _Conflicting()


def refuse_conflict(value: Any, field: str) -> None:
    if value is CONFLICTING:
        raise InvalidPayload(f"{field} is given more than once, with different values", field=field)


#: A JSON escape of a UTF-16 surrogate: only then can a decoded document hold a lone one.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def ascii_digits(text: str) -> bool:
    """`0`-`9` only (`str.isdigit` also takes `²`, which `int` then refuses, and Arabic-Indic digits)."""
    return text.isascii() and text.isdigit()


def holds_lone_surrogate(value: Any) -> bool:
    """Whether a decoded value (text, or a JSON document) holds a lone surrogate (`"\\ud800"`), which
    is no character: UTF-8, and so storage, cannot hold it."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def refuse_lone_surrogates(text: str, document: Any, field: str) -> None:
    """A JSON document decoded from `text` may hold a lone surrogate: refused here, where it came in."""
    if _SURROGATE_ESCAPE.search(text) and holds_lone_surrogate(document):
        raise InvalidPayload(f"{field} holds a lone UTF-16 surrogate escape; send UTF-8 text", field=field)
