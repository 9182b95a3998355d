"""Shared-secret checks: the callback URL token and the LMS's bearer token.

Tokens come from an environment variable locally and from Secrets Manager in AWS (cached for
`SECRET_CACHE_SECONDS`). Several comma-separated tokens are accepted at once, for rotation.
"""

from __future__ import annotations

import hmac

from .errors import KollusUnavailable, StorageUnavailable, Unauthorized
from .kollus.playback import PlaybackKeys
from .settings import DOORS, Secret, Settings, SettingsError, secret_key
from .store.secrets import cached_secret


def _secret_tokens(secret_id: str, max_age: int) -> list[str]:
    try:
        value = cached_secret(secret_id, max_age)
    except StorageUnavailable:
        raise StorageUnavailable("the token store is unavailable") from None
    return Settings.tokens(Secret(value))


def _tokens(local: Secret | None, secret_id: str | None, max_age: int) -> list[str]:
    if local is not None:
        return Settings.tokens(local)
    assert secret_id is not None  # Settings guarantees exactly one source
    return _secret_tokens(secret_id, max_age)


def matches_any(presented: str, accepted: list[str]) -> bool:
    """Constant-time comparison against every accepted token (no early exit on the first match)."""
    presented_bytes = presented.encode("utf-8", "surrogatepass")
    found = False
    for token in accepted:
        found |= hmac.compare_digest(presented_bytes, token.encode("utf-8"))
    return found


def lms_webhook_secrets(settings: Settings) -> list[str]:
    """The `whsec_` secrets that sign webhooks to the LMS (all of them sign during a rotation)."""
    if settings.lms_webhook_secret is None and settings.lms_webhook_secret_arn is None:
        raise SettingsError("set LMS_WEBHOOK_SECRET (local) or LMS_WEBHOOK_SECRET_ARN (AWS) to sign webhooks")
    secrets = _tokens(settings.lms_webhook_secret, settings.lms_webhook_secret_arn, settings.secret_cache_seconds)
    for secret in secrets:
        secret_key(secret)  # a malformed secret from the store fails here, by name, not mid-signature
    return secrets


def xapi_lrs_credentials(settings: Settings) -> str:
    """The LRS's Basic auth, `username:password`."""
    found = _required(
        settings.xapi_lrs_auth,
        settings.xapi_lrs_auth_arn,
        "XAPI_LRS_AUTH (local) or XAPI_LRS_AUTH_ARN (AWS)",
        settings.secret_cache_seconds,
    )
    if not found or ":" not in found[0]:
        raise SettingsError("the LRS credentials must be username:password")
    return found[0]


def _required(local: Secret | None, secret_id: str | None, names: str, max_age: int) -> list[str]:
    if local is None and secret_id is None:
        raise SettingsError(f"set {names}")
    return _tokens(local, secret_id, max_age)


def nonce_keys(settings: Settings) -> list[str]:
    """Keys of the session nonce (the first signs; all verify, for rotation)."""
    return _required(
        settings.playback_nonce_key,
        settings.playback_nonce_key_arn,
        "PLAYBACK_NONCE_KEY (local) or PLAYBACK_NONCE_KEY_ARN (AWS)",
        settings.secret_cache_seconds,
    )


def view_link_keys(settings: Settings) -> list[str]:
    """Keys of signed view links (the first signs; all verify, for rotation)."""
    return _required(
        settings.view_link_key,
        settings.view_link_key_arn,
        "VIEW_LINK_KEY (local) or VIEW_LINK_KEY_ARN (AWS)",
        settings.secret_cache_seconds,
    )


def pseudonymise_key(settings: Settings) -> bytes | None:
    """The key learner ids in the exported datasets are hashed with, if they are to be (the first, in
    rotation: a new key makes new pseudonyms, so rotate it only between research uses)."""
    if not settings.export_pseudonymise:
        return None
    keys = _required(
        settings.export_pseudonymise_key,
        settings.export_pseudonymise_key_arn,
        "EXPORT_PSEUDONYMISE_KEY (local) or EXPORT_PSEUDONYMISE_KEY_ARN (AWS)",
        settings.secret_cache_seconds,
    )
    return keys[0].encode("utf-8")


def kollus_keys(settings: Settings) -> tuple[str, str]:
    """The Kollus security key (signs JWTs) and custom key (`X-Kollus-UserKey`)."""
    age = settings.secret_cache_seconds
    security = _required(settings.kollus_security_key, settings.kollus_security_key_arn, "KOLLUS_SECURITY_KEY", age)
    custom = _required(settings.kollus_custom_key, settings.kollus_custom_key_arn, "KOLLUS_CUSTOM_KEY", age)
    return security[0], custom[0]


def playback_keys(settings: Settings) -> PlaybackKeys:
    """The Kollus security key and custom key, and our nonce key."""
    security, custom = kollus_keys(settings)
    return PlaybackKeys(security_key=security, custom_key=custom, nonce_key=nonce_keys(settings)[0])


def kollus_api_token(settings: Settings) -> str:
    """The Kollus VOD API access token (one at a time: Kollus invalidates the old one on a new issue)."""
    if not settings.kollus_api_configured:
        raise KollusUnavailable("the Kollus VOD API is not configured (KOLLUS_API_TOKEN or KOLLUS_API_TOKEN_ARN)")
    tokens = _tokens(settings.kollus_api_token, settings.kollus_api_token_arn, settings.secret_cache_seconds)
    if not tokens:
        raise KollusUnavailable("the Kollus VOD API token is empty")
    return tokens[0]


def require_callback_token(presented: str, settings: Settings, door: str = "callback") -> None:
    """The token in a callback URL must be one of that door's own (`settings.DOORS`): the LMS
    callback's, which every learner's player holds, opens no other."""
    local_name, remote_name = DOORS[door]
    local, remote = getattr(settings, local_name), getattr(settings, remote_name)
    if local is None and remote is None:
        raise Unauthorized(f"the {door} callback is closed: it has no token ({local_name.upper()})")
    if not matches_any(presented, _tokens(local, remote, settings.secret_cache_seconds)):
        raise Unauthorized("unknown callback token")


def require_api_token(authorization: str | None, settings: Settings) -> None:
    scheme, _, presented = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not presented.strip():
        raise Unauthorized("send Authorization: Bearer <api token>")
    accepted = _tokens(settings.api_token, settings.api_token_secret_arn, settings.secret_cache_seconds)
    if not matches_any(presented.strip(), accepted):
        raise Unauthorized("invalid API token")
