"""Signed Kollus playback URLs (Unified JWT) and the session nonce that binds callbacks to them. Pure.

The URL is `https://<player host>/s?jwt=<JWT>&custom_key=<key>` plus `uservalue*` parameters and
`t=<seconds>` to resume. The JWT is HS256 with the Kollus security key and carries only Kollus's
claims (`cuid`, `expt`, `mc`): Kollus warns against registered claims such as `exp` or `iat`.

The nonce (`v3.<issued_at>.<expires_at>.<id>.<mac>`) travels in a uservalue slot; the player echoes it
in every callback, and an HMAC over learner, content, issue time, expiry and a random id proves the URL
came from us, says when it could start a session, and names the page load that opened it (two URLs
issued in the same second differ). A `v2.<issued_at>.<expires_at>.<mac>` nonce (issued before the id
was carried) is read alike; a `v1.<issued_at>.<mac>` one as valid for the longest a URL can be:
`MAX_URL_SECONDS`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from .values import ascii_digits

NONCE_VERSION = "v3"
#: A nonce stamped further ahead than this (clock skew) is not accepted.
NONCE_FUTURE_TOLERANCE_SECONDS = 300
#: The longest a playback URL is valid (`expires_in` at most a day): a v1 nonce's assumed validity.
MAX_URL_SECONDS = 86_400


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def jwt_hs256(claims: dict[str, Any], key: str) -> str:
    """A compact HS256 JSON Web Token."""
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = _b64url(json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode())
    signing_input = f"{header}.{payload}".encode("ascii")
    signature = hmac.new(key.encode("utf-8"), signing_input, hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64url(signature)}"


@dataclass(frozen=True)
class PlaybackKeys:
    security_key: str
    custom_key: str
    nonce_key: str


@dataclass(frozen=True)
class PlaybackRequest:
    client_user_id: str
    media_content_key: str
    expires_at: int  # unix seconds
    seek: bool | None = None
    seekable_end: int | None = None
    disable_playrate: bool | None = None


def claims(request: PlaybackRequest) -> dict[str, Any]:
    """Kollus Unified JWT claims: `cuid`, `expt` (unix seconds) and one `mc` entry; nothing else."""
    media: dict[str, Any] = {"mckey": request.media_content_key}
    if request.seek is not None:
        media["seek"] = request.seek
    if request.seekable_end is not None:
        media["seekable_end"] = request.seekable_end
    if request.disable_playrate is not None:
        media["disable_playrate"] = request.disable_playrate
    return {"cuid": request.client_user_id, "expt": request.expires_at, "mc": [media]}


def playback_url(
    host: str, token: str, custom_key: str, uservalues: dict[str, str], start_position: float | None
) -> str:
    """The URL that opens the Kollus player."""
    parameters: list[tuple[str, str]] = [("jwt", token), ("custom_key", custom_key)]
    parameters += sorted(uservalues.items(), key=lambda item: int(item[0].removeprefix("uservalue")))
    if start_position:
        parameters.append(("t", str(int(start_position))))
    return f"https://{host}/s?{urlencode(parameters)}"


@dataclass(frozen=True)
class NonceWindow:
    """When the URL carrying a nonce could start a session (unix seconds)."""

    issued_at: int
    expires_at: int


def _mac(key: str, fields: list[str | int]) -> str:
    message = json.dumps(fields, separators=(",", ":")).encode()
    return _b64url(hmac.new(key.encode("utf-8"), message, hashlib.sha256).digest()[:18])


def sign_nonce(  # noqa: PLR0917 (the key, what it binds, and the page load's id)
    key: str, client_user_id: str, media_content_key: str, issued_at: int, expires_at: int, nonce_id: str | None = None
) -> str:
    """`v3.<issued_at>.<expires_at>.<id>.<mac>`: binds a playback to one learner, content and validity,
    and names it (a random id unless given)."""
    nonce_id = nonce_id or _b64url(secrets.token_bytes(9))
    mac = _mac(key, [client_user_id, media_content_key, issued_at, expires_at, nonce_id])
    return f"{NONCE_VERSION}.{issued_at}.{expires_at}.{nonce_id}.{mac}"


def _stamp(text: str) -> int | None:
    return int(text) if ascii_digits(text) and len(text) <= 12 else None


def read_nonce(
    keys: list[str], client_user_id: str, media_content_key: str, nonce: str, now: int
) -> NonceWindow | None:
    """The validity of `nonce` when we issued it (any current key) for this learner and content, else None."""
    parts = nonce.split(".")
    fields: list[str | int]
    if parts[0] in ("v2", NONCE_VERSION) and len(parts) == (4 if parts[0] == "v2" else 5):
        issued_at, expires_at, given = _stamp(parts[1]), _stamp(parts[2]), parts[-1]
        if issued_at is None or expires_at is None or expires_at < issued_at:
            return None
        fields = [client_user_id, media_content_key, issued_at, expires_at, *parts[3:-1]]
    elif parts[0] == "v1" and len(parts) == 3:
        issued_at, given = _stamp(parts[1]), parts[2]
        if issued_at is None:
            return None
        expires_at = issued_at + MAX_URL_SECONDS
        fields = [client_user_id, media_content_key, issued_at]
    else:
        return None
    if issued_at > now + NONCE_FUTURE_TOLERANCE_SECONDS:
        return None
    try:
        base64.urlsafe_b64decode(given + "=" * (-len(given) % 4))
    except (binascii.Error, ValueError):
        return None
    if not any(hmac.compare_digest(_mac(key, fields), given) for key in keys):
        return None
    return NonceWindow(issued_at, expires_at)


#: `player_id` values that name a kind of player, not a device (HTML5 and Flash players send them on every device).
SHARED_PLAYER_IDS = frozenset({"khp", "kfp"})


def device_identity(hardware_id: str | None, nonce: str | None, player_id: str | None) -> str | None:
    """What tells a learner's devices apart: the `hardware_id` where the player sends one, else the
    playback URL's session nonce (a new URL per page load, echoed in every callback), else a `player_id`
    that is a device's own (not `khp` or `kfp`); None when there is nothing."""
    if hardware_id and hardware_id.strip():
        return hardware_id.strip()
    if nonce:
        return "nonce:" + hashlib.sha256(nonce.encode("utf-8", "surrogatepass")).hexdigest()[:24]
    if player_id and player_id.strip() and player_id.strip().lower() not in SHARED_PLAYER_IDS:
        return player_id.strip()
    return None
