"""`application/x-www-form-urlencoded`, read exactly as `urllib.parse.parse_qsl` reads it, but about
three times faster on what the Kollus player sends: its `json_data` is percent-encoded JSON, so nearly
every other character is a `%XX`, which the standard library decodes one at a time in Python.

The fast path hands the percent-decoding to C (`binascii.a2b_qp`, whose `=XX` escapes are the same
once `%` reads `=`). It is taken only where the two agree: UTF-8, ASCII text, every `%` followed by two
hex digits, and no `=` or line break of its own inside the value. Anything else goes to the standard
library. A property test holds the two to the same answers.
"""

from __future__ import annotations

import binascii
import re
from urllib.parse import parse_qsl, unquote_plus

#: What the fast path cannot read like the standard library: a stray `%`, a literal `=`, a line break.
_NOT_FAST = re.compile(r"%(?![0-9A-Fa-f]{2})|[=\r\n]")


def unquote_plus_fast(text: str) -> str:
    """`unquote_plus(text, encoding="utf-8", errors="strict")`."""
    if "%" not in text:
        return text.replace("+", " ")
    if not text.isascii() or _NOT_FAST.search(text):
        return unquote_plus(text, encoding="utf-8", errors="strict")
    return binascii.a2b_qp(text.replace("+", " ").replace("%", "=").encode("ascii")).decode("utf-8")


def parse_form(text: str, encoding: str, max_fields: int) -> list[tuple[str, str]]:
    """`parse_qsl(text, keep_blank_values=True, encoding=encoding, errors="strict",
    max_num_fields=max_fields)`: raises `ValueError` past `max_fields`, `UnicodeDecodeError` on bytes
    the encoding cannot read."""
    if encoding != "utf-8":
        return parse_qsl(text, keep_blank_values=True, encoding=encoding, errors="strict", max_num_fields=max_fields)
    if 1 + text.count("&") > max_fields:
        raise ValueError("Max number of fields exceeded")
    pairs = []
    for part in text.split("&"):
        if part:
            name, _, value = part.partition("=")
            pairs.append((unquote_plus_fast(name), unquote_plus_fast(value)))
    return pairs
