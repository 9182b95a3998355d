"""Signed view links: a short-lived token naming what an analytics page may show, so an LMS can put
the page in an iframe without handing out its API token. Pure.

Token: `v1.<payload>.<mac>`, both base64url without padding; the payload is compact JSON
`{"k": kind, "m": content?, "u": learner?, "c": course?, "l": lang?, "x": expires_at}` and the MAC an
HMAC-SHA256 over `v1.<payload>` under a key of ours (`VIEW_LINK_KEY`; several during a rotation).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Literal

VERSION = "v1"
Kind = Literal["content", "learner", "learner_content", "course"]
KINDS: tuple[Kind, ...] = ("content", "learner", "learner_content", "course")


@dataclass(frozen=True)
class View:
    """What a link shows, until when (unix seconds)."""

    kind: Kind
    expires_at: int
    media_content_key: str | None = None
    client_user_id: str | None = None
    course: str | None = None
    lang: str | None = None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: str, signed: str) -> str:
    return _b64(hmac.new(key.encode(), signed.encode("ascii"), hashlib.sha256).digest())


def sign_view(key: str, view: View) -> str:
    fields = {"k": view.kind, "m": view.media_content_key, "u": view.client_user_id, "c": view.course,
              "l": view.lang, "x": view.expires_at}  # fmt: skip
    payload = _b64(json.dumps({k: v for k, v in fields.items() if v is not None}, separators=(",", ":")).encode())
    signed = f"{VERSION}.{payload}"
    return f"{signed}.{_mac(key, signed)}"


def read_view(keys: list[str], token: str, now: int) -> View | None:
    """The view a token names when one of `keys` signed it and it has not expired, else None."""
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != VERSION:
        return None
    signed = f"{parts[0]}.{parts[1]}"
    if not token.isascii() or not any(hmac.compare_digest(_mac(key, signed), parts[2]) for key in keys):
        return None
    try:
        fields = json.loads(_unb64(parts[1]))
    except (binascii.Error, ValueError):
        return None
    if not isinstance(fields, dict) or fields.get("k") not in KINDS or not isinstance(fields.get("x"), int):
        return None
    if fields["x"] <= now:
        return None
    text = {name: fields.get(name) if isinstance(fields.get(name), str) else None for name in ("m", "u", "c", "l")}
    return View(fields["k"], fields["x"], text["m"], text["u"], text["c"], text["l"])
